"""The fake org's objects and fields, described as Salesforce describes them.

The fields actions and forms write come from the portal's field catalogue, so that
the same rules work on both backends; the rest are the standard fields the
backend reads or Salesforce sets.
"""

from __future__ import annotations

from typing import Any

from portal.crm.fields import (
    CAMPAIGN_MEMBER_FIELDS,
    CONTACT_FIELDS,
    LEAD_FIELDS,
    TASK_FIELDS,
    CrmField,
    FieldType,
)

#: Key prefixes of record ids, as Salesforce's.
PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Task": "00T",
    "Lead": "00Q",
    "CampaignMember": "00v",
    "Campaign": "701",
    "CampaignMemberStatus": "01Y",
    "TaskStatus": "01J",
    "FeedItem": "0D5",
    "CampaignInfluence": "0Ci",
}
_TYPES = {
    FieldType.TEXT: "string",
    FieldType.EMAIL: "email",
    FieldType.PHONE: "phone",
    FieldType.URL: "url",
    FieldType.PICKLIST: "picklist",
    FieldType.TEXTAREA: "textarea",
    FieldType.INTEGER: "double",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
}


def field(
    name: str,
    kind: str = "string",
    *,
    length: int = 0,
    createable: bool = True,
    updateable: bool = True,
    label: str = "",
) -> dict[str, Any]:
    """One field's description."""
    return {
        "name": name,
        "label": label or name,
        "type": kind,
        "length": length,
        "scale": 0,
        "createable": createable,
        "updateable": updateable,
        "nillable": True,
    }


def _from_catalogue(catalogue: dict[str, CrmField]) -> list[dict[str, Any]]:
    return [
        field(spec.name, _TYPES[spec.type], length=spec.length, label=spec.label)
        for spec in catalogue.values()
    ]


def _read_only(*names: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        field(name, kind, createable=False, updateable=False) for name, kind in names
    ]


_SYSTEM = _read_only(("Id", "id"), ("CreatedDate", "datetime"))


def _reference(name: str, *, updateable: bool = True) -> dict[str, Any]:
    return field(name, "reference", length=18, updateable=updateable)


def describe_all() -> dict[str, list[dict[str, Any]]]:
    """Every object's fields."""
    return {
        "Lead": [
            *_SYSTEM,
            *_from_catalogue(LEAD_FIELDS),
            *_read_only(("IsConverted", "boolean")),
        ],
        "Contact": [
            *_SYSTEM,
            *_from_catalogue(CONTACT_FIELDS),
            _reference("AccountId"),
        ],
        "Task": [
            *_SYSTEM,
            *_from_catalogue(TASK_FIELDS),
            _reference("WhoId"),
            _reference("WhatId"),
            _reference("OwnerId"),
            *_read_only(("IsClosed", "boolean"), ("CompletedDateTime", "datetime")),
        ],
        "CampaignMember": [
            *_SYSTEM,
            *_from_catalogue(CAMPAIGN_MEMBER_FIELDS),
            _reference("CampaignId", updateable=False),
            _reference("LeadId", updateable=False),
            _reference("ContactId", updateable=False),
            *_read_only(("HasResponded", "boolean"), ("FirstRespondedDate", "date")),
        ],
        "FeedItem": [
            *_SYSTEM,
            _reference("ParentId", updateable=False),
            field("Body", "textarea", length=10000),
            field("Type", "picklist", length=40),
        ],
        "Opportunity": [
            *_SYSTEM,
            field("Name", length=120),
            _reference("CampaignId"),
            _reference("AccountId"),
            field("IsClosed", "boolean"),
        ],
        "CampaignInfluence": [
            *_SYSTEM,
            _reference("CampaignId"),
            _reference("OpportunityId"),
            _reference("ModelId"),
        ],
        "Account": [*_SYSTEM, field("Name", length=255)],
        "Campaign": [*_SYSTEM, field("Name", length=80), field("IsActive", "boolean")],
        "CampaignMemberStatus": [
            *_SYSTEM,
            _reference("CampaignId"),
            field("Label", length=765),
            field("IsDefault", "boolean"),
            field("HasResponded", "boolean"),
            field("SortOrder", "int"),
        ],
        "TaskStatus": [
            *_SYSTEM,
            field("MasterLabel", length=255),
            field("IsClosed", "boolean"),
            field("SortOrder", "int"),
        ],
        "User": [
            *_SYSTEM,
            field("FirstName", length=40),
            field("LastName", length=80),
            field("Email", "email", length=128),
            field("IsActive", "boolean"),
            field("UserType", "picklist", length=40),
        ],
    }
