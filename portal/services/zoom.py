"""Zoom's meeting and webinar webhooks, read into attendance signals.

``meeting.started`` and ``webinar.started`` start a session, ``*.ended`` end it, and
``*.participant_joined`` and ``*.participant_left`` are a person's join and leave.
The Zoom meeting or webinar id (``payload.object.id``) names the session: the one
whose meeting platform id it is. A recurring Zoom meeting keeps one id for every
occurrence, so among several sessions with that id the one scheduled nearest to the
Zoom occurrence's start is meant. Other events are answered and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms.attendee import clean_text
from portal.models import ActivityKind, Event
from portal.services.email_addresses import InvalidEmail, parse_email
from portal.services.signals import (
    PERSON_SIGNALS,
    AttendanceSignal,
    Attendee,
    signal_time_problem,
)

logger = logging.getLogger(__name__)

URL_VALIDATION = "endpoint.url_validation"
ZOOM_EVENTS = {
    "meeting.started": ActivityKind.SESSION_START,
    "webinar.started": ActivityKind.SESSION_START,
    "meeting.ended": ActivityKind.SESSION_END,
    "webinar.ended": ActivityKind.SESSION_END,
    "meeting.participant_joined": ActivityKind.JOIN,
    "webinar.participant_joined": ActivityKind.JOIN,
    "meeting.participant_left": ActivityKind.LEAVE,
    "webinar.participant_left": ActivityKind.LEAVE,
}
#: The field of ``payload.object`` (or of its participant) that says when.
_TIME_FIELDS = {
    ActivityKind.SESSION_START: "start_time",
    ActivityKind.SESSION_END: "end_time",
    ActivityKind.JOIN: "join_time",
    ActivityKind.LEAVE: "leave_time",
}
#: Zoom's ids for a participant, steadiest first (``user_id`` changes on a rejoin).
_PARTICIPANT_KEYS = ("participant_uuid", "id", "user_id")
_TEXT_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Ignored:
    """A delivery that is answered but records nothing, and why."""

    reason: str


def plain_token(data: Mapping[str, Any]) -> str:
    """The ``plainToken`` of an ``endpoint.url_validation`` body."""
    payload = _object(data, "payload", "payload")
    token = payload.get("plainToken")
    if not isinstance(token, str) or not token or len(token) > _TEXT_LIMIT:
        raise ValidationFailed("payload.plainToken must be a string.", "payload")
    return token


def read_zoom_event(data: Any, now: datetime) -> AttendanceSignal | Ignored:
    """The signal a Zoom event describes, or why it is ignored."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("The body must be a JSON object.")
    name = data.get("event")
    if not isinstance(name, str):
        raise ValidationFailed("event must be a string.", "event")
    kind = ZOOM_EVENTS.get(name)
    if kind is None:
        return Ignored(f"{name[:80]} is not an attendance event")
    subject = _object(_object(data, "payload", "payload"), "object", "payload.object")
    raw_id = subject.get("id")
    if raw_id is not None and (
        isinstance(raw_id, bool) or not isinstance(raw_id, str | int)
    ):
        raise ValidationFailed(
            "payload.object.id must be a string or a whole number.",
            "payload.object.id",
        )
    meeting_id = _text(raw_id)
    if not meeting_id:
        raise ValidationFailed("payload.object.id is missing.", "payload.object.id")

    participant: Mapping[str, Any] = {}
    attendee = None
    if kind in PERSON_SIGNALS:
        participant = _object(
            subject, "participant", "payload.object.participant", required=False
        )
        attendee = _attendee(participant)
        if attendee is None:
            return Ignored("the participant has no email, id or name")
    timed = participant if kind in PERSON_SIGNALS else subject
    occurred_at = _occurred_at(
        timed.get(_TIME_FIELDS[kind]), data.get("event_ts"), now, name
    )
    if attendee is not None and not (attendee.email or attendee.participant_id):
        attendee = _unidentified(attendee, subject, kind, occurred_at)
    event = zoom_session(meeting_id, _time(subject.get("start_time")) or occurred_at)
    if event is None:
        return Ignored(f"no session is linked to Zoom meeting {meeting_id[:40]}")
    host = event.owner.email.strip().lower()
    if attendee is not None and attendee.email and attendee.email.key == host:
        # Zoom reports the host as a participant; the host is not an attendee.
        return Ignored("the participant is the session's host")

    who = ""
    if attendee is not None:
        who = attendee.email.key if attendee.email else attendee.participant_id
    delivery = json.dumps(
        [name, meeting_id, _text(subject.get("uuid")), who, occurred_at.isoformat()]
    )
    return AttendanceSignal(
        kind=kind,
        event=event,
        occurred_at=occurred_at,
        source="zoom",
        delivery=delivery,
        attendee=attendee,
    )


def zoom_session(meeting_id: str, around: datetime) -> Event | None:
    """The session linked to a Zoom meeting id, nearest in time to ``around``."""
    wanted = _digits(meeting_id)
    if not wanted:
        return None
    stored = sa.func.replace(
        sa.func.replace(Event.platform_activity_id, " ", ""), "-", ""
    )
    candidates = db.session.scalars(
        sa.select(Event).where(stored == wanted).order_by(Event.id)
    ).all()

    def distance(event: Event) -> float:
        if event.starts_at is None:
            return float("inf")
        return abs((event.starts_at - around).total_seconds())

    return min(candidates, key=distance, default=None)


def _attendee(participant: Mapping[str, Any]) -> Attendee | None:
    email = None
    address = _text(participant.get("email"))
    if address:
        try:
            email = parse_email(address)
        except InvalidEmail:
            # Zoom passes on whatever a guest typed; such a guest is counted unnamed.
            email = None
    participant_id = next(
        (
            f"{key}:{value}"
            for key in _PARTICIPANT_KEYS
            if (value := _text(participant.get(key)))
        ),
        "",
    )
    name = _text(participant.get("user_name"))
    if email is None and not participant_id and not name:
        return None
    return Attendee(email=email, participant_id=participant_id, name=name)


def _unidentified(
    attendee: Attendee, subject: Mapping[str, Any], kind: ActivityKind, at: datetime
) -> Attendee:
    """A participant Zoom gives neither an email nor an id, as an attendee of its own.

    A display name is no identity: two guests both called "iPhone" are two people,
    and one of them is no registrant who happens to have that name. Each join of
    such a participant is a separate unidentified attendee, keyed by the meeting,
    the name and the time, so that only a repeated delivery is the same one.
    """
    visit = json.dumps(
        [_text(subject.get("uuid")), attendee.name, kind.value, at.isoformat()]
    )
    digest = hashlib.sha256(visit.encode()).hexdigest()[:32]
    return replace(attendee, participant_id=f"unidentified:{digest}")


def _object(
    data: Mapping[str, Any], name: str, path: str, *, required: bool = True
) -> Mapping[str, Any]:
    value = data.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"{path} must be an object.", path)
    return value


def _text(value: Any) -> str:
    """A string or number field as text (Zoom sends ids as either)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # As the web form does: no NUL or other control character, no direction
        # override, one space for each run of white space.
        return clean_text(value[: _TEXT_LIMIT * 2])[:_TEXT_LIMIT]
    return ""


def _digits(meeting_id: str) -> str:
    return "".join(character for character in meeting_id if character not in " -")


def _time(value: Any) -> datetime | None:
    """An ISO 8601 time from Zoom (UTC, ``2026-01-01T00:02:10Z``), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip()[:40])
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _occurred_at(reported: Any, event_ts: Any, now: datetime, name: str) -> datetime:
    """When it happened: Zoom's time for it, else when Zoom sent it, else now.

    A time that is unreadable or cannot be right (ahead of the clock, or weeks old)
    is not refused: Zoom would only send the event again, with the same time. The
    time of the event's notification (``event_ts``) stands in, and when that cannot
    be right either, the time it arrived, which its signature shows is recent.
    """
    moment = _time(reported)
    if moment is not None and signal_time_problem(moment, now) is None:
        return moment.astimezone(UTC)
    if reported not in (None, ""):
        logger.warning(
            "A Zoom %s has an unusable time %r; its notification's time is used",
            name,
            str(reported)[:40],
        )
    sent_at = _epoch_ms(event_ts)
    if sent_at is not None and signal_time_problem(sent_at, now) is None:
        return sent_at
    return now


def _epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
