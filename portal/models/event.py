"""Sessions (called events in code), their recurring series, and personal rooms.

A *session* in the product is an :class:`Event` here, so that it never reads like a
database session or a browser session. A host's two personal rooms are events too,
with :attr:`Event.room_kind` set: they share the join page, the field lists, the
activities and the actions with scheduled sessions, and differ only where the product
says so.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, enum_column, utcnow
from portal.models.field import FieldScope

if TYPE_CHECKING:
    from portal.models.actions import ActionSet
    from portal.models.field import FieldList
    from portal.models.user import User


class EventType(enum.Enum):
    """The kind of session, as the meeting platform knows it."""

    MEETING = "meeting"
    LEARNING = "learning"
    WEBINAR = "webinar"
    SUPPORT = "support"
    #: Links an activity already set up on the meeting platform, by its id.
    EXISTING = "existing"


class RoomKind(enum.Enum):
    """The two always-open rooms every host has."""

    MEETING_ROOM = "meeting_room"
    SUPPORT_ROOM = "support_room"

    @property
    def label(self) -> str:
        """The room's name as attendees see it."""
        return {
            RoomKind.MEETING_ROOM: "Personal Meeting Room",
            RoomKind.SUPPORT_ROOM: "Personal Support Room",
        }[self]


class Frequency(enum.Enum):
    """How often a recurring series repeats."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class EventSeries(Base):
    """A recurring series; its occurrences are events that point at it.

    An occurrence uses the series' field list (and, later, its actions) until that
    occurrence gets a copy of its own.
    """

    __tablename__ = "event_series"
    __table_args__ = (
        sa.CheckConstraint("interval >= 1", name="interval_positive"),
        sa.CheckConstraint(
            "(occurrence_count IS NULL) <> (until_date IS NULL)", name="count_or_until"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency))
    interval: Mapped[int] = mapped_column(default=1)
    #: Exactly one of a count of occurrences and a last date ends the series.
    occurrence_count: Mapped[int | None]
    until_date: Mapped[date | None]
    field_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("field_lists.id", ondelete="SET NULL")
    )
    action_set_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("action_sets.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()
    field_list: Mapped[FieldList | None] = relationship()
    action_set: Mapped[ActionSet | None] = relationship()
    occurrences: Mapped[list[Event]] = relationship(
        back_populates="series", order_by="Event.starts_at"
    )


class Event(Base):
    """A session attendees register for or join, or a host's personal room."""

    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint(
            "is_always_available OR (starts_at IS NOT NULL AND ends_at IS NOT NULL "
            "AND ends_at > starts_at)",
            name="schedule_complete",
        ),
        # One room of each kind per host; NULL room kinds (sessions) never collide.
        sa.UniqueConstraint("owner_id", "room_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The random part of the three public addresses; unguessable, never reused.
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    type: Mapped[EventType] = mapped_column(enum_column(EventType))
    room_kind: Mapped[RoomKind | None] = mapped_column(enum_column(RoomKind))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    #: Start and end in UTC; shown in :attr:`time_zone`.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    is_always_available: Mapped[bool] = mapped_column(default=False)

    dial_in_number: Mapped[str] = mapped_column(sa.String(40), default="")
    participant_code: Mapped[str] = mapped_column(sa.String(32), default="")
    #: For the host only; never shown on a public page.
    moderator_code: Mapped[str] = mapped_column(sa.String(32), default="")
    has_video: Mapped[bool] = mapped_column(default=True)
    has_internet_audio: Mapped[bool] = mapped_column(default=True)
    has_listen_only_audio: Mapped[bool] = mapped_column(default=False)
    #: Asked on the direct join page when set.
    join_password: Mapped[str | None] = mapped_column(sa.String(64))
    #: Where the direct join page sends attendees: the meeting platform's address.
    join_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    #: The meeting platform's id for an ``existing`` activity or a linked meeting.
    platform_activity_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: The CRM's id of the session's campaign (a Salesforce id or a built-in one).
    campaign_id: Mapped[str | None] = mapped_column(sa.String(18))

    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event_series.id", ondelete="SET NULL"), index=True
    )
    #: This event's own copy of the fields; none means it uses the series' or global.
    field_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("field_lists.id", ondelete="SET NULL")
    )
    #: This event's own copy of the actions; none means the series' or global.
    action_set_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("action_sets.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()
    series: Mapped[EventSeries | None] = relationship(back_populates="occurrences")
    field_list: Mapped[FieldList | None] = relationship()
    action_set: Mapped[ActionSet | None] = relationship()

    @property
    def is_room(self) -> bool:
        """Whether this is a host's personal room (join page only)."""
        return self.room_kind is not None

    @property
    def field_scope(self) -> FieldScope:
        """The global scope whose defaults this event starts from."""
        if self.room_kind is RoomKind.MEETING_ROOM:
            return FieldScope.MEETING_ROOM
        if self.room_kind is RoomKind.SUPPORT_ROOM:
            return FieldScope.SUPPORT_ROOM
        return FieldScope.SCHEDULED

    def has_ended(self, now: datetime) -> bool:
        """Whether a scheduled session is over at ``now``."""
        return (
            not self.is_always_available
            and self.ends_at is not None
            and self.ends_at <= now
        )

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.key} {self.title!r}>"
