"""Registrants and attendance: the rows, the CSV export and the chart's numbers."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, render_template
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Event,
    FixedField,
    Registrant,
)
from portal.services.attendance import leave_facts
from portal.services.fields import Answer
from portal.services.registration import register_attendee
from portal.services.report_chart import (
    CHART_DAYS,
    OTHER_SOURCES,
    DayCount,
    RegistrationsByDay,
    chart_layout,
    registrations_by_day,
)
from portal.services.reports import (
    FORMULA_GUARD,
    attended_seconds,
    export_filename,
    inert_cell,
    lead_source,
    registrant_report,
    registrants_csv,
    trace_summary,
)

JOIN, LEAVE = ActivityKind.JOIN, ActivityKind.LEAVE
#: A Tuesday, 15:00 in New York (EST), long before the test sessions start.
MORNING = datetime(2030, 1, 15, 20, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def webinar(make_event: Callable[..., Event]) -> Event:
    """A webinar in New York whose registration is open until 2031."""
    return make_event(starts_at=datetime(2031, 3, 2, 16, 0, tzinfo=UTC))


def answers(
    email: str,
    first: str = "Ada",
    last: str = "Lovelace",
    company: str = "Engines",
    **extra: str,
) -> list[Answer]:
    """A submission's answers: the four fixed fields, then ``Display Name=value``."""
    given = [
        Answer("First Name", "FirstName", "FirstName", first, FixedField.FIRST_NAME),
        Answer("Last Name", "LastName", "LastName", last, FixedField.LAST_NAME),
        Answer("Email", "Email", "Email", email, FixedField.EMAIL),
        Answer("Company", "", "Company", company, FixedField.COMPANY),
    ]
    for name, value in extra.items():
        field = name.replace("_", " ")
        mapped = "LeadSource" if field == "Lead Source" else ""
        given.append(Answer(field, mapped, mapped, value))
    return given


def register(
    event: Event, email: str, at: datetime = MORNING, **values: str
) -> Registrant:
    """Register through the service, as the hosted page does, at ``at``."""
    registration = register_attendee(
        event, answers(email, **values), submission_id=f"form-{email}", now=at
    )
    return registration.registrant


def signal(
    registrant: Registrant, kind: ActivityKind, at: datetime, **values: Any
) -> Activity:
    """A join or leave of ``registrant`` at ``at``, recorded but not processed."""
    activity = Activity(
        kind=kind,
        event_id=registrant.event_id,
        registrant=registrant,
        person_key=registrant.email_key,
        occurred_at=at,
        payload={},
        **values,
    )
    db.session.add(activity)
    db.session.commit()
    return activity


def parsed_csv(data: bytes) -> list[list[str]]:
    """The export read back as a spreadsheet's CSV reader would."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def queued(app: Flask) -> Flask:
    """Activities are recorded, not processed, so their states can be set."""
    app.config["PROCESSING"] = "worker"
    return app


def test_a_row_shows_the_registrant_their_visits_and_the_latest_processing(
    queued: Flask, webinar: Event
) -> None:
    ada = register(webinar, "ada@example.com", Lead_Source="Newsletter")
    ada.crm_person_type, ada.crm_person_id = "lead", "17"
    signal(ada, JOIN, MORNING + timedelta(hours=1))
    signal(ada, LEAVE, MORNING + timedelta(hours=1, minutes=20))
    signal(ada, JOIN, MORNING + timedelta(hours=2))
    signal(
        ada,
        LEAVE,
        MORNING + timedelta(hours=2, minutes=10, seconds=40),
        status=ActivityStatus.FAILED,
        last_error="CrmError: the CRM is down",
        trace={"crm": "built-in CRM", "actions": ["task 4 created"]},
    )

    (row,) = registrant_report(webinar).rows

    assert (row.name, row.email) == ("Ada Lovelace", "ada@example.com")
    assert (row.crm_person_type, row.crm_person_id) == ("lead", "17")
    assert row.lead_source == "Newsletter"
    assert row.registered_at == MORNING
    assert row.registered_at.tzname() == "EST"
    assert row.first_joined_at == MORNING + timedelta(hours=1)
    assert row.last_left_at == MORNING + timedelta(hours=2, minutes=10, seconds=40)
    assert row.attended_seconds == 20 * 60 + 10 * 60 + 40
    assert row.minutes_attended == 31
    assert row.is_in_session is False
    latest = row.latest_activity
    assert latest is not None
    assert latest.status is ActivityStatus.FAILED
    assert latest.last_error == "CrmError: the CRM is down"
    assert trace_summary(latest.trace) == ["task 4 created"]


def test_someone_who_joined_without_registering_is_a_row_without_registration(
    queued: Flask, webinar: Event
) -> None:
    walk_in = Registrant(
        event=webinar,
        token="t" * 43,
        email="Walk.In@example.com",
        email_key="walk.in@example.com",
        first_name="Walk",
        last_name="In",
        answers=[],
    )
    db.session.add(walk_in)
    db.session.commit()
    signal(walk_in, JOIN, MORNING)

    (row,) = registrant_report(webinar).rows

    assert row.registered_at is None
    assert row.first_joined_at == MORNING
    assert row.is_in_session is True
    assert row.attended_seconds == 0
    assert row.latest_activity is not None
    assert row.latest_activity.kind is JOIN


@pytest.mark.parametrize(
    ("signals", "seconds"),
    [
        ([], None),
        ([(JOIN, 0)], 0),
        ([(JOIN, 0), (LEAVE, 600)], 600),
        ([(JOIN, 0), (LEAVE, 600), (JOIN, 1200), (LEAVE, 1500)], 900),
        # A second join while in (another device) keeps the first join's time.
        ([(JOIN, 0), (JOIN, 300), (LEAVE, 600)], 600),
        # A leave without a join counts nothing.
        ([(LEAVE, 100), (JOIN, 200), (LEAVE, 260)], 60),
        # The visit still open is not counted yet.
        ([(JOIN, 0), (LEAVE, 60), (JOIN, 120)], 60),
    ],
)
def test_minutes_add_up_every_completed_visit(
    signals: list[tuple[ActivityKind, int]], seconds: int | None
) -> None:
    timed = [(kind, MORNING + timedelta(seconds=offset)) for kind, offset in signals]

    assert attended_seconds(timed) == seconds


@pytest.mark.parametrize(
    "offsets",
    [
        [(JOIN, 0), (LEAVE, 600), (JOIN, 1200), (LEAVE, 1500)],
        [(JOIN, 0), (JOIN, 300), (LEAVE, 600), (LEAVE, 700)],
        [(LEAVE, 100), (JOIN, 200), (LEAVE, 260)],
    ],
)
def test_minutes_agree_with_the_duration_a_leave_action_gets(
    queued: Flask, webinar: Event, offsets: list[tuple[ActivityKind, int]]
) -> None:
    ada = register(webinar, "ada@example.com")
    recorded = [
        signal(ada, kind, MORNING + timedelta(seconds=offset))
        for kind, offset in offsets
    ]

    (row,) = registrant_report(webinar).rows

    assert row.attended_seconds == leave_facts(recorded[-1]).duration_seconds


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([{"field": "Lead Source", "value": "Partner"}], "Partner"),
        ([{"field": "lead source", "value": "Partner"}], "Partner"),
        (
            [
                {"field": "Source", "contact_field": "LeadSource", "value": "Ads"},
                {"field": "Lead Source", "value": "Partner"},
            ],
            "Partner",
        ),
        ([{"field": "Came from", "lead_field": "LeadSource", "value": "Ads"}], "Ads"),
        ([{"field": "Industry", "lead_field": "Industry", "value": "Energy"}], ""),
        ([], ""),
    ],
)
def test_lead_source_is_the_lead_source_answer_or_the_one_mapped_to_it(
    given: list[dict[str, str]], expected: str
) -> None:
    assert lead_source(given) == expected


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_a_page_costs_the_same_queries_for_two_registrants_or_twenty(
    queued: Flask, webinar: Event, make_event: Callable[..., Event]
) -> None:
    small = make_event(starts_at=webinar.starts_at)
    for number in range(20):
        for event in (small, webinar) if number < 2 else (webinar,):
            person = register(event, f"person{number}@example.com")
            signal(person, JOIN, MORNING)
            signal(person, LEAVE, MORNING + timedelta(minutes=number + 1))
    db.session.expire_all()

    with counted_queries() as few:
        assert len(registrant_report(small).rows) == 2
    db.session.expire_all()
    with counted_queries() as many:
        assert len(registrant_report(webinar).rows) == 20

    assert len(many) == len(few)
    assert len(many) <= 8


def test_the_table_pages_newest_first_and_searches_email_and_name(
    queued: Flask, webinar: Event
) -> None:
    for number in range(5):
        register(webinar, f"person{number}@example.com", first=f"Pat{number}")

    first_page = registrant_report(webinar, per_page=2)
    third_page = registrant_report(webinar, page=3, per_page=2)
    found = registrant_report(webinar, search="PAT3 lovelace")
    by_email = registrant_report(webinar, search="person1@")
    wildcard = registrant_report(webinar, search="%")

    assert [row.email for row in first_page.rows] == [
        "person4@example.com",
        "person3@example.com",
    ]
    assert [row.email for row in third_page.rows] == ["person0@example.com"]
    assert first_page.pagination.pages == 3
    assert [row.email for row in found.rows] == ["person3@example.com"]
    assert [row.email for row in by_email.rows] == ["person1@example.com"]
    assert wildcard.rows == []
    assert first_page.totals.registered == 5


# The CSV export.


def test_the_export_is_utf8_with_a_bom_quoted_fields_and_crlf(
    queued: Flask, webinar: Event
) -> None:
    register(webinar, "zoe@example.com", first="Zoë", last="Ångström")

    data = registrants_csv(webinar)

    assert data.startswith(b'\xef\xbb\xbf"First name",')
    assert data.endswith(b"\r\n")
    lines = data[3:].split(b"\r\n")
    assert len(lines) == 3
    assert lines[-1] == b""
    assert all(b"\n" not in line for line in lines)
    assert lines[1].startswith('"Zoë","Ångström","zoe@example.com",'.encode())


def test_the_export_has_every_registrant_with_answers_in_the_form_s_order(
    queued: Flask, webinar: Event
) -> None:
    ada = register(
        webinar, "ada@example.com", Title="Countess", Lead_Source="Newsletter"
    )
    ada.answers = [*ada.answers, {"field": "Retired Field", "value": "old"}]
    signal(ada, JOIN, MORNING + timedelta(hours=1))
    signal(ada, LEAVE, MORNING + timedelta(hours=1, minutes=45))
    db.session.commit()
    register(webinar, "grace@example.com", first="Grace", last="Hopper")

    header, *rows = parsed_csv(registrants_csv(webinar))

    assert header == [
        "First name",
        "Last name",
        "Email",
        "CRM record type",
        "CRM record id",
        "Lead source",
        "Registered at (America/New_York)",
        "First joined at (America/New_York)",
        "Last left at (America/New_York)",
        "Minutes attended",
        "Latest activity",
        "Processing status",
        "Last error",
        "Trace",
        "Company",
        "Title",
        "Industry",
        "Retired Field",
    ]
    first = dict(zip(header, rows[0], strict=True))
    assert first["Email"] == "ada@example.com"
    assert first["Lead source"] == "Newsletter"
    assert first["Registered at (America/New_York)"] == "2030-01-15 15:00:00"
    assert first["Last left at (America/New_York)"] == "2030-01-15 16:45:00"
    assert first["Minutes attended"] == "45"
    assert first["Latest activity"] == "leave"
    assert first["Processing status"] == "pending"
    assert (first["Title"], first["Industry"], first["Retired Field"]) == (
        "Countess",
        "",
        "old",
    )
    assert rows[1][:3] == ["Grace", "Hopper", "grace@example.com"]
    assert rows[1][header.index("Minutes attended")] == ""


def test_commas_quotes_and_line_breaks_survive_the_round_trip(
    queued: Flask, webinar: Event
) -> None:
    ada = register(webinar, "ada@example.com")
    ada.answers = [
        {"field": "Company", "value": 'Smith, "Jones"; and\r\nSons\tLtd'},
    ]
    db.session.commit()

    header, row = parsed_csv(registrants_csv(webinar))

    assert row[header.index("Company")] == 'Smith, "Jones"; and\r\nSons\tLtd'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", FORMULA_GUARD + "=1+2"),
        ('=HYPERLINK("http://evil.example","x")', FORMULA_GUARD + '=HYPERLINK("'),
        ("+1 555 0100", FORMULA_GUARD + "+1 555 0100"),
        ("-2+3", FORMULA_GUARD + "-2+3"),
        ("@SUM(A1)", FORMULA_GUARD + "@SUM(A1)"),
        ("\t=1+2", FORMULA_GUARD + "\t=1+2"),
        ("\r=1+2", FORMULA_GUARD + "\r=1+2"),
        ("\uff1d1+2", FORMULA_GUARD + "\uff1d1+2"),
        ("a=b", "a=b"),
        ("Zoë Ångström", "Zoë Ångström"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_made_inert(value: str, written: str) -> None:
    assert inert_cell(value).startswith(written)
    assert inert_cell(value).removeprefix(FORMULA_GUARD) == value


def test_the_guard_is_applied_to_every_column_of_the_export(
    queued: Flask, webinar: Event
) -> None:
    register(webinar, "ada@example.com", first="=cmd", company="=1+2", Title="@me")

    header, row = parsed_csv(registrants_csv(webinar))

    cells = dict(zip(header, row, strict=True))
    assert cells["First name"] == FORMULA_GUARD + "=cmd"
    assert cells["Company"] == FORMULA_GUARD + "=1+2"
    assert cells["Title"] == FORMULA_GUARD + "@me"
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_the_file_name_is_plain_ascii(make_event: Callable[..., Event]) -> None:
    event = make_event(title='Ünïcode & "quotes" / slashes')

    assert (
        export_filename(event, date(2030, 1, 15))
        == "registrants-n-code-quotes-slashes-2030-01-15.csv"
    )


# The chart's numbers.


def test_registrations_are_counted_per_local_day_and_lead_source(
    queued: Flask, webinar: Event
) -> None:
    register(webinar, "a@example.com", Lead_Source="Web")
    # 02:00 UTC on the 17th is still the 16th in New York.
    register(webinar, "b@example.com", datetime(2030, 1, 17, 2, 0, tzinfo=UTC))
    register(
        webinar,
        "c@example.com",
        datetime(2030, 1, 18, 15, 0, tzinfo=UTC),
        Lead_Source="Partner",
    )
    register(
        webinar,
        "d@example.com",
        datetime(2030, 1, 18, 16, 0, tzinfo=UTC),
        Lead_Source="Partner",
    )

    data = registrations_by_day(webinar, today=date(2030, 1, 20))

    assert [day.day for day in data.days] == [
        date(2030, 1, 15),
        date(2030, 1, 16),
        date(2030, 1, 17),
        date(2030, 1, 18),
        date(2030, 1, 19),
        date(2030, 1, 20),
    ]
    assert [dict(day.counts) for day in data.days] == [
        {"Web": 1},
        {"(none)": 1},
        {},
        {"Partner": 2},
        {},
        {},
    ]
    assert data.sources == ("Partner", "(none)", "Web")
    assert data.total == 4
    assert data.earlier == 0


def test_the_chart_keeps_the_last_days_and_folds_rare_sources(
    queued: Flask, webinar: Event
) -> None:
    last = MORNING + timedelta(days=CHART_DAYS + 4)
    register(webinar, "old@example.com", MORNING, Lead_Source="Old")
    for number in range(9):
        register(
            webinar,
            f"p{number}@example.com",
            last - timedelta(hours=number),
            Lead_Source=f"Source {number}",
        )

    data = registrations_by_day(webinar)

    assert len(data.days) == CHART_DAYS
    assert data.days[-1].day == date(2030, 3, 20)
    assert data.earlier == 1
    assert len(data.sources) == 8
    assert data.sources[-1] == OTHER_SOURCES
    assert data.days[-1].counts[OTHER_SOURCES] == 2


def test_the_chart_draws_one_stacked_bar_per_day_as_valid_svg(
    queued: Flask, webinar: Event
) -> None:
    register(webinar, "a@example.com", Lead_Source="Web")
    register(webinar, "b@example.com", Lead_Source="Partner")
    register(webinar, "c@example.com", MORNING + timedelta(days=2))
    data = registrations_by_day(webinar)

    chart = chart_layout(data, "Registrations & <more>")
    drawn = render_template("admin/reports/chart.svg", chart=chart, data=data)
    svg = ET.fromstring(drawn)  # noqa: S314 - our own template

    assert svg.tag == f"{SVG}svg"
    assert svg.findtext(f"{SVG}title") == "Registrations & <more>"
    days = svg.findall(f"{SVG}g[@class='day']")
    assert [bar.get("data-total") for bar in days] == ["2", "0", "1"]
    assert len(days[0].findall(f"{SVG}rect")) == 2
    assert days[0].findtext(f"{SVG}title") == (
        "15 Jan 2030: 2 registrations (Partner 1, Web 1)"
    )
    heights = [float(rect.get("height", 0)) for rect in days[0].findall(f"{SVG}rect")]
    (third,) = days[2].findall(f"{SVG}rect")
    assert heights[0] == pytest.approx(float(third.get("height", 0)))
    assert "style" not in ET.tostring(svg, encoding="unicode")


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [(0, [0, 1]), (1, [0, 1]), (5, [0, 1, 2, 3, 4, 5]), (7, [0, 2, 4, 6, 8])],
)
def test_the_value_axis_uses_round_steps(largest: int, ticks: list[int]) -> None:
    data = RegistrationsByDay(
        days=(DayCount(date(2030, 1, 15), {"Web": largest}),),
        sources=("Web",),
        earlier=0,
    )

    assert [value for value, _ in chart_layout(data, "t").ticks] == ticks


def test_the_trace_reads_as_sentences() -> None:
    trace = {
        "crm": "built-in CRM",
        "match": {
            "rule": "only contact with this email",
            "chosen": {"type": "contact", "id": "3"},
            "created": False,
            "filled": ["Title"],
            "cut": ["Title cut to 128 characters"],
        },
        "email": {"subject": "You're registered"},
        "actions": ["task 9 created (Completed, Normal)"],
    }

    assert trace_summary(trace) == [
        "Matched contact 3: only contact with this email",
        "Filled Title",
        "Title cut to 128 characters",
        "Email You're registered",
        "task 9 created (Completed, Normal)",
    ]
    assert trace_summary(None) == []


def test_the_days_end_with_the_session_once_it_is_over(
    queued: Flask, make_event: Callable[..., Event]
) -> None:
    event = make_event(starts_at=MORNING + timedelta(days=3))
    register(event, "a@example.com")

    data = registrations_by_day(event, today=date(2030, 2, 1))

    assert [day.day for day in data.days] == [
        date(2030, 1, 15),
        date(2030, 1, 16),
        date(2030, 1, 17),
        date(2030, 1, 18),
    ]


def test_a_time_stored_near_year_one_does_not_break_the_pages(
    admin_client: FlaskClient, webinar: Event
) -> None:
    registrant = register(webinar, "ada@example.com")
    for kind in (JOIN, LEAVE):
        signal(registrant, kind, datetime(1, 1, 1, 4, tzinfo=UTC))
    base = f"/admin/sessions/{webinar.id}/registrants"

    pages = [
        admin_client.get(address)
        for address in (base, f"{base}.csv", f"{base}/{registrant.id}")
    ]

    assert [answer.status_code for answer in pages] == [200, 200, 200]
    assert "0001-01-01 04:00:00" in pages[1].get_data(as_text=True)
