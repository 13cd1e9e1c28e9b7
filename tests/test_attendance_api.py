"""The portal's attendance API: signatures, fields, repeats, guests, the join page."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Event,
    FixedField,
    Lead,
    Registrant,
    Task,
)
from portal.services.attendance import attendee_count, leave_facts
from portal.services.fields import Answer
from portal.services.processing import process_all
from portal.services.registration import record_join, register_attendee
from portal.services.reports import registrant_totals
from portal.services.signatures import portal_signature
from tests.conftest import ATTENDANCE_SECRET, page, post_attendance

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def webinar(webhooks: Flask, make_event: Callable[..., Event]) -> Event:
    return make_event(starts_at=NOW - timedelta(hours=1))


@pytest.fixture
def ada(webinar: Event) -> Registrant:
    answers = [
        Answer("First Name", "FirstName", "FirstName", "Ada", FixedField.FIRST_NAME),
        Answer("Last Name", "LastName", "LastName", "Lovelace", FixedField.LAST_NAME),
        Answer("Email", "Email", "Email", "ada@example.com", FixedField.EMAIL),
        Answer("Company", "", "Company", "Engines", FixedField.COMPANY),
    ]
    registration = register_attendee(
        webinar, answers, submission_id="ada", now=NOW - timedelta(days=2)
    )
    return registration.registrant


def join_body(event: Event, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "evt-1",
        "type": "join",
        "session": event.key,
        "time": (NOW - timedelta(minutes=30)).isoformat(),
        "attendee": {"email": "ada@example.com"},
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def activity_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Activity.id))) or 0


def test_a_signed_join_is_stored_then_processed(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    answer = post_attendance(client, join_body(webinar))

    assert answer.status_code == 202
    activity = db.session.get(Activity, answer.get_json()["activity"])
    assert activity is not None
    assert (activity.kind, activity.registrant) == (ActivityKind.JOIN, ada)
    assert activity.status is ActivityStatus.DONE
    assert activity.occurred_at == NOW - timedelta(minutes=30)
    assert activity.payload["source"] == "api"


def sign_with(header_changes: dict[str, str]) -> Callable[[bytes, int], Any]:
    def headers(raw: bytes, stamp: int) -> dict[str, str]:
        signed = {
            "X-Portal-Timestamp": str(stamp),
            "X-Portal-Signature": portal_signature(ATTENDANCE_SECRET, str(stamp), raw),
        }
        signed.update(header_changes)
        return {name: value for name, value in signed.items() if value}

    return headers


@pytest.mark.parametrize(
    ("make_headers", "message"),
    [
        (sign_with({"X-Portal-Signature": ""}), "X-Portal-Signature header is missing"),
        (sign_with({"X-Portal-Timestamp": ""}), "X-Portal-Timestamp header is missing"),
        (sign_with({"X-Portal-Signature": "v1=" + "0" * 64}), "does not match"),
        (sign_with({"X-Portal-Timestamp": "soon"}), "not a time in Unix seconds"),
        (
            lambda raw, stamp: {
                "X-Portal-Timestamp": str(stamp),
                "X-Portal-Signature": portal_signature(
                    "another-secret-entirely", str(stamp), raw
                ),
            },
            "does not match",
        ),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(
    client: FlaskClient,
    webinar: Event,
    make_headers: Callable[[bytes, int], dict[str, str]],
    message: str,
) -> None:
    before = activity_count()
    raw = json.dumps(join_body(webinar)).encode()

    answer = post_attendance(
        client, raw, headers=make_headers(raw, int(time.time())) or {"X": "1"}
    )

    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert message in answer.get_json()["message"]
    assert activity_count() == before


def test_one_byte_changed_in_a_signed_body_is_refused(
    client: FlaskClient, webinar: Event
) -> None:
    raw = json.dumps(join_body(webinar)).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Portal-Timestamp": stamp,
        "X-Portal-Signature": portal_signature(ATTENDANCE_SECRET, stamp, raw),
    }
    tampered = raw.replace(b"ada@", b"adb@")

    answer = client.post("/api/v1/attendance", data=tampered, headers=headers)

    assert answer.status_code == 401
    assert activity_count() == 0


@pytest.mark.parametrize(
    ("offset", "status"),
    [(-301, 401), (-299, 202), (299, 202), (301, 401)],
)
def test_the_timestamp_must_be_within_five_minutes(
    client: FlaskClient, webinar: Event, ada: Registrant, offset: int, status: int
) -> None:
    answer = post_attendance(
        client, join_body(webinar), timestamp=int(time.time()) + offset
    )

    assert answer.status_code == status


def test_without_a_secret_the_api_is_off(
    app: Flask, client: FlaskClient, webinar: Event
) -> None:
    app.config["ATTENDANCE_SECRET"] = ""

    answer = post_attendance(client, join_body(webinar))

    assert answer.status_code == 503
    assert answer.get_json()["error"] == "not_configured"
    assert activity_count() == 0


def test_csrf_protection_does_not_apply_to_the_api(
    app: Flask, client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True)

    answer = post_attendance(client, join_body(webinar))

    assert answer.status_code == 202


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"type": "arrive"}, "type", "type must be one of"),
        ({"type": None}, "type", "type is required"),
        ({"session": "no-such-key"}, "session", "No session has this key"),
        ({"session": 42}, "session", "must be a string"),
        ({"time": "yesterday"}, "time", "offset from UTC"),
        ({"time": "2030-01-14T19:30:00"}, "time", "offset from UTC"),
        ({"time": "2030-02-30T19:30:00Z"}, "time", "offset from UTC"),
        (
            {"time": (NOW + timedelta(hours=1)).isoformat()},
            "time",
            "time is in the future",
        ),
        ({"attendee": None}, "attendee", "names its attendee"),
        ({"attendee": "ada@example.com"}, "attendee", "must be an object"),
        ({"attendee": {"name": "Ada"}}, "attendee", "token, an email or an id"),
        ({"attendee": {"email": "ada at example"}}, "attendee.email", "not an address"),
        ({"attendee": {"token": "nope"}}, "attendee.token", "No registrant"),
        ({"attendee": {"email": "a@example.com", "age": 3}}, "attendee.age", "not a"),
        ({"score": {"percent": 80}}, "score", "Only a leave has a score"),
        ({"colour": "red"}, "colour", "not a field of an event"),
        ({"id": ""}, "id", "must not be empty"),
        ({"id": "x" * 201}, "id", "at most 200 characters"),
    ],
)
def test_a_wrong_field_is_named_in_the_answer(
    client: FlaskClient,
    webinar: Event,
    ada: Registrant,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = join_body(webinar)
    body.update(changes)
    before = activity_count()

    answer = post_attendance(client, {k: v for k, v in body.items() if v is not None})

    assert answer.status_code == 422
    assert answer.get_json()["field"] == field
    assert message in answer.get_json()["message"]
    assert activity_count() == before


@pytest.mark.parametrize(
    ("moment", "message"),
    [
        ("0001-01-01T00:00:00+14:00", "is more than 30 days ago"),
        ("0001-01-01T05:00:00+01:00", "is more than 30 days ago"),
        ("1970-01-01T00:00:00Z", "is more than 30 days ago"),
        (timedelta(days=-31), "is more than 30 days ago"),
        ("9999-12-31T23:59:59-14:00", "is in the future"),
        (timedelta(minutes=6), "is in the future"),
    ],
)
def test_a_time_that_cannot_be_the_signal_s_is_refused(
    client: FlaskClient,
    webinar: Event,
    ada: Registrant,
    moment: str | timedelta,
    message: str,
) -> None:
    if isinstance(moment, timedelta):
        # From the clock now, not when the module was read: a long run takes minutes.
        moment = (datetime.now(UTC) + moment).isoformat()
    before = activity_count()

    answer = post_attendance(client, join_body(webinar, time=moment))

    assert answer.status_code == 422
    assert answer.get_json()["field"] == "time"
    assert answer.get_json()["message"] == f"time {message}."
    assert activity_count() == before


@pytest.mark.parametrize(
    "moment",
    [NOW - timedelta(days=29), NOW + timedelta(minutes=4)],
    ids=["four weeks ago", "a clock four minutes ahead"],
)
def test_a_time_within_the_window_is_taken_in_utc(
    client: FlaskClient, webinar: Event, ada: Registrant, moment: datetime
) -> None:
    answer = post_attendance(
        client,
        join_body(
            webinar, time=moment.astimezone(timezone(timedelta(hours=14))).isoformat()
        ),
    )

    assert answer.status_code == 202
    activity = db.session.get(Activity, answer.get_json()["activity"])
    assert activity is not None
    assert activity.occurred_at == moment


@pytest.mark.parametrize(
    ("score", "field", "message"),
    [
        ({"percent": 101}, "score.percent", "from 0 to 100"),
        ({"percent": True}, "score.percent", "whole number"),
        ({"percent": 80.5}, "score.percent", "whole number"),
        ({"points": -1}, "score.points", "from 0 to"),
        ({}, "score", "percent, points or both"),
        ({"grade": "A"}, "score.grade", "not a field of a score"),
    ],
)
def test_a_wrong_score_is_refused(
    client: FlaskClient,
    webinar: Event,
    ada: Registrant,
    score: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = join_body(webinar, type="leave", score=score)

    answer = post_attendance(client, body)

    assert answer.status_code == 422
    assert (answer.get_json()["field"], message in answer.get_json()["message"]) == (
        field,
        True,
    )


def test_a_body_that_is_not_json_gets_400(client: FlaskClient, webinar: Event) -> None:
    answer = post_attendance(client, b"{'type': 'join'}")

    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"


def test_the_same_event_id_again_changes_nothing(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    first = post_attendance(client, join_body(webinar))
    before = activity_count()

    again = post_attendance(client, join_body(webinar))

    assert again.status_code == 200
    assert again.get_json() == {
        "status": "duplicate",
        "activity": first.get_json()["activity"],
    }
    assert activity_count() == before


def test_an_identical_repeat_written_differently_is_the_same_event(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    moment = NOW - timedelta(minutes=30)
    post_attendance(client, join_body(webinar))

    again = post_attendance(
        client,
        join_body(
            webinar,
            time=moment.astimezone(timezone(timedelta(hours=-5))).isoformat(),
            attendee={"email": " ADA@example.com "},
        ),
    )

    assert again.status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"time": NOW.isoformat()},
        {"attendee": {"email": "bob@example.com"}},
        {"type": "leave"},
        {"attendee": {"email": "ada@example.com", "name": "Ada L"}},
    ],
    ids=["another time", "another person", "another type", "another name"],
)
def test_an_event_id_reused_for_a_different_event_is_a_conflict(
    client: FlaskClient, webinar: Event, ada: Registrant, changes: dict[str, Any]
) -> None:
    post_attendance(client, join_body(webinar))
    before = activity_count()

    reused = post_attendance(client, join_body(webinar, **changes))

    assert reused.status_code == 409
    assert reused.get_json()["error"] == "conflict"
    assert "id of its own" in reused.get_json()["message"]
    assert activity_count() == before


def test_without_an_event_id_the_same_content_is_the_same_event(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    post_attendance(client, join_body(webinar, id=None))

    again = post_attendance(client, join_body(webinar, id=None))
    later = post_attendance(
        client,
        join_body(webinar, id=None, time=(NOW - timedelta(minutes=1)).isoformat()),
    )

    assert (again.status_code, later.status_code) == (200, 202)


def test_a_session_starts_and_ends_once_whatever_the_event_ids(
    client: FlaskClient, webinar: Event
) -> None:
    body = {"type": "session_end", "session": webinar.key, "time": NOW.isoformat()}

    first = post_attendance(client, {**body, "id": "end-1"})
    second = post_attendance(client, {**body, "id": "end-2"})

    assert (first.status_code, second.status_code) == (202, 200)


def test_someone_who_joins_without_registering_becomes_a_registrant(
    client: FlaskClient, webinar: Event
) -> None:
    body = join_body(
        webinar, attendee={"email": "Walk.In@Example.com", "name": "Walk In Person"}
    )

    post_attendance(client, body)

    registrant = db.session.scalars(sa.select(Registrant)).one()
    assert (registrant.email, registrant.email_key) == (
        "Walk.In@example.com",
        "walk.in@example.com",
    )
    assert (registrant.first_name, registrant.last_name) == ("Walk In", "Person")
    assert registrant.registered_at is None


def test_a_guest_is_counted_but_sends_nothing_to_the_crm(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    post_attendance(client, join_body(webinar))
    guest = {"id": "zoom-guest-7", "name": "iPhone"}
    post_attendance(client, join_body(webinar, id="evt-2", attendee=guest))
    post_attendance(
        client,
        join_body(webinar, id="evt-3", attendee=guest, time=NOW.isoformat()),
    )

    guests = db.session.scalars(
        sa.select(Activity).where(Activity.participant_id == "zoom-guest-7")
    ).all()
    assert [activity.status for activity in guests] == [ActivityStatus.SKIPPED] * 2
    assert all(activity.registrant is None for activity in guests)
    assert attendee_count(webinar.id, NOW) == 2
    totals = registrant_totals(webinar)
    assert (totals.attended, totals.guests) == (1, 1)


def test_a_leave_that_gives_only_an_id_finds_the_join_with_that_id(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    post_attendance(
        client,
        join_body(webinar, attendee={"email": "ada@example.com", "id": "p-17"}),
    )

    answer = post_attendance(
        client,
        join_body(
            webinar,
            id="evt-2",
            type="leave",
            attendee={"id": "p-17"},
            time=(NOW - timedelta(minutes=5)).isoformat(),
        ),
    )

    leave = db.session.get(Activity, answer.get_json()["activity"])
    assert leave is not None
    assert leave.registrant == ada
    assert leave_facts(leave).duration_seconds == 25 * 60


def test_a_join_page_click_and_the_platform_join_are_one_visit(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    clicked_at = NOW - timedelta(minutes=40)
    record_join(webinar, submission_id="click", registrant=ada, now=clicked_at)

    post_attendance(client, join_body(webinar, attendee={"token": ada.token}))
    answer = post_attendance(
        client,
        join_body(
            webinar,
            id="evt-2",
            type="leave",
            attendee={"token": ada.token},
            time=(NOW - timedelta(minutes=10)).isoformat(),
        ),
    )
    process_all("test")

    join_tasks = db.session.scalars(
        sa.select(Task).where(Task.subject.startswith("Attended: "))
    ).all()
    assert len(join_tasks) == 1
    # Counted from the platform's join (30 minutes ago), not from the click.
    assert join_tasks[0].duration_minutes == 20
    assert join_tasks[0].started_at == clicked_at
    leave = db.session.get(Activity, answer.get_json()["activity"])
    assert leave is not None
    assert leave_facts(leave).join_time == NOW - timedelta(minutes=30)
    platform_join = db.session.scalars(
        sa.select(Activity).where(
            Activity.kind == ActivityKind.JOIN,
            Activity.payload["source"].as_string() == "api",
        )
    ).one()
    assert any("joined again" in note for note in platform_join.trace["actions"])


def test_a_personal_room_has_no_start_or_end(
    client: FlaskClient, webhooks: Flask, make_user: Callable[..., Any]
) -> None:
    host = make_user()
    room = db.session.scalars(
        sa.select(Event).where(Event.owner_id == host.id, Event.room_kind.is_not(None))
    ).first()
    assert room is not None

    answer = post_attendance(
        client, {"type": "session_start", "session": room.key, "time": NOW.isoformat()}
    )

    assert answer.status_code == 422
    assert answer.get_json()["field"] == "type"


@pytest.mark.parametrize(
    ("attendee", "stored"),
    [
        (
            {"email": "nul@example.org", "name": "Nul\u0000 Name"},
            ("Nul", "Name", "nul@example.org", None),
        ),
        (
            {
                "email": "nul\u0000@example.org",
                "first_name": "A\u202eB",
                "last_name": "C\tD",
            },
            ("AB", "C D", "nul@example.org", None),
        ),
        ({"id": "p\u0000q", "name": "Guest"}, None),
    ],
)
def test_control_characters_are_dropped_from_every_stored_text(
    client: FlaskClient, webinar: Event, attendee: dict[str, str], stored: Any
) -> None:
    answer = post_attendance(client, join_body(webinar, attendee=attendee))

    assert answer.status_code == 202
    activity = db.session.get(Activity, answer.get_json()["activity"])
    assert activity is not None
    if stored is None:
        assert activity.participant_id == "pq"
        return
    registrant = activity.registrant
    assert registrant is not None
    assert (
        registrant.first_name,
        registrant.last_name,
        registrant.email,
        activity.participant_id,
    ) == stored


def test_someone_known_only_by_email_has_no_placeholder_name_in_the_portal(
    admin_client: FlaskClient, webinar: Event
) -> None:
    post_attendance(
        admin_client, join_body(webinar, attendee={"email": "late@example.org"})
    )

    registrant = db.session.scalars(sa.select(Registrant)).one()
    assert (registrant.first_name, registrant.last_name) == ("", "")
    lead = db.session.scalars(sa.select(Lead)).one()
    assert (lead.first_name, lead.last_name) == ("", "[NotProvided]")
    listing = admin_client.get(f"/admin/sessions/{webinar.id}/registrants")
    export = admin_client.get(f"/admin/sessions/{webinar.id}/registrants.csv")
    name_cell = page(listing).select_one(".person-name")
    assert name_cell is not None
    assert name_cell.get_text() == "late@example.org"
    _, row = csv.reader(io.StringIO(export.get_data(as_text=True)))
    assert row[:3] == ["", "", "late@example.org"]
