"""Field definitions: the ordered lists that attendee forms are built from.

A :class:`FieldList` is either one of the three global defaults (``global_scope`` set)
or the own copy of a session, a series or a room (pointed at from that object). Its
:class:`FieldDefinition` rows are the form's fields in order.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, enum_column, utcnow


class FieldScope(enum.Enum):
    """The three sets of global defaults."""

    SCHEDULED = "scheduled"
    MEETING_ROOM = "meeting_room"
    SUPPORT_ROOM = "support_room"

    @property
    def label(self) -> str:
        """How the scope is named to people."""
        return {
            FieldScope.SCHEDULED: "Scheduled sessions",
            FieldScope.MEETING_ROOM: "Personal meeting rooms",
            FieldScope.SUPPORT_ROOM: "Personal support rooms",
        }[self]


class FixedField(enum.Enum):
    """The four fields every form has and nobody can remove."""

    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    EMAIL = "email"
    COMPANY = "company"

    @property
    def is_always_required(self) -> bool:
        """First name, last name and email are always required and visible."""
        return self is not FixedField.COMPANY


class FieldList(Base):
    """An ordered list of field definitions: global defaults or an own copy."""

    __tablename__ = "field_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Set on the three global lists only (unique); NULL on copies.
    global_scope: Mapped[FieldScope | None] = mapped_column(
        enum_column(FieldScope), unique=True
    )
    #: On a global room scope: hosts may not change their rooms' lists.
    is_locked: Mapped[bool] = mapped_column(default=False)
    #: Raised on every change, so that cached forms know they are stale.
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    definitions: Mapped[list[FieldDefinition]] = relationship(
        back_populates="field_list",
        order_by="FieldDefinition.position",
        cascade="all, delete-orphan",
    )


class FieldDefinition(Base):
    """One field of a form: its label, CRM mapping and behaviour."""

    __tablename__ = "field_definitions"
    __table_args__ = (
        # The prefill parameter (sf_ + name without spaces) must name one field only.
        sa.UniqueConstraint("field_list_id", "param_key"),
        sa.UniqueConstraint("field_list_id", "fixed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    field_list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("field_lists.id", ondelete="CASCADE"), index=True
    )
    #: Order on the page, ascending; gaps are allowed.
    position: Mapped[int]
    #: The label on the form.
    display_name: Mapped[str] = mapped_column(sa.String(80))
    #: The display name without spaces, lower-cased: ``sf_<this>`` prefills the field.
    param_key: Mapped[str] = mapped_column(sa.String(80))
    fixed: Mapped[FixedField | None] = mapped_column(enum_column(FixedField))
    #: CRM field names it writes to; empty when it writes nothing to that object.
    contact_field: Mapped[str] = mapped_column(sa.String(80), default="")
    lead_field: Mapped[str] = mapped_column(sa.String(80), default="")
    is_required: Mapped[bool] = mapped_column(default=False)
    is_hidden: Mapped[bool] = mapped_column(default=False)
    default_value: Mapped[str] = mapped_column(sa.String(255), default="")
    #: Prefilled only from a link signed by the tracked-link builder; an edited or
    #: unsigned address leaves the default in place.
    is_locked: Mapped[bool] = mapped_column(default=False)

    field_list: Mapped[FieldList] = relationship(back_populates="definitions")
    #: Loaded with the definitions, all of a list's options in one query: a form
    #: costs the same statements whatever its number of fields.
    options: Mapped[list[FieldOption]] = relationship(
        back_populates="definition",
        order_by="FieldOption.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def param_name(self) -> str:
        """The query parameter that prefills this field, as marketers write it."""
        return "sf_" + "".join(self.display_name.split())

    def __repr__(self) -> str:
        return f"<FieldDefinition {self.id} {self.display_name!r}>"


class FieldOption(Base):
    """One choice of an alternate picklist: the text shown and the value stored."""

    __tablename__ = "field_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("field_definitions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(255))
    value: Mapped[str] = mapped_column(sa.String(255))

    definition: Mapped[FieldDefinition] = relationship(back_populates="options")


def param_key_for(display_name: str) -> str:
    """The case-insensitive key of a display name's prefill parameter."""
    return "".join(display_name.split()).lower()


@sa.event.listens_for(Session, "before_flush")
def _raise_changed_versions(
    session: Session, context: object, instances: object
) -> None:
    """Every change to a list, its definitions or their options raises the list's
    version (once a flush), so that a snapshot kept by list and version is never
    stale, whoever made the change."""
    changed: dict[int, FieldList] = {}
    for record in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(record, FieldList | FieldDefinition | FieldOption):
            continue
        if record in session.dirty and not session.is_modified(record):
            continue
        owner: FieldList | FieldDefinition | None = (
            record.definition if isinstance(record, FieldOption) else record
        )
        if isinstance(owner, FieldDefinition):
            owner = owner.field_list
        if isinstance(owner, FieldList):
            changed[id(owner)] = owner
    for field_list in changed.values():
        state = sa.inspect(field_list)
        if state.pending or state.deleted or field_list.id is None:
            continue
        if not state.attrs.version.history.has_changes():
            field_list.version += 1
