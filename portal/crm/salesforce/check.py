"""``flask --app portal crm check``: what the configured actions need from the org.

It signs in, reads the org's limits, describes the objects the portal writes, and
reports each object permission, field, task status and campaign member status that
the forms and actions use and the org (or the integration user) does not have.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from portal.crm.salesforce.backend import SalesforceCrm
from portal.extensions import db
from portal.models import (
    Event,
    FieldDefinition,
    FieldUpdateRule,
    InfluenceMode,
    RuleObject,
    TriggerAction,
)
from portal.services.action_sets import effective_action_set, site_settings

#: What the portal does with each object, and the permission that needs.
_OBJECTS = {
    "Lead": ("createable", "create leads"),
    "Task": ("createable", "log tasks"),
    "CampaignMember": ("createable", "make campaign members"),
    "FeedItem": ("createable", "post to feeds (Chatter)"),
}
_TASK_TIMES = {
    "Start_Time__c": "the join time",
    "End_Time__c": "the leave time",
    "Duration_Minutes__c": "the minutes attended",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the report; ``is_missing`` makes the check fail."""

    text: str
    is_missing: bool = True


def check_org(crm: SalesforceCrm) -> Iterator[Finding]:
    """Everything the configured forms and actions need and the org lacks."""
    yield Finding(f"Signed in to {crm.client.sign_in()}.", is_missing=False)
    usage = crm.read_api_usage()
    if usage is not None:
        yield Finding(
            f"API requests in the last 24 hours: {usage.used:,} of "
            f"{usage.allowed:,} ({usage.percent:.0f}%).",
            is_missing=False,
        )
    yield from _objects(crm)
    yield from _fields(crm)
    yield from _statuses(crm)


def _objects(crm: SalesforceCrm) -> Iterator[Finding]:
    wanted = dict(_OBJECTS)
    if site_settings().campaign_influence is not InfluenceMode.NONE:
        wanted["Opportunity"] = ("updateable", "set the primary campaign source")
        if crm.influence_model_id:
            wanted["CampaignInfluence"] = ("createable", "credit campaign influence")
    for sobject, (permission, purpose) in wanted.items():
        description = crm.describe_object(sobject)
        if description is None:
            yield Finding(f"{sobject}: the integration user cannot see this object.")
        elif not description.get(permission):
            yield Finding(f"{sobject}: no permission to {purpose}.")
        if (
            sobject == "CampaignMember"
            and description
            and not description.get("updateable")
        ):
            yield Finding("CampaignMember: no permission to change member statuses.")


def _fields(crm: SalesforceCrm) -> Iterator[Finding]:
    definitions = db.session.scalars(sa.select(FieldDefinition)).all()
    wanted: dict[tuple[RuleObject, str], str] = {}
    for definition in definitions:
        if definition.contact_field:
            wanted[(RuleObject.CONTACT, definition.contact_field)] = (
                f"the form field “{definition.display_name}”"
            )
        if definition.lead_field:
            wanted[(RuleObject.LEAD, definition.lead_field)] = (
                f"the form field “{definition.display_name}”"
            )
    for rule in db.session.scalars(sa.select(FieldUpdateRule)):
        wanted[(rule.target, rule.field)] = f"a {rule.trigger.value} field update"
    ordered = sorted(wanted.items(), key=lambda item: (item[0][0].value, item[0][1]))
    for (target, name), purpose in ordered:
        if name not in crm.fields(target):
            yield Finding(
                f"{target.label}.{name} (for {purpose}): no such field, or the "
                "integration user cannot edit it."
            )
    task_fields = crm.fields(RuleObject.TASK)
    for name, purpose in _TASK_TIMES.items():
        if name not in task_fields:
            yield Finding(
                f"Task.{name}: not in the org, so tasks do not record {purpose} "
                "(optional: a custom field makes them do so).",
                is_missing=False,
            )


def _statuses(crm: SalesforceCrm) -> Iterator[Finding]:
    task_statuses = crm.task_statuses()
    used = set(db.session.scalars(sa.select(TriggerAction.task_status).distinct()))
    for status in sorted(used - set(task_statuses) - {""}):
        yield Finding(f"Task status “{status}” (used by actions) is not in the org.")
    events = db.session.scalars(
        sa.select(Event).where(Event.campaign_id.is_not(None), Event.campaign_id != "")
    )
    for event in events:
        campaign = crm.campaign(str(event.campaign_id))
        if campaign is None:
            yield Finding(
                f"Session “{event.title}”: campaign {event.campaign_id} is not in "
                "the org."
            )
            continue
        for settings in effective_action_set(event).triggers:
            status = settings.campaign_status
            if status and status not in campaign.statuses:
                yield Finding(
                    f"Session “{event.title}”: campaign “{campaign.name}” has no "
                    f"member status “{status}” (used on {settings.trigger.value}); "
                    f"Salesforce would use “{campaign.default_status}” instead."
                )
