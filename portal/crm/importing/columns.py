"""The columns an imported file may have, for each kind of record.

A column names where its value is stored and how its cells are read. Contacts' and
leads' columns come from the CRM's field catalogue, under the fields' labels, plus the
other headers Salesforce's reports use for them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.crm.fields import CONTACT_FIELDS, LEAD_FIELDS, CrmField, FieldType
from portal.models import Account, Contact, CrmUser, Lead

Record = Contact | Lead | CrmUser | Account


class ImportKind(enum.Enum):
    """What the rows of an imported file are."""

    CONTACTS = "contacts"
    LEADS = "leads"
    USERS = "users"
    ACCOUNTS = "accounts"

    def count(self, number: int) -> str:
        """``number`` records of this kind in words: "1 contact", "3 contacts"."""
        return f"{number} {self.value if number != 1 else self.value[:-1]}"


class ValueType(enum.Enum):
    """How a cell is read."""

    TEXT = "text"
    EMAIL = "email"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class ImportColumn:
    """A column a file may have: its header, where it is stored, how it is read."""

    label: str
    attribute: str
    type: ValueType = ValueType.TEXT
    #: The longest text the column holds; 0 when the value is not text.
    length: int = 0
    #: Other headers Salesforce's reports use for it.
    aliases: tuple[str, ...] = ()
    is_required: bool = False
    #: Written to a contact's account (found by name, or created) not the contact.
    is_account: bool = False


_VALUE_TYPES = {
    FieldType.EMAIL: ValueType.EMAIL,
    FieldType.DATE: ValueType.DATE,
    FieldType.DATETIME: ValueType.DATETIME,
    FieldType.INTEGER: ValueType.INTEGER,
}


def _room(model: type[Record], attribute: str, fallback: int) -> int:
    """The length of the model's text column; ``fallback`` for unbounded text."""
    column_type = model.__table__.c[attribute].type
    if isinstance(column_type, sa.String) and column_type.length:
        return column_type.length
    return fallback


def _column(
    model: type[Record],
    label: str,
    attribute: str,
    *aliases: str,
    value_type: ValueType = ValueType.TEXT,
    unbounded_length: int = 0,
    **options: Any,
) -> ImportColumn:
    """A column of ``model``; text longer than its column (or the limit) is cut."""
    length = 0
    if value_type in (ValueType.TEXT, ValueType.EMAIL):
        length = _room(model, attribute, unbounded_length)
    return ImportColumn(label, attribute, value_type, length, aliases, **options)


def _from_catalogue(
    model: type[Record],
    catalogue: Mapping[str, CrmField],
    aliases: Mapping[str, tuple[str, ...]],
    required: Iterable[str],
) -> list[ImportColumn]:
    """A column for every catalogue field the model stores, under its label."""
    return [
        _column(
            model,
            crm_field.label,
            crm_field.column,
            *aliases.get(crm_field.column, ()),
            value_type=_VALUE_TYPES.get(crm_field.type, ValueType.TEXT),
            unbounded_length=crm_field.length,
            is_required=crm_field.column in required,
        )
        for crm_field in catalogue.values()
        if crm_field.column in model.__table__.c
    ]


_CREATED = ImportColumn("Created Date", "created_at", ValueType.DATETIME)

_COLUMNS: dict[ImportKind, tuple[ImportColumn, ...]] = {
    ImportKind.CONTACTS: (
        *_from_catalogue(
            Contact,
            CONTACT_FIELDS,
            {
                "mobile_phone": ("Mobile",),
                "mailing_state": ("Mailing State",),
                "mailing_postal_code": ("Mailing Zip", "Mailing Postal Code"),
            },
            required=["last_name"],
        ),
        _column(Account, "Account Name", "name", "Account", is_account=True),
        _column(Account, "Industry", "industry", is_account=True),
        _column(Account, "Website", "website", is_account=True),
        _CREATED,
    ),
    ImportKind.LEADS: (
        *_from_catalogue(
            Lead,
            LEAD_FIELDS,
            {
                "company": ("Company / Account",),
                "status": ("Status",),
                "mobile_phone": ("Mobile",),
                "state": ("State", "Province"),
                "postal_code": ("Zip", "Zip Code", "Postal Code"),
            },
            required=["last_name", "company"],
        ),
        ImportColumn("Converted", "is_converted", ValueType.BOOLEAN),
        _CREATED,
    ),
    ImportKind.USERS: (
        _column(CrmUser, "First Name", "first_name"),
        _column(CrmUser, "Last Name", "last_name", is_required=True),
        _column(
            CrmUser, "Email", "email", value_type=ValueType.EMAIL, is_required=True
        ),
        ImportColumn("Active", "is_active", ValueType.BOOLEAN),
        _CREATED,
    ),
    ImportKind.ACCOUNTS: (
        _column(Account, "Account Name", "name", is_required=True),
        _column(Account, "Industry", "industry"),
        _column(Account, "Website", "website"),
        _CREATED,
    ),
}


def import_columns(kind: ImportKind) -> tuple[ImportColumn, ...]:
    """The columns a file of ``kind`` may have."""
    return _COLUMNS[kind]


def header_key(header: str) -> str:
    """A header as compared: without case or extra spaces; "A / B" is "A/B"."""
    words = " ".join(header.replace("\ufeff", "").casefold().split())
    return re.sub(r" ?/ ?", "/", words)
