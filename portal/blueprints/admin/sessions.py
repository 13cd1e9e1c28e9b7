"""Sessions and rooms in the admin area: lists and each one's page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template
from flask_login import current_user

from portal.blueprints.admin import bp
from portal.extensions import db
from portal.models import Event
from portal.services.links import event_addresses
from portal.services.permissions import can_manage_event
from portal.services.session_overview import list_sessions, session_details


@bp.get("/")
def sessions() -> str:
    """The sessions the signed-in account may see: upcoming first, then past."""
    return render_template("admin/sessions.html", sessions=list_sessions(current_user))


@bp.get("/sessions/<int:event_id>")
def session_detail(event_id: int) -> str:
    """One session: its schedule, its three addresses, the embed snippet and
    everything a host needs to run it."""
    event = managed_event_or_404(event_id)
    if event.is_room:
        abort(404)
    return render_template(
        "admin/session.html",
        event=event,
        addresses=event_addresses(event),
        details=session_details(event),
    )


@bp.get("/rooms")
def rooms() -> str:
    """The personal rooms: the host's own, or every host's for an admin."""
    query = sa.select(Event).where(Event.room_kind.is_not(None))
    if not current_user.is_admin:
        query = query.where(Event.owner_id == current_user.id)
    events = db.session.scalars(query.order_by(Event.owner_id, Event.room_kind)).all()
    return render_template("admin/rooms.html", rooms=events)


def managed_event_or_404(event_id: int) -> Event:
    """The session or room with this id (404), if the account may manage it (403)."""
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    if not can_manage_event(current_user, event):
        abort(403)
    return event
