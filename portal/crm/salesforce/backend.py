"""The Salesforce backend: the CRM interface on an org's REST API.

Reads answer at once and are kept for a while where they change rarely (the
objects' fields, task statuses, campaigns and their statuses, hosts). Writes made
while an activity is processed (inside :meth:`SalesforceCrm.activity_writes`) are
collected and sent together at its end (see ``writes``); outside it, each write is
sent at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from portal.crm.base import (
    CrmError,
    MemberResult,
    NewTask,
    OpportunityInfo,
    PeopleFound,
    Person,
    PersonType,
)
from portal.crm.salesforce import queries
from portal.crm.salesforce.client import SalesforceSettings
from portal.crm.salesforce.errors import SalesforceCrmError
from portal.crm.salesforce.reads import SOBJECTS, OrgReads
from portal.crm.salesforce.records import to_person, to_salesforce
from portal.crm.salesforce.writes import PendingWrite, SalesforceWriteBatch
from portal.models import RuleObject, utcnow

logger = logging.getLogger(__name__)

_MEMBER_FIELDS = {PersonType.CONTACT: "ContactId", PersonType.LEAD: "LeadId"}
#: The task's own times, written when the org has these custom fields.
_TASK_TIMES = ("Start_Time__c", "End_Time__c", "Duration_Minutes__c")


class SalesforceCrm(OrgReads):
    """A Salesforce org, through simple-salesforce."""

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        mapped_fields: Callable[[RuleObject], set[str]],
        cache_seconds: int = 600,
        influence_model_id: str = "",
    ) -> None:
        super().__init__(settings, cache_seconds=cache_seconds)
        self.influence_model_id = influence_model_id
        self._mapped_fields = mapped_fields
        self._local = threading.local()

    @contextlib.contextmanager
    def activity_writes(self) -> Iterator[SalesforceWriteBatch]:
        batch = SalesforceWriteBatch(self.client)
        self._local.batch = batch
        self._local.influences = {}
        try:
            yield batch
            self._guard(batch.send)
        finally:
            self._local.batch = None

    def find_people(self, email_key: str) -> PeopleFound:
        email = email_key.strip().lower()
        contact_fields = self._person_fields(RuleObject.CONTACT)
        lead_fields = self._person_fields(RuleObject.LEAD)
        users, contacts, leads = self._queries(
            [
                queries.users_by_email(email),
                queries.contacts_by_email(email, contact_fields),
                queries.leads_by_email(email, lead_fields),
            ],
            what="the people with this email",
        )
        return PeopleFound(
            users=tuple(to_person(PersonType.USER, row) for row in users),
            contacts=tuple(
                to_person(PersonType.CONTACT, row, contact_fields) for row in contacts
            ),
            leads=tuple(to_person(PersonType.LEAD, row, lead_fields) for row in leads),
        )

    def _person_fields(self, target: RuleObject) -> list[str]:
        """The fields forms fill that the org has, to read with each person."""
        known = self.fields(target)
        return sorted(name for name in self._mapped_fields(target) if name in known)

    def open_opportunities(self, account_id: str) -> list[OpportunityInfo]:
        soql = [queries.open_opportunities(account_id)]
        if self.influence_model_id:
            soql.append(queries.influences(account_id, self.influence_model_id))
        found = self._queries(soql, what="the account's open opportunities")
        credited: dict[str, list[str]] = {}
        for row in found[1] if len(found) > 1 else []:
            credited.setdefault(row["OpportunityId"], []).append(row["CampaignId"])
        opportunities = []
        for row in found[0]:
            primary = row.get("CampaignId")
            campaigns = credited.get(row["Id"], []) if self.influence_model_id else []
            if not self.influence_model_id and primary:
                campaigns = [primary]
            self._influences()[row["Id"]] = set(campaigns)
            opportunities.append(
                OpportunityInfo(
                    id=row["Id"],
                    name=row["Name"],
                    primary_campaign_id=primary,
                    campaign_ids=tuple(campaigns),
                )
            )
        return opportunities

    def create_lead(self, values: Mapping[str, Any]) -> Person:
        if not values.get("LastName") or not values.get("Company"):
            raise CrmError("A lead needs a last name and a company.")
        lead_id = self._write(PendingWrite("Lead", to_salesforce(values)))
        return Person(
            type=PersonType.LEAD,
            id=lead_id,
            first_name=str(values.get("FirstName") or ""),
            last_name=str(values["LastName"]),
            email=str(values.get("Email") or "").lower(),
            created_at=utcnow(),
            values=dict(values),
        )

    def fill_blank_fields(self, person: Person, values: Mapping[str, Any]) -> list[str]:
        if person.type is PersonType.USER:
            raise CrmError("Users are never written to.")
        known = self.fields(_rule_object(person.type))
        wanted = {
            name: value
            for name, value in values.items()
            if name in known and value not in ("", None)
        }
        current = dict(person.values)
        unread = sorted(name for name in wanted if name not in current)
        if unread:
            # A field no form maps any more was not read with the person.
            rows = self._query(
                queries.record_fields(_sobject(person), person.id, unread),
                "the person's current values",
            )
            current.update(rows[0] if rows else {})
        blank = {
            name: value
            for name, value in wanted.items()
            if current.get(name) in ("", None)
        }
        if blank:
            self._write(PendingWrite(_sobject(person), to_salesforce(blank), person.id))
        return list(blank)

    def upsert_campaign_member(
        self,
        campaign_id: str,
        person: Person,
        status: str | None,
        values: Mapping[str, Any],
    ) -> MemberResult:
        campaign = self._campaign(campaign_id)
        if campaign is None:
            raise CrmError(f"There is no campaign {campaign_id}.")
        person_field = _member_field(person)
        existing = self._member(campaign_id, person_field, person)
        if existing is None:
            status = status or campaign.info.default_status
            body = {"CampaignId": campaign_id, person_field: person.id}
            if status:
                body["Status"] = status
            body.update(to_salesforce(values))

            def update_instead() -> PendingWrite:
                return self._member_update(campaign_id, person, status, values)

            member_id = self._write(
                PendingWrite("CampaignMember", body, on_duplicate=update_instead)
            )
            return MemberResult(
                id=member_id,
                status=campaign.stored_status(status or ""),
                is_new=True,
            )
        kept_instead_of = None
        if status and existing["HasResponded"] and status not in campaign.responded:
            kept_instead_of, status = status, None
        body = to_salesforce(values)
        if status:
            body["Status"] = status
        if body:
            self._write(PendingWrite("CampaignMember", body, existing["Id"]))
        return MemberResult(
            id=existing["Id"],
            status=campaign.stored_status(status) if status else existing["Status"],
            is_new=False,
            is_changed=bool(body),
            kept_instead_of=kept_instead_of,
        )

    def _member(
        self, campaign_id: str, person_field: str, person: Person
    ) -> dict[str, Any] | None:
        if person.id.startswith("new:"):
            return None  # a lead this activity creates is nobody's member yet
        rows = self._query(
            queries.campaign_member(campaign_id, person_field, person.id),
            "the campaign member",
        )
        return rows[0] if rows else None

    def _member_update(
        self,
        campaign_id: str,
        person: Person,
        status: str | None,
        values: Mapping[str, Any],
    ) -> PendingWrite:
        """The update that replaces a create Salesforce refused as a duplicate."""
        campaign = self._campaign(campaign_id)
        existing = self._member(campaign_id, _member_field(person), person)
        if campaign is None or existing is None:
            raise SalesforceCrmError("The campaign member vanished while being made.")
        body = to_salesforce(values)
        if status and (not existing["HasResponded"] or status in campaign.responded):
            body["Status"] = status
        return PendingWrite("CampaignMember", body, existing["Id"])

    def create_task(self, task: NewTask) -> str:
        known = self.fields(RuleObject.TASK)
        body: dict[str, Any] = {
            "Subject": task.subject,
            "Status": task.status,
            "Priority": task.priority,
            "WhoId": task.who.id,
            "Description": task.description,
        }
        if task.campaign_id and task.who.type is PersonType.CONTACT:
            # A task about a lead may not point at anything else.
            body["WhatId"] = task.campaign_id
        if task.owner_id:
            body["OwnerId"] = task.owner_id
        if task.activity_date is not None:
            body["ActivityDate"] = task.activity_date
        times = dict(
            zip(
                _TASK_TIMES,
                (task.started_at, task.ended_at, task.duration_minutes),
                strict=True,
            )
        )
        body.update(
            {
                name: value
                for name, value in times.items()
                if value is not None and name in known
            }
        )
        body.update(task.extra)
        return self._write(PendingWrite("Task", to_salesforce(body)))

    def update_task(self, task_id: str, values: Mapping[str, Any]) -> None:
        known = self.fields(RuleObject.TASK)
        wanted = {
            name: value
            for name, value in values.items()
            if name in known or name not in _TASK_TIMES
        }
        self._write(PendingWrite("Task", to_salesforce(wanted), task_id))

    def update_record(
        self, target: RuleObject, record_id: str, values: Mapping[str, Any]
    ) -> None:
        self._write(PendingWrite(SOBJECTS[target], to_salesforce(values), record_id))

    def post_to_feed(self, parent_type: str, parent_id: str, body: str) -> str:
        if parent_type not in ("contact", "lead", "user", "campaign"):
            raise CrmError(f"A {parent_type} has no feed.")
        return self._write(
            PendingWrite(
                "FeedItem", {"ParentId": parent_id, "Body": body, "Type": "TextPost"}
            )
        )

    def credit_campaign(
        self, opportunity_id: str, campaign_id: str, *, make_primary: bool
    ) -> None:
        if make_primary:
            self._write(
                PendingWrite("Opportunity", {"CampaignId": campaign_id}, opportunity_id)
            )
        credited = self._influences().setdefault(opportunity_id, set())
        if self.influence_model_id and campaign_id not in credited:
            credited.add(campaign_id)
            self._write(
                PendingWrite(
                    "CampaignInfluence",
                    {
                        "CampaignId": campaign_id,
                        "OpportunityId": opportunity_id,
                        "ModelId": self.influence_model_id,
                    },
                )
            )

    def _write(self, write: PendingWrite) -> str:
        """Collect a write for the activity's batch, or send it now outside one.

        Returns the id of the record written: a stand-in while it waits.
        """
        batch: SalesforceWriteBatch | None = getattr(self._local, "batch", None)
        if batch is not None:
            if write.record_id is None:
                write.stand_in = batch.stand_in()
            batch.add(write)
            return write.stand_in or str(write.record_id)
        single = SalesforceWriteBatch(self.client)
        if write.record_id is None:
            write.stand_in = single.stand_in()
        single.add(write)
        self._guard(single.send)
        return str(single.resolve(write.stand_in or write.record_id))

    def _influences(self) -> dict[str, set[str]]:
        influences: dict[str, set[str]] | None = getattr(
            self._local, "influences", None
        )
        if influences is None:
            influences = self._local.influences = {}
        return influences


def _rule_object(person_type: PersonType) -> RuleObject:
    return RuleObject.CONTACT if person_type is PersonType.CONTACT else RuleObject.LEAD


def _sobject(person: Person) -> str:
    return "Contact" if person.type is PersonType.CONTACT else "Lead"


def _member_field(person: Person) -> str:
    field = _MEMBER_FIELDS.get(person.type)
    if field is None:
        raise CrmError("Only contacts and leads can be campaign members.")
    return field
