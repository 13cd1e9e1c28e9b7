"""Attendance facts: visits, durations and counts from a session's joins and leaves.

A person's joins and leaves pair into visits, oldest first: a join opens a visit and a
leave closes it; a leave with no visit open counts nothing. A join while a visit is
open belongs to that visit (a second device, a signal sent twice), with one
exception: a visit opened only by a click on the portal's own join page starts again
at the meeting platform's join, because the click only says that the person was on
the way in. So the join page and the platform's join signal for one visit count once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Activity, ActivityKind, ActivityStatus

#: What the portal's own join page writes in a join's payload as its source.
JOIN_PAGE = "join_page"
#: The source of the leave Session End records for a visit still open.
SESSION_END_SOURCE = "session_end"
#: Set in a leave's payload when it found no visit to close: a join processed later
#: that happened at or before it puts it back in the queue.
AWAITS_JOIN = "awaits_join"


class Signal(NamedTuple):
    """One join or leave of a person, as the pairing needs it."""

    kind: ActivityKind
    at: datetime
    #: A click on the portal's join page rather than the platform's report.
    is_click: bool = False


@dataclass(frozen=True, slots=True)
class Visits:
    """A person's visits to one session, added up."""

    #: Seconds over every visit that has ended (and the open one, if closed).
    seconds: int
    has_joined: bool
    #: When the latest visit began.
    last_start: datetime | None
    #: When the visit still open began; None when the person is not in.
    open_since: datetime | None
    #: When the first visit began.
    first_start: datetime | None = None
    #: When the latest visit that has ended ended (``until``, if it closed one).
    last_end: datetime | None = None


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


def pair_visits(signals: Iterable[Signal], *, until: datetime | None = None) -> Visits:
    """Pair signals (oldest first) into visits; ``until`` closes a visit left open."""
    total = 0
    has_joined = False
    last_start: datetime | None = None
    open_since: datetime | None = None
    first_start: datetime | None = None
    last_end: datetime | None = None
    opened_by_click = False
    for signal in signals:
        if signal.kind is ActivityKind.JOIN:
            has_joined = True
            confirms_click = opened_by_click and not signal.is_click
            if open_since is None or confirms_click:
                open_since = last_start = signal.at
                opened_by_click = signal.is_click
                if last_end is None:
                    # Still the first visit (a confirmed click starts it again).
                    first_start = signal.at
        elif signal.kind is ActivityKind.LEAVE and open_since is not None:
            total += _seconds_between(open_since, signal.at)
            open_since = None
            last_end = signal.at
    if until is not None and open_since is not None:
        total += _seconds_between(open_since, until)
        last_end = until
    return Visits(total, has_joined, last_start, open_since, first_start, last_end)


def leave_facts(leave: Activity) -> AttendanceFacts:
    """Pair the person's joins and leaves up to ``leave`` into visits; add them up."""
    signals = person_signals(leave.event_id, leave.registrant_id, leave.occurred_at)
    visits = pair_visits(
        [
            *(signal for activity_id, signal in signals if activity_id != leave.id),
            Signal(ActivityKind.LEAVE, leave.occurred_at),
        ]
    )
    payload = leave.payload or {}
    return AttendanceFacts(
        join_time=visits.last_start,
        leave_time=leave.occurred_at,
        duration_seconds=visits.seconds if visits.has_joined else None,
        attendee_count=attendee_count(leave.event_id, leave.occurred_at),
        score_percent=_integer(payload.get("score_percent")),
        score_points=_integer(payload.get("score_points")),
    )


def visits_until(event_id: int, registrant_id: int, until: datetime) -> Visits:
    """The registrant's visits up to ``until``, a visit still open closed then."""
    signals = person_signals(event_id, registrant_id, until)
    return pair_visits((signal for _, signal in signals), until=until)


def all_visits(event_id: int, registrant_id: int) -> Visits:
    """The registrant's visits from every join and leave recorded so far."""
    return pair_visits(signal for _, signal in person_signals(event_id, registrant_id))


def was_in_before(leave: Activity) -> bool:
    """Whether the person had a visit open when ``leave`` happened.

    A leave that finds no visit open closes nothing: its join has not been
    recorded yet (it may still arrive), or it repeats a leave already counted.
    """
    signals = person_signals(leave.event_id, leave.registrant_id, leave.occurred_at)
    visits = pair_visits(
        signal for activity_id, signal in signals if activity_id != leave.id
    )
    return visits.open_since is not None


def open_visitors(event_id: int, until: datetime) -> set[int]:
    """The registrants with a visit still open at ``until``, in one query."""
    signals: dict[int, list[Signal]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(
            Activity.registrant_id,
            Activity.kind,
            Activity.occurred_at,
            Activity.payload["source"].as_string(),
        )
        .where(
            Activity.event_id == event_id,
            Activity.registrant_id.is_not(None),
            Activity.kind.in_([ActivityKind.JOIN, ActivityKind.LEAVE]),
            Activity.occurred_at <= until,
        )
        .order_by(Activity.occurred_at, Activity.id)
    )
    for registrant_id, kind, occurred_at, source in rows:
        if registrant_id is not None:
            signals[registrant_id].append(
                Signal(kind, occurred_at, source == JOIN_PAGE)
            )
    return {
        registrant_id
        for registrant_id, theirs in signals.items()
        if pair_visits(theirs).open_since is not None
    }


def person_signals(
    event_id: int, registrant_id: int | None, until: datetime | None = None
) -> list[tuple[int, Signal]]:
    """(activity id, signal) of the person's joins and leaves (up to ``until``)."""
    query = (
        sa.select(
            Activity.id,
            Activity.kind,
            Activity.occurred_at,
            Activity.payload["source"].as_string(),
        )
        .where(
            Activity.event_id == event_id,
            Activity.registrant_id == registrant_id,
            Activity.kind.in_([ActivityKind.JOIN, ActivityKind.LEAVE]),
        )
        .order_by(Activity.occurred_at, Activity.id)
    )
    if until is not None:
        query = query.where(Activity.occurred_at <= until)
    return [
        (activity_id, Signal(kind, occurred_at, source == JOIN_PAGE))
        for activity_id, kind, occurred_at, source in db.session.execute(query)
    ]


def attendee_count(event_id: int, until: datetime) -> int:
    """Distinct people who joined the session up to ``until``, guests included.

    A registrant counts once however often they came; an attendee the platform could
    not name counts once per participant id it gave.
    """
    joins = sa.and_(
        Activity.event_id == event_id,
        Activity.kind == ActivityKind.JOIN,
        Activity.occurred_at <= until,
    )
    registrants, guests = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(Activity.registrant_id)),
            sa.func.count(
                sa.distinct(
                    sa.case((Activity.registrant_id.is_(None), Activity.participant_id))
                )
            ),
        ).where(joins)
    ).one()
    return int(registrants or 0) + int(guests or 0)


def guest_count(event_id: int) -> int:
    """Attendees of the session the platform could not tie to a registrant."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Activity.participant_id))).where(
                Activity.event_id == event_id,
                Activity.kind == ActivityKind.JOIN,
                Activity.registrant_id.is_(None),
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


def join_that_ran(join: Activity) -> Activity | None:
    """The person's join that ran the Join actions, when ``join`` is not it.

    A person's activities are processed one at a time in order of arrival, so a
    join already processed (and not failed) is the one that ran them, whether it
    happened before ``join`` or, arriving first, after it.
    """
    return db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.event_id == join.event_id,
            Activity.registrant_id == join.registrant_id,
            Activity.kind == ActivityKind.JOIN,
            Activity.id != join.id,
            Activity.status.in_([ActivityStatus.DONE, ActivityStatus.SKIPPED]),
        )
        .order_by(Activity.processed_at, Activity.id)
        .limit(1)
    ).first()


def is_earliest_join(join: Activity) -> bool:
    """Whether no other join of the person happened before ``join``."""
    earlier = db.session.scalar(
        sa.select(sa.func.count()).where(
            Activity.event_id == join.event_id,
            Activity.registrant_id == join.registrant_id,
            Activity.kind == ActivityKind.JOIN,
            Activity.id != join.id,
            Activity.occurred_at < join.occurred_at,
        )
    )
    return not earlier


def leaves_awaiting(join: Activity) -> list[Activity]:
    """The person's leaves, at or after ``join``, that found no visit to close."""
    leaves = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.event_id == join.event_id,
            Activity.registrant_id == join.registrant_id,
            Activity.kind == ActivityKind.LEAVE,
            Activity.status.in_([ActivityStatus.DONE, ActivityStatus.SKIPPED]),
            Activity.occurred_at >= join.occurred_at,
        )
        .order_by(Activity.id)
    )
    return [leave for leave in leaves if (leave.payload or {}).get(AWAITS_JOIN)]


def _seconds_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value)
    return None
