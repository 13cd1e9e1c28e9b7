"""Action sets: the factory defaults, which set a session uses, copies."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from portal.crm.base import Crm
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    ActionSet,
    ActivityKind,
    Event,
    FieldScope,
    FieldUpdateRule,
    RuleObject,
    SiteSettings,
    TriggerAction,
)
from portal.services.variables import check_value

logger = logging.getLogger(__name__)

#: The triggers that create a task (Leave updates the Join task instead).
TASK_TRIGGERS = (ActivityKind.EMAIL, ActivityKind.REGISTER, ActivityKind.JOIN)
#: The triggers whose task setting means something.
TASK_SETTING_TRIGGERS = (*TASK_TRIGGERS, ActivityKind.LEAVE)


@dataclass(frozen=True, slots=True)
class TriggerDefaults:
    """A trigger's factory settings."""

    has_task: bool
    task_status: str = "Completed"
    campaign_status: str = ""
    posts_to_feed: bool = False
    sends_email: bool = False


FACTORY_DEFAULTS: dict[ActivityKind, TriggerDefaults] = {
    ActivityKind.EMAIL: TriggerDefaults(has_task=True),
    ActivityKind.REGISTER: TriggerDefaults(
        has_task=True,
        campaign_status="Registered",
        posts_to_feed=True,
        sends_email=True,
    ),
    ActivityKind.JOIN: TriggerDefaults(
        has_task=True, campaign_status="Attended", posts_to_feed=True
    ),
    ActivityKind.LEAVE: TriggerDefaults(has_task=True),
    ActivityKind.SESSION_START: TriggerDefaults(has_task=False),
    ActivityKind.SESSION_END: TriggerDefaults(has_task=False),
}


def global_action_set(scope: FieldScope) -> ActionSet:
    """The global default actions of ``scope``, made from factory defaults if new."""
    action_set = db.session.scalar(
        sa.select(ActionSet).where(ActionSet.global_scope == scope)
    )
    if action_set is None:
        action_set = ActionSet(global_scope=scope)
        action_set.triggers = [
            TriggerAction(
                trigger=trigger,
                has_task=defaults.has_task,
                task_status=defaults.task_status,
                task_priority="Normal",
                campaign_status=defaults.campaign_status,
                posts_to_feed=defaults.posts_to_feed,
                sends_email=defaults.sends_email,
            )
            for trigger, defaults in FACTORY_DEFAULTS.items()
        ]
        db.session.add(action_set)
        db.session.flush()
        logger.info("Created the default actions for %s", scope.value)
    return action_set


def ensure_global_action_sets() -> None:
    """Make sure all three global action sets exist."""
    for scope in FieldScope:
        global_action_set(scope)


def effective_action_set(event: Event) -> ActionSet:
    """The actions an event runs: its own, its series', or its scope's defaults."""
    if event.action_set is not None:
        return event.action_set
    if event.series is not None and event.series.action_set is not None:
        return event.series.action_set
    return global_action_set(event.field_scope)


def copy_action_set(source: ActionSet) -> ActionSet:
    """A new, unattached action set with the same settings and rules as ``source``."""
    copy = ActionSet()
    copy.triggers = [
        TriggerAction(
            trigger=item.trigger,
            has_task=item.has_task,
            task_status=item.task_status,
            task_priority=item.task_priority,
            campaign_status=item.campaign_status,
            posts_to_feed=item.posts_to_feed,
            sends_email=item.sends_email,
            no_show_status=item.no_show_status,
            short_stay_minutes=item.short_stay_minutes,
            short_stay_status=item.short_stay_status,
        )
        for item in source.triggers
    ]
    copy.rules = [
        FieldUpdateRule(
            position=rule.position,
            trigger=rule.trigger,
            target=rule.target,
            field=rule.field,
            value=rule.value,
        )
        for rule in source.rules
    ]
    db.session.add(copy)
    return copy


def site_settings() -> SiteSettings:
    """The site's settings row, made with the defaults if there is none."""
    settings = db.session.scalar(sa.select(SiteSettings).order_by(SiteSettings.id))
    if settings is None:
        settings = SiteSettings()
        db.session.add(settings)
        db.session.flush()
    return settings


def add_rule(
    action_set: ActionSet,
    crm: Crm,
    *,
    trigger: ActivityKind,
    target: RuleObject,
    field: str,
    value: str,
) -> FieldUpdateRule:
    """Add a field-update rule, refusing one that could never be written.

    The field must be a writable field of the object in this CRM, and every variable
    in the value must be one the trigger provides, of a type the field can hold.
    """
    spec = crm.fields(target).get(field)
    if spec is None:
        raise ValidationFailed(f"{target.label} has no field {field!r}.", "field")
    problems = check_value(trigger, spec, value)
    if problems:
        raise ValidationFailed(" ".join(problems), "value")
    position = max((rule.position for rule in action_set.rules), default=0) + 1
    rule = FieldUpdateRule(
        trigger=trigger, target=target, field=field, value=value, position=position
    )
    action_set.rules.append(rule)
    db.session.flush()
    logger.info(
        "Added rule %s: on %s set %s.%s", rule.id, trigger.value, target.label, field
    )
    return rule
