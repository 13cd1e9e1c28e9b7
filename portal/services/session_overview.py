"""What the admin area shows about sessions: the list by time, and one session.

Reading only; creating and changing sessions is in :mod:`portal.services.sessions`
and :mod:`portal.services.series`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.crm import get_crm
from portal.extensions import db
from portal.models import Event, User
from portal.services.permissions import visible_events


@dataclass(frozen=True, slots=True)
class SessionList:
    """The sessions an account may see, split at the present moment.

    ``upcoming`` holds the always-available sessions, then those not yet over
    (running ones included), soonest first; ``past`` the ones that have ended, the
    most recent first. ``series_titles`` names each series they belong to.
    """

    upcoming: list[Event]
    past: list[Event]
    series_titles: dict[int, str]


@dataclass(frozen=True, slots=True)
class SessionDetails:
    """What a session's admin page says besides the session's own columns."""

    #: The campaign's name in the CRM; None when the session has no campaign.
    campaign: str | None
    #: The title of the series the session belongs to; None outside a series.
    series_title: str | None


def list_sessions(user: User, now: datetime | None = None) -> SessionList:
    """The sessions ``user`` may see: upcoming ones first, then past ones."""
    now = now or datetime.now(UTC)
    visible = visible_events(user).order_by(None)
    is_over = sa.and_(sa.not_(Event.is_always_available), Event.ends_at <= now)

    upcoming = db.session.scalars(
        visible.where(sa.not_(is_over)).order_by(
            Event.is_always_available.desc(), Event.starts_at, Event.id
        )
    ).all()
    past = db.session.scalars(
        visible.where(is_over).order_by(Event.starts_at.desc(), Event.id.desc())
    ).all()
    series_ids = {event.series_id for event in [*upcoming, *past] if event.series_id}
    return SessionList(list(upcoming), list(past), series_titles(series_ids))


def series_titles(series_ids: Iterable[int]) -> dict[int, str]:
    """Each series' title: the title of its earliest occurrence, as its page shows."""
    wanted = set(series_ids)
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(Event.series_id, Event.title)
        .where(Event.series_id.in_(wanted))
        .order_by(Event.series_id, Event.starts_at, Event.id)
    )
    titles: dict[int, str] = {}
    for series_id, title in rows:
        if series_id is not None:
            titles.setdefault(series_id, title)
    return titles


def session_details(event: Event) -> SessionDetails:
    """The campaign's name and the series' title for a session's page."""
    series_title = None
    if event.series_id is not None:
        series_title = series_titles([event.series_id]).get(event.series_id)
    return SessionDetails(campaign_label(event.campaign_id), series_title)


def campaign_label(campaign_id: str | None) -> str | None:
    """A campaign as people know it: its name, or its id if the CRM lost it."""
    if not campaign_id:
        return None
    campaign = get_crm().campaign(campaign_id)
    if campaign is None:
        return f"Campaign {campaign_id} (no longer in the CRM)"
    return campaign.name
