"""Sessions and personal rooms as the admin area creates and changes them.

Times arrive as a host types them: wall-clock times in the session's own IANA time
zone (see :mod:`portal.services.wall_clock`). They are stored in UTC. Recurring series
are in :mod:`portal.services.series`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from portal.crm import get_crm
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    Event,
    EventType,
    Registrant,
    User,
)
from portal.services.action_sets import effective_action_set, site_settings
from portal.services.events import EventDetails, create_event
from portal.services.schedule import is_time_zone
from portal.services.wall_clock import entered_instant

logger = logging.getLogger(__name__)

#: The longest text each attribute takes (the database columns).
TEXT_LIMITS = {
    "title": 200,
    "join_url": 2000,
    "join_password": 64,
    "dial_in_number": 40,
    "participant_code": 32,
    "moderator_code": 32,
    "platform_activity_id": 64,
}

#: How each trigger is named in warnings.
TRIGGER_LABELS = {
    ActivityKind.EMAIL: "Email",
    ActivityKind.REGISTER: "Register",
    ActivityKind.JOIN: "Join",
    ActivityKind.LEAVE: "Leave",
    ActivityKind.SESSION_START: "Session Start",
    ActivityKind.SESSION_END: "Session End",
}


@dataclass(slots=True)
class SessionInput:
    """A session's attributes as the session form gives them.

    ``starts_local`` and ``ends_local`` are naive wall-clock times in ``time_zone``.
    An empty ``join_password`` keeps the password there is (a new session: none)
    unless ``remove_password`` is set. ``owner_id`` None keeps the owner (a new
    session: the person creating it).
    """

    title: str
    type: EventType
    time_zone: str
    starts_local: datetime | None = None
    ends_local: datetime | None = None
    is_always_available: bool = False
    description: str = ""
    join_url: str = ""
    join_password: str = ""
    remove_password: bool = False
    dial_in_number: str = ""
    participant_code: str = ""
    moderator_code: str = ""
    has_video: bool = True
    has_internet_audio: bool = True
    has_listen_only_audio: bool = False
    platform_activity_id: str = ""
    campaign_id: str = ""
    owner_id: int | None = None


@dataclass(frozen=True, slots=True)
class RoomInput:
    """What a host may change about a personal room."""

    join_url: str = ""
    join_password: str = ""
    remove_password: bool = False
    dial_in_number: str = ""
    participant_code: str = ""
    moderator_code: str = ""
    has_video: bool = True
    has_internet_audio: bool = True
    has_listen_only_audio: bool = False


@dataclass(slots=True)
class SessionSaved:
    """A saved session and what the person saving it should know."""

    event: Event
    notices: list[str] = field(default_factory=list)


def typed_times(data: SessionInput) -> tuple[datetime, datetime]:
    """The typed start and end, both required for a scheduled session."""
    if data.starts_local is None:
        raise ValidationFailed("Enter when the session starts.", "starts_at")
    if data.ends_local is None:
        raise ValidationFailed("Enter when the session ends.", "ends_at")
    return data.starts_local.replace(tzinfo=None), data.ends_local.replace(tzinfo=None)


def schedule_in_utc(
    data: SessionInput, notices: list[str]
) -> tuple[datetime, datetime]:
    """The typed start and end in UTC: times the clocks show, the end after the
    start. A time the clocks show twice adds a notice."""
    starts_local, ends_local = typed_times(data)
    found: list[str] = []
    starts_at = entered_instant(starts_local, data.time_zone, "starts_at", found)
    ends_at = entered_instant(ends_local, data.time_zone, "ends_at", found)
    if ends_at <= starts_at:
        raise ValidationFailed("The session must end after it starts.", "ends_at")
    notices.extend(found)
    return starts_at, ends_at


# Checks shared by sessions, series and rooms


def check_join_url(url: str) -> None:
    """Refuse a meeting address that is not an http or https address."""
    if not url:
        return
    message = "Enter the meeting's full address, starting with https:// (or http://)."
    if any(character.isspace() or ord(character) < 32 for character in url):
        raise ValidationFailed(message, "join_url")
    try:
        parts = urlsplit(url)
        # Reading the port refuses one out of range (ValueError).
        has_host = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:
        raise ValidationFailed(message, "join_url") from None
    if parts.scheme.lower() not in ("http", "https") or not has_host:
        raise ValidationFailed(message, "join_url")


def _check_lengths(values: dict[str, Any]) -> None:
    for name, limit in TEXT_LIMITS.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise ValidationFailed(f"Use at most {limit} characters.", name)


def _attributes(data: SessionInput) -> dict[str, Any]:
    """The shared attributes, tidied, as the event's columns want them."""
    return {
        "title": " ".join(data.title.split()),
        "description": data.description.strip(),
        "type": data.type,
        "join_url": data.join_url.strip(),
        "dial_in_number": data.dial_in_number.strip(),
        "participant_code": data.participant_code.strip(),
        "moderator_code": data.moderator_code.strip(),
        "has_video": data.has_video,
        "has_internet_audio": data.has_internet_audio,
        "has_listen_only_audio": data.has_listen_only_audio,
        "platform_activity_id": data.platform_activity_id.strip() or None,
        "campaign_id": data.campaign_id.strip() or None,
    }


def checked_attributes(
    data: SessionInput, current_type: EventType | None = None
) -> dict[str, Any]:
    """The attributes of a session, refusing what cannot be saved."""
    values = _attributes(data)
    if not values["title"]:
        raise ValidationFailed("Enter a title.", "title")
    _check_lengths({**values, "join_password": data.join_password.strip()})
    enabled = site_settings().enabled_session_types
    if data.type.value not in enabled and data.type is not current_type:
        raise ValidationFailed(
            "That type of session is switched off in the site settings.", "type"
        )
    if data.type is EventType.EXISTING and not values["platform_activity_id"]:
        raise ValidationFailed(
            "Enter the id of the activity on the meeting platform.",
            "platform_activity_id",
        )
    if not is_time_zone(data.time_zone):
        raise ValidationFailed("Choose a time zone from the list.", "time_zone")
    check_join_url(values["join_url"])
    if values["campaign_id"] and get_crm().campaign(values["campaign_id"]) is None:
        raise ValidationFailed("That campaign is not in the CRM.", "campaign_id")
    return values


def choose_owner(actor: User, owner_id: int | None, current: User | None) -> User:
    """Who owns the session: admins choose any active account, hosts themselves."""
    if owner_id is None or (current is not None and owner_id == current.id):
        return current or actor
    if not actor.is_admin and owner_id != actor.id:
        raise ValidationFailed("Only an admin can choose another host.", "owner_id")
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationFailed("Choose a host from the list.", "owner_id")
    return owner


def password_after(current: str | None, new: str, remove: bool) -> str | None:
    """The join password after a save: an empty box keeps it, the box removes it."""
    if remove:
        return None
    return new.strip() or current


def has_attendance_records(event: Event) -> bool:
    """Whether anyone registered for or joined the event (or anything happened)."""
    registrant = sa.select(Registrant.id).where(Registrant.event_id == event.id)
    activity = sa.select(Activity.id).where(Activity.event_id == event.id)
    return bool(
        db.session.scalar(sa.select(sa.exists(registrant) | sa.exists(activity)))
    )


def missing_campaign_statuses(event: Event) -> list[str]:
    """Warnings for each campaign member status the actions use and the campaign
    lacks (the CRM would use the campaign's default status instead)."""
    if not event.campaign_id:
        return []
    campaign = get_crm().campaign(event.campaign_id)
    if campaign is None:
        return []
    missing: dict[str, list[str]] = {}
    for item in effective_action_set(event).triggers:
        status = item.campaign_status
        if status and status not in campaign.statuses:
            missing.setdefault(status, []).append(TRIGGER_LABELS[item.trigger])
    default = campaign.default_status or "its default"
    return [
        f"The campaign “{campaign.name}” has no member status “{status}” (used on "
        f"{', '.join(triggers)}); the CRM will use “{default}” instead."
        for status, triggers in missing.items()
    ]


def possible_hosts() -> list[User]:
    """The active staff accounts an admin may make a session's host."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.is_active)
            .order_by(User.display_name, User.email)
        )
    )


# Sessions


def create_session(actor: User, data: SessionInput) -> SessionSaved:
    """Create one session (not repeating) from the session form."""
    values = checked_attributes(data)
    owner = choose_owner(actor, data.owner_id, None)
    notices: list[str] = []
    starts_at = ends_at = None
    if not data.is_always_available:
        starts_at, ends_at = schedule_in_utc(data, notices)

    event = create_event(
        owner,
        EventDetails(
            **values,
            time_zone=data.time_zone,
            starts_at=starts_at,
            ends_at=ends_at,
            is_always_available=data.is_always_available,
            join_password=password_after(
                None, data.join_password, data.remove_password
            ),
        ),
    )
    db.session.commit()
    logger.info("%s created session %s for %s", actor.email, event.id, owner.email)
    return SessionSaved(event, notices + missing_campaign_statuses(event))


def update_session(actor: User, event: Event, data: SessionInput) -> SessionSaved:
    """Change a session's attributes; an occurrence changes alone."""
    values = checked_attributes(data, current_type=event.type)
    if event.series is not None and data.owner_id not in (None, event.owner_id):
        raise ValidationFailed(
            "An occurrence has its series' host; change the host on the series.",
            "owner_id",
        )
    owner = choose_owner(actor, data.owner_id, event.owner)
    notices: list[str] = []
    starts_at = ends_at = None
    if not data.is_always_available:
        starts_at, ends_at = schedule_in_utc(data, notices)

    for name, value in values.items():
        setattr(event, name, value)
    event.owner = owner
    event.time_zone = data.time_zone
    event.is_always_available = data.is_always_available
    event.starts_at, event.ends_at = starts_at, ends_at
    event.join_password = password_after(
        event.join_password, data.join_password, data.remove_password
    )
    db.session.commit()
    logger.info("%s changed session %s", actor.email, event.id)
    return SessionSaved(event, notices + missing_campaign_statuses(event))


def update_room(actor: User, room: Event, data: RoomInput) -> Event:
    """Change a personal room's meeting address, dial-in, password and switches."""
    join_url = data.join_url.strip()
    check_join_url(join_url)
    values = {
        "join_url": join_url,
        "dial_in_number": data.dial_in_number.strip(),
        "participant_code": data.participant_code.strip(),
        "moderator_code": data.moderator_code.strip(),
    }
    _check_lengths({**values, "join_password": data.join_password.strip()})

    for name, value in values.items():
        setattr(room, name, value)
    room.has_video = data.has_video
    room.has_internet_audio = data.has_internet_audio
    room.has_listen_only_audio = data.has_listen_only_audio
    room.join_password = password_after(
        room.join_password, data.join_password, data.remove_password
    )
    db.session.commit()
    logger.info("%s changed room %s", actor.email, room.id)
    return room
