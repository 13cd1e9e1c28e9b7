"""Which campaign member status a trigger gives a person.

Most triggers give their one configured status. Session End sorts the registrants:
those who never joined get the no-show status, attendees whose visits add up to
fewer minutes than the short-stay threshold get the short-stay status, and the rest
get the trigger's status. An empty status keeps what the member has (a new member
gets the campaign's default).
"""

from __future__ import annotations

from collections.abc import Callable

from portal.models import Activity, ActivityKind, TriggerAction
from portal.services.attendance import visits_until


def member_status(
    activity: Activity, settings: TriggerAction, note: Callable[[str], None]
) -> str | None:
    """The status ``activity`` gives its person; None keeps theirs."""
    registrant = activity.registrant
    if activity.kind is not ActivityKind.SESSION_END or registrant is None:
        return settings.campaign_status or None

    visits = visits_until(activity.event_id, registrant.id, activity.occurred_at)
    if not visits.has_joined:
        if settings.no_show_status:
            note(f"never joined: given the no-show status {settings.no_show_status}")
            return settings.no_show_status
        note("never joined: the campaign member status is kept")
        return None
    threshold = settings.short_stay_minutes
    if threshold and settings.short_stay_status and visits.seconds < threshold * 60:
        note(
            f"attended {visits.seconds // 60} min, under {threshold}: given "
            f"{settings.short_stay_status}"
        )
        return settings.short_stay_status
    return settings.campaign_status or None
