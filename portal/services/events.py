"""Sessions and personal rooms: creating them and finding them by their key."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Event, EventType, RoomKind, User
from portal.services.action_sets import copy_action_set, global_action_set
from portal.services.fields import copy_list, global_list
from portal.services.schedule import is_time_zone

logger = logging.getLogger(__name__)


def new_event_key() -> str:
    """A public key for a session's addresses: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


_URL_SAFE_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")


def event_by_key(key: str) -> Event | None:
    """The session or room whose public addresses carry ``key``."""
    # Keys are URL-safe base64; anything else (a NUL byte, which PostgreSQL refuses
    # to compare) names no session.
    if not _URL_SAFE_KEY.fullmatch(key):
        return None
    return db.session.scalar(sa.select(Event).where(Event.key == key))


@dataclass(slots=True)
class EventDetails:
    """What a host says about a session when creating it."""

    title: str
    type: EventType
    time_zone: str = "UTC"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    is_always_available: bool = False
    description: str = ""
    join_url: str = ""
    join_password: str | None = None
    dial_in_number: str = ""
    participant_code: str = ""
    moderator_code: str = ""
    has_video: bool = True
    has_internet_audio: bool = True
    has_listen_only_audio: bool = False
    platform_activity_id: str | None = None
    campaign_id: str | None = None


def create_event(owner: User, details: EventDetails) -> Event:
    """Create a scheduled (or always available) session owned by ``owner``."""
    _check_schedule(details)
    event = Event(
        key=new_event_key(),
        owner=owner,
        title=details.title,
        type=details.type,
        time_zone=details.time_zone,
        starts_at=details.starts_at,
        ends_at=details.ends_at,
        is_always_available=details.is_always_available,
        description=details.description,
        join_url=details.join_url,
        join_password=details.join_password or None,
        dial_in_number=details.dial_in_number,
        participant_code=details.participant_code,
        moderator_code=details.moderator_code,
        has_video=details.has_video,
        has_internet_audio=details.has_internet_audio,
        has_listen_only_audio=details.has_listen_only_audio,
        platform_activity_id=details.platform_activity_id,
        campaign_id=details.campaign_id,
    )
    # A new session starts from copies of its scope's defaults, which its owner may
    # then change without touching anyone else's sessions.
    event.field_list = copy_list(global_list(event.field_scope))
    event.action_set = copy_action_set(global_action_set(event.field_scope))
    db.session.add(event)
    db.session.flush()
    logger.info("Created event %s %r for %s", event.id, event.title, owner.email)
    return event


def ensure_personal_rooms(host: User) -> list[Event]:
    """The host's two personal rooms, made if missing."""
    rooms = {
        room.room_kind: room
        for room in db.session.scalars(
            sa.select(Event).where(
                Event.owner_id == host.id, Event.room_kind.is_not(None)
            )
        )
    }
    for kind in RoomKind:
        if kind in rooms:
            continue
        rooms[kind] = Event(
            key=new_event_key(),
            owner=host,
            title=f"{host.display_name}'s {kind.label}",
            type=EventType.SUPPORT
            if kind is RoomKind.SUPPORT_ROOM
            else EventType.MEETING,
            room_kind=kind,
            is_always_available=True,
            time_zone=host.time_zone,
        )
        db.session.add(rooms[kind])
        logger.info("Created the %s of %s", kind.label, host.email)
    db.session.flush()
    return [rooms[kind] for kind in RoomKind]


def _check_schedule(details: EventDetails) -> None:
    if not is_time_zone(details.time_zone):
        raise ValidationFailed(
            f"{details.time_zone!r} is not a known time zone.", field="time_zone"
        )
    if details.is_always_available:
        details.starts_at = details.ends_at = None
        return
    if details.starts_at is None or details.ends_at is None:
        raise ValidationFailed("A scheduled session needs a start and an end.")
    if details.ends_at <= details.starts_at:
        raise ValidationFailed("The session must end after it starts.", field="ends_at")
