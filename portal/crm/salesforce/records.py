"""Salesforce's records and field descriptions in the portal's terms, and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from portal.crm.base import Person, PersonType
from portal.crm.fields import CrmField, FieldType

#: Salesforce field types the portal can write, by the kind of value they hold.
_TEXT_TYPES = {
    "string": FieldType.TEXT,
    "combobox": FieldType.TEXT,
    "textarea": FieldType.TEXTAREA,
    "email": FieldType.EMAIL,
    "phone": FieldType.PHONE,
    "url": FieldType.URL,
    "picklist": FieldType.PICKLIST,
}
_NUMBER_TYPES = {"int", "double", "currency", "percent"}
#: Fields of people every query reads, besides those the forms fill.
PERSON_FIELDS = ("Id", "FirstName", "LastName", "Email", "CreatedDate")


def catalogue(description: Mapping[str, Any]) -> dict[str, CrmField]:
    """The fields of a described object the portal can write, by API name."""
    fields: dict[str, CrmField] = {}
    for spec in description.get("fields", []):
        if not spec.get("updateable"):
            continue
        kind = _field_type(spec)
        if kind is None:
            continue
        length = int(spec.get("length") or 0) if kind.is_text else 0
        fields[spec["name"]] = CrmField(spec["name"], spec["label"], kind, length)
    return fields


def _field_type(spec: Mapping[str, Any]) -> FieldType | None:
    kind = str(spec.get("type", ""))
    if kind in _TEXT_TYPES:
        return _TEXT_TYPES[kind]
    if kind in _NUMBER_TYPES and not spec.get("scale"):
        return FieldType.INTEGER
    if kind == "date":
        return FieldType.DATE
    if kind == "datetime":
        return FieldType.DATETIME
    return None


def to_salesforce(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as Salesforce's JSON takes them (dates and times as ISO 8601)."""
    return {name: _json_value(value) for name, value in values.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC).replace(tzinfo=None)
        return moment.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def parse_datetime(text: str | None) -> datetime:
    """A Salesforce date-time (``2024-01-31T09:30:00.000+0000``), timezone-aware."""
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def to_person(
    person_type: PersonType, record: Mapping[str, Any], fields: Iterable[str] = ()
) -> Person:
    """A User, Contact or Lead record as matching sees it."""
    return Person(
        type=person_type,
        id=str(record["Id"]),
        first_name=record.get("FirstName") or "",
        last_name=record.get("LastName") or "",
        email=(record.get("Email") or "").lower(),
        created_at=parse_datetime(record.get("CreatedDate")),
        account_id=record.get("AccountId")
        if person_type is PersonType.CONTACT
        else None,
        values={name: record.get(name) for name in fields},
    )


def is_salesforce_id(text: str) -> bool:
    """Whether ``text`` has the form of a Salesforce record id (15 or 18 characters)."""
    return len(text) in (15, 18) and text.isalnum() and text.isascii()
