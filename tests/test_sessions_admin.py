"""Creating and editing sessions, series and rooms through the admin pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import (
    Campaign,
    CampaignMemberStatus,
    Event,
    EventSeries,
    EventType,
    FixedField,
    Frequency,
    Registrant,
    Role,
    RoomKind,
    User,
)
from portal.services.action_sets import site_settings
from portal.services.fields import Answer
from portal.services.registration import register_attendee
from portal.services.series import Recurrence, create_series
from portal.services.sessions import SessionInput
from tests.conftest import csrf_token, filled_form, page

NEW_YORK = "America/New_York"


def session_form_values(soup: BeautifulSoup) -> dict[str, str]:
    """What a browser would send for the page's session form, as it stands."""
    return filled_form(soup, "form.session-form")


def submit(client: FlaskClient, address: str, **changes: str | None) -> Any:
    """Open a form page, change some fields (None unticks or empties), send it."""
    values = session_form_values(page(client.get(address)))
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return client.post(address, data=values)


def flashes(client: FlaskClient, address: str) -> list[str]:
    return [
        flash.get_text(" ", strip=True)
        for flash in page(client.get(address)).select(".flashes .flash")
    ]


def error_text(response: Any, field: str) -> str:
    error = page(response).find(id=f"{field}-error")
    assert error is not None, f"no message next to {field}"
    return str(error.get_text(" ", strip=True))


def local(moment: datetime | None, zone: str = NEW_YORK) -> str:
    assert moment is not None
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def sessions_count() -> int:
    query = sa.select(sa.func.count(Event.id)).where(Event.room_kind.is_(None))
    return int(db.session.scalar(query) or 0)


NEW_WEBINAR = {
    "title": "Autumn Launch",
    "type": "webinar",
    "time_zone": NEW_YORK,
    "starts_at": "2027-10-19T10:00",
    "ends_at": "2027-10-19T11:00",
    "join_url": "https://meet.example.com/j/42",
}


def weekly_series(owner: User, count: int = 5) -> EventSeries:
    series = create_series(
        owner,
        SessionInput(
            title="Weekly Office Hours",
            type=EventType.MEETING,
            time_zone=NEW_YORK,
            starts_local=datetime(2027, 10, 19, 10, 0),
            ends_local=datetime(2027, 10, 19, 11, 0),
        ),
        Recurrence(Frequency.WEEKLY, count=count),
    ).series
    return series


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
        submission_id=f"page-test-{event.id}",
        now=datetime(2027, 1, 1, tzinfo=UTC),
    )


# Access


@pytest.mark.parametrize(
    "address",
    [
        "/admin/sessions/new",
        "/admin/sessions/1/edit",
        "/admin/series/1/edit",
        "/admin/rooms/1/edit",
    ],
)
def test_editing_pages_send_visitors_to_sign_in(
    client: FlaskClient, address: str
) -> None:
    response = client.get(address)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_a_host_edits_only_their_own_sessions_series_and_rooms(
    host_client: tuple[FlaskClient, User],
    make_user: Callable[..., User],
    make_event: Callable[..., Event],
) -> None:
    client, host = host_client
    other = make_user(role=Role.HOST)
    own_room = _room(host)
    others_room = _room(other)
    own, others = make_event(host), make_event(other)
    own_series, others_series = weekly_series(host), weekly_series(other)

    assert client.get(f"/admin/sessions/{own.id}/edit").status_code == 200
    assert client.get(f"/admin/sessions/{others.id}/edit").status_code == 403
    assert client.get(f"/admin/series/{own_series.id}/edit").status_code == 200
    assert client.get(f"/admin/series/{others_series.id}/edit").status_code == 403
    assert client.get(f"/admin/rooms/{own_room.id}/edit").status_code == 200
    assert client.get(f"/admin/rooms/{others_room.id}/edit").status_code == 403
    assert submit(client, f"/admin/sessions/{own.id}/edit").status_code == 303
    token = csrf_token(client, "/admin/")
    sent = client.post(
        f"/admin/sessions/{others.id}/edit",
        data={**NEW_WEBINAR, "title": "Mine now", "csrf_token": token},
    )
    assert sent.status_code == 403
    assert db.session.get(Event, others.id).title != "Mine now"


@pytest.mark.parametrize(
    "address",
    [
        "/admin/sessions/999999/edit",
        "/admin/series/999999/edit",
        "/admin/rooms/999/edit",
    ],
)
def test_missing_objects_answer_404(admin_client: FlaskClient, address: str) -> None:
    assert admin_client.get(address).status_code == 404


def test_rooms_and_sessions_each_have_their_own_edit_page(
    admin_client: FlaskClient,
    make_user: Callable[..., User],
    make_event: Callable[..., Event],
) -> None:
    room = _room(make_user(role=Role.HOST))
    event = make_event()

    assert admin_client.get(f"/admin/sessions/{room.id}/edit").status_code == 404
    assert admin_client.get(f"/admin/rooms/{event.id}/edit").status_code == 404


def test_forms_need_their_token(admin_client: FlaskClient) -> None:
    response = admin_client.post("/admin/sessions/new", data=NEW_WEBINAR)

    assert response.status_code == 400
    assert sessions_count() == 0


# Creating a session


def test_the_new_session_form_offers_enabled_types_and_the_host_time_zone(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    host.time_zone = "Europe/Berlin"
    site_settings().enabled_session_types = ["webinar", "meeting"]
    db.session.commit()

    soup = page(client.get("/admin/sessions/new"))

    types = [option["value"] for option in soup.select("#type option")]
    assert types == ["webinar", "meeting"]
    assert soup.select_one("#time_zone option[selected]")["value"] == "Europe/Berlin"
    assert soup.find(id="owner_id") is None
    assert soup.find(id="remove_password") is None
    labels = {label.get_text(" ", strip=True) for label in soup.select("label")}
    assert {"Title (required)", "Starts", "Ends", "Meeting address"} <= {
        " ".join(text.replace("*", "").split()) for text in labels
    }


def test_the_same_new_session_form_sent_twice_creates_one_session(
    admin_client: FlaskClient,
) -> None:
    values = {**session_form_values(page(admin_client.get("/admin/sessions/new")))}
    values.update(NEW_WEBINAR)

    first = admin_client.post("/admin/sessions/new", data=values)
    again = admin_client.post("/admin/sessions/new", data=values)
    shown = flashes(admin_client, "/admin/")
    fresh = submit(admin_client, "/admin/sessions/new", **NEW_WEBINAR)

    assert first.status_code == again.status_code == fresh.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert fresh.headers["Location"] != first.headers["Location"]
    titles = db.session.scalars(
        sa.select(Event.title).where(Event.title == NEW_WEBINAR["title"])
    ).all()
    assert len(titles) == 2
    assert shown[-1] == "That was created already; here it is."


def test_an_admin_creates_a_session_for_a_host(
    admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    host = make_user(role=Role.HOST, display_name="Hedy Host")
    soup = page(admin_client.get("/admin/sessions/new"))
    hosts = [option.get_text() for option in soup.select("#owner_id option")]
    assert any("Hedy Host" in name for name in hosts)

    response = submit(
        admin_client,
        "/admin/sessions/new",
        **NEW_WEBINAR,
        owner_id=str(host.id),
        description="Line one\r\nLine two",
        dial_in_number="+1 555 0100",
        participant_code="1234",
        moderator_code="9876",
        join_password="s3cret",
        has_video=None,
        has_listen_only_audio="y",
    )

    assert response.status_code == 303
    event = db.session.scalars(
        sa.select(Event).where(Event.title == "Autumn Launch")
    ).one()
    assert response.headers["Location"] == f"/admin/sessions/{event.id}"
    assert event.owner == host
    assert local(event.starts_at) == "2027-10-19 10:00 EDT"
    assert event.ends_at == datetime(2027, 10, 19, 15, 0, tzinfo=UTC)
    assert event.description == "Line one\nLine two"
    assert (event.dial_in_number, event.participant_code, event.moderator_code) == (
        "+1 555 0100",
        "1234",
        "9876",
    )
    assert (event.has_video, event.has_internet_audio, event.has_listen_only_audio) == (
        False,
        True,
        True,
    )
    assert event.join_password == "s3cret"
    assert event.series_id is None
    assert flashes(admin_client, response.headers["Location"]) == [
        "Created “Autumn Launch”."
    ]


def test_a_host_always_owns_what_they_create(
    host_client: tuple[FlaskClient, User], make_user: Callable[..., User]
) -> None:
    client, host = host_client
    other = make_user(role=Role.HOST)

    response = submit(
        client, "/admin/sessions/new", **NEW_WEBINAR, owner_id=str(other.id)
    )

    assert response.status_code == 303
    event = db.session.scalars(sa.select(Event).where(Event.room_kind.is_(None))).one()
    assert event.owner_id == host.id


def test_an_always_available_session_needs_no_times(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, _ = host_client

    response = submit(
        client,
        "/admin/sessions/new",
        **{**NEW_WEBINAR, "starts_at": "", "ends_at": ""},
        is_always_available="y",
    )

    assert response.status_code == 303
    event = db.session.scalars(sa.select(Event).where(Event.room_kind.is_(None))).one()
    assert event.is_always_available
    assert event.starts_at is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Enter a title."),
        ({"join_url": "ftp://files.example.com/"}, "join_url", "https://"),
        ({"join_url": "javascript:alert(1)"}, "join_url", "https://"),
        ({"type": "existing"}, "platform_activity_id", "id of the activity"),
        ({"type": "learning"}, "type", "Choose a type of session from the list."),
        ({"starts_at": ""}, "starts_at", "Enter when the session starts"),
        ({"starts_at": "tomorrow"}, "starts_at", "Enter a date and a time."),
        ({"ends_at": "2027-10-19T09:00"}, "ends_at", "must end after it starts"),
        (
            {"starts_at": "2027-03-14T02:30", "ends_at": "2027-03-14T04:00"},
            "starts_at",
            "There is no 02:30 on Sunday, 14 March 2027 in America/New_York: the "
            "clocks go forward from 02:00 to 03:00. Choose another time.",
        ),
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "Choose a time zone from the list.",
        ),
        ({"repeat": "weekly", "count": "500"}, "count", "from 1 to 200"),
        ({"repeat": "weekly", "count": ""}, "count", "from 1 to 200"),
        ({"repeat": "weekly", "interval": "0"}, "interval", "from 1 to 99"),
        ({"repeat": "weekly", "ends_by": "until"}, "until", "date of the last"),
        (
            {"repeat": "daily", "ends_by": "until", "until": "2028-12-31"},
            "until",
            "more than 200 sessions",
        ),
        (
            {"repeat": "daily", "is_always_available": "y"},
            "is_always_available",
            "needs a start and an end",
        ),
        ({"campaign_id": "12345"}, "campaign_id", "Choose a campaign from the list."),
        ({"dial_in_number": "1" * 41}, "dial_in_number", "at most 40"),
    ],
)
def test_bad_input_is_explained_next_to_its_field_and_nothing_is_saved(
    host_client: tuple[FlaskClient, User],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, _ = host_client
    site_settings().enabled_session_types = ["webinar", "meeting", "existing"]
    db.session.commit()

    response = submit(client, "/admin/sessions/new", **{**NEW_WEBINAR, **changes})

    assert response.status_code == 422
    assert message in error_text(response, field)
    summary = page(response).select_one(".error-summary")
    assert summary is not None
    assert sessions_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(EventSeries.id))) == 0


def test_a_start_the_clocks_show_twice_is_taken_the_first_time(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, _ = host_client

    response = submit(
        client,
        "/admin/sessions/new",
        **{
            **NEW_WEBINAR,
            "starts_at": "2027-11-07T01:30",
            "ends_at": "2027-11-07T03:00",
        },
    )

    assert response.status_code == 303
    event = db.session.scalars(sa.select(Event).where(Event.room_kind.is_(None))).one()
    assert local(event.starts_at) == "2027-11-07 01:30 EDT"
    messages = flashes(client, response.headers["Location"])
    assert "happens twice in America/New_York" in messages[1]


@pytest.mark.parametrize("forged", ["not-a-number", "999999", ""])
def test_a_forged_host_is_refused_in_words(
    admin_client: FlaskClient, forged: str
) -> None:
    response = submit(
        admin_client, "/admin/sessions/new", **NEW_WEBINAR, owner_id=forged
    )

    assert response.status_code == 422
    assert error_text(response, "owner_id") == "Choose a host from the list."
    assert "coerce" not in response.get_data(as_text=True)
    assert sessions_count() == 0


def test_the_time_zone_picker_offers_canonical_zones_by_region(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, _ = host_client

    soup = page(client.get("/admin/sessions/new"))

    picker = soup.find(id="time_zone")
    offered = [option["value"] for option in picker.find_all("option")]
    groups = [group["label"] for group in picker.find_all("optgroup")]
    assert groups[:2] == ["UTC", "Africa"]
    assert {"America", "Asia", "Europe", "Pacific"} <= set(groups)
    assert "America/New_York" in offered
    assert "Europe/Kyiv" in offered
    for alias in ("Africa/Asmera", "America/Atka", "US/Eastern", "Europe/Kiev"):
        assert alias not in offered
    assert len(offered) == len(set(offered)) < 450
    new_york = picker.find("option", value="America/New_York")
    assert new_york.get_text() == "New York"
    assert new_york.parent["label"] == "America"


def test_a_time_zone_saved_under_an_older_name_is_kept(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    event = make_event(host, time_zone="US/Eastern")
    other = make_event(host)
    address = f"/admin/sessions/{event.id}/edit"

    chosen = page(client.get(address)).select_one("#time_zone option[selected]")
    assert chosen["value"] == "US/Eastern"
    assert chosen.parent["label"] == "Saved earlier"
    response = submit(client, address, title="Renamed")
    forged = submit(client, f"/admin/sessions/{other.id}/edit", time_zone="US/Eastern")

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).time_zone == "US/Eastern"
    assert forged.status_code == 422
    assert error_text(forged, "time_zone") == "Choose a time zone from the list."


OUT_OF_RANGE = "Enter a date from the year 2000 to 2199."


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        # Near the calendar's limits these times have no UTC instant at all.
        (
            {
                "time_zone": "America/Los_Angeles",
                "starts_at": "9999-12-31T20:00",
                "ends_at": "9999-12-31T23:00",
            },
            "starts_at",
            OUT_OF_RANGE,
        ),
        (
            {
                "time_zone": "Asia/Tokyo",
                "starts_at": "0001-01-01T00:00",
                "ends_at": "0001-01-01T01:00",
            },
            "starts_at",
            OUT_OF_RANGE,
        ),
        ({"starts_at": "1999-12-31T10:00"}, "starts_at", OUT_OF_RANGE),
        ({"ends_at": "2200-01-01T10:00"}, "ends_at", OUT_OF_RANGE),
        (
            {"repeat": "weekly", "ends_by": "until", "until": "9999-12-31"},
            "until",
            OUT_OF_RANGE,
        ),
        (
            {"repeat": "monthly", "interval": "99", "count": "200"},
            "count",
            "run past Tuesday, 31 December 2199",
        ),
    ],
)
def test_dates_outside_the_years_sessions_take_place_in_are_refused(
    host_client: tuple[FlaskClient, User],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, _ = host_client

    response = submit(client, "/admin/sessions/new", **{**NEW_WEBINAR, **changes})

    assert response.status_code == 422
    assert message in error_text(response, field)
    assert sessions_count() == 0


@pytest.mark.parametrize(
    ("zone", "starts_at", "ends_at"),
    [
        ("America/Los_Angeles", "9999-12-31T20:00", "9999-12-31T23:00"),
        ("Asia/Tokyo", "0001-01-01T00:00", "0001-01-01T01:00"),
    ],
)
def test_an_edit_near_the_calendar_limits_is_refused_not_a_crash(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    zone: str,
    starts_at: str,
    ends_at: str,
) -> None:
    client, host = host_client
    event = make_event(host)
    series = weekly_series(host, count=2)

    edited = submit(
        client,
        f"/admin/sessions/{event.id}/edit",
        time_zone=zone,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    moved = submit(
        client,
        f"/admin/series/{series.id}/edit",
        time_zone=zone,
        starts_at=starts_at,
        ends_at=ends_at,
    )

    for response in (edited, moved):
        assert response.status_code == 422
        assert error_text(response, "starts_at") == OUT_OF_RANGE


def test_the_date_pickers_offer_the_years_sessions_take_place_in(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, _ = host_client

    soup = page(client.get("/admin/sessions/new"))

    for name in ("starts_at", "ends_at"):
        box = soup.find(id=name)
        assert (box["min"], box["max"]) == ("2000-01-01T00:00", "2199-12-31T23:59")
    assert (soup.find(id="until")["min"], soup.find(id="until")["max"]) == (
        "2000-01-01",
        "2199-12-31",
    )


# Series


def test_a_weekly_series_of_five_keeps_its_start_across_a_clock_change(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client

    response = submit(
        client,
        "/admin/sessions/new",
        **NEW_WEBINAR,
        repeat="weekly",
        interval="1",
        ends_by="count",
        count="5",
    )

    assert response.status_code == 303
    series = db.session.scalars(sa.select(EventSeries)).one()
    assert response.headers["Location"] == f"/admin/series/{series.id}/edit"
    assert [local(event.starts_at) for event in series.occurrences] == [
        "2027-10-19 10:00 EDT",
        "2027-10-26 10:00 EDT",
        "2027-11-02 10:00 EDT",
        "2027-11-09 10:00 EST",
        "2027-11-16 10:00 EST",
    ]
    assert {event.owner_id for event in series.occurrences} == {host.id}
    soup = page(client.get(response.headers["Location"]))
    assert [flash.get_text() for flash in soup.select(".flashes .flash")] == [
        "Created the series “Autumn Launch” with 5 sessions."
    ]
    rows = soup.select("#occurrences-title + .table-scroll table tbody tr")
    assert [row.find("td").get_text() for row in rows][3] == (
        "Tuesday, 9 November 2027, 10:00 – 11:00 EST (America/New_York)"
    )


def test_changing_a_series_dates_keeps_a_registered_occurrence(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    series = weekly_series(host)
    occurrences = list(series.occurrences)
    register(occurrences[4])
    register(occurrences[0], "grace@example.com")
    address = f"/admin/series/{series.id}/edit"

    response = submit(
        client,
        address,
        count="3",
        starts_at="2027-10-19T15:00",
        ends_at="2027-10-19T16:00",
    )

    assert response.status_code == 303
    db.session.expire_all()
    kept = db.session.get(Event, occurrences[4].id)
    assert kept is not None
    assert kept.series_id is None
    assert db.session.get(Event, occurrences[3].id) is None
    assert [local(event.starts_at) for event in series.occurrences] == [
        "2027-10-19 15:00 EDT",
        "2027-10-26 15:00 EDT",
        "2027-11-02 15:00 EDT",
    ]
    registrants = db.session.scalars(
        sa.select(Registrant).order_by(Registrant.id)
    ).all()
    assert [(row.event_id, row.email) for row in registrants] == [
        (occurrences[4].id, "ada@example.com"),
        (occurrences[0].id, "grace@example.com"),
    ]
    messages = flashes(client, address)
    assert messages[0] == "Saved the series “Weekly Office Hours”."
    assert messages[1].startswith(
        "Kept 1 session that people registered for or joined, now outside the series:"
    )


def test_a_session_kept_outside_its_series_keeps_its_title(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    series = weekly_series(host, count=3)
    last = series.occurrences[-1]
    register(last)

    response = submit(
        client,
        f"/admin/series/{series.id}/edit",
        title="Fortnightly Office Hours",
        interval="2",
        count="2",
    )

    assert response.status_code == 303
    db.session.expire_all()
    kept = db.session.get(Event, last.id)
    assert kept.series_id is None
    assert kept.title == "Weekly Office Hours"
    assert [event.title for event in series.occurrences] == [
        "Fortnightly Office Hours"
    ] * 2
    heading = page(client.get(f"/admin/sessions/{kept.id}")).find("h1")
    assert heading.get_text(strip=True) == "Weekly Office Hours"
    listing = page(client.get("/admin/"))
    row = listing.select_one(f"#session-{kept.id}")
    assert row.select_one("td a").get_text(strip=True) == "Weekly Office Hours"
    assert row.select_one(".series-tag") is None
    for occurrence in series.occurrences:
        tag = listing.select_one(f"#session-{occurrence.id} .series-tag")
        assert tag.get_text(" ", strip=True).endswith("Fortnightly Office Hours")


def test_a_series_detail_changed_on_its_page_reaches_every_session(
    admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    series = weekly_series(make_user(role=Role.HOST), count=3)

    response = submit(
        admin_client,
        f"/admin/series/{series.id}/edit",
        title="Office Hours (new room)",
        join_url="https://meet.example.com/new",
    )

    assert response.status_code == 303
    db.session.expire_all()
    assert {event.title for event in series.occurrences} == {"Office Hours (new room)"}
    assert {event.join_url for event in series.occurrences} == {
        "https://meet.example.com/new"
    }


def test_an_occurrence_edits_alone_and_points_to_its_series(
    admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    series = weekly_series(make_user(role=Role.HOST), count=3)
    second = series.occurrences[1]
    address = f"/admin/sessions/{second.id}/edit"

    soup = page(admin_client.get(address))
    assert soup.find(id="owner_id") is None
    link = soup.select_one(".page-heading .notice a")
    assert link["href"] == f"/admin/series/{series.id}/edit"

    response = submit(admin_client, address, title="Special edition")

    assert response.status_code == 303
    db.session.expire_all()
    assert [event.title for event in series.occurrences] == [
        "Weekly Office Hours",
        "Special edition",
        "Weekly Office Hours",
    ]


# Editing a session


def test_the_edit_form_shows_the_session_in_its_own_time_zone(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    event = make_event(
        host,
        starts_at=datetime(2027, 7, 1, 14, 0, tzinfo=UTC),
        time_zone="Europe/Berlin",
        join_password="old",
    )

    values = session_form_values(page(client.get(f"/admin/sessions/{event.id}/edit")))

    assert values["starts_at"] == "2027-07-01T16:00"
    assert values["ends_at"] == "2027-07-01T17:00"
    assert values["time_zone"] == "Europe/Berlin"
    assert values["join_password"] == ""
    assert "remove_password" not in values


@pytest.mark.parametrize(
    ("changes", "stored"),
    [
        ({}, "old"),
        ({"join_password": "new"}, "new"),
        ({"remove_password": "y"}, None),
    ],
)
def test_an_empty_password_box_keeps_the_password(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    changes: dict[str, str],
    stored: str | None,
) -> None:
    client, host = host_client
    event = make_event(host, join_password="old")

    response = submit(client, f"/admin/sessions/{event.id}/edit", **changes)

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).join_password == stored


def test_a_bad_edit_changes_nothing(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    event = make_event(host, title="Kept")

    response = submit(
        client,
        f"/admin/sessions/{event.id}/edit",
        title="Changed",
        join_url="mailto:someone@example.com",
    )

    assert response.status_code == 422
    assert "https://" in error_text(response, "join_url")
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "Kept"


def test_saving_with_a_campaign_warns_about_statuses_it_lacks(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    event = make_event(host)
    campaign = Campaign(name="Spring Launch")
    campaign.statuses = [
        CampaignMemberStatus(label="Sent", is_default=True, sort_order=1),
        CampaignMemberStatus(label="Responded", sort_order=2),
    ]
    db.session.add(campaign)
    db.session.commit()

    response = submit(
        client, f"/admin/sessions/{event.id}/edit", campaign_id=str(campaign.id)
    )

    assert response.status_code == 303
    assert flashes(client, response.headers["Location"]) == [
        f"Saved “{event.title}”.",
        "The campaign “Spring Launch” has no member status “Registered” (used on "
        "Register); the CRM will use “Sent” instead.",
        "The campaign “Spring Launch” has no member status “Attended” (used on "
        "Join); the CRM will use “Sent” instead.",
    ]


# The session page and the sessions list


def detail(soup: BeautifulSoup, name: str) -> str:
    found = soup.find(id=f"detail-{name}")
    assert found is not None, f"no {name} on the session page"
    return str(found.get_text(" ", strip=True))


def test_the_session_page_shows_what_a_host_needs_to_run_it(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    campaign = Campaign(name="Spring Launch")
    db.session.add(campaign)
    db.session.commit()
    event = make_event(
        host,
        campaign_id=str(campaign.id),
        description="What is new.\nQuestions at the end.",
        join_password="tulip-42",
        has_video=False,
        has_internet_audio=True,
        has_listen_only_audio=True,
        join_url="https://meet.example.com/j/" + "9" * 120,
    )

    soup = page(client.get(f"/admin/sessions/{event.id}"))

    assert detail(soup, "campaign") == "Spring Launch"
    assert detail(soup, "join-password").startswith("tulip-42")
    assert detail(soup, "description") == "What is new.\nQuestions at the end."
    assert (detail(soup, "video"), detail(soup, "internet-audio")) == ("off", "on")
    assert detail(soup, "listen-only") == "on"
    assert detail(soup, "series") == "none: a session of its own"
    assert "long-text" in soup.find(id="detail-join-url")["class"]


def test_the_session_page_links_to_its_series(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    series = weekly_series(host, count=2)
    second = series.occurrences[1]
    second.title = "Special edition"
    db.session.commit()

    soup = page(client.get(f"/admin/sessions/{second.id}"))

    link = soup.find(id="detail-series").find("a")
    assert link["href"] == f"/admin/series/{series.id}/edit"
    assert link.get_text() == "Weekly Office Hours"


def test_a_campaign_the_crm_lost_is_named_by_its_id(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    event = make_event(host, campaign_id="424242")

    soup = page(client.get(f"/admin/sessions/{event.id}"))

    assert detail(soup, "campaign") == "Campaign 424242 (no longer in the CRM)"


def listed(soup: BeautifulSoup, section: str) -> list[str]:
    table = soup.select_one(f"#{section}-title ~ .table-scroll table")
    if table is None:
        return []
    return [
        row.select_one("td a").get_text(strip=True) for row in table.select("tbody tr")
    ]


def test_the_sessions_list_shows_upcoming_soonest_first_then_past_latest_first(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    now = datetime.now(UTC).replace(microsecond=0)
    for title, days in [("Next month", 30), ("Last year", -365), ("Tomorrow", 1)]:
        make_event(host, title=title, starts_at=now + timedelta(days=days))
    make_event(host, title="Yesterday", starts_at=now - timedelta(days=1))
    make_event(host, title="Running", starts_at=now - timedelta(minutes=30))
    make_event(
        host, title="Any time", starts_at=None, ends_at=None, is_always_available=True
    )

    soup = page(client.get("/admin/"))

    assert listed(soup, "upcoming") == ["Any time", "Running", "Tomorrow", "Next month"]
    assert listed(soup, "past") == ["Yesterday", "Last year"]
    new = soup.select_one(".page-heading a.button")
    assert (new.get_text(), new["href"]) == ("New session", "/admin/sessions/new")


def test_the_sessions_list_tags_each_occurrence_with_its_series(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    series = weekly_series(host, count=2)
    single = make_event(host, title="On its own")

    soup = page(client.get("/admin/"))

    for occurrence in series.occurrences:
        tag = soup.select_one(f"#session-{occurrence.id} a.series-tag")
        assert tag["href"] == f"/admin/series/{series.id}/edit"
        assert tag.get_text(" ", strip=True).endswith("series: Weekly Office Hours")
    assert soup.select_one(f"#session-{single.id} .series-tag") is None


# Rooms


def test_a_host_sets_their_room_meeting_address(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    room = _room(host)
    address = f"/admin/rooms/{room.id}/edit"

    refused = submit(client, address, join_url="meet.example.com/host")
    assert refused.status_code == 422
    assert "https://" in error_text(refused, "join_url")

    response = submit(
        client,
        address,
        join_url="https://meet.example.com/host",
        join_password="pin",
        has_video=None,
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/rooms"
    db.session.expire_all()
    room = db.session.get(Event, room.id)
    assert room.join_url == "https://meet.example.com/host"
    assert room.join_password == "pin"
    assert room.has_video is False
    soup = page(client.get(address))
    assert soup.find(id="remove_password") is not None


def _room(host: User) -> Event:
    room = db.session.scalars(
        sa.select(Event).where(
            Event.owner_id == host.id, Event.room_kind == RoomKind.MEETING_ROOM
        )
    ).one()
    return room
