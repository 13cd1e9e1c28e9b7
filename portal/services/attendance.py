"""Attendance facts for a person's Leave: when they came and went, and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Activity, ActivityKind


@dataclass(frozen=True, slots=True)
class AttendanceFacts:
    """What a Leave tells: the visit's times, the total time, the session's count."""

    join_time: datetime | None
    leave_time: datetime
    #: Seconds attended over every visit up to this leave.
    duration_seconds: int | None
    #: Distinct people who have joined the session so far.
    attendee_count: int
    score_percent: int | None = None
    score_points: int | None = None


def leave_facts(leave: Activity) -> AttendanceFacts:
    """Pair the person's joins and leaves up to ``leave`` into visits; add them up."""
    signals = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.event_id == leave.event_id,
            Activity.registrant_id == leave.registrant_id,
            Activity.kind.in_([ActivityKind.JOIN, ActivityKind.LEAVE]),
            Activity.occurred_at <= leave.occurred_at,
            Activity.id != leave.id,
        )
        .order_by(Activity.occurred_at, Activity.id)
    )
    total = 0
    joined_at: datetime | None = None
    last_join: datetime | None = None
    for signal in [*signals, leave]:
        if signal.kind is ActivityKind.JOIN:
            joined_at = joined_at or signal.occurred_at
            last_join = signal.occurred_at
        elif joined_at is not None:
            total += int((signal.occurred_at - joined_at).total_seconds())
            joined_at = None
    payload = leave.payload or {}
    return AttendanceFacts(
        join_time=last_join,
        leave_time=leave.occurred_at,
        duration_seconds=total if last_join is not None else None,
        attendee_count=attendee_count(leave.event_id, leave.occurred_at),
        score_percent=_integer(payload.get("score_percent")),
        score_points=_integer(payload.get("score_points")),
    )


def attendee_count(event_id: int, until: datetime) -> int:
    """Distinct registrants who joined the session up to ``until``."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Activity.registrant_id))).where(
                Activity.event_id == event_id,
                Activity.kind == ActivityKind.JOIN,
                Activity.occurred_at <= until,
            )
        )
        or 0
    )


def has_joined(event_id: int, registrant_id: int) -> bool:
    """Whether the registrant joined the session at least once."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Activity.event_id == event_id,
                Activity.registrant_id == registrant_id,
                Activity.kind == ActivityKind.JOIN,
            )
        )
        or 0
    ) > 0


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value)
    return None
