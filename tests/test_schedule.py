"""Session times in the session's own zone, on both sides of a clock change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.models import Event
from portal.services.schedule import (
    canonical_time_zones,
    describe_schedule,
    is_time_zone,
)


def event_at(starts_at: datetime, minutes: int, time_zone: str) -> Event:
    return Event(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        time_zone=time_zone,
        is_always_available=False,
    )


@pytest.mark.parametrize(
    ("starts_at", "minutes", "zone", "text"),
    [
        (
            datetime(2027, 3, 13, 16, 0, tzinfo=UTC),
            60,
            "America/New_York",
            "Saturday, 13 March 2027, 11:00 – 12:00 EST (America/New_York)",
        ),
        (
            datetime(2027, 3, 15, 15, 0, tzinfo=UTC),
            60,
            "America/New_York",
            "Monday, 15 March 2027, 11:00 – 12:00 EDT (America/New_York)",
        ),
        (
            # The clocks go forward at 02:00 on 14 March 2027 in New York.
            datetime(2027, 3, 14, 6, 30, tzinfo=UTC),
            60,
            "America/New_York",
            "Sunday, 14 March 2027, 01:30 EST – 03:30 EDT (America/New_York)",
        ),
        (
            datetime(2027, 10, 31, 9, 0, tzinfo=UTC),
            90,
            "Europe/Berlin",
            "Sunday, 31 October 2027, 10:00 – 11:30 CET (Europe/Berlin)",
        ),
        (
            datetime(2027, 6, 1, 22, 0, tzinfo=UTC),
            180,
            "Europe/London",
            "Tuesday, 1 June 2027, 23:00 BST – Wednesday, 2 June 2027, 02:00 BST "
            "(Europe/London)",
        ),
    ],
)
def test_schedule_is_shown_in_the_session_time_zone(
    starts_at: datetime, minutes: int, zone: str, text: str
) -> None:
    assert describe_schedule(event_at(starts_at, minutes, zone)) == text


def test_always_available_session_has_no_times() -> None:
    assert describe_schedule(Event(is_always_available=True)) == "Available at any time"


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("Europe/Berlin", True),
        ("UTC", True),
        ("Mars/Olympus", False),
        ("../etc", False),
    ],
)
def test_time_zone_names_are_checked(name: str, known: bool) -> None:
    assert is_time_zone(name) is known


def test_the_picker_offers_canonical_zones_and_utc_but_no_aliases() -> None:
    zones = canonical_time_zones()

    assert zones == tuple(sorted(zones))
    assert {"UTC", "America/New_York", "Asia/Kolkata", "Europe/Kyiv"} <= set(zones)
    assert not {"US/Eastern", "Asia/Calcutta", "Africa/Asmera", "Etc/GMT+5"} & set(
        zones
    )
    assert all(is_time_zone(name) for name in zones)
