"""Changing actions and site settings from the admin area.

The three global action sets are changed in place. A session, a series occurrence or
a personal room is changed through its own copy: a session has one from its creation;
an occurrence or a room gets one on its first change, copied from the actions it used
until then (the series' or its scope's defaults), which stay as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from portal.crm import get_crm
from portal.crm.base import CampaignInfo, Crm
from portal.crm.fields import TASK_PRIORITIES, CrmField
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    ActionSet,
    ActivityKind,
    Event,
    EventType,
    FieldScope,
    FieldUpdateRule,
    InfluenceMode,
    RuleObject,
    TriggerAction,
    User,
)
from portal.services.action_sets import (
    FACTORY_DEFAULTS,
    TASK_SETTING_TRIGGERS,
    add_rule,
    copy_action_set,
    effective_action_set,
    global_action_set,
    site_settings,
)
from portal.services.campaign_status import (
    CAMPAIGN_STATUS_LENGTH,
    SessionEndStatuses,
    check_session_end_statuses,
)
from portal.services.framing import parse_embed_origins

logger = logging.getLogger(__name__)

#: Where a set of actions belongs: a global scope, or a session or room.
ActionHolder = Event | FieldScope

#: A CRM record id: 15 or 18 characters in Salesforce, fewer in the built-in CRM.
ACCOUNT_ID_LENGTH = 18
#: Fields a trigger's own settings write; a rule on them would contradict those.
SETTING_FIELDS = {
    (RuleObject.TASK, "Status"): "the trigger's task status",
    (RuleObject.TASK, "Priority"): "the trigger's task priority",
    (RuleObject.CAMPAIGN_MEMBER, "Status"): "the trigger's campaign member status",
}


#: A trigger's settings, in the order the editor shows them.
TRIGGER_SETTINGS = (
    "has_task",
    "task_status",
    "task_priority",
    "campaign_status",
    "posts_to_feed",
    "sends_email",
)


@dataclass(frozen=True, slots=True)
class TriggerChanges:
    """New settings of one trigger; None leaves a setting as it is."""

    campaign_status: str | None
    posts_to_feed: bool
    sends_email: bool = False
    has_task: bool | None = None
    task_status: str | None = None
    task_priority: str | None = None
    session_end: SessionEndStatuses | None = None


@dataclass(frozen=True, slots=True)
class SiteSettingsChanges:
    """The settings of the whole site, as the settings page sends them."""

    ignore_crm_users: bool
    preferred_account_id: str
    campaign_influence: InfluenceMode
    enabled_session_types: list[str]
    #: Origins that may frame the embeddable form, one an item, as typed.
    embed_origins: Sequence[str] = ()


def action_set_of(holder: ActionHolder) -> ActionSet:
    """The actions a scope, session or room runs now (its own or those it uses)."""
    if isinstance(holder, FieldScope):
        return global_action_set(holder)
    return effective_action_set(holder)


def has_own_actions(event: Event) -> bool:
    """Whether the session or room has its own copy of the actions."""
    return event.action_set is not None


def describe_holder(holder: ActionHolder) -> str:
    """How log lines and messages name a scope, session or room."""
    if isinstance(holder, FieldScope):
        return f"the {holder.label.lower()} defaults"
    return f"{'room' if holder.is_room else 'session'} {holder.id}"


def rule_fields(trigger: ActivityKind, crm: Crm) -> dict[RuleObject, list[CrmField]]:
    """The objects and fields a rule on ``trigger`` may set, fields by label.

    Only triggers with a task setting have a task to write to, and fields the
    trigger's own settings write (task status and priority, member status) are left
    to those settings.
    """
    targets = [RuleObject.CAMPAIGN_MEMBER, RuleObject.CONTACT, RuleObject.LEAD]
    if trigger in TASK_SETTING_TRIGGERS:
        targets.insert(0, RuleObject.TASK)
    return {
        target: sorted(
            (
                spec
                for spec in crm.fields(target).values()
                if (target, spec.name) not in SETTING_FIELDS
            ),
            key=lambda spec: spec.label,
        )
        for target in targets
    }


def own_action_set(event: Event, actor: User) -> ActionSet:
    """The event's own actions, copied from those it uses on its first change."""
    if event.action_set is not None:
        return event.action_set
    source = effective_action_set(event)
    event.action_set = copy_action_set(source)
    db.session.flush()
    logger.info(
        "%s gave %s its own actions (set %s), copied from set %s",
        actor.email,
        describe_holder(event),
        event.action_set.id,
        source.id,
    )
    return event.action_set


def update_trigger(
    holder: ActionHolder,
    trigger: ActivityKind,
    changes: TriggerChanges,
    *,
    actor: User,
) -> list[str]:
    """Change one trigger's settings; return the names of those that changed."""
    _check_trigger_changes(trigger, changes)
    wanted = {
        name: getattr(changes, name)
        for name in TRIGGER_SETTINGS
        if getattr(changes, name) is not None
    }
    if changes.campaign_status is not None:
        wanted["campaign_status"] = _campaign_status(holder, changes.campaign_status)
    if changes.session_end is not None:
        end = changes.session_end
        wanted.update(
            no_show_status=_campaign_status(
                holder, end.no_show_status, "no_show_status"
            ),
            short_stay_minutes=end.short_stay_minutes,
            short_stay_status=_short_stay_status(holder, end.short_stay_status),
        )
    current = action_set_of(holder).for_trigger(trigger)
    changed = [
        name
        for name, value in wanted.items()
        if current is None or getattr(current, name) != value
    ]
    if not changed:
        return []

    settings = _trigger_to_change(holder, trigger, actor)
    for name in changed:
        setattr(settings, name, wanted[name])
    db.session.commit()
    logger.info(
        "%s changed the %s actions of %s: %s",
        actor.email,
        trigger.value,
        describe_holder(holder),
        ", ".join(changed),
    )
    return changed


def _campaign_status(
    holder: ActionHolder, status: str, field: str = "campaign_status"
) -> str:
    """The status as the session's campaign spells it; refused if it has none such.

    Salesforce silently gives a member the campaign's default status in place of
    one the campaign lacks, so a session's own status is checked when it is saved.
    Global defaults serve sessions of many campaigns and are checked on each one.
    """
    status = status.strip()
    campaign = _campaign_of(holder) if status else None
    if campaign is None:
        return status
    for known in campaign.statuses:
        if known.casefold() == status.casefold():
            return known
    raise ValidationFailed(
        f"{campaign.name} has no status “{status}”: "
        f"use one of {', '.join(campaign.statuses)}, or leave it empty.",
        field,
    )


def _short_stay_status(holder: ActionHolder, status: str) -> str:
    """The short-stay status, refused unless the campaign counts it as a response.

    Those who joined have responded already (Join gives Attended), and a response is
    never taken back, so a status that is no response would never be given.
    """
    status = _campaign_status(holder, status, "short_stay_status")
    campaign = _campaign_of(holder) if status else None
    if campaign is None or status in campaign.responded_statuses:
        return status
    if campaign.responded_statuses:
        use = f"use one that does: {', '.join(campaign.responded_statuses)}"
    else:
        use = "give the campaign a status that counts as one"
    raise ValidationFailed(
        f"“{status}” does not count as a response in {campaign.name}, and a "
        f"response is never taken back, so those who joined would keep theirs; {use}.",
        "short_stay_status",
    )


def _campaign_of(holder: ActionHolder) -> CampaignInfo | None:
    """The CRM campaign a session's statuses go to; None for global defaults."""
    if not isinstance(holder, Event) or not holder.campaign_id:
        return None
    return get_crm().campaign(holder.campaign_id)


def add_field_update(
    holder: ActionHolder,
    *,
    trigger: ActivityKind,
    target: RuleObject,
    field: str,
    value: str,
    actor: User,
) -> FieldUpdateRule:
    """Add a field-update rule to a trigger; nothing is saved when it is refused."""
    if target is RuleObject.TASK and trigger not in TASK_SETTING_TRIGGERS:
        raise ValidationFailed(
            f"The {trigger_name(trigger)} trigger has no task to update.", "field"
        )
    controlled_by = SETTING_FIELDS.get((target, field))
    if controlled_by is not None:
        raise ValidationFailed(
            f"{target.label} {field} is set by {controlled_by}; change it there.",
            "field",
        )

    action_set = _action_set_to_change(holder, actor)
    try:
        rule = add_rule(
            action_set,
            get_crm(),
            trigger=trigger,
            target=target,
            field=field,
            value=value.strip(),
        )
    except ValidationFailed:
        # A first change may have made a copy: it goes too, so nothing is saved.
        db.session.rollback()
        raise
    db.session.commit()
    logger.info(
        "%s added rule %s to the %s actions of %s",
        actor.email,
        rule.id,
        trigger.value,
        describe_holder(holder),
    )
    return rule


def delete_field_update(
    holder: ActionHolder, rule: FieldUpdateRule, *, actor: User
) -> None:
    """Delete a rule from the actions the holder runs (from its own copy)."""
    used = action_set_of(holder)
    if rule not in used.rules:
        raise ValidationFailed("That rule is not one of these actions.")
    index = used.rules.index(rule)
    action_set = _action_set_to_change(holder, actor)
    # A fresh copy holds the same rules in the same order.
    doomed = action_set.rules[index]
    action_set.rules.remove(doomed)
    db.session.commit()
    logger.info(
        "%s deleted the %s rule on %s.%s from %s",
        actor.email,
        doomed.trigger.value,
        doomed.target.label,
        doomed.field,
        describe_holder(holder),
    )


def reset_actions(event: Event, *, actor: User) -> None:
    """Put an event's actions back to the defaults it would have without changes.

    A session (not an occurrence) gets a fresh copy of its scope's defaults, as when
    it was created; a room or an occurrence drops its copy and follows the defaults
    (or its series) again.
    """
    own = event.action_set
    series_set = event.series.action_set if event.series is not None else None
    if event.is_room or event.series is not None:
        event.action_set = None
    else:
        event.action_set = copy_action_set(global_action_set(event.field_scope))
    if own is not None and own is not series_set:
        db.session.delete(own)
    db.session.commit()
    logger.info("%s reset the actions of %s", actor.email, describe_holder(event))


def update_site_settings(changes: SiteSettingsChanges, *, actor: User) -> list[str]:
    """Change the site's settings; return the names of those that changed."""
    unknown = set(changes.enabled_session_types) - {kind.value for kind in EventType}
    if unknown:
        raise ValidationFailed(
            f"{', '.join(sorted(unknown))} is not a session type.",
            "enabled_session_types",
        )
    # Stored in the order the types are listed everywhere else.
    enabled = [
        kind.value for kind in EventType if kind.value in changes.enabled_session_types
    ]
    if not enabled:
        raise ValidationFailed(
            "Keep at least one session type enabled.", "enabled_session_types"
        )
    account_id = changes.preferred_account_id.strip()
    if len(account_id) > ACCOUNT_ID_LENGTH:
        raise ValidationFailed("That is not a CRM account id.", "preferred_account_id")

    embed_origins = parse_embed_origins(changes.embed_origins)

    settings = site_settings()
    wanted = {
        "ignore_crm_users": changes.ignore_crm_users,
        "preferred_account_id": account_id,
        "campaign_influence": changes.campaign_influence,
        "enabled_session_types": enabled,
        "embed_origins": embed_origins,
    }
    changed = [
        name for name, value in wanted.items() if getattr(settings, name) != value
    ]
    if not changed:
        return []
    for name in changed:
        setattr(settings, name, wanted[name])
    db.session.commit()
    logger.info("%s changed the site settings: %s", actor.email, ", ".join(changed))
    return changed


def trigger_name(trigger: ActivityKind) -> str:
    """A trigger as people name it: Register, Session Start."""
    return trigger.value.replace("_", " ").title()


def _check_trigger_changes(trigger: ActivityKind, changes: TriggerChanges) -> None:
    name = trigger_name(trigger)
    if changes.has_task and trigger not in TASK_SETTING_TRIGGERS:
        raise ValidationFailed(f"The {name} trigger has no task.", "has_task")
    if changes.task_status is not None and (
        changes.task_status not in get_crm().task_statuses()
    ):
        raise ValidationFailed("Choose one of the CRM's task statuses.", "task_status")
    if changes.task_priority is not None and (
        changes.task_priority not in TASK_PRIORITIES
    ):
        raise ValidationFailed(
            f"Choose one of {', '.join(TASK_PRIORITIES)}.", "task_priority"
        )
    status = changes.campaign_status
    if status is not None and len(status.strip()) > CAMPAIGN_STATUS_LENGTH:
        raise ValidationFailed(
            f"A campaign member status has at most {CAMPAIGN_STATUS_LENGTH} "
            "characters.",
            "campaign_status",
        )
    if changes.session_end is not None:
        if trigger is not ActivityKind.SESSION_END:
            raise ValidationFailed(
                "Only Session End has statuses for no-shows and short stays.",
                "no_show_status",
            )
        check_session_end_statuses(changes.session_end)
    if changes.sends_email and trigger is ActivityKind.EMAIL:
        raise ValidationFailed(
            "Sending an email never sends another one.", "sends_email"
        )


def _action_set_to_change(holder: ActionHolder, actor: User) -> ActionSet:
    if isinstance(holder, FieldScope):
        return global_action_set(holder)
    return own_action_set(holder, actor)


def _trigger_to_change(
    holder: ActionHolder, trigger: ActivityKind, actor: User
) -> TriggerAction:
    action_set = _action_set_to_change(holder, actor)
    settings = action_set.for_trigger(trigger)
    if settings is None:
        defaults = FACTORY_DEFAULTS[trigger]
        settings = TriggerAction(
            trigger=trigger,
            has_task=defaults.has_task,
            task_status=defaults.task_status,
            task_priority="Normal",
            campaign_status=defaults.campaign_status,
            posts_to_feed=defaults.posts_to_feed,
            sends_email=defaults.sends_email,
        )
        action_set.triggers.append(settings)
    return settings
