"""Registrants: one row per person and session, made by registering or joining."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.event import Event


class Registrant(Base):
    """A person known to one session, by the email they gave.

    Someone who joins without registering first is a registrant too, with no
    :attr:`registered_at`.
    """

    __tablename__ = "registrants"
    __table_args__ = (sa.UniqueConstraint("event_id", "email_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    #: The secret in the personal join link and the calendar file's address.
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    #: As given, trimmed and with the domain normalised.
    email: Mapped[str] = mapped_column(sa.String(254))
    #: Lower-cased email: one registrant per person and session.
    email_key: Mapped[str] = mapped_column(sa.String(254))
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80))
    #: Every submitted field with its CRM mapping at the time, in form order.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The CRM record processing last matched: ``user``, ``contact`` or ``lead``.
    crm_person_type: Mapped[str | None] = mapped_column(sa.String(10))
    crm_person_id: Mapped[str | None] = mapped_column(sa.String(18))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship()

    def answer(self, display_name: str) -> str:
        """The value given for the field with this display name, or ``""``."""
        for answer in self.answers:
            if answer["field"] == display_name:
                return str(answer["value"])
        return ""

    def __repr__(self) -> str:
        return f"<Registrant {self.id} {self.email_key} event={self.event_id}>"
