"""The registrants, queue and CRM pages of the admin area, read as a browser would."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Campaign,
    CampaignMember,
    Contact,
    Event,
    FeedPost,
    FixedField,
    Lead,
    Registrant,
    Role,
    RoomKind,
    Task,
    User,
    utcnow,
)
from portal.services.fields import Answer
from portal.services.registration import record_join
from portal.services.reports import FORMULA_GUARD
from tests.conftest import csrf_token, form_values, page
from tests.test_registration_pages import fill

SVG = "{http://www.w3.org/2000/svg}"
FIRST, LAST, EMAIL = FixedField.FIRST_NAME, FixedField.LAST_NAME, FixedField.EMAIL
ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
ODS_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def register(client: FlaskClient, event: Event, **answers: str) -> None:
    """Register through the hosted page, as a browser would."""
    address = f"/e/{event.key}/register"
    values = form_values(page(client.get(address)))
    response = client.post(address, data=fill(values, **answers))
    assert response.status_code == 303


def queue_activity(event: Event, status: ActivityStatus, **values: object) -> Activity:
    """An activity of ``event`` in ``status``, for a person of its own."""
    activity = Activity(
        kind=values.pop("kind", ActivityKind.REGISTER),
        event=event,
        person_key=str(values.pop("person_key", f"someone-{utcnow().timestamp()}")),
        payload={},
        status=status,
        **values,
    )
    db.session.add(activity)
    db.session.commit()
    return activity


@pytest.fixture
def queued(app: Flask) -> Flask:
    """Activities wait for a worker, so the queue page has something to show."""
    app.config["PROCESSING"] = "worker"
    return app


# Who may open what.


@pytest.mark.parametrize(
    "address",
    [
        "/admin/sessions/{session}/registrants",
        "/admin/rooms/{room}/registrants",
        "/admin/queue",
        "/admin/crm/leads",
        "/admin/crm/tasks",
    ],
)
@pytest.mark.parametrize("number", ["99999999999999999999", "-5", "0", "two"])
def test_any_page_number_shows_a_page(
    admin_client: FlaskClient,
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
    address: str,
    number: str,
) -> None:
    host_id = make_user().id
    room = db.session.scalars(
        sa.select(Event).where(Event.owner_id == host_id, Event.room_kind.is_not(None))
    ).first()
    assert room is not None
    target = address.format(session=make_event().id, room=room.id)

    response = admin_client.get(f"{target}?page={number}")

    assert response.status_code == 200
    assert page(response).select_one("main h1") is not None


@pytest.mark.parametrize(
    "address",
    [
        "/admin/sessions/{id}/registrants",
        "/admin/sessions/{id}/registrants.csv",
        "/admin/sessions/{id}/registrants/chart.svg",
        "/admin/queue",
        "/admin/crm",
        "/admin/crm/leads",
    ],
)
def test_report_pages_send_visitors_to_sign_in(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()

    response = client.get(address.format(id=event.id))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/admin/")


@pytest.mark.parametrize(
    "address",
    [
        "/admin/sessions/{id}/registrants",
        "/admin/sessions/{id}/registrants.csv",
        "/admin/sessions/{id}/registrants/chart.svg",
    ],
)
def test_a_host_sees_registrants_of_their_own_sessions_only(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
    address: str,
) -> None:
    client, host = host_client
    own = make_event(host)
    other = make_event(make_user(role=Role.HOST))
    room = next(event for event in _rooms_of(host))

    assert client.get(address.format(id=own.id)).status_code == 200
    assert client.get(address.format(id=other.id)).status_code == 403
    assert client.get(address.format(id=999_999)).status_code == 404
    assert client.get(address.format(id=room.id)).status_code == 404


def test_a_host_sees_the_attendees_of_their_own_rooms_only(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    client, host = host_client
    own_room = _rooms_of(host)[0]
    other_room = _rooms_of(make_user(role=Role.HOST))[0]
    session = make_event(host)

    assert client.get(f"/admin/rooms/{own_room.id}/registrants").status_code == 200
    assert client.get(f"/admin/rooms/{own_room.id}/registrants.csv").status_code == 200
    assert client.get(f"/admin/rooms/{other_room.id}/registrants").status_code == 403
    assert client.get(f"/admin/rooms/{session.id}/registrants").status_code == 404
    assert client.get("/admin/rooms/999999/registrants").status_code == 404


def _rooms_of(host: User) -> list[Event]:
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(Event.owner_id == host.id, Event.room_kind.is_not(None))
            .order_by(Event.id)
        )
    )


@pytest.mark.parametrize(
    ("method", "address"),
    [
        ("get", "/admin/queue"),
        ("get", "/admin/crm"),
        ("get", "/admin/crm/tasks"),
        ("post", "/admin/queue/{id}/retry"),
    ],
)
def test_the_queue_and_the_crm_are_for_admins_only(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    method: str,
    address: str,
) -> None:
    client, host = host_client
    activity = queue_activity(make_event(host), ActivityStatus.FAILED)
    token = csrf_token(client, "/admin/")

    response = getattr(client, method)(
        address.format(id=activity.id), data={"csrf_token": token}
    )

    assert response.status_code == 403
    db.session.refresh(activity)
    assert activity.status is ActivityStatus.FAILED
    navigation = [
        link.get_text() for link in page(client.get("/admin/")).select(".admin-nav a")
    ]
    assert "Queue" not in navigation
    assert "CRM" not in navigation


def test_admins_find_the_queue_and_the_crm_in_the_navigation(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    soup = page(admin_client.get(f"/admin/sessions/{event.id}"))

    navigation = [link.get_text() for link in soup.select(".admin-nav a")]
    manage = [link.get_text() for link in soup.select(".manage-links a")]

    assert "Queue" in navigation
    assert "CRM" in navigation
    assert "Registrants" in manage


# The registrants page.


def test_a_registration_shows_in_the_table_with_its_crm_record_and_trace(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(time_zone="America/New_York")
    register(admin_client, event, sf_LeadSource="Spring Newsletter")

    soup = page(admin_client.get(f"/admin/sessions/{event.id}/registrants"))

    (row,) = soup.select("table.registrants tbody tr")
    cells = row.find_all("td")
    assert cells[0].get_text(" ", strip=True) == "Ada Lovelace ada@example.com"
    lead = db.session.scalars(sa.select(Lead)).one()
    assert cells[1].get_text(strip=True) == f"Lead {lead.id}"
    assert cells[1].a["href"] == "/admin/crm/leads?q=ada@example.com"
    assert cells[2].get_text(strip=True) == "Spring Newsletter"
    registered = cells[3].find("time")
    assert registered.get_text().endswith((" EST", " EDT"))
    assert cells[6].get_text(strip=True) == "–"
    # The latest activity is the confirmation email the registration queued.
    trace = cells[7].find("details")
    assert trace.summary.get_text(" ", strip=True) == "done email"
    lines = [item.get_text() for item in trace.select(".trace-lines li")]
    assert lines[0] == f"Matched lead {lead.id}: only lead with this email"
    assert lines[1].startswith("Email You're registered")
    totals = {
        term.get_text(): term.find_next_sibling("dd").get_text()
        for term in soup.select(".report-totals dt")
    }
    assert totals == {"Registered": "1", "Joined": "0", "Registered or joined": "1"}
    assert soup.select_one("a[download]")["href"] == (
        f"/admin/sessions/{event.id}/registrants.csv"
    )
    chart = soup.select_one("figure.report-chart img")
    assert chart["src"] == f"/admin/sessions/{event.id}/registrants/chart.svg"
    assert "stacked by lead source: 1 registration in all." in chart["alt"]
    numbers = soup.select(".chart-numbers tbody tr")
    assert [cell.get_text() for cell in numbers[-1].find_all(["th", "td"])][1:] == [
        "1",
        "1",
    ]


def test_a_registrant_s_page_shows_every_activity_with_its_trace(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(time_zone="America/New_York")
    register(admin_client, event, sf_LeadSource="Spring Newsletter")
    registrant = db.session.scalars(sa.select(Registrant)).one()
    listing = page(admin_client.get(f"/admin/sessions/{event.id}/registrants"))
    address = f"/admin/sessions/{event.id}/registrants/{registrant.id}"

    soup = page(admin_client.get(address))

    assert listing.select_one("table.registrants a.person-name")["href"] == address
    assert soup.select_one("h1").get_text() == "Ada Lovelace"
    answers = {
        row.th.get_text(): row.td.get_text()
        for row in soup.select("#answers-heading + div tbody tr")
    }
    assert answers["Lead Source"] == "Spring Newsletter"
    kinds = [
        details.summary.get_text(" ", strip=True)
        for details in soup.select("table.activities details")
    ]
    assert kinds == ["done register", "done email"]
    register_lines = soup.select("table.activities details")[0].select("li")
    lead = db.session.scalars(sa.select(Lead)).one()
    assert register_lines[0].get_text() == f"Created lead {lead.id}: no match: new lead"


@pytest.mark.parametrize("whose", ["other session", "missing"])
def test_a_registrant_is_shown_only_under_their_own_session(
    admin_client: FlaskClient, make_event: Callable[..., Event], whose: str
) -> None:
    event, other = make_event(), make_event()
    register(admin_client, event)
    registrant = db.session.scalars(sa.select(Registrant)).one()
    shown_under = other if whose == "other session" else event
    registrant_id = registrant.id if whose == "other session" else 999_999

    response = admin_client.get(
        f"/admin/sessions/{shown_under.id}/registrants/{registrant_id}"
    )

    assert response.status_code == 404


def test_the_registrants_page_pages_and_searches(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    for number in range(52):
        db.session.add(
            Registrant(
                event=event,
                token=f"token-{number:037d}",
                email=f"person{number}@example.com",
                email_key=f"person{number}@example.com",
                first_name="Pat",
                last_name=f"Number{number}",
                answers=[],
                registered_at=utcnow(),
            )
        )
    db.session.commit()
    address = f"/admin/sessions/{event.id}/registrants"

    first = page(admin_client.get(address))
    second = page(admin_client.get(f"{address}?page=2"))
    found = page(admin_client.get(f"{address}?q=number7"))
    beyond = page(admin_client.get(f"{address}?page=9"))

    assert len(first.select("table.registrants tbody tr")) == 50
    assert [a.get_text() for a in first.select(".pagination a")] == ["1", "2", "Next"]
    assert first.select_one(".pagination a[rel=next]")["href"] == f"{address}?page=2"
    emails = [
        td.select_one(".muted").get_text()
        for td in second.select("tbody tr td:first-child")
    ]
    assert emails == ["person1@example.com", "person0@example.com"]
    assert [
        td.select_one(".muted").get_text()
        for td in found.select("tbody tr td:first-child")
    ] == ["person7@example.com"]
    assert found.find("input", attrs={"name": "q"})["value"] == "number7"
    assert "nobody on page 9" in beyond.select_one(".notice").get_text()


def test_a_search_too_long_says_so_next_to_the_field(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = admin_client.get(f"/admin/sessions/{event.id}/registrants?q={'x' * 101}")

    assert response.status_code == 422
    assert "at most 100" in page(response).find(id="q-error").get_text()


def test_the_chart_is_an_svg_image_with_one_bar_per_day(
    queued: Flask, admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(ends_at=None, starts_at=None, is_always_available=True)
    today = datetime.now(UTC)
    for number, days_ago in enumerate([3, 3, 1]):
        db.session.add(
            Registrant(
                event=event,
                token=f"token-{number:037d}",
                email=f"p{number}@example.com",
                email_key=f"p{number}@example.com",
                first_name="Pat",
                last_name="Doe",
                answers=[{"field": "Lead Source", "value": f"Source {number % 2}"}],
                registered_at=today - timedelta(days=days_ago),
            )
        )
    db.session.commit()

    response = admin_client.get(f"/admin/sessions/{event.id}/registrants/chart.svg")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = ET.fromstring(response.get_data())  # noqa: S314 - our own answer
    assert svg.findtext(f"{SVG}title") == f"Registrations per day for {event.title}"
    bars = svg.findall(f"{SVG}g[@class='day']")
    assert len(bars) == 4
    assert [bar.get("data-total") for bar in bars] == ["2", "0", "1", "0"]
    assert "style" not in response.get_data(as_text=True)


def test_the_export_downloads_as_a_csv_attachment(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(title="Spring Launch")
    register(admin_client, event, sf_FirstName="Zoë", sf_LastName="Ångström")

    response = admin_client.get(f"/admin/sessions/{event.id}/registrants.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="registrants-spring-launch-')
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[1][:3] == ["Zoë", "Ångström", "ada@example.com"]


def test_a_room_lists_the_people_who_joined_without_a_chart(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    room = next(
        room for room in _rooms_of(host) if room.room_kind is RoomKind.MEETING_ROOM
    )
    record_join(
        room,
        submission_id="visit",
        answers=[
            Answer("First Name", "FirstName", "FirstName", "Grace", FIRST),
            Answer("Last Name", "LastName", "LastName", "Hopper", LAST),
            Answer("Email", "Email", "Email", "grace@example.com", EMAIL),
        ],
    )

    soup = page(client.get(f"/admin/rooms/{room.id}/registrants"))

    assert soup.h1.get_text() == f"Attendees: {room.title}"
    assert soup.select_one("figure.report-chart") is None
    headings = [th.get_text() for th in soup.select("table.registrants thead th")]
    assert "Registered" not in headings
    (row,) = soup.select("table.registrants tbody tr")
    assert "grace@example.com" in row.td.get_text()
    assert row.select_one("td:nth-of-type(4) time") is not None


# The queue.


def test_the_queue_lists_open_activities_newest_first_with_their_errors(
    queued: Flask, admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(title="Launch")
    done = queue_activity(event, ActivityStatus.DONE)
    failed = queue_activity(
        event, ActivityStatus.FAILED, attempts=6, last_error="CrmError: refused"
    )
    processing = queue_activity(
        event, ActivityStatus.PROCESSING, locked_at=utcnow(), locked_by="w1"
    )
    later = utcnow() + timedelta(minutes=5)
    pending = queue_activity(
        event, ActivityStatus.PENDING, attempts=2, available_at=later
    )

    soup = page(admin_client.get("/admin/queue"))

    rows = soup.select("table.queue tbody tr")
    assert [row["id"] for row in rows] == [
        f"activity-{pending.id}",
        f"activity-{processing.id}",
        f"activity-{failed.id}",
    ]
    assert f"activity-{done.id}" not in str(soup)
    failed_row = soup.find(id=f"activity-{failed.id}")
    assert failed_row.select_one(".trace-error").get_text() == (
        "Last error: CrmError: refused"
    )
    assert failed_row.find("button").get_text() == "Retry"
    assert failed_row.find_all("td")[2].get_text(strip=True) == "Launch"
    assert soup.find(id=f"activity-{pending.id}").find("button") is None
    assert soup.find(id=f"activity-{pending.id}").find("time") is not None
    tabs = [link.get_text() for link in soup.select(".tabs a")]
    assert tabs == ["All (3)", "Pending (1)", "Processing (1)", "Failed (1)"]

    only_failed = page(admin_client.get("/admin/queue?status=failed"))
    assert [row["id"] for row in only_failed.select("table.queue tbody tr")] == [
        f"activity-{failed.id}"
    ]


def test_retry_puts_a_failed_activity_back_in_the_queue_now(
    queued: Flask, admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    failed = queue_activity(
        make_event(),
        ActivityStatus.FAILED,
        attempts=6,
        last_error="CrmError: refused",
        available_at=utcnow() - timedelta(days=1),
    )
    soup = page(admin_client.get("/admin/queue?status=failed"))
    form = soup.find(id=f"activity-{failed.id}").find("form")

    token = form.find("input", attrs={"name": "csrf_token"})["value"]
    response = admin_client.post(form["action"], data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/queue?status=failed"
    db.session.refresh(failed)
    assert failed.status is ActivityStatus.PENDING
    assert failed.attempts == 0
    assert abs(failed.available_at - utcnow()) < timedelta(minutes=1)
    flashes = page(admin_client.get("/admin/queue")).select(".flash")
    assert [flash.get_text() for flash in flashes] == [
        f"Activity {failed.id} is back in the queue and will be tried now."
    ]


def test_a_retried_registration_is_processed_into_the_crm(
    admin_client: FlaskClient, make_event: Callable[..., Event], app: Flask
) -> None:
    event = make_event()
    app.config["PROCESSING"] = "worker"
    register(admin_client, event)
    activity = db.session.scalars(sa.select(Activity)).one()
    activity.status, activity.attempts = ActivityStatus.FAILED, 6
    db.session.commit()
    app.config["PROCESSING"] = "after_response"

    admin_client.post(
        f"/admin/queue/{activity.id}/retry",
        data={"csrf_token": csrf_token(admin_client, "/admin/queue")},
    )

    db.session.refresh(activity)
    assert activity.status is ActivityStatus.DONE
    assert db.session.scalars(sa.select(Lead.email)).all() == ["ada@example.com"]


@pytest.mark.parametrize("status", [ActivityStatus.PENDING, ActivityStatus.DONE])
def test_only_failed_activities_can_be_retried(
    queued: Flask,
    admin_client: FlaskClient,
    make_event: Callable[..., Event],
    status: ActivityStatus,
) -> None:
    activity = queue_activity(make_event(), status, attempts=3)

    response = admin_client.post(
        f"/admin/queue/{activity.id}/retry",
        data={"csrf_token": csrf_token(admin_client, "/admin/queue")},
    )

    assert response.status_code == 303
    db.session.refresh(activity)
    assert (activity.status, activity.attempts) == (status, 3)
    (flash,) = page(admin_client.get("/admin/queue")).select(".flash.error")
    assert "only failed activities can be retried" in flash.get_text()


def test_retry_needs_the_form_token_and_an_activity(
    queued: Flask, admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    failed = queue_activity(make_event(), ActivityStatus.FAILED)
    token = csrf_token(admin_client, "/admin/queue")

    assert admin_client.post(f"/admin/queue/{failed.id}/retry").status_code == 400
    assert (
        admin_client.post("/admin/queue/999999/retry", data={"csrf_token": token})
    ).status_code == 404
    db.session.refresh(failed)
    assert failed.status is ActivityStatus.FAILED


# The built-in CRM.


def test_the_crm_lists_are_read_only_newest_first(
    admin_client: FlaskClient,
) -> None:
    now = utcnow()
    db.session.add_all(
        [
            Lead(
                last_name="Old",
                email="old@example.com",
                company="A",
                created_at=now - timedelta(days=2),
            ),
            Lead(last_name="New", email="new@example.com", company="B", created_at=now),
        ]
    )
    db.session.commit()

    soup = page(admin_client.get("/admin/crm/leads"))

    assert "Read-only." in soup.select_one(".page-heading .notice").get_text()
    emails = [row.find_all("td")[2].get_text() for row in soup.select("tbody tr")]
    assert emails == ["new@example.com", "old@example.com"]
    assert soup.select('form[method="post"]') == soup.select("form.sign-out")
    tabs = [link.get_text() for link in soup.select(".tabs a")]
    assert tabs == [
        "Contacts (0)",
        "Leads (2)",
        "Campaign members (0)",
        "Tasks (0)",
        "Feed posts (0)",
    ]
    assert soup.select_one(".tabs a[aria-current]").get_text() == "Leads (2)"
    assert admin_client.get("/admin/crm").headers["Location"] == "/admin/crm/contacts"
    contacts = admin_client.get("/admin/crm", follow_redirects=True)
    assert page(contacts).h2.get_text() == "Contacts"
    assert admin_client.get("/admin/crm/opportunities").status_code == 404


def test_the_crm_search_finds_records_by_the_person_s_email_or_name(
    admin_client: FlaskClient,
) -> None:
    campaign = Campaign(name="Spring")
    grace = Contact(first_name="Grace", last_name="Hopper", email="grace@example.com")
    ada = Lead(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", company="E"
    )
    db.session.add_all([campaign, grace, ada])
    db.session.flush()
    db.session.add_all(
        [
            CampaignMember(campaign=campaign, contact_id=grace.id, status="Attended"),
            CampaignMember(campaign=campaign, lead_id=ada.id, status="Registered"),
            Task(
                subject="Attended Spring", who_contact_id=grace.id, status="Completed"
            ),
            Task(subject="Registered for Spring", who_lead_id=ada.id),
            FeedPost(parent_type="lead", parent_id=ada.id, body="Registered"),
            FeedPost(parent_type="campaign", parent_id=campaign.id, body="Starting"),
        ]
    )
    db.session.commit()

    def found(tab: str, search: str) -> list[str]:
        soup = page(admin_client.get(f"/admin/crm/{tab}?q={search}"))
        return [row.get_text(" ", strip=True) for row in soup.select("tbody tr")]

    assert len(found("contacts", "HOPPER")) == 1
    assert found("leads", "grace") == []
    (member,) = found("campaign-members", "ada lovelace")
    assert "Lead" in member
    assert "ada@example.com" in member
    assert "Registered" in member
    (task,) = found("tasks", "grace@")
    assert "Attended Spring" in task
    assert "Grace Hopper" in task
    (post,) = found("feed-posts", "lovelace")
    assert "Ada Lovelace" in post
    (campaign_post,) = found("feed-posts", "starting")
    assert "Campaign" in campaign_post
    assert "Spring" in campaign_post
    empty = page(admin_client.get("/admin/crm/tasks?q=nobody"))
    assert "No tasks match" in empty.select_one("section .notice").get_text()


# LibreOffice opens the export as the text typed (the third "done when").

#: LibreOffice's CSV filter options, as its Text Import dialog starts out when a
#: person opens the export (comma, semicolon and tab separators, double quotes, the
#: Unicode UTF-8 its byte-order mark announces, "Evaluate formulas" off), and the
#: same with "Evaluate formulas" ticked. A headless conversion given no options at
#: all skips the dialog and reads the file in the machine's legacy character set,
#: which no person opening the file meets, so it is not one of the cases.
LIBREOFFICE_IMPORTS = {
    "dialog defaults": "44/59/9,34,76,1,,1033,false,false,false,false,false,-1,false",
    "evaluate formulas": "44/59/9,34,76,1,,1033,false,false,false,false,false,-1,true",
}


def _libreoffice() -> str:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        message = "LibreOffice is not installed: apt-get install libreoffice-calc-nogui"
        if os.environ.get("PORTAL_TEST_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    return office


def _cells(fods: Path) -> list[list[tuple[str, str | None, str | None]]]:
    """Each row's cells of a flat ODS file: (text, value type, formula)."""
    rows = []
    document = ET.parse(fods)  # noqa: S314 - LibreOffice's output of our file
    for row in document.getroot().iter(f"{ODS_TABLE}table-row"):
        cells = []
        for cell in row.findall(f"{ODS_TABLE}table-cell"):
            repeat = int(cell.get(f"{ODS_TABLE}number-columns-repeated", "1"))
            text = "\n".join(_text(p) for p in cell.findall(f"{ODS_TEXT}p"))
            value_type = cell.get(f"{ODS_OFFICE}value-type")
            formula = cell.get(f"{ODS_TABLE}formula")
            cells.extend([(text, value_type, formula)] * min(repeat, 50))
        rows.append(cells)
    return rows


def _text(paragraph: ET.Element) -> str:
    """A paragraph's text with ODF's spaces and tabs put back."""
    parts = [paragraph.text or ""]
    for child in paragraph:
        if child.tag == f"{ODS_TEXT}s":
            parts.append(" " * int(child.get(f"{ODS_TEXT}c", "1")))
        elif child.tag == f"{ODS_TEXT}tab":
            parts.append("\t")
        else:
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)


def _shown(text: str) -> str:
    """What a person sees: invisible format characters take no room on screen."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


@pytest.mark.parametrize("import_options", sorted(LIBREOFFICE_IMPORTS))
def test_libreoffice_opens_the_export_with_formulas_as_text_and_accents_intact(
    admin_client: FlaskClient,
    make_event: Callable[..., Event],
    tmp_path: Path,
    import_options: str,
) -> None:
    office = _libreoffice()
    event = make_event()
    register(
        admin_client,
        event,
        sf_FirstName="Zoë",
        sf_LastName="Ångström",
        sf_Company="=1+2",
        sf_Title="Smith; Jones",
    )
    export = tmp_path / "registrants.csv"
    export.write_bytes(
        admin_client.get(f"/admin/sessions/{event.id}/registrants.csv").get_data()
    )

    result = subprocess.run(  # noqa: S603 - a fixed program with our own arguments
        [
            office,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            f"--infilter=CSV:{LIBREOFFICE_IMPORTS[import_options]}",
            "--convert-to",
            "fods",
            "--outdir",
            str(tmp_path),
            str(export),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert (tmp_path / "registrants.fods").exists(), result.stderr

    header, row, *_ = _cells(tmp_path / "registrants.fods")
    names = [text for text, _, _ in header]
    cells = dict(zip(names, row, strict=False))
    company_text, company_type, company_formula = cells["Company"]
    assert company_formula is None
    assert company_type == "string"
    assert _shown(company_text) == "=1+2"
    assert company_text == FORMULA_GUARD + "=1+2"
    assert cells["First name"][0] == "Zoë"
    assert cells["Last name"][0] == "Ångström"
    assert cells["Title"][0] == "Smith; Jones"
    assert names[0] == "First name"
