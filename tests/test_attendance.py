"""Visits from joins and leaves, and the statuses Session End gives, as services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import Activity, ActivityKind, Event, Registrant, TriggerAction
from portal.services.attendance import Signal, pair_visits
from portal.services.campaign_status import member_status

JOIN, LEAVE = ActivityKind.JOIN, ActivityKind.LEAVE
START = datetime(2030, 5, 6, 14, 0, tzinfo=UTC)
CLICK = True


def at(seconds: int) -> datetime:
    return START + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("signals", "seconds", "last_start"),
    [
        ([], 0, None),
        ([(LEAVE, 60)], 0, None),
        ([(JOIN, 0), (LEAVE, 600)], 600, 0),
        # Rejoining: the visits add up; the latest visit's start is kept.
        ([(JOIN, 0), (LEAVE, 600), (JOIN, 900), (LEAVE, 1200)], 900, 900),
        # A second platform join while in (another device) changes nothing.
        ([(JOIN, 0), (JOIN, 300), (LEAVE, 600)], 600, 0),
        # The platform's join confirms a click on the join page: counted from it.
        ([(JOIN, 0, CLICK), (JOIN, 120), (LEAVE, 600)], 480, 120),
        # However late it comes, as long as no leave came between.
        ([(JOIN, 0, CLICK), (JOIN, 3000), (LEAVE, 3600)], 600, 3000),
        # A click while already in, by the platform's word, changes nothing.
        ([(JOIN, 0), (JOIN, 120, CLICK), (LEAVE, 600)], 600, 0),
        # A click after a leave is a new visit, confirmed by the next platform join.
        (
            [(JOIN, 0), (LEAVE, 60), (JOIN, 100, CLICK), (JOIN, 160), (LEAVE, 260)],
            160,
            160,
        ),
    ],
)
def test_signals_pair_into_visits(
    signals: list[tuple[ActivityKind, int] | tuple[ActivityKind, int, bool]],
    seconds: int,
    last_start: int | None,
) -> None:
    visits = pair_visits(Signal(item[0], at(item[1]), *item[2:]) for item in signals)

    assert visits.seconds == seconds
    assert visits.last_start == (None if last_start is None else at(last_start))
    assert visits.open_since is None


def test_a_visit_still_open_is_closed_at_until() -> None:
    signals = [Signal(JOIN, at(0)), Signal(LEAVE, at(60)), Signal(JOIN, at(120))]

    still_in = pair_visits(signals)
    at_the_end = pair_visits(signals, until=at(600))

    assert (still_in.seconds, still_in.open_since) == (60, at(120))
    assert at_the_end.seconds == 60 + 480


@pytest.mark.parametrize(
    ("signals", "until", "first_start", "last_end"),
    [
        ([(JOIN, 0), (LEAVE, 60), (JOIN, 120), (LEAVE, 200)], None, 0, 200),
        # A leave that closes nothing does not end a visit.
        ([(JOIN, 0), (LEAVE, 60), (LEAVE, 90)], None, 0, 60),
        ([(JOIN, 0, CLICK), (JOIN, 30), (LEAVE, 90)], None, 30, 90),
        ([(JOIN, 10)], 600, 10, 600),
        ([(LEAVE, 10)], None, None, None),
    ],
)
def test_visits_know_when_the_first_began_and_the_latest_ended(
    signals: list[tuple[ActivityKind, int] | tuple[ActivityKind, int, bool]],
    until: int | None,
    first_start: int | None,
    last_end: int | None,
) -> None:
    visits = pair_visits(
        (Signal(item[0], at(item[1]), *item[2:]) for item in signals),
        until=None if until is None else at(until),
    )

    assert visits.first_start == (None if first_start is None else at(first_start))
    assert visits.last_end == (None if last_end is None else at(last_end))


@pytest.mark.parametrize(
    ("visit_minutes", "expected"),
    [
        (None, "No Show"),
        (3, "Dropped In"),
        (9.9, "Dropped In"),
        (10, "Attended"),
        (45, "Attended"),
    ],
)
def test_session_end_sorts_no_shows_short_stays_and_attendees(
    make_event: Callable[..., Event],
    visit_minutes: float | None,
    expected: str,
) -> None:
    event = make_event(starts_at=START)
    registrant = Registrant(
        event=event,
        token="t" * 32,
        email="ada@example.com",
        email_key="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        answers=[],
    )
    db.session.add(registrant)
    if visit_minutes is not None:
        for kind, moment in (
            (JOIN, START),
            (LEAVE, START + timedelta(minutes=visit_minutes)),
        ):
            db.session.add(
                Activity(
                    kind=kind,
                    event=event,
                    registrant=registrant,
                    person_key="ada@example.com",
                    occurred_at=moment,
                )
            )
    end = Activity(
        kind=ActivityKind.SESSION_END,
        event=event,
        registrant=registrant,
        person_key="ada@example.com",
        occurred_at=START + timedelta(hours=1),
    )
    db.session.add(end)
    db.session.flush()
    settings = TriggerAction(
        trigger=ActivityKind.SESSION_END,
        campaign_status="Attended",
        no_show_status="No Show",
        short_stay_minutes=10,
        short_stay_status="Dropped In",
    )
    notes: list[str] = []

    assert member_status(end, settings, notes.append) == expected
