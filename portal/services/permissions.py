"""Who may see and change what in the admin area.

Admins manage everything. A host sees and changes only their own sessions and rooms,
and their rooms' field lists only while the admin has not locked that scope.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import Event, FieldList, User
from portal.services.fields import global_list


def visible_events(user: User) -> sa.Select[Event]:
    """The sessions (not rooms) a user may see, newest start first."""
    query = sa.select(Event).where(Event.room_kind.is_(None))
    if not user.is_admin:
        query = query.where(Event.owner_id == user.id)
    return query.order_by(Event.starts_at.desc().nulls_last(), Event.id.desc())


def can_manage_event(user: User, event: Event) -> bool:
    """Whether the user may see and change this session or room."""
    return user.is_admin or event.owner_id == user.id


def is_scope_locked(event: Event) -> bool:
    """Whether the admin locked the global list this room's fields come from."""
    return event.is_room and global_list(event.field_scope).is_locked


def can_edit_event_fields(user: User, event: Event) -> bool:
    """Whether the user may change this session's or room's own field list."""
    if user.is_admin:
        return True
    return event.owner_id == user.id and not is_scope_locked(event)


def can_edit_global(user: User, field_list: FieldList | None = None) -> bool:
    """Whether the user may change global defaults (lists, actions, settings)."""
    return user.is_admin
