"""Session times as attendees read them: in the session's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from portal.models import Event


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def time_zone_names() -> list[str]:
    """Every IANA time zone name, sorted, for a picker."""
    return sorted(available_timezones())


@dataclass(frozen=True, slots=True)
class LocalSchedule:
    """A session's start and end in its own time zone."""

    starts_at: datetime
    ends_at: datetime
    time_zone: str

    def describe(self) -> str:
        """``Thursday, 17 December 2026, 11:00 – 12:00 EST (America/New_York)``."""
        start, end = self.starts_at, self.ends_at
        day = f"{start:%A}, {start.day} {start:%B %Y}"
        if start.date() == end.date():
            start_text = f"{start:%H:%M}"
            if start.tzname() != end.tzname():
                start_text += f" {start.tzname()}"
            end_text = f"{end:%H:%M} {end.tzname()}"
        else:
            start_text = f"{start:%H:%M} {start.tzname()}"
            end_text = f"{end:%A}, {end.day} {end:%B %Y}, {end:%H:%M} {end.tzname()}"
        return f"{day}, {start_text} – {end_text} ({self.time_zone})"


def local_schedule(event: Event) -> LocalSchedule | None:
    """The session's times in its time zone; None when it is always available."""
    if event.is_always_available or event.starts_at is None or event.ends_at is None:
        return None
    zone = ZoneInfo(event.time_zone)
    return LocalSchedule(
        starts_at=event.starts_at.astimezone(zone),
        ends_at=event.ends_at.astimezone(zone),
        time_zone=event.time_zone,
    )


def describe_schedule(event: Event) -> str:
    """One line saying when the session takes place, in its own time zone."""
    schedule = local_schedule(event)
    if schedule is None:
        return "Available at any time"
    return schedule.describe()
