"""Activities: the record of everything that happened, and the queue of CRM work."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.event import Event
    from portal.models.registrant import Registrant


class ActivityKind(enum.Enum):
    """What happened; each kind is one trigger of the actions."""

    REGISTER = "register"
    JOIN = "join"
    LEAVE = "leave"
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    EMAIL = "email"


class ActivityStatus(enum.Enum):
    """Where an activity is in processing."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    #: Processed and deliberately not sent to the CRM (a member of staff, say).
    SKIPPED = "skipped"


#: Prefix of the person key of an email still to be sent: a person's unsent mail
#: waits in a queue of its own, so that a mail server that is down holds back only
#: that mail, never the person's CRM work.
MAIL_QUEUE = "mail:"


def mail_queue_key(email_key: str) -> str:
    """The person key of an email to ``email_key`` that is still to be sent."""
    return MAIL_QUEUE + email_key


class Activity(Base):
    """One thing that happened to a session, recorded before any CRM work."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.Index("ix_activities_status_id", "status", "id"),
        sa.Index("ix_activities_person_key_id", "person_key", "id"),
        sa.Index("ix_activities_event_id_participant_id", "event_id", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    status: Mapped[ActivityStatus] = mapped_column(
        enum_column(ActivityStatus), default=ActivityStatus.PENDING
    )
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    registrant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrants.id", ondelete="CASCADE"), index=True
    )
    #: When it happened (for a webhook, the platform's time), in UTC.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the portal recorded it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What processing needs beyond the registrant: the answers of this submission.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: Makes a repeated delivery of the same submission or signal a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    #: Activities with the same key are processed one at a time, in order of arrival:
    #: the lower-cased email for a person, ``event:<id>`` for a session's own signals.
    person_key: Mapped[str] = mapped_column(sa.String(254))
    #: Not to be tried before this time (a retry waits out its backoff).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set while a worker holds the activity; a stale lock is taken over.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What processing found and did: candidates, the deciding rule, writes.
    trace: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: The CRM record the person was matched to: ``user``, ``contact`` or ``lead``.
    crm_person_type: Mapped[str | None] = mapped_column(sa.String(10))
    crm_person_id: Mapped[str | None] = mapped_column(sa.String(18))
    #: The CRM task this activity created (a Leave updates its Join's task).
    crm_task_id: Mapped[str | None] = mapped_column(sa.String(18))
    #: The meeting platform's own id for the attendee of a join or leave (Zoom's
    #: participant uuid). It ties a leave that names nobody to its join, and tells
    #: apart the attendees the platform could not name (no registrant: guests).
    participant_id: Mapped[str | None] = mapped_column(sa.String(120))

    event: Mapped[Event] = relationship()
    registrant: Mapped[Registrant | None] = relationship()

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.kind.value} {self.status.value}>"
