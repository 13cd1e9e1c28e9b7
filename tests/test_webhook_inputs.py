"""Odd bodies, headers and types at both webhooks: a JSON answer, never a 500.

Every body here is correctly signed, so it reaches the parsers; the application is
in testing mode, so an exception in a view would fail the test instead of becoming
a 500 page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.models import Event
from portal.services.signatures import portal_signature
from tests.conftest import ATTENDANCE_SECRET, post_attendance, post_zoom

NOW = datetime.now(UTC).replace(microsecond=0)
SESSION = "{session}"

ODD_BODIES: list[Any] = [
    b"",
    b"null",
    b"[]",
    b"42",
    b'"join"',
    b"{",
    b"\xff\xfe\x00garbage",
    b'{"type": NaN}',
    b'{"type": Infinity}',
    b"[" * 5000 + b"]" * 5000,
    b'{"time": ' + b"9" * 5000 + b"}",
    '{"type": "join", "session": "\ud800"}'.encode("utf-8", "surrogatepass"),
    b'{"type": "join", "session": "\\ud800", "time": "2030-01-01T00:00:00Z"}',
    b'{"event": "endpoint.url_validation", "payload": {"plainToken": "\\udfff"}}',
    {},
    {"type": None, "session": None, "time": None},
    {"type": ["join"], "session": {"key": 1}, "time": 1700000000},
    {"type": "join", "session": SESSION, "time": "2030-01-01T00:00:00Z"},
    {"type": "join", "session": SESSION, "time": NOW.isoformat(), "attendee": []},
    {"type": "join", "session": SESSION, "time": NOW.isoformat(), "attendee": {}},
    {
        "type": "join",
        "session": SESSION,
        "time": NOW.isoformat(),
        "attendee": {"email": "x" * 300 + "@example.com"},
    },
    {
        "type": "join",
        "session": SESSION,
        "time": NOW.isoformat(),
        "attendee": {"email": 7, "token": None},
    },
    {
        "type": "leave",
        "session": SESSION,
        "time": NOW.isoformat(),
        "attendee": {"id": "p"},
        "score": {"percent": 1e308},
    },
    {
        "type": "leave",
        "session": SESSION,
        "time": NOW.isoformat(),
        "attendee": {"id": "p"},
        "score": {"points": 10**30},
    },
    {"type": "session_end", "session": SESSION, "time": "0001-01-01T00:00:00+00:00"},
    {"type": "session_end", "session": SESSION, "time": "9999-12-31T23:59:59-23:59"},
    {"type": "session_start", "session": SESSION, "time": "2030-01-01T00:00:00+99:99"},
    {"type": "join", "session": "../../etc/passwd", "time": NOW.isoformat()},
    {"event": "meeting.started", "payload": None},
    {"event": "meeting.started", "payload": {"object": []}},
    {"event": "meeting.started", "payload": {"object": {"id": None}}},
    {"event": "meeting.started", "payload": {"object": {"id": True}}},
    {"event": "meeting.started", "payload": {"object": {"id": 1.5}}},
    {"event": 12, "payload": {}},
    {"event": "endpoint.url_validation"},
    {"event": "endpoint.url_validation", "payload": {"plainToken": 12}},
    {"event": "endpoint.url_validation", "payload": {"plainToken": "x" * 5000}},
    {
        "event": "webinar.participant_left",
        "event_ts": "yesterday",
        "payload": {
            "object": {
                "id": "85012345678",
                "start_time": "not a time",
                "participant": {"email": ["a"], "user_name": {"a": 1}, "leave_time": 5},
            }
        },
    },
    {
        "event": "webinar.participant_joined",
        "event_ts": 10**30,
        "payload": {
            "object": {
                "id": "85012345678",
                "participant": {"participant_uuid": "x" * 500, "join_time": ""},
            }
        },
    },
    {
        "event": "webinar.participant_joined",
        "event_ts": float("nan"),
        "payload": {"object": {"id": "85012345678", "participant": "Pat"}},
    },
    {
        "event": "webinar.ended",
        "payload": {
            "object": {"id": "85012345678", "end_time": "9999-99-99T99:99:99Z"}
        },
    },
]


def raw_body(body: Any, event: Event) -> bytes:
    if isinstance(body, bytes):
        return body
    text = json.dumps(body).replace(json.dumps(SESSION)[1:-1], event.key)
    return text.encode()


@pytest.fixture
def webinar(webhooks: Flask, make_event: Callable[..., Event]) -> Event:
    return make_event(
        starts_at=NOW - timedelta(hours=1), platform_activity_id="85012345678"
    )


POSTERS = {"attendance API": post_attendance, "Zoom": post_zoom}


@pytest.mark.parametrize("poster", POSTERS)
@pytest.mark.parametrize("body", ODD_BODIES)
def test_odd_signed_bodies_get_a_json_answer_never_a_500(
    client: FlaskClient, webinar: Event, poster: str, body: Any
) -> None:
    answer = POSTERS[poster](client, raw_body(body, webinar))

    assert answer.status_code in {200, 202, 400, 422}
    assert isinstance(answer.get_json(), dict)
    if answer.status_code >= 400:
        assert answer.get_json()["message"]


ODD_HEADERS: list[dict[str, str]] = [
    {},
    {"X-Portal-Timestamp": "", "X-Portal-Signature": ""},
    {"X-Portal-Timestamp": "-1", "X-Portal-Signature": "v1="},
    {"X-Portal-Timestamp": "1e9", "X-Portal-Signature": "v1=zz"},
    {"X-Portal-Timestamp": "9" * 400, "X-Portal-Signature": "x" * 4000},
    {"X-Portal-Timestamp": "١٧٠٠٠٠٠٠٠٠", "X-Portal-Signature": "v1=é"},
    {"x-zm-request-timestamp": "", "x-zm-signature": ""},
    {"x-zm-request-timestamp": "17000000000000000000", "x-zm-signature": "v0="},
    {"x-zm-request-timestamp": " 1700000000 ", "x-zm-signature": "v0=" + "a" * 64},
    {"Content-Type": "text/plain", "x-zm-signature": "ü"},
]


@pytest.mark.parametrize("path", ["/api/v1/attendance", "/api/v1/zoom/webhook"])
@pytest.mark.parametrize("headers", ODD_HEADERS)
def test_odd_or_missing_signature_headers_get_401(
    client: FlaskClient, webinar: Event, path: str, headers: dict[str, str]
) -> None:
    answer = client.post(path, data=b'{"type": "join"}', headers=headers)

    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("path", ["/api/v1/attendance", "/api/v1/zoom/webhook"])
def test_a_body_over_the_size_limit_gets_a_json_413(
    app: Flask, client: FlaskClient, webinar: Event, path: str
) -> None:
    size = int(app.config["MAX_CONTENT_LENGTH"]) + 1

    answer = client.post(path, data=b" " * size)

    assert answer.status_code == 413
    assert answer.get_json()["error"] == "too_large"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_get_a_json_405(
    client: FlaskClient, webhooks: Flask, method: str
) -> None:
    answer = client.open("/api/v1/attendance", method=method)

    assert answer.status_code == 405
    assert answer.get_json()["error"] == "method_not_allowed"


def test_an_unknown_api_address_gets_a_json_404(client: FlaskClient) -> None:
    answer = client.post("/api/v1/nowhere", json={})

    assert answer.status_code == 404
    assert answer.get_json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "The body is not JSON."),
        (b'{"time": ' + b"9" * 5000 + b"}", "A number in the body is too long."),
        (b'{"time": -' + b"9" * 101 + b"}", "A number in the body is too long."),
        (b"[" * 30000 + b"]" * 30000, "The body is nested too deeply."),
        (b'{"type": NaN}', "The body is not JSON: NaN is not a JSON number."),
        (b"\xff", "The body is not UTF-8 text."),
    ],
)
@pytest.mark.parametrize("poster", POSTERS)
def test_a_body_that_is_not_json_is_told_in_plain_words(
    client: FlaskClient, webinar: Event, poster: str, body: bytes, message: str
) -> None:
    answer = POSTERS[poster](client, body)

    assert answer.status_code == 400
    assert answer.get_json() == {"error": "bad_request", "message": message}


@pytest.mark.parametrize("path", ["/api/v1/attendance", "/api/v1/zoom/webhook"])
def test_the_size_limit_is_told_in_kilobytes(
    client: FlaskClient, webinar: Event, path: str
) -> None:
    answer = client.post(path, data=b" " * (64 * 1024 + 1))

    assert answer.get_json()["message"] == "The body is larger than 64 KB."


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ],
)
def test_the_api_takes_only_a_json_content_type(
    client: FlaskClient, webinar: Event, content_type: str | None
) -> None:
    body = {"type": "session_start", "session": webinar.key, "time": NOW.isoformat()}
    signed = signed_headers(raw_body(body, webinar))
    if content_type is None:
        del signed["Content-Type"]
    else:
        signed["Content-Type"] = content_type

    answer = client.post(
        "/api/v1/attendance", data=raw_body(body, webinar), headers=signed
    )

    assert answer.status_code == 415
    assert answer.get_json()["error"] == "unsupported_media_type"
    assert "application/json" in answer.get_json()["message"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=UTF-8"]
)
def test_a_json_content_type_with_or_without_charset_is_taken(
    client: FlaskClient, webinar: Event, content_type: str
) -> None:
    body = {"type": "session_start", "session": webinar.key, "time": NOW.isoformat()}
    signed = {**signed_headers(raw_body(body, webinar)), "Content-Type": content_type}

    answer = client.post(
        "/api/v1/attendance", data=raw_body(body, webinar), headers=signed
    )

    assert answer.status_code == 202


def signed_headers(raw: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "X-Portal-Timestamp": stamp,
        "X-Portal-Signature": portal_signature(ATTENDANCE_SECRET, stamp, raw),
        "Content-Type": "application/json",
    }
