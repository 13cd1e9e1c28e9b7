"""Session times as attendees read them: in the session's own time zone."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from portal.models import Event

#: A line of ``zone.tab``: country code, coordinates, zone name, optional comment.
ZONE_TABLE_COLUMNS = 3


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.cache
def canonical_time_zones() -> tuple[str, ...]:
    """The time zones a picker offers, sorted: UTC and each country's zones.

    They are the zones of tzdata's ``zone.tab`` (418 in 2026), so backward-compatible
    aliases such as ``Africa/Asmera`` or ``US/Eastern`` are left out; such a name
    still works where it is stored. Without that table, every zone this machine knows.
    """
    names = {"UTC", *_zone_table_names()}
    if len(names) == 1:
        names = set(available_timezones())
    return tuple(sorted(name for name in names if is_time_zone(name)))


def _zone_table_names() -> list[str]:
    """The zone names in the first ``zone.tab`` found."""
    for text in _zone_tables():
        return [
            columns[2]
            for line in text.splitlines()
            if not line.startswith("#")
            and len(columns := line.split("\t")) >= ZONE_TABLE_COLUMNS
        ]
    return []


def _zone_tables() -> Iterator[str]:
    """The text of each ``zone.tab`` there is, the tzdata package's first."""
    with contextlib.suppress(ModuleNotFoundError, OSError):
        package = resources.files("tzdata")
        yield package.joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    for folder in TZPATH:
        with contextlib.suppress(OSError):
            yield (Path(folder) / "zone.tab").read_text(encoding="utf-8")


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
