"""Recording what the meeting platform reports: a session's start and end, and each
person's joins and leaves, one activity each, stored before any CRM work.

Both the portal's own attendance API and the Zoom webhook read their bodies into an
:class:`AttendanceSignal` and hand it here. A delivery seen before is answered as a
repeat and changes nothing. A person is found by the token of their personal join
link, else by email (someone who joins without registering becomes a registrant, as
on the join page), else by the platform's participant id of an earlier signal;
someone the platform cannot name is recorded as a guest: counted among the
attendees, with nothing to send to the CRM.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.crm.fields import fit
from portal.errors import PortalError, ValidationFailed
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Event,
    Registrant,
    utcnow,
)
from portal.services.email_addresses import EmailAddress
from portal.services.registration import new_registrant_token, registrant_by_token
from portal.services.runners import process_soon
from portal.services.signatures import TOLERANCE

logger = logging.getLogger(__name__)

PERSON_SIGNALS = (ActivityKind.JOIN, ActivityKind.LEAVE)
SESSION_SIGNALS = (ActivityKind.SESSION_START, ActivityKind.SESSION_END)
NAME_LENGTH = 80
PARTICIPANT_ID_LENGTH = 120
#: The oldest time a signal may carry, before the current time. A platform retries a
#: delivery for hours and a relay may send a backlog of days; a time older than this
#: is a wrong clock or a made-up value, and would fall outside any session anyway.
MAX_SIGNAL_AGE = timedelta(days=30)


def signal_time_problem(moment: datetime, now: datetime) -> str | None:
    """Why ``moment`` cannot be when a signal happened, or None when it can be.

    A signal happened at most :data:`MAX_SIGNAL_AGE` ago and is not ahead of the
    portal's clock by more than the clocks may differ (the signatures' tolerance).
    """
    if moment - now > TOLERANCE:
        return "is in the future"
    if now - moment > MAX_SIGNAL_AGE:
        return f"is more than {MAX_SIGNAL_AGE.days} days ago"
    return None


class SignalRefused(ValidationFailed):
    """The signal cannot be recorded for this session (a room's start, say)."""


class SignalConflict(PortalError):
    """The sender's id of a signal was used before for a different one."""


@dataclass(frozen=True, slots=True)
class Attendee:
    """Who a join or leave is about, as far as the platform knows."""

    #: The secret of the registrant's personal join link.
    token: str = ""
    email: EmailAddress | None = None
    #: The platform's own id for the participant.
    participant_id: str = ""
    first_name: str = ""
    last_name: str = ""
    #: A display name, split into first and last when those are not given.
    name: str = ""


@dataclass(frozen=True, slots=True)
class AttendanceSignal:
    """One thing the platform reported, ready to record."""

    kind: ActivityKind
    event: Event
    occurred_at: datetime
    #: Who sent it: ``api`` or ``zoom``.
    source: str
    #: Names the delivery: the same text again is the same signal, sent twice.
    delivery: str
    attendee: Attendee | None = None
    score_percent: int | None = None
    score_points: int | None = None
    #: A digest of what the signal says, when its delivery is the sender's own id:
    #: the same id again with another digest is another signal under a reused id.
    content_digest: str = ""


@dataclass(frozen=True, slots=True)
class Recorded:
    """The activity a signal is recorded as, and whether it was recorded before."""

    activity: Activity
    is_repeat: bool


def record_signal(signal: AttendanceSignal) -> Recorded:
    """Store the signal as an activity (once), commit, and have it processed."""
    _check(signal)
    dedupe_key = delivery_key(signal)
    for attempt in range(2):
        earlier = _activity_by_key(dedupe_key)
        if earlier is not None:
            _check_same_content(signal, earlier)
            logger.info(
                "Ignored a repeated %s signal for event %s (activity %s)",
                signal.kind.value,
                signal.event.id,
                earlier.id,
            )
            return Recorded(earlier, is_repeat=True)
        activity = _new_activity(signal, dedupe_key)
        db.session.add(activity)
        try:
            db.session.commit()
        except IntegrityError:
            # The same delivery, or a registrant with this email, was recorded by a
            # concurrent request a moment ago: look again.
            db.session.rollback()
            if attempt:
                raise
            continue
        break

    logger.info(
        "Recorded a %s signal from %s for event %s (activity %s, %s)",
        signal.kind.value,
        signal.source,
        signal.event.id,
        activity.id,
        _about(activity),
    )
    if activity.status is ActivityStatus.PENDING:
        process_soon([activity])
    return Recorded(activity, is_repeat=False)


def _about(activity: Activity) -> str:
    """Whom a recorded signal is about, for the log line."""
    if activity.kind in SESSION_SIGNALS:
        return "the session"
    if activity.registrant_id is not None:
        return f"registrant {activity.registrant_id}"
    return f"unidentified attendee {activity.participant_id}"


def delivery_key(signal: AttendanceSignal) -> str:
    """The activity's dedupe key.

    A session starts and ends once: a second start or end for the same session is a
    repeat whatever its delivery says. A person's signal is a repeat when its
    delivery text is.
    """
    if signal.kind in SESSION_SIGNALS:
        return f"{signal.kind.value}:{signal.event.id}"
    digest = hashlib.sha256(signal.delivery.encode()).hexdigest()[:48]
    return f"{signal.source}:{digest}"


def _check_same_content(signal: AttendanceSignal, earlier: Activity) -> None:
    """Raise SignalConflict when a reused id brings a different signal.

    A session's start or end is one per session whatever it says, so only a
    person's signals are compared; an activity recorded without a digest (before
    digests were kept) cannot be compared and counts as the same.
    """
    if signal.kind not in PERSON_SIGNALS or not signal.content_digest:
        return
    recorded = (earlier.payload or {}).get("content_digest")
    if recorded and recorded != signal.content_digest:
        logger.warning(
            "Refused a %s signal for event %s: its id was used for activity %s, "
            "which says something else",
            signal.kind.value,
            signal.event.id,
            earlier.id,
        )
        raise SignalConflict(
            "An event with this id was recorded before with other content; give "
            "each event an id of its own."
        )


def _check(signal: AttendanceSignal) -> None:
    if signal.kind in SESSION_SIGNALS and signal.event.is_room:
        raise SignalRefused(
            "A personal room is always open: it has no start or end.", "type"
        )
    if signal.kind in PERSON_SIGNALS and signal.attendee is None:
        raise ValidationFailed("A join or leave names its attendee.", "attendee")


def _new_activity(signal: AttendanceSignal, dedupe_key: str) -> Activity:
    event = signal.event
    payload: dict[str, Any] = {"source": signal.source}
    if signal.content_digest:
        payload["content_digest"] = signal.content_digest
    if signal.score_percent is not None:
        payload["score_percent"] = signal.score_percent
    if signal.score_points is not None:
        payload["score_points"] = signal.score_points
    activity = Activity(
        kind=signal.kind,
        event=event,
        person_key=f"event:{event.id}",
        occurred_at=signal.occurred_at,
        payload=payload,
        dedupe_key=dedupe_key,
    )
    attendee = signal.attendee
    if attendee is None:
        return activity

    activity.participant_id = attendee.participant_id[:PARTICIPANT_ID_LENGTH] or None
    registrant = _registrant_for(event, attendee)
    if registrant is not None:
        activity.registrant = registrant
        activity.person_key = registrant.email_key
        return activity
    activity.person_key = f"guest:{event.id}"
    activity.status = ActivityStatus.SKIPPED
    activity.processed_at = utcnow()
    activity.trace = {
        "actions": ["an attendee the platform did not name: counted, not in the CRM"]
    }
    return activity


def _registrant_for(event: Event, attendee: Attendee) -> Registrant | None:
    """The registrant a signal is about, made for a new email; None for a guest."""
    if attendee.token:
        registrant = registrant_by_token(event, attendee.token)
        if registrant is None:
            raise ValidationFailed(
                "No registrant of this session has that token.", "attendee.token"
            )
        return registrant
    if attendee.email is not None:
        found = db.session.scalar(
            sa.select(Registrant).where(
                Registrant.event_id == event.id,
                Registrant.email_key == attendee.email.key,
            )
        )
        return found or _new_registrant(event, attendee, attendee.email)
    if attendee.participant_id:
        return db.session.scalars(
            sa.select(Registrant)
            .join(Activity, Activity.registrant_id == Registrant.id)
            .where(
                Activity.event_id == event.id,
                Activity.participant_id == attendee.participant_id,
            )
            .order_by(Activity.id.desc())
            .limit(1)
        ).first()
    return None


def _new_registrant(
    event: Event, attendee: Attendee, email: EmailAddress
) -> Registrant:
    """Someone who joined without registering, as the join page would make them."""
    first_name, last_name = attendee.first_name, attendee.last_name
    if not (first_name or last_name):
        first_name, _, last_name = attendee.name.strip().rpartition(" ")
    return Registrant(
        event=event,
        token=new_registrant_token(),
        email=email.address,
        email_key=email.key,
        first_name=fit(first_name.strip(), NAME_LENGTH)[0],
        # Left empty when not given: the CRM's placeholder belongs to the lead only.
        last_name=fit(last_name.strip(), NAME_LENGTH)[0],
        answers=[],
    )


def _activity_by_key(dedupe_key: str) -> Activity | None:
    return db.session.scalar(
        sa.select(Activity).where(Activity.dedupe_key == dedupe_key)
    )
