"""Zoom's webhook: signature, URL validation, mapping meetings and participants."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Activity, ActivityKind, ActivityStatus, Event, Registrant
from portal.services.attendance import attendee_count, leave_facts
from portal.services.signatures import zoom_signature
from tests.conftest import ZOOM_SECRET_TOKEN, page, post_zoom

NOW = datetime.now(UTC).replace(microsecond=0)
MEETING = "85012345678"


def zulu(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def zoom_event(name: str, meeting: Any = MEETING, **subject: Any) -> dict[str, Any]:
    return {
        "event": name,
        "event_ts": int(NOW.timestamp() * 1000),
        "payload": {
            "account_id": "acct_FAKE123",
            "object": {
                "id": meeting,
                "uuid": "FAKEuuid==",
                "host_id": "host_FAKE",
                "topic": "Demo Webinar",
                "type": 5,
                "start_time": zulu(NOW - timedelta(hours=1)),
                "timezone": "UTC",
                "duration": 60,
                **subject,
            },
        },
    }


def participant_event(kind: str, at: datetime, **participant: Any) -> dict[str, Any]:
    time_field = "join_time" if kind == "joined" else "leave_time"
    return zoom_event(
        f"webinar.participant_{kind}",
        participant={
            "user_id": "16778240",
            "id": "",
            time_field: zulu(at),
            **participant,
        },
    )


@pytest.fixture
def webinar(webhooks: Flask, make_event: Callable[..., Event]) -> Event:
    return make_event(
        starts_at=NOW - timedelta(hours=1), platform_activity_id="850 1234 5678"
    )


def activities() -> list[Activity]:
    return list(db.session.scalars(sa.select(Activity).order_by(Activity.id)))


def test_the_url_validation_challenge_is_answered_with_the_encrypted_token(
    client: FlaskClient, webhooks: Flask
) -> None:
    body = {
        "event": "endpoint.url_validation",
        "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
        "event_ts": 1654503849680,
    }

    answer = post_zoom(client, body)

    expected = hmac.new(
        ZOOM_SECRET_TOKEN.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256
    ).hexdigest()
    assert answer.status_code == 200
    assert answer.get_json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": expected,
    }


def test_an_unsigned_url_validation_is_refused(
    client: FlaskClient, webhooks: Flask
) -> None:
    body = {"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}

    answer = client.post("/api/v1/zoom/webhook", json=body)

    assert answer.status_code == 401


def test_the_signature_is_zoom_s_v0_scheme(client: FlaskClient, webinar: Event) -> None:
    raw = json.dumps(participant_event("joined", NOW, user_name="Pat")).encode()
    stamp = str(int(time.time()))
    message = b"v0:" + stamp.encode() + b":" + raw
    digest = hmac.new(ZOOM_SECRET_TOKEN.encode(), message, hashlib.sha256).hexdigest()

    answer = client.post(
        "/api/v1/zoom/webhook",
        data=raw,
        headers={"x-zm-request-timestamp": stamp, "x-zm-signature": f"v0={digest}"},
    )

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "accepted"


@pytest.mark.parametrize("position", [0, 40, -2])
def test_one_byte_changed_in_the_body_gives_401(
    client: FlaskClient, webinar: Event, position: int
) -> None:
    raw = bytearray(
        json.dumps(participant_event("joined", NOW, user_name="Pat")).encode()
    )
    stamp = str(int(time.time()))
    signature = zoom_signature(ZOOM_SECRET_TOKEN, stamp, bytes(raw))
    raw[position] ^= 0x01

    answer = client.post(
        "/api/v1/zoom/webhook",
        data=bytes(raw),
        headers={"x-zm-request-timestamp": stamp, "x-zm-signature": signature},
    )

    assert answer.status_code == 401
    assert activities() == []


def test_a_stale_delivery_is_refused(client: FlaskClient, webinar: Event) -> None:
    answer = post_zoom(
        client, participant_event("joined", NOW), timestamp=int(time.time()) - 600
    )

    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (zoom_event("recording.completed"), "not an attendance event"),
        (zoom_event("meeting.started", meeting="99999999999"), "no session is linked"),
        (
            zoom_event("webinar.participant_joined", participant={"leave_reason": ""}),
            "no email, id or name",
        ),
        (zoom_event("webinar.participant_joined"), "no email, id or name"),
    ],
)
def test_other_events_are_answered_and_ignored(
    client: FlaskClient, webinar: Event, body: dict[str, Any], reason: str
) -> None:
    answer = post_zoom(client, body)

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "ignored"
    assert reason in answer.get_json()["reason"]
    assert activities() == []


@pytest.mark.parametrize("meeting", [MEETING, int(MEETING), "850-1234-5678"])
def test_a_meeting_id_links_to_the_session_as_text_or_number(
    client: FlaskClient, webinar: Event, meeting: Any
) -> None:
    answer = post_zoom(client, zoom_event("webinar.started", meeting=meeting))

    (started,) = activities()
    assert answer.get_json() == {"status": "accepted", "activity": started.id}
    assert (started.kind, started.event) == (ActivityKind.SESSION_START, webinar)
    assert started.occurred_at == NOW - timedelta(hours=1)


def test_a_recurring_meeting_s_occurrence_goes_to_the_nearest_session(
    client: FlaskClient, webhooks: Flask, make_event: Callable[..., Event]
) -> None:
    last_week, this_week = (
        make_event(starts_at=NOW - timedelta(days=days), platform_activity_id=MEETING)
        for days in (7, 0)
    )

    post_zoom(client, zoom_event("meeting.started", start_time=zulu(NOW)))

    (started,) = activities()
    assert started.event == this_week != last_week


def test_a_participant_is_matched_by_email_and_joins_without_registering(
    client: FlaskClient, webinar: Event
) -> None:
    post_zoom(
        client,
        participant_event(
            "joined", NOW, email="Pat@Example.com", user_name="Pat Example"
        ),
    )

    registrant = db.session.scalars(sa.select(Registrant)).one()
    assert (registrant.email_key, registrant.first_name, registrant.last_name) == (
        "pat@example.com",
        "Pat",
        "Example",
    )
    (joined,) = activities()
    assert joined.registrant == registrant
    assert joined.status is ActivityStatus.DONE


def test_a_participant_without_email_is_an_unidentified_attendee(
    client: FlaskClient, webinar: Event
) -> None:
    guest = {"user_name": "iPad", "participant_uuid": "PUUID-1", "email": ""}
    post_zoom(client, participant_event("joined", NOW - timedelta(minutes=9), **guest))
    post_zoom(client, participant_event("left", NOW - timedelta(minutes=4), **guest))
    post_zoom(client, participant_event("joined", NOW, email="not an email", id="u7"))

    joined, left, second_guest = activities()
    assert [activity.registrant for activity in (joined, left, second_guest)] == [
        None,
        None,
        None,
    ]
    assert joined.participant_id == left.participant_id == "participant_uuid:PUUID-1"
    assert second_guest.participant_id == "id:u7"
    assert {activity.status for activity in activities()} == {ActivityStatus.SKIPPED}
    assert attendee_count(webinar.id, NOW) == 2


def test_a_leave_without_email_goes_to_the_registrant_of_that_participant(
    client: FlaskClient, webinar: Event
) -> None:
    post_zoom(
        client,
        participant_event(
            "joined",
            NOW - timedelta(minutes=30),
            email="pat@example.com",
            participant_uuid="PUUID-9",
        ),
    )

    post_zoom(
        client,
        participant_event("left", NOW, participant_uuid="PUUID-9", email=""),
    )

    _, left = activities()
    assert left.registrant is not None
    assert left.registrant.email_key == "pat@example.com"
    assert leave_facts(left).duration_seconds == 30 * 60


def test_the_host_joining_is_not_an_attendee(
    client: FlaskClient, webinar: Event
) -> None:
    host = participant_event("joined", NOW, email=webinar.owner.email.upper())

    answer = post_zoom(client, host)

    assert answer.get_json()["reason"] == "the participant is the session's host"
    assert activities() == []


def test_a_personal_room_s_start_is_ignored(
    client: FlaskClient, webhooks: Flask, make_user: Callable[..., Any]
) -> None:
    host = make_user()
    room = db.session.scalars(
        sa.select(Event).where(Event.owner_id == host.id, Event.room_kind.is_not(None))
    ).first()
    assert room is not None
    room.platform_activity_id = "1112223333"
    db.session.commit()

    answer = post_zoom(client, zoom_event("meeting.started", meeting="1112223333"))

    assert answer.get_json()["status"] == "ignored"
    assert activities() == []


def test_unidentified_attendees_are_counted_on_the_registrants_page(
    admin_client: FlaskClient, webinar: Event
) -> None:
    for number in (1, 2):
        guest = {"user_name": "Guest", "participant_uuid": f"PUUID-{number}"}
        post_zoom(admin_client, participant_event("joined", NOW, **guest))
    post_zoom(
        admin_client,
        participant_event("joined", NOW, email="pat@example.com", user_name="Pat"),
    )

    soup = page(admin_client.get(f"/admin/sessions/{webinar.id}/registrants"))

    totals = {
        term.get_text(): term.find_next_sibling("dd").get_text()
        for term in soup.select(".report-totals dt")
    }
    assert totals == {
        "Registered": "0",
        "Joined": "1",
        "Unidentified attendees": "2",
        "Registered or joined": "1",
    }


def test_concurrent_deliveries_of_one_join_record_it_once(
    webhooks: Flask, webinar: Event
) -> None:
    body = participant_event("joined", NOW, email="new@example.com", user_name="N")
    start = threading.Barrier(4)
    answers: list[str] = []

    def deliver() -> None:
        with webhooks.app_context():
            start.wait()
            answers.append(post_zoom(webhooks.test_client(), body).get_json()["status"])
            db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == ["accepted"] + ["duplicate"] * 3
    assert len(activities()) == 1
    assert db.session.scalar(sa.select(sa.func.count(Registrant.id))) == 1


@pytest.mark.parametrize(
    "join_time",
    [
        "2031-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "1970-01-01T00:00:00Z",
        "yesterday",
        7,
    ],
)
def test_a_join_time_that_cannot_be_right_gives_way_to_the_notification_time(
    client: FlaskClient, webinar: Event, join_time: Any
) -> None:
    body = participant_event(
        "joined", NOW, email="pat@example.com", participant_uuid="P-1"
    )
    body["event_ts"] = int((NOW - timedelta(minutes=2)).timestamp() * 1000)
    body["payload"]["object"]["participant"]["join_time"] = join_time

    answer = post_zoom(client, body)

    assert answer.status_code == 200
    (joined,) = activities()
    assert joined.occurred_at == NOW - timedelta(minutes=2)


def test_without_a_usable_time_the_time_of_arrival_is_used(
    client: FlaskClient, webinar: Event
) -> None:
    body = participant_event(
        "joined", NOW, email="pat@example.com", participant_uuid="P-1"
    )
    body["event_ts"] = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp() * 1000)
    body["payload"]["object"]["participant"]["join_time"] = "2031-01-01T00:00:00Z"
    before = datetime.now(UTC)

    post_zoom(client, body)

    (joined,) = activities()
    assert before <= joined.occurred_at <= datetime.now(UTC)


def test_control_characters_are_dropped_from_zoom_s_texts(
    client: FlaskClient, webinar: Event
) -> None:
    post_zoom(
        client,
        participant_event(
            "joined",
            NOW,
            email="z\u0000n@example.org",
            user_name="Z\u0000N Zed",
            participant_uuid="P\u0000U",
        ),
    )
    post_zoom(
        client,
        participant_event("joined", NOW, user_name="G\u202e", participant_uuid="Q\x07"),
    )

    joined, guest = activities()
    assert joined.registrant is not None
    assert (joined.registrant.first_name, joined.registrant.email) == (
        "ZN",
        "zn@example.org",
    )
    assert (joined.participant_id, guest.participant_id) == (
        "participant_uuid:PU",
        "participant_uuid:Q",
    )


def test_guests_with_no_id_are_never_merged_by_their_display_name(
    client: FlaskClient, webinar: Event
) -> None:
    pat_joins = participant_event(
        "joined", NOW - timedelta(minutes=9), email="pat@example.com", user_name="Pat"
    )
    post_zoom(client, pat_joins)
    nameless = {"user_id": "", "user_name": "iPhone"}
    for minutes in (8, 7):
        at = NOW - timedelta(minutes=minutes)
        post_zoom(client, participant_event("joined", at, **nameless))
    post_zoom(
        client,
        participant_event(
            "joined", NOW - timedelta(minutes=6), user_id="", user_name="Pat"
        ),
    )

    _, first, second, namesake = activities()
    assert [activity.registrant for activity in (first, second, namesake)] == [
        None,
        None,
        None,
    ]
    guests = {first.participant_id, second.participant_id, namesake.participant_id}
    assert len(guests) == 3
    assert all(guest.startswith("unidentified:") for guest in guests if guest)
    assert attendee_count(webinar.id, NOW) == 4


@pytest.mark.parametrize("meeting", [[1], {"id": 1}, True, 1.5])
def test_a_meeting_id_of_the_wrong_type_is_told_so(
    client: FlaskClient, webinar: Event, meeting: Any
) -> None:
    answer = post_zoom(client, zoom_event("meeting.started", meeting=meeting))

    assert answer.status_code == 422
    assert answer.get_json()["field"] == "payload.object.id"
    assert "must be a string or a whole number" in answer.get_json()["message"]
