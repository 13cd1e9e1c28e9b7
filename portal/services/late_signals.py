"""Putting right what arrives out of order: leaves before their join, and visits
the platform never closed.

The queue works a person's activities in order of arrival, which is not always the
order they happened in. A leave that finds no visit open does nothing and is marked
as waiting; a join processed later that happened at or before it queues it again,
so it then closes the visit as it would have in order. At Session End a visit still
open gets a leave at the end's time, so that it is counted and the CRM hears of it
as of any other leave.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from portal.extensions import db
from portal.models import Activity, ActivityKind, ActivityStatus, Registrant, utcnow
from portal.services.attendance import (
    AWAITS_JOIN,
    SESSION_END_SOURCE,
    leaves_awaiting,
    open_visitors,
)

logger = logging.getLogger(__name__)


def mark_awaiting_join(leave: Activity) -> None:
    """Note on ``leave`` that it closed no visit, for a later join to find it."""
    leave.payload = {**(leave.payload or {}), AWAITS_JOIN: True}


def requeue_leaves_awaiting(join: Activity) -> list[Activity]:
    """Queue again the person's waiting leaves that happened at or after ``join``.

    They have lower ids than the join, so they are processed as soon as the join
    is done, each in the person's turn.
    """
    leaves = leaves_awaiting(join)
    for leave in leaves:
        payload = {
            key: value
            for key, value in (leave.payload or {}).items()
            if key != AWAITS_JOIN
        }
        leave.payload = {**payload, "after_join": join.id}
        leave.status = ActivityStatus.PENDING
        leave.available_at = utcnow()
        leave.attempts = 0
        leave.processed_at = None
        logger.info(
            "Leave %s is queued again after join %s, which happened before it",
            leave.id,
            join.id,
        )
    return leaves


def close_open_visits(end: Activity, registrants: Sequence[Registrant]) -> int:
    """Record a leave at Session End's time for each registrant still in."""
    still_in = open_visitors(end.event_id, end.occurred_at)
    closing = [registrant for registrant in registrants if registrant.id in still_in]
    for registrant in closing:
        db.session.add(
            Activity(
                kind=ActivityKind.LEAVE,
                event_id=end.event_id,
                registrant=registrant,
                person_key=registrant.email_key,
                occurred_at=end.occurred_at,
                payload={"source": SESSION_END_SOURCE, "session_activity": end.id},
                dedupe_key=f"leave:{end.id}:{registrant.id}",
            )
        )
    return len(closing)
