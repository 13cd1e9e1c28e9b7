"""The portal's own attendance API: a JSON event read into an attendance signal.

The shape is described for senders in the OpenAPI document
(:mod:`portal.blueprints.api.openapi`); this module enforces the same rules and says
which field is wrong, in a sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from portal.errors import ValidationFailed
from portal.forms.attendee import clean_text
from portal.models import ActivityKind
from portal.services.email_addresses import InvalidEmail, parse_email
from portal.services.events import event_by_key
from portal.services.signals import (
    PARTICIPANT_ID_LENGTH,
    PERSON_SIGNALS,
    AttendanceSignal,
    Attendee,
    signal_time_problem,
)

EVENT_TYPES = {
    "session_start": ActivityKind.SESSION_START,
    "session_end": ActivityKind.SESSION_END,
    "join": ActivityKind.JOIN,
    "leave": ActivityKind.LEAVE,
}
EVENT_FIELDS = {"id", "type", "session", "time", "attendee", "score"}
ATTENDEE_LIMITS = {
    "token": 64,
    "email": 254,
    "id": PARTICIPANT_ID_LENGTH,
    "first_name": 80,
    "last_name": 80,
    "name": 160,
}
#: RFC 3339 date-times: seconds, an optional fraction, and the offset from UTC.
TIME_PATTERN = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})"
)
EVENT_ID_LENGTH = 200
SESSION_KEY_LENGTH = 32
MAX_POINTS = 1_000_000


def read_attendance_event(data: Any, now: datetime) -> AttendanceSignal:
    """The signal a JSON event describes; raise ValidationFailed naming the field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("The body must be a JSON object.")
    unknown = sorted(set(data) - EVENT_FIELDS)
    if unknown:
        raise ValidationFailed(f"{unknown[0]} is not a field of an event.", unknown[0])

    kind_text = _text(data, "type", required=True, limit=20)
    kind = EVENT_TYPES.get(kind_text)
    if kind is None:
        raise ValidationFailed(f"type must be one of {', '.join(EVENT_TYPES)}.", "type")
    key = _text(data, "session", required=True, limit=SESSION_KEY_LENGTH)
    event = event_by_key(key)
    if event is None:
        raise ValidationFailed("No session has this key.", "session")
    occurred_at = _time(data, now)
    event_id = _text(data, "id", limit=EVENT_ID_LENGTH)

    attendee = None
    if kind in PERSON_SIGNALS:
        if "attendee" not in data:
            raise ValidationFailed("A join or leave names its attendee.", "attendee")
        attendee = _attendee(data["attendee"])
    elif "attendee" in data:
        raise ValidationFailed(
            "A session's start or end names no attendee.", "attendee"
        )
    percent, points = _score(data["score"], kind) if "score" in data else (None, None)
    content = [kind_text, key, occurred_at.timestamp(), _who(attendee), percent, points]
    return AttendanceSignal(
        kind=kind,
        event=event,
        occurred_at=occurred_at,
        source="api",
        delivery=event_id or _content_key(kind_text, key, occurred_at, attendee),
        attendee=attendee,
        score_percent=percent,
        score_points=points,
        content_digest=_digest(content) if event_id else "",
    )


def _text(
    data: Mapping[str, Any],
    name: str,
    *,
    limit: int,
    required: bool = False,
    path: str = "",
) -> str:
    field = f"{path}{name}"
    if name not in data:
        if required:
            raise ValidationFailed(f"{field} is required.", field)
        return ""
    value = data[name]
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string.", field)
    if len(value) > limit:
        raise ValidationFailed(f"{field} has at most {limit} characters.", field)
    # As the web form does: no NUL or other control character, no direction
    # override, one space for each run of white space.
    text = clean_text(value)
    if not text:
        raise ValidationFailed(f"{field} must not be empty.", field)
    return text


def _time(data: Mapping[str, Any], now: datetime) -> datetime:
    text = _text(data, "time", required=True, limit=40)
    moment = None
    if TIME_PATTERN.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text.upper())
        except ValueError:
            moment = None
    if moment is None:
        raise ValidationFailed(
            "time must be a date and time with its offset from UTC, such as "
            "2030-01-14T19:30:00Z or 2030-01-14T20:30:00+01:00.",
            "time",
        )
    problem = signal_time_problem(moment, now)
    if problem is not None:
        raise ValidationFailed(f"time {problem}.", "time")
    return moment.astimezone(UTC)


def _attendee(value: Any) -> Attendee:
    if not isinstance(value, Mapping):
        raise ValidationFailed("attendee must be an object.", "attendee")
    unknown = sorted(set(value) - set(ATTENDEE_LIMITS))
    if unknown:
        raise ValidationFailed(
            f"{unknown[0]} is not a field of an attendee.", f"attendee.{unknown[0]}"
        )
    texts = {
        name: _text(value, name, limit=limit, path="attendee.")
        for name, limit in ATTENDEE_LIMITS.items()
    }
    if not (texts["token"] or texts["email"] or texts["id"]):
        raise ValidationFailed("attendee needs a token, an email or an id.", "attendee")
    email = None
    if texts["email"]:
        try:
            email = parse_email(texts["email"])
        except InvalidEmail as error:
            raise ValidationFailed(
                f"attendee.email is not an address: {error}", "attendee.email"
            ) from error
    return Attendee(
        token=texts["token"],
        email=email,
        participant_id=texts["id"],
        first_name=texts["first_name"],
        last_name=texts["last_name"],
        name=texts["name"],
    )


def _score(value: Any, kind: ActivityKind) -> tuple[int | None, int | None]:
    if kind is not ActivityKind.LEAVE:
        raise ValidationFailed("Only a leave has a score.", "score")
    if not isinstance(value, Mapping) or not value:
        raise ValidationFailed(
            "score must be an object with percent, points or both.", "score"
        )
    unknown = sorted(set(value) - {"percent", "points"})
    if unknown:
        raise ValidationFailed(
            f"{unknown[0]} is not a field of a score.", f"score.{unknown[0]}"
        )
    percent = _whole(value, "percent", 100)
    points = _whole(value, "points", MAX_POINTS)
    return percent, points


def _whole(data: Mapping[str, Any], name: str, top: int) -> int | None:
    if name not in data:
        return None
    value = data[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"score.{name} must be a whole number.", f"score.{name}")
    if not 0 <= value <= top:
        raise ValidationFailed(
            f"score.{name} must be from 0 to {top}.", f"score.{name}"
        )
    return value


def _who(attendee: Attendee | None) -> list[str]:
    """Everything an event says about its attendee, as read (the email normalised)."""
    if attendee is None:
        return []
    return [
        attendee.token,
        attendee.email.key if attendee.email else "",
        attendee.participant_id,
        attendee.first_name,
        attendee.last_name,
        attendee.name,
    ]


def _digest(content: list[Any]) -> str:
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def _content_key(
    kind: str, session: str, moment: datetime, attendee: Attendee | None
) -> str:
    """Without an event id, the same event at the same instant is the same event."""
    who = ""
    if attendee is not None:
        email = attendee.email.key if attendee.email else ""
        who = f"{attendee.token}|{email}|{attendee.participant_id}"
    text = json.dumps([kind, session, moment.timestamp(), who])
    return "content:" + hashlib.sha256(text.encode()).hexdigest()
