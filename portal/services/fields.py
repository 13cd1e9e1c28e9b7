"""Field definitions: the defaults, which list a form uses, copies and resets.

Forms are built from :class:`FieldSpec` snapshots rather than from the ORM rows, so that
a form never touches the database while it renders or validates, and so that a list's
snapshot can be reused until its version changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from portal.crm.fields import field_length
from portal.extensions import db
from portal.models import (
    Event,
    FieldDefinition,
    FieldList,
    FieldOption,
    FieldScope,
    FixedField,
)
from portal.models.field import param_key_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a form needs to know about one field definition."""

    display_name: str
    fixed: FixedField | None
    contact_field: str
    lead_field: str
    is_required: bool
    is_hidden: bool
    default_value: str
    #: (shown text, stored value) pairs; empty for a text box.
    options: tuple[tuple[str, str], ...]
    max_length: int
    #: Prefilled only from a link signed by the tracked-link builder.
    is_locked: bool = False

    @property
    def param_name(self) -> str:
        """The query parameter that prefills this field (``sf_LeadSource``)."""
        return "sf_" + "".join(self.display_name.split())

    @property
    def param_key(self) -> str:
        """The case-insensitive form of :attr:`param_name` without its prefix."""
        return param_key_for(self.display_name)

    @property
    def is_picklist(self) -> bool:
        """Whether the field offers a drop-down instead of a text box."""
        return bool(self.options)

    def has_option(self, value: str) -> bool:
        """Whether ``value`` is one of the picklist's stored values."""
        return any(stored == value for _, stored in self.options)

    def option_value(self, text: str) -> str | None:
        """The stored value of the option ``text`` names (its value or its shown
        text, without regard to case), or None."""
        wanted = text.strip().casefold()
        for label, stored in self.options:
            if wanted in (stored.casefold(), label.casefold()):
                return stored
        return None


@dataclass(frozen=True, slots=True)
class Answer:
    """One submitted value with the CRM fields it maps to."""

    field: str
    contact_field: str
    lead_field: str
    value: str
    fixed: FixedField | None = None

    def as_dict(self) -> dict[str, str]:
        """The JSON form stored on registrants and activities."""
        return {
            "field": self.field,
            "contact_field": self.contact_field,
            "lead_field": self.lead_field,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class DefaultField:
    """A field of the factory defaults a new site starts with."""

    display_name: str
    contact_field: str
    lead_field: str
    fixed: FixedField | None = None
    is_required: bool = False
    is_hidden: bool = False
    default_value: str = ""
    options: tuple[tuple[str, str], ...] = ()


INDUSTRY_OPTIONS: tuple[tuple[str, str], ...] = (
    ("Agriculture", "Agriculture"),
    ("Apparel", "Apparel"),
    ("Banking", "Banking"),
    ("Biotechnology", "Biotechnology"),
    ("Chemicals", "Chemicals"),
    ("Communications", "Communications"),
    ("Construction", "Construction"),
    ("Consulting", "Consulting"),
    ("Education", "Education"),
    ("Electronics", "Electronics"),
    ("Energy", "Energy"),
    ("Engineering", "Engineering"),
    ("Entertainment", "Entertainment"),
    ("Environmental", "Environmental"),
    ("Finance", "Finance"),
    ("Food & Beverage", "Food & Beverage"),
    ("Government", "Government"),
    ("Healthcare", "Healthcare"),
    ("Hospitality", "Hospitality"),
    ("Insurance", "Insurance"),
    ("Machinery", "Machinery"),
    ("Manufacturing", "Manufacturing"),
    ("Media", "Media"),
    ("Not For Profit", "Not For Profit"),
    ("Recreation", "Recreation"),
    ("Retail", "Retail"),
    ("Shipping", "Shipping"),
    ("Technology", "Technology"),
    ("Telecommunications", "Telecommunications"),
    ("Transportation", "Transportation"),
    ("Utilities", "Utilities"),
    # Shown text and stored value may differ.
    ("Something else", "Other"),
)

DEFAULT_FIELDS: tuple[DefaultField, ...] = (
    DefaultField(
        "First Name", "FirstName", "FirstName", FixedField.FIRST_NAME, is_required=True
    ),
    DefaultField(
        "Last Name", "LastName", "LastName", FixedField.LAST_NAME, is_required=True
    ),
    DefaultField("Email", "Email", "Email", FixedField.EMAIL, is_required=True),
    DefaultField("Company", "", "Company", FixedField.COMPANY, is_required=True),
    DefaultField("Title", "Title", "Title"),
    DefaultField("Industry", "", "Industry", options=INDUSTRY_OPTIONS),
    DefaultField(
        "Lead Source", "LeadSource", "LeadSource", is_hidden=True, default_value="Web"
    ),
)


def global_list(scope: FieldScope) -> FieldList:
    """The global defaults of ``scope``, created from the factory defaults if new."""
    field_list = db.session.scalar(
        sa.select(FieldList).where(FieldList.global_scope == scope)
    )
    if field_list is None:
        field_list = FieldList(global_scope=scope)
        field_list.definitions = list(_definitions_from_defaults(DEFAULT_FIELDS))
        db.session.add(field_list)
        db.session.flush()
        logger.info("Created the default field list for %s", scope.value)
    return field_list


def ensure_global_lists() -> None:
    """Make sure all three global lists exist (a new site's first start)."""
    for scope in FieldScope:
        global_list(scope)


def effective_list(event: Event) -> FieldList:
    """The list an event's forms use: its own, its series', or the global one."""
    if event.field_list is not None:
        return event.field_list
    if event.series is not None and event.series.field_list is not None:
        return event.series.field_list
    return global_list(event.field_scope)


#: Snapshots kept per application, at most this many (lists and their versions).
SNAPSHOT_LIMIT = 512


def specs_for(field_list: FieldList) -> tuple[FieldSpec, ...]:
    """Snapshot a list's definitions, in order, for building a form.

    A snapshot is kept by the list's id and version, which every change raises
    (see :mod:`portal.models.field`): a form page then loads the list's row but not
    its definitions and options, and rebuilds nothing while the list stays as it is.
    A list with changes not yet flushed is read as it stands and not kept.
    """
    if field_list.id is None or _has_unflushed_field_changes():
        return _snapshot(field_list)
    snapshots: dict[tuple[int, int], tuple[FieldSpec, ...]] = (
        current_app.extensions.setdefault("portal.field_snapshots", {})
    )
    key = (field_list.id, field_list.version)
    snapshot = snapshots.get(key)
    if snapshot is None:
        snapshot = _snapshot(field_list)
        if len(snapshots) >= SNAPSHOT_LIMIT:
            snapshots.clear()
        snapshots[key] = snapshot
    return snapshot


def _snapshot(field_list: FieldList) -> tuple[FieldSpec, ...]:
    return tuple(_spec(definition) for definition in field_list.definitions)


def _has_unflushed_field_changes() -> bool:
    session = db.session
    return any(
        isinstance(record, FieldList | FieldDefinition | FieldOption)
        for record in (*session.new, *session.dirty, *session.deleted)
    )


def effective_fields(event: Event) -> tuple[FieldSpec, ...]:
    """The fields of an event's forms, in order."""
    return specs_for(effective_list(event))


def copy_list(source: FieldList) -> FieldList:
    """A new, unattached list with the same definitions as ``source``."""
    copy = FieldList()
    copy.definitions = [
        FieldDefinition(
            position=definition.position,
            display_name=definition.display_name,
            param_key=definition.param_key,
            fixed=definition.fixed,
            contact_field=definition.contact_field,
            lead_field=definition.lead_field,
            is_required=definition.is_required,
            is_hidden=definition.is_hidden,
            is_locked=definition.is_locked,
            default_value=definition.default_value,
            options=[
                FieldOption(
                    position=option.position, label=option.label, value=option.value
                )
                for option in definition.options
            ],
        )
        for definition in source.definitions
    ]
    db.session.add(copy)
    return copy


def _definitions_from_defaults(
    defaults: Iterable[DefaultField],
) -> Iterable[FieldDefinition]:
    for position, default in enumerate(defaults, start=1):
        yield FieldDefinition(
            position=position * 10,
            display_name=default.display_name,
            param_key=param_key_for(default.display_name),
            fixed=default.fixed,
            contact_field=default.contact_field,
            lead_field=default.lead_field,
            is_required=default.is_required,
            is_hidden=default.is_hidden,
            default_value=default.default_value,
            options=_options(default.options),
        )


def _options(pairs: Sequence[tuple[str, str]]) -> list[FieldOption]:
    return [
        FieldOption(position=index, label=label, value=value)
        for index, (label, value) in enumerate(pairs, start=1)
    ]


def _spec(definition: FieldDefinition) -> FieldSpec:
    fixed = definition.fixed
    always = fixed is not None and fixed.is_always_required
    return FieldSpec(
        display_name=definition.display_name,
        fixed=fixed,
        contact_field=definition.contact_field,
        lead_field=definition.lead_field,
        # The database can hold anything; the three identity fields stay required and
        # visible whatever a row says, because matching cannot work without them.
        is_required=definition.is_required or always,
        is_hidden=definition.is_hidden and not always,
        default_value=definition.default_value,
        options=tuple((option.label, option.value) for option in definition.options),
        max_length=field_length(definition.contact_field, definition.lead_field),
        # Only hidden fields can be locked; a row that says otherwise is not.
        is_locked=definition.is_locked and definition.is_hidden and not always,
    )
