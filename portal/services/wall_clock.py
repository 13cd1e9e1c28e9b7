"""Wall-clock times in a session's own time zone, and the clock changes between.

A host types a session's start and end as the clocks in its time zone show them. Most
such times name one instant; around a daylight-saving change some name none (the
clocks skip them) and some name two (the clocks show them twice).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.errors import ValidationFailed

#: The first and last days a session may take place on. Far enough either way for
#: any real session; near the calendar's own limits (years 1 and 9999) a time in UTC
#: would fall outside it.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)
DATE_RANGE_MESSAGE = (
    f"Enter a date from the year {EARLIEST_DAY.year} to {LATEST_DAY.year}."
)


class ClockIssue(enum.Enum):
    """What a clock change does to a wall-clock time."""

    NONE = "none"
    #: The clocks jump over this time (spring forward).
    SKIPPED = "skipped"
    #: The clocks show this time twice (fall back).
    REPEATED = "repeated"


def resolve_local_time(local: datetime, time_zone: str) -> tuple[datetime, ClockIssue]:
    """A wall-clock time in ``time_zone`` as an instant in UTC.

    A time the clocks skip is moved on by the length of the jump (02:30 on the night
    the clocks go from 02:00 to 03:00 becomes 03:30); a time the clocks show twice is
    taken the first time. The issue says which of these happened.
    """
    zone = ZoneInfo(time_zone)
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    instant = first.astimezone(UTC)
    if first.utcoffset() == second.utcoffset():
        return instant, ClockIssue.NONE
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return instant, ClockIssue.SKIPPED
    return instant, ClockIssue.REPEATED


def clock_change_around(local: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The wall-clock times just before and just after the change near ``local``.

    ``local`` must be a skipped or repeated time: (02:00, 03:00) in spring, (02:00,
    01:00) in autumn for New York.
    """
    zone = ZoneInfo(time_zone)
    instants = sorted(
        local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)
    )
    low, high = instants
    offset_after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    change = high.replace(microsecond=0)
    second = timedelta(seconds=1)
    before = (change - second).astimezone(zone).replace(tzinfo=None) + second
    after = change.astimezone(zone).replace(tzinfo=None)
    return before, after


def day_text(moment: datetime | date) -> str:
    """``Tuesday, 19 October 2027``."""
    return f"{moment:%A}, {moment.day} {moment:%B %Y}"


def is_schedulable_day(moment: datetime | date) -> bool:
    """Whether a session may take place on this day (years 2000 to 2199)."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return EARLIEST_DAY <= day <= LATEST_DAY


def check_schedulable_day(moment: datetime | date, field_name: str) -> None:
    """Refuse a typed date outside the years sessions may take place in."""
    if not is_schedulable_day(moment):
        raise ValidationFailed(DATE_RANGE_MESSAGE, field_name)


def entered_instant(
    local: datetime, time_zone: str, field_name: str, notices: list[str]
) -> datetime:
    """A typed start or end in UTC; refuses a day outside the years sessions take
    place in and a time the clocks skip, and notes one they show twice (taken the
    first time)."""
    check_schedulable_day(local, field_name)
    instant, issue = resolve_local_time(local, time_zone)
    if issue is ClockIssue.NONE:
        return instant
    before, after = clock_change_around(local, time_zone)
    if issue is ClockIssue.SKIPPED:
        raise ValidationFailed(
            f"There is no {local:%H:%M} on {day_text(local)} in {time_zone}: the "
            f"clocks go forward from {before:%H:%M} to {after:%H:%M}. "
            "Choose another time.",
            field_name,
        )
    which = "starts" if field_name == "starts_at" else "ends"
    shown = instant.astimezone(ZoneInfo(time_zone))
    notices.append(
        f"{local:%H:%M} on {day_text(local)} happens twice in {time_zone} (the "
        f"clocks go back from {before:%H:%M} to {after:%H:%M}); the session {which} "
        f"at the first {local:%H:%M}, {shown.tzname()}."
    )
    return instant
