"""The sessions service: times in a session's zone, recurrence, series and rooms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    ActivityKind,
    Campaign,
    CampaignMemberStatus,
    Event,
    EventSeries,
    EventType,
    FieldList,
    FixedField,
    Frequency,
    Role,
    User,
)
from portal.services.action_sets import effective_action_set, site_settings
from portal.services.fields import Answer, effective_list
from portal.services.registration import register_attendee
from portal.services.series import (
    Recurrence,
    create_series,
    occurrence_dates,
    update_series,
)
from portal.services.sessions import (
    TRIGGER_LABELS,
    RoomInput,
    SessionInput,
    check_join_url,
    create_session,
    update_room,
    update_session,
)
from portal.services.wall_clock import (
    ClockIssue,
    clock_change_around,
    resolve_local_time,
)

NEW_YORK = "America/New_York"


def session_input(**changes: Any) -> SessionInput:
    """A valid webinar in New York, 10:00 to 11:00 on 19 October 2027."""
    values: dict[str, Any] = {
        "title": "Quarterly Product Webinar",
        "type": EventType.WEBINAR,
        "time_zone": NEW_YORK,
        "starts_local": datetime(2027, 10, 19, 10, 0),
        "ends_local": datetime(2027, 10, 19, 11, 0),
        "join_url": "https://meet.example.com/j/123",
    }
    return SessionInput(**{**values, **changes})


def local(moment: datetime | None, zone: str = NEW_YORK) -> str:
    assert moment is not None
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def register(event: Event, email: str = "ada@example.com") -> None:
    register_attendee(
        event,
        [
            Answer(
                "First Name", "FirstName", "FirstName", "Ada", FixedField.FIRST_NAME
            ),
            Answer(
                "Last Name", "LastName", "LastName", "Lovelace", FixedField.LAST_NAME
            ),
            Answer("Email", "Email", "Email", email, FixedField.EMAIL),
        ],
        submission_id=f"test-{event.id}-{email}",
        now=datetime(2027, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def host(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.HOST, email="host@example.com", time_zone=NEW_YORK)


def campaign_with(*labels: str, default: str = "Sent") -> Campaign:
    campaign = Campaign(name="Spring Launch")
    campaign.statuses = [
        CampaignMemberStatus(label=label, is_default=label == default, sort_order=index)
        for index, label in enumerate(labels)
    ]
    db.session.add(campaign)
    db.session.commit()
    return campaign


# Wall-clock times


@pytest.mark.parametrize(
    ("zone", "wall", "instant", "issue"),
    [
        (NEW_YORK, "2027-07-01 10:00", "2027-07-01 14:00", "none"),
        (NEW_YORK, "2027-01-01 10:00", "2027-01-01 15:00", "none"),
        # The clocks go from 02:00 to 03:00: 02:30 moves on to 03:30 EDT.
        (NEW_YORK, "2027-03-14 02:30", "2027-03-14 07:30", "skipped"),
        # The clocks go back from 02:00 to 01:00: 01:30 is taken the first time.
        (NEW_YORK, "2027-11-07 01:30", "2027-11-07 05:30", "repeated"),
        ("Europe/Berlin", "2027-03-28 02:15", "2027-03-28 01:15", "skipped"),
        # Lord Howe Island moves its clocks by half an hour.
        ("Australia/Lord_Howe", "2027-10-03 02:10", "2027-10-02 15:40", "skipped"),
        ("UTC", "2027-03-14 02:30", "2027-03-14 02:30", "none"),
    ],
)
def test_wall_clock_times_become_utc_instants(
    zone: str, wall: str, instant: str, issue: str
) -> None:
    moment, found = resolve_local_time(datetime.fromisoformat(wall), zone)

    assert moment == datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert found is ClockIssue(issue)


@pytest.mark.parametrize(
    ("zone", "wall", "before", "after"),
    [
        (NEW_YORK, datetime(2027, 3, 14, 2, 30), "02:00", "03:00"),
        (NEW_YORK, datetime(2027, 11, 7, 1, 30), "02:00", "01:00"),
        ("Australia/Lord_Howe", datetime(2027, 10, 3, 2, 10), "02:00", "02:30"),
    ],
)
def test_a_clock_change_is_described_by_the_times_either_side(
    zone: str, wall: datetime, before: str, after: str
) -> None:
    changed_from, changed_to = clock_change_around(wall, zone)

    assert (f"{changed_from:%H:%M}", f"{changed_to:%H:%M}") == (before, after)


# Recurrence


@pytest.mark.parametrize(
    ("first", "recurrence", "dates"),
    [
        (
            date(2027, 1, 5),
            Recurrence(Frequency.DAILY, interval=2, count=3),
            ["2027-01-05", "2027-01-07", "2027-01-09"],
        ),
        (
            date(2027, 12, 28),
            Recurrence(Frequency.WEEKLY, count=3),
            ["2027-12-28", "2028-01-04", "2028-01-11"],
        ),
        (
            # The 31st falls on the last day of shorter months, then comes back.
            date(2027, 1, 31),
            Recurrence(Frequency.MONTHLY, count=4),
            ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"],
        ),
        (
            date(2028, 1, 30),
            Recurrence(Frequency.MONTHLY, count=2),
            ["2028-01-30", "2028-02-29"],
        ),
        (
            date(2027, 11, 15),
            Recurrence(Frequency.MONTHLY, interval=3, count=3),
            ["2027-11-15", "2028-02-15", "2028-05-15"],
        ),
        (
            # The last date is included.
            date(2027, 3, 1),
            Recurrence(Frequency.WEEKLY, until=date(2027, 3, 15)),
            ["2027-03-01", "2027-03-08", "2027-03-15"],
        ),
        (
            date(2027, 3, 1),
            Recurrence(Frequency.WEEKLY, until=date(2027, 3, 14)),
            ["2027-03-01", "2027-03-08"],
        ),
        (date(2027, 3, 1), Recurrence(Frequency.DAILY, count=1), ["2027-03-01"]),
    ],
)
def test_occurrence_dates_follow_the_rule(
    first: date, recurrence: Recurrence, dates: list[str]
) -> None:
    assert [day.isoformat() for day in occurrence_dates(first, recurrence)] == dates


@pytest.mark.parametrize(
    ("recurrence", "field", "message"),
    [
        (Recurrence(Frequency.DAILY, count=201), "count", "from 1 to 200"),
        (Recurrence(Frequency.DAILY, count=0), "count", "from 1 to 200"),
        (
            Recurrence(Frequency.DAILY, until=date(2027, 12, 31)),
            "until",
            "more than 200 sessions",
        ),
        (Recurrence(Frequency.WEEKLY, interval=0, count=3), "interval", "1 to 99"),
        (Recurrence(Frequency.WEEKLY, interval=100, count=3), "interval", "1 to 99"),
        (
            Recurrence(Frequency.WEEKLY, until=date(2027, 2, 1)),
            "until",
            "before the first",
        ),
        (Recurrence(Frequency.WEEKLY), "count", "how many"),
    ],
)
def test_impossible_recurrences_are_refused(
    recurrence: Recurrence, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        occurrence_dates(date(2027, 3, 1), recurrence)

    assert refused.value.field == field
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("first", "recurrence", "field"),
    [
        (
            date(2027, 3, 1),
            Recurrence(Frequency.WEEKLY, until=date(9999, 12, 31)),
            "until",
        ),
        (date(2199, 12, 1), Recurrence(Frequency.WEEKLY, count=10), "count"),
        (date(1999, 12, 1), Recurrence(Frequency.WEEKLY, count=2), "starts_at"),
    ],
)
def test_a_series_stays_within_the_years_sessions_take_place_in(
    first: date, recurrence: Recurrence, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        occurrence_dates(first, recurrence)

    assert refused.value.field == field


@pytest.mark.parametrize(
    ("zone", "starts_local", "ends_local"),
    [
        (
            "America/Los_Angeles",
            datetime(9999, 12, 31, 20, 0),
            datetime(9999, 12, 31, 23, 0),
        ),
        ("Asia/Tokyo", datetime(1, 1, 1, 0, 0), datetime(1, 1, 1, 1, 0)),
    ],
)
def test_a_session_near_the_calendar_limits_is_refused_on_its_start(
    app: Flask, host: User, zone: str, starts_local: datetime, ends_local: datetime
) -> None:
    data = session_input(
        time_zone=zone, starts_local=starts_local, ends_local=ends_local
    )

    for save in (
        lambda: create_session(host, data),
        lambda: create_series(host, data, Recurrence(Frequency.DAILY, count=2)),
    ):
        with pytest.raises(ValidationFailed) as refused:
            save()
        assert refused.value.field == "starts_at"
    assert db.session.scalar(sa.select(sa.func.count(EventSeries.id))) == 0


def test_two_hundred_daily_occurrences_are_allowed() -> None:
    dates = occurrence_dates(
        date(2027, 1, 1), Recurrence(Frequency.DAILY, until=date(2027, 7, 19))
    )

    assert len(dates) == 200


# Checks


@pytest.mark.parametrize(
    "url",
    [
        "https://meet.example.com/j/123?pwd=abc",
        "http://10.0.0.5:8080/room",
        "HTTPS://Meet.Example.com",
        "",
    ],
)
def test_http_and_https_meeting_addresses_are_accepted(url: str) -> None:
    check_join_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://files.example.com/",
        "meet.example.com/j/123",
        "https://",
        "https://meet.example.com/a b",
        "https://meet.example.com:99999/",
        "https://[::1",
        "//meet.example.com/j/1",
    ],
)
def test_other_meeting_addresses_are_refused(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_join_url(url)

    assert refused.value.field == "join_url"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "   "}, "title", "Enter a title"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"type": EventType.LEARNING}, "type", "switched off"),
        (
            {"type": EventType.EXISTING, "platform_activity_id": " "},
            "platform_activity_id",
            "id of the activity",
        ),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "time zone"),
        ({"starts_local": None}, "starts_at", "starts"),
        ({"ends_local": None}, "ends_at", "ends"),
        (
            {"ends_local": datetime(2027, 10, 19, 10, 0)},
            "ends_at",
            "must end after it starts",
        ),
        (
            {
                "starts_local": datetime(2027, 3, 14, 2, 30),
                "ends_local": datetime(2027, 3, 14, 4, 0),
            },
            "starts_at",
            "There is no 02:30 on Sunday, 14 March 2027 in America/New_York: the "
            "clocks go forward from 02:00 to 03:00.",
        ),
        (
            {
                "starts_local": datetime(2027, 3, 14, 1, 0),
                "ends_local": datetime(2027, 3, 14, 2, 15),
            },
            "ends_at",
            "There is no 02:15",
        ),
        ({"join_url": "javascript:alert(1)"}, "join_url", "https://"),
        ({"campaign_id": "999"}, "campaign_id", "not in the CRM"),
        ({"join_password": "p" * 65}, "join_password", "at most 64"),
        ({"dial_in_number": "1" * 41}, "dial_in_number", "at most 40"),
    ],
)
def test_a_session_that_cannot_be_saved_is_refused_on_its_field(
    app: Flask, host: User, changes: dict[str, Any], field: str, message: str
) -> None:
    site_settings().enabled_session_types = ["webinar", "meeting", "existing"]
    db.session.commit()

    with pytest.raises(ValidationFailed) as refused:
        create_session(host, session_input(**changes))

    assert refused.value.field == field
    assert message in refused.value.message
    sessions = sa.select(sa.func.count(Event.id)).where(Event.room_kind.is_(None))
    assert db.session.scalar(sessions) == 0


def test_a_new_session_is_stored_in_utc_with_its_own_copies(
    app: Flask, host: User
) -> None:
    saved = create_session(host, session_input(join_password=" s3cret "))

    event = db.session.get(Event, saved.event.id)
    assert event is not None
    assert local(event.starts_at) == "2027-10-19 10:00 EDT"
    assert event.starts_at == datetime(2027, 10, 19, 14, 0, tzinfo=UTC)
    assert event.owner == host
    assert event.join_password == "s3cret"
    assert event.field_list is not None
    assert event.field_list.global_scope is None
    assert event.action_set is not None
    assert event.action_set.global_scope is None
    assert saved.notices == []


def test_an_always_available_session_has_no_times(app: Flask, host: User) -> None:
    saved = create_session(
        host, session_input(is_always_available=True, starts_local=None)
    )

    assert saved.event.is_always_available
    assert (saved.event.starts_at, saved.event.ends_at) == (None, None)


def test_a_start_the_clocks_show_twice_is_the_first_and_says_so(
    app: Flask, host: User
) -> None:
    saved = create_session(
        host,
        session_input(
            starts_local=datetime(2027, 11, 7, 1, 30),
            ends_local=datetime(2027, 11, 7, 3, 0),
        ),
    )

    assert local(saved.event.starts_at) == "2027-11-07 01:30 EDT"
    assert saved.notices == [
        "01:30 on Sunday, 7 November 2027 happens twice in America/New_York (the "
        "clocks go back from 02:00 to 01:00); the session starts at the first "
        "01:30, EDT."
    ]


@pytest.mark.parametrize(
    ("actor_role", "chosen", "outcome"),
    [
        (Role.ADMIN, "other", "other"),
        (Role.ADMIN, None, "actor"),
        (Role.HOST, None, "actor"),
        (Role.HOST, "other", "refused"),
        (Role.ADMIN, "inactive", "refused"),
    ],
)
def test_admins_choose_the_host_and_hosts_own_what_they_create(
    app: Flask,
    make_user: Callable[..., User],
    actor_role: Role,
    chosen: str | None,
    outcome: str,
) -> None:
    people = {
        "actor": make_user(role=actor_role),
        "other": make_user(role=Role.HOST),
        "inactive": make_user(role=Role.HOST),
    }
    people["inactive"].is_active = False
    db.session.commit()
    data = session_input(owner_id=people[chosen].id if chosen else None)

    if outcome == "refused":
        with pytest.raises(ValidationFailed) as refused:
            create_session(people["actor"], data)
        assert refused.value.field == "owner_id"
    else:
        assert create_session(people["actor"], data).event.owner == people[outcome]


@pytest.mark.parametrize(
    ("password", "remove", "stored"),
    [
        ("", False, "old"),
        ("  ", False, "old"),
        ("new", False, "new"),
        ("", True, None),
        ("new", True, None),
    ],
)
def test_an_empty_password_keeps_the_one_there_is(
    app: Flask, host: User, password: str, remove: bool, stored: str | None
) -> None:
    event = create_session(host, session_input(join_password="old")).event

    update_session(
        host, event, session_input(join_password=password, remove_password=remove)
    )

    assert db.session.get(Event, event.id).join_password == stored


def test_a_type_switched_off_later_can_stay_on_its_session(
    app: Flask, host: User
) -> None:
    event = create_session(host, session_input(type=EventType.LEARNING)).event
    site_settings().enabled_session_types = ["webinar"]
    db.session.commit()

    saved = update_session(
        host, event, session_input(type=EventType.LEARNING, title="Renamed")
    )
    assert saved.event.title == "Renamed"

    with pytest.raises(ValidationFailed):
        update_session(host, event, session_input(type=EventType.MEETING))


def test_missing_campaign_statuses_are_named(app: Flask, host: User) -> None:
    campaign = campaign_with("Sent", "Registered")

    saved = create_session(host, session_input(campaign_id=str(campaign.id)))

    assert saved.notices == [
        "The campaign “Spring Launch” has no member status “Attended” (used on "
        "Join); the CRM will use “Sent” instead."
    ]


def test_a_campaign_with_every_status_gives_no_warning(app: Flask, host: User) -> None:
    campaign = campaign_with("Sent", "Registered", "Attended")

    assert (
        create_session(host, session_input(campaign_id=str(campaign.id))).notices == []
    )


# Series


def test_a_weekly_series_keeps_its_clock_time_across_a_clock_change(
    app: Flask, host: User
) -> None:
    saved = create_series(host, session_input(), Recurrence(Frequency.WEEKLY, count=5))

    occurrences = saved.series.occurrences
    assert [local(event.starts_at) for event in occurrences] == [
        "2027-10-19 10:00 EDT",
        "2027-10-26 10:00 EDT",
        "2027-11-02 10:00 EDT",
        "2027-11-09 10:00 EST",
        "2027-11-16 10:00 EST",
    ]
    assert [local(event.ends_at)[-9:] for event in occurrences] == [
        "11:00 EDT",
        "11:00 EDT",
        "11:00 EDT",
        "11:00 EST",
        "11:00 EST",
    ]
    assert len({event.key for event in occurrences}) == 5


def test_occurrences_use_the_series_copies_until_changed(
    app: Flask, host: User
) -> None:
    series = create_series(
        host, session_input(), Recurrence(Frequency.DAILY, count=3)
    ).series

    assert series.field_list is not None
    assert series.field_list.global_scope is None
    assert series.action_set is not None
    assert series.action_set.global_scope is None
    for occurrence in series.occurrences:
        assert occurrence.field_list is None
        assert occurrence.action_set is None
        assert effective_list(occurrence) is series.field_list
        assert effective_action_set(occurrence) is series.action_set
        assert occurrence.owner == host


def test_an_occurrence_the_clocks_skip_moves_on_and_says_so(
    app: Flask, host: User
) -> None:
    saved = create_series(
        host,
        session_input(
            starts_local=datetime(2027, 3, 13, 2, 30),
            ends_local=datetime(2027, 3, 13, 3, 0),
        ),
        Recurrence(Frequency.DAILY, count=2),
    )

    assert [local(event.starts_at) for event in saved.series.occurrences] == [
        "2027-03-13 02:30 EST",
        "2027-03-14 03:30 EDT",
    ]
    assert saved.notices == [
        "On Sunday, 14 March 2027 the session starts at 03:30, because the clocks "
        "skip 02:30 that night in America/New_York."
    ]


def test_a_repeating_session_needs_a_schedule(app: Flask, host: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        create_series(
            host,
            session_input(is_always_available=True),
            Recurrence(Frequency.DAILY, count=2),
        )

    assert refused.value.field == "is_always_available"
    assert db.session.scalar(sa.select(sa.func.count(EventSeries.id))) == 0


@pytest.fixture
def weekly(app: Flask, host: User) -> EventSeries:
    """A weekly series of five from 19 October 2027, 10:00 in New York."""
    return create_series(
        host, session_input(), Recurrence(Frequency.WEEKLY, count=5)
    ).series


def titles_and_times(series: EventSeries) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [
        (event.title, local(event.starts_at))
        for event in sorted(series.occurrences, key=lambda event: event.starts_at)
    ]


def test_changing_the_series_dates_moves_occurrences_in_place(
    weekly: EventSeries, host: User
) -> None:
    first = weekly.occurrences[0]
    register(first)
    keys = [event.key for event in weekly.occurrences]

    update_series(
        host,
        weekly,
        session_input(
            starts_local=datetime(2027, 10, 20, 15, 0),
            ends_local=datetime(2027, 10, 20, 16, 0),
        ),
        Recurrence(Frequency.WEEKLY, count=5),
    )

    assert [event.key for event in weekly.occurrences] == keys
    assert [time for _, time in titles_and_times(weekly)][::2] == [
        "2027-10-20 15:00 EDT",
        "2027-11-03 15:00 EDT",
        "2027-11-17 15:00 EST",
    ]
    assert len(first.series.occurrences) == 5
    assert db.session.get(Event, first.id).series_id == weekly.id


def test_fewer_dates_keep_registered_occurrences_outside_the_series(
    weekly: EventSeries, host: User
) -> None:
    occurrences = list(weekly.occurrences)
    register(occurrences[4])
    gone = occurrences[3].id

    saved = update_series(
        host, weekly, session_input(), Recurrence(Frequency.WEEKLY, count=2)
    )

    kept = db.session.get(Event, occurrences[4].id)
    assert kept is not None
    assert kept.series_id is None
    assert db.session.get(Event, gone) is None
    assert len(weekly.occurrences) == 2
    # Kept as they were: registrations, and the fields and actions it used.
    assert kept.field_list is not None
    assert kept.field_list is not weekly.field_list
    assert [row.display_name for row in kept.field_list.definitions] == [
        row.display_name for row in weekly.field_list.definitions
    ]
    assert kept.action_set is not None
    assert kept.action_set is not weekly.action_set
    assert saved.notices == [
        "Kept 1 session that people registered for or joined, now outside the "
        "series: Tuesday, 16 November 2027, 10:00 – 11:00 EST (America/New_York)."
    ]
    assert weekly.occurrence_count == 2


def test_a_kept_occurrence_keeps_its_own_title_and_details(
    app: Flask, host: User, make_user: Callable[..., User]
) -> None:
    admin = make_user(role=Role.ADMIN)
    other = make_user(role=Role.HOST)
    monthly = create_series(
        host,
        session_input(title="Monthly Briefing", join_password="old"),
        Recurrence(Frequency.MONTHLY, count=3),
    ).series
    last = ordered(monthly)[-1]
    register(last)

    update_series(
        admin,
        monthly,
        session_input(
            title="Weekly Briefing",
            description="Shorter, every week.",
            join_url="https://meet.example.com/weekly",
            join_password="new",
            owner_id=other.id,
        ),
        Recurrence(Frequency.WEEKLY, count=2),
    )

    db.session.expire_all()
    kept = db.session.get(Event, last.id)
    assert kept is not None
    assert kept.series_id is None
    assert (kept.title, kept.description, kept.join_url, kept.join_password) == (
        "Monthly Briefing",
        "",
        "https://meet.example.com/j/123",
        "old",
    )
    assert kept.owner_id == host.id
    assert local(kept.starts_at) == "2027-12-19 10:00 EST"
    assert [event.title for event in monthly.occurrences] == ["Weekly Briefing"] * 2
    assert {event.join_password for event in monthly.occurrences} == {"new"}


def ordered(series: EventSeries) -> list[Event]:
    return sorted(series.occurrences, key=lambda event: event.starts_at)


def test_more_dates_add_occurrences_like_the_first(
    weekly: EventSeries, host: User
) -> None:
    update_series(
        host,
        weekly,
        session_input(title="Renamed"),
        Recurrence(Frequency.WEEKLY, until=date(2027, 11, 30)),
    )

    assert titles_and_times(weekly)[-2:] == [
        ("Renamed", "2027-11-23 10:00 EST"),
        ("Renamed", "2027-11-30 10:00 EST"),
    ]
    assert weekly.occurrence_count is None
    assert weekly.until_date == date(2027, 11, 30)
    added = weekly.occurrences[-1]
    assert added.field_list is None
    assert added.action_set is None


def test_a_series_detail_changes_every_occurrence_and_leaves_the_rest(
    weekly: EventSeries, host: User
) -> None:
    second = weekly.occurrences[1]
    update_session(
        host,
        second,
        session_input(
            title="Special edition",
            starts_local=datetime(2027, 10, 27, 9, 0),
            ends_local=datetime(2027, 10, 27, 9, 30),
        ),
    )

    update_series(
        host,
        weekly,
        session_input(dial_in_number="+1 555 0100"),
        Recurrence(Frequency.WEEKLY, count=5),
    )

    db.session.expire_all()
    assert [event.dial_in_number for event in weekly.occurrences] == ["+1 555 0100"] * 5
    # The dates did not change, so the moved occurrence stays where it was put.
    assert titles_and_times(weekly)[1] == ("Special edition", "2027-10-27 09:00 EDT")


def test_a_series_host_and_password_reach_every_occurrence(
    weekly: EventSeries, host: User, make_user: Callable[..., User]
) -> None:
    admin = make_user(role=Role.ADMIN)
    other = make_user(role=Role.HOST)

    update_series(
        admin,
        weekly,
        session_input(owner_id=other.id, join_password="letmein"),
        Recurrence(Frequency.WEEKLY, count=5),
    )

    assert weekly.owner == other
    assert {event.owner_id for event in weekly.occurrences} == {other.id}
    assert {event.join_password for event in weekly.occurrences} == {"letmein"}


def test_an_occurrence_keeps_its_series_host(
    weekly: EventSeries, make_user: Callable[..., User]
) -> None:
    admin = make_user(role=Role.ADMIN)

    with pytest.raises(ValidationFailed) as refused:
        update_session(
            admin,
            weekly.occurrences[0],
            session_input(owner_id=make_user(role=Role.HOST).id),
        )

    assert refused.value.field == "owner_id"


def test_an_occurrence_that_was_changed_is_deleted_with_its_copies(
    weekly: EventSeries, host: User
) -> None:
    last = weekly.occurrences[-1]
    last.field_list = FieldList()
    db.session.commit()
    lists = db.session.scalar(sa.select(sa.func.count(FieldList.id)))

    update_series(host, weekly, session_input(), Recurrence(Frequency.WEEKLY, count=4))

    assert db.session.get(Event, last.id) is None
    assert db.session.scalar(sa.select(sa.func.count(FieldList.id))) == lists - 1


# Rooms


def test_a_room_gets_its_meeting_address_and_switches(app: Flask, host: User) -> None:
    from portal.services.events import ensure_personal_rooms

    room = ensure_personal_rooms(host)[0]
    db.session.commit()

    update_room(
        host,
        room,
        RoomInput(
            join_url=" https://meet.example.com/host ",
            join_password="pin",
            dial_in_number="+1 555 0100",
            has_video=False,
        ),
    )

    assert room.join_url == "https://meet.example.com/host"
    assert room.join_password == "pin"
    assert (room.has_video, room.has_internet_audio) == (False, True)
    with pytest.raises(ValidationFailed):
        update_room(host, room, RoomInput(join_url="file:///etc/passwd"))


def test_every_trigger_can_be_named_in_a_warning() -> None:
    assert set(TRIGGER_LABELS) == set(ActivityKind)
