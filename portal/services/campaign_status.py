"""Which campaign member status a trigger gives a person.

Most triggers give their one configured status. Session End sorts the registrants:
those who never joined get the no-show status, attendees whose visits add up to
fewer minutes than the short-stay threshold get the short-stay status, and the rest
get the trigger's status. An empty status keeps what the member has (a new member
gets the campaign's default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.errors import ValidationFailed
from portal.models import Activity, ActivityKind, TriggerAction
from portal.services.attendance import visits_until

#: Campaign member statuses are 40 characters in Salesforce.
CAMPAIGN_STATUS_LENGTH = 40
#: A short stay is measured in minutes; a day is plenty.
MAX_SHORT_STAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class SessionEndStatuses:
    """Session End's statuses for those who never came and for short stays."""

    no_show_status: str = ""
    #: Attendees with fewer minutes than this get ``short_stay_status``.
    short_stay_minutes: int | None = None
    short_stay_status: str = ""


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


def check_session_end_statuses(end: SessionEndStatuses) -> None:
    """Refuse Session End statuses that cannot be saved, naming the field."""
    for name in ("no_show_status", "short_stay_status"):
        if len(getattr(end, name).strip()) > CAMPAIGN_STATUS_LENGTH:
            raise ValidationFailed(
                f"A campaign member status has at most {CAMPAIGN_STATUS_LENGTH} "
                "characters.",
                name,
            )
    minutes = end.short_stay_minutes
    if minutes is not None and not 1 <= minutes <= MAX_SHORT_STAY_MINUTES:
        raise ValidationFailed(
            f"Enter 1 to {MAX_SHORT_STAY_MINUTES} minutes.", "short_stay_minutes"
        )
    if (minutes is None) != (not end.short_stay_status.strip()):
        raise ValidationFailed(
            "Give both the minutes and the status of a short stay, or neither.",
            "short_stay_status" if minutes is not None else "short_stay_minutes",
        )
