"""One contract, two backends: the same CRM seen through the built-in tables or
through the fake Salesforce org.

Each org helper puts records in its CRM and reads them back. Records read back have
the built-in CRM's attribute names (``lead.title``, ``task.is_closed``,
``member.has_responded``) on both, so that a test asserts the same things whichever
backend it runs on: the built-in's are its model rows, the fake org's are views of
its records.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import responses
import sqlalchemy as sa

from fakeorg.org import FakeOrg
from fakeorg.schema import PREFIXES
from portal.crm import get_crm
from portal.crm.base import Crm
from portal.crm.fields import (
    CAMPAIGN_MEMBER_FIELDS,
    CONTACT_FIELDS,
    LEAD_FIELDS,
    TASK_FIELDS,
)
from portal.extensions import db
from portal.models import (
    Account,
    Campaign,
    CampaignMember,
    CampaignMemberStatus,
    Contact,
    CrmUser,
    FeedPost,
    Lead,
    Opportunity,
    Task,
)

BACKENDS = ["builtin", "salesforce"]
#: The custom campaign influence model the contract's org has.
INFLUENCE_MODEL_ID = "03V000000000001AAA"


def backend_settings(backend: str) -> dict[str, Any]:
    """The settings that point the portal at a backend."""
    if backend == "builtin":
        return {}
    return {
        "CRM": "salesforce",
        "PROCESSING": "after_response",
        "SALESFORCE_DOMAIN": "acme.my",
        "SALESFORCE_CONSUMER_KEY": "3MVG9-fake-consumer-key",
        "SALESFORCE_CONSUMER_SECRET": "fake-consumer-secret",
        "SALESFORCE_INFLUENCE_MODEL_ID": INFLUENCE_MODEL_ID,
    }


class BuiltinOrg:
    """The built-in CRM's tables."""

    kind = "builtin"

    @property
    def crm(self) -> Crm:
        """The backend under test."""
        return get_crm()

    def add_user(self, **values: Any) -> str:
        return self._add(CrmUser(**values))

    def add_account(self, name: str) -> str:
        return self._add(Account(name=name))

    def add_contact(self, account_id: str | None = None, **values: Any) -> str:
        account = int(account_id) if account_id else None
        return self._add(Contact(account_id=account, **values))

    def add_lead(self, **values: Any) -> str:
        return self._add(Lead(**{"company": "Engines", **values}))

    def add_campaign(self, name: str, statuses: list[tuple[str, bool, bool]]) -> str:
        campaign = Campaign(name=name)
        campaign.statuses = [
            CampaignMemberStatus(
                label=label, is_default=default, has_responded=responded, sort_order=i
            )
            for i, (label, default, responded) in enumerate(statuses, start=1)
        ]
        return self._add(campaign)

    def add_opportunity(
        self,
        account_id: str,
        name: str,
        primary_campaign_id: str | None = None,
        **extra: Any,
    ) -> str:
        primary = int(primary_campaign_id) if primary_campaign_id else None
        return self._add(
            Opportunity(
                account_id=int(account_id),
                name=name,
                primary_campaign_id=primary,
                **extra,
            )
        )

    def lead(self, lead_id: str) -> Any:
        return db.session.get(Lead, int(lead_id))

    def contact(self, contact_id: str) -> Any:
        return db.session.get(Contact, int(contact_id))

    def user(self, user_id: str) -> Any:
        return db.session.get(CrmUser, int(user_id))

    def opportunity(self, opportunity_id: str) -> Any:
        row = db.session.get(Opportunity, int(opportunity_id))
        db.session.refresh(row)
        return row

    def leads(self) -> list[Any]:
        return list(db.session.scalars(sa.select(Lead).order_by(Lead.id)))

    def tasks_of(self, lead: Any) -> list[Any]:
        return list(
            db.session.scalars(
                sa.select(Task).where(Task.who_lead_id == lead.id).order_by(Task.id)
            )
        )

    def members_of(self, lead: Any) -> list[Any]:
        return list(
            db.session.scalars(
                sa.select(CampaignMember).where(CampaignMember.lead_id == lead.id)
            )
        )

    def feed_posts(self) -> list[Any]:
        return list(db.session.scalars(sa.select(FeedPost).order_by(FeedPost.id)))

    def count(self, kind: str) -> int:
        model = {
            "lead": Lead,
            "task": Task,
            "member": CampaignMember,
            "feed post": FeedPost,
        }[kind]
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    def _add(self, row: Any) -> str:
        db.session.add(row)
        db.session.commit()
        return str(row.id)


def _attributes(*catalogues: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for catalogue in catalogues:
        names.update({spec.column: spec.name for spec in catalogue.values()})
    return names


#: The built-in CRM's attribute names, and the Salesforce fields they are.
_VIEW_FIELDS = {
    "Lead": {**_attributes(LEAD_FIELDS), "is_converted": "IsConverted"},
    "Contact": {**_attributes(CONTACT_FIELDS), "account_id": "AccountId"},
    "User": {
        "first_name": "FirstName",
        "last_name": "LastName",
        "email": "Email",
        "is_active": "IsActive",
    },
    "Task": {
        **_attributes(TASK_FIELDS),
        "is_closed": "IsClosed",
        "completed_at": "CompletedDateTime",
        "what_campaign_id": "WhatId",
        "owner_id": "OwnerId",
    },
    "CampaignMember": {
        **_attributes(CAMPAIGN_MEMBER_FIELDS),
        "has_responded": "HasResponded",
        "first_responded_date": "FirstRespondedDate",
        "lead_id": "LeadId",
        "contact_id": "ContactId",
        "campaign_id": "CampaignId",
    },
    "FeedItem": {"body": "Body", "parent_id": "ParentId"},
    "Opportunity": {
        "name": "Name",
        "primary_campaign_id": "CampaignId",
        "is_closed": "IsClosed",
    },
    "CampaignInfluence": {"campaign_id": "CampaignId"},
    "Account": {"name": "Name"},
}
_PARENT_TYPES = {
    PREFIXES["Contact"]: "contact",
    PREFIXES["Lead"]: "lead",
    PREFIXES["User"]: "user",
    PREFIXES["Campaign"]: "campaign",
}


class RecordView:
    """A fake org record read through the built-in CRM's attribute names."""

    def __init__(self, org: FakeOrg, sobject: str, record: dict[str, Any]) -> None:
        self._org = org
        self._sobject = sobject
        self._record = record
        self._types = {spec["name"]: spec["type"] for spec in org.describes[sobject]}

    @property
    def id(self) -> str:
        return str(self._record["Id"])

    @property
    def parent_type(self) -> str:
        return _PARENT_TYPES[str(self._record["ParentId"])[:3]]

    @property
    def influences(self) -> list[RecordView]:
        return [
            RecordView(self._org, "CampaignInfluence", row)
            for row in self._org.all("CampaignInfluence", OpportunityId=self.id)
        ]

    def __getattr__(self, name: str) -> Any:
        field = _VIEW_FIELDS[self._sobject].get(name)
        if field is None:
            raise AttributeError(f"A {self._sobject} view has no {name}")
        return _typed(self._types.get(field, "string"), self._record.get(field))


def _typed(kind: str, value: Any) -> Any:
    """A Salesforce JSON value as the built-in CRM's column holds it."""
    if value is None:
        return (
            ""
            if kind in ("string", "textarea", "email", "phone", "url", "picklist")
            else None
        )
    if kind == "datetime":
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if kind == "date":
        return date.fromisoformat(str(value))
    if kind == "double" and float(value).is_integer():
        return int(value)
    return value


class SalesforceOrg:
    """The fake org the Salesforce backend talks to."""

    kind = "salesforce"

    def __init__(self, org: FakeOrg) -> None:
        self.org = org

    @property
    def crm(self) -> Crm:
        """The backend under test."""
        return get_crm()

    def add_user(self, **values: Any) -> str:
        return self.org.add(
            "User",
            values.pop("created_at", None),
            UserType="Standard",
            IsActive=values.pop("is_active", True),
            **self._fields("User", values),
        )

    def add_account(self, name: str) -> str:
        return self.org.add("Account", Name=name)

    def add_contact(self, account_id: str | None = None, **values: Any) -> str:
        return self.org.add(
            "Contact",
            values.pop("created_at", None),
            AccountId=account_id,
            **self._fields("Contact", values),
        )

    def add_lead(self, **values: Any) -> str:
        return self.org.add(
            "Lead",
            values.pop("created_at", None),
            IsConverted=values.pop("is_converted", False),
            **self._fields("Lead", {"company": "Engines", **values}),
        )

    def add_campaign(self, name: str, statuses: list[tuple[str, bool, bool]]) -> str:
        campaign_id = self.org.add("Campaign", Name=name, IsActive=True)
        for order, (label, default, responded) in enumerate(statuses, start=1):
            self.org.add(
                "CampaignMemberStatus",
                CampaignId=campaign_id,
                Label=label,
                IsDefault=default,
                HasResponded=responded,
                SortOrder=order,
            )
        return campaign_id

    def add_opportunity(
        self,
        account_id: str,
        name: str,
        primary_campaign_id: str | None = None,
        is_closed: bool = False,
    ) -> str:
        return self.org.add(
            "Opportunity",
            AccountId=account_id,
            Name=name,
            CampaignId=primary_campaign_id,
            IsClosed=is_closed,
        )

    def lead(self, lead_id: str) -> Any:
        return self._view("Lead", lead_id)

    def contact(self, contact_id: str) -> Any:
        return self._view("Contact", contact_id)

    def user(self, user_id: str) -> Any:
        return self._view("User", user_id)

    def opportunity(self, opportunity_id: str) -> Any:
        return self._view("Opportunity", opportunity_id)

    def leads(self) -> list[Any]:
        return [RecordView(self.org, "Lead", row) for row in self.org.all("Lead")]

    def tasks_of(self, lead: Any) -> list[Any]:
        return [
            RecordView(self.org, "Task", row)
            for row in self.org.all("Task", WhoId=lead.id)
        ]

    def members_of(self, lead: Any) -> list[Any]:
        return [
            RecordView(self.org, "CampaignMember", row)
            for row in self.org.all("CampaignMember", LeadId=lead.id)
        ]

    def feed_posts(self) -> list[Any]:
        return [
            RecordView(self.org, "FeedItem", row) for row in self.org.all("FeedItem")
        ]

    def count(self, kind: str) -> int:
        sobject = {
            "lead": "Lead",
            "task": "Task",
            "member": "CampaignMember",
            "feed post": "FeedItem",
        }[kind]
        return len(self.org.all(sobject))

    def _view(self, sobject: str, record_id: str) -> RecordView | None:
        record = self.org.records[sobject].get(record_id)
        return RecordView(self.org, sobject, record) if record is not None else None

    def _fields(self, sobject: str, values: dict[str, Any]) -> dict[str, Any]:
        names = _VIEW_FIELDS[sobject]
        return {names[name]: value for name, value in values.items()}


ContractOrg = BuiltinOrg | SalesforceOrg


def open_org(backend: str) -> Iterator[ContractOrg]:
    """The org of a backend, for the time of a test."""
    if backend == "builtin":
        yield BuiltinOrg()
        return
    org = FakeOrg()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        org.install(mock)
        yield SalesforceOrg(org)
