"""The OpenAPI document: served, complete, and in agreement with what the API takes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Event, Registrant
from portal.services.attendance_api import read_attendance_event
from tests.conftest import post_attendance

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    data: dict[str, Any] = answer.get_json()
    return data


def request_schema(document: dict[str, Any], path: str) -> Draft202012Validator:
    """A validator for a path's request body, resolving the document's refs."""
    content = document["paths"][path]["post"]["requestBody"]["content"]
    schema = dict(content["application/json"]["schema"])
    schema["components"] = document["components"]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def examples(document: dict[str, Any]) -> dict[str, Any]:
    content = document["paths"]["/api/v1/attendance"]["post"]["requestBody"]
    return {
        name: example["value"]
        for name, example in content["content"]["application/json"]["examples"].items()
    }


def test_the_document_describes_both_webhooks_their_headers_and_answers(
    document: dict[str, Any],
) -> None:
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "http://portal.test"}]
    operations = {
        (path, method): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == {
        ("/api/v1/attendance", "post"),
        ("/api/v1/zoom/webhook", "post"),
        ("/api/v1/openapi.json", "get"),
    }
    headers = {
        path: {parameter["name"] for parameter in operation["parameters"]}
        for (path, _), operation in operations.items()
        if "parameters" in operation
    }
    assert headers == {
        "/api/v1/attendance": {"X-Portal-Timestamp", "X-Portal-Signature"},
        "/api/v1/zoom/webhook": {"x-zm-request-timestamp", "x-zm-signature"},
    }
    attendance = operations[("/api/v1/attendance", "post")]
    assert {"200", "202", "400", "401", "422"} <= set(attendance["responses"])


def test_every_example_is_valid_for_the_schema(document: dict[str, Any]) -> None:
    validator = request_schema(document, "/api/v1/attendance")

    problems = {
        name: [error.message for error in validator.iter_errors(body)]
        for name, body in examples(document).items()
    }

    assert problems == {name: [] for name in problems}
    assert {body["type"] for body in examples(document).values()} == {
        "session_start",
        "session_end",
        "join",
        "leave",
    }


def test_the_zoom_schema_takes_zoom_s_own_example(document: dict[str, Any]) -> None:
    validator = request_schema(document, "/api/v1/zoom/webhook")
    join = {
        "event": "webinar.participant_joined",
        "event_ts": 1767225600123,
        "payload": {"account_id": "acct", "object": {"id": "85012345678"}},
    }

    assert list(validator.iter_errors(join)) == []
    assert list(validator.iter_errors({"event": "x"})) != []


@pytest.fixture
def webinar(webhooks: Flask, make_event: Callable[..., Event]) -> Event:
    return make_event(starts_at=NOW - timedelta(hours=1))


def test_every_example_is_accepted_by_the_api(
    client: FlaskClient, document: dict[str, Any], webinar: Event
) -> None:
    holder = Registrant(
        event=webinar,
        token="t" * 32,
        email="holder@example.com",
        email_key="holder@example.com",
        first_name="Token",
        last_name="Holder",
        answers=[],
        registered_at=NOW - timedelta(days=1),
    )
    db.session.add(holder)
    db.session.commit()

    statuses = {}
    for name, example in examples(document).items():
        body = copy.deepcopy(example)
        body["session"] = webinar.key
        body["time"] = (NOW - timedelta(minutes=10)).isoformat()
        if "token" in body.get("attendee", {}):
            body["attendee"]["token"] = holder.token
        statuses[name] = post_attendance(client, body).status_code

    assert statuses == {name: 202 for name in statuses}


KEY = "{key}"
BASE = {"type": "join", "session": KEY, "time": "2030-01-14T19:30:00Z"}
BY_EMAIL = {**BASE, "attendee": {"email": "ada@example.com"}}
LEAVE = {**BY_EMAIL, "type": "leave"}


@pytest.mark.parametrize(
    ("body", "is_valid"),
    [
        ({"type": "session_start", "session": KEY, "time": BASE["time"]}, True),
        ({**BY_EMAIL, "attendee": {"email": "a@example.com", "name": "A B"}}, True),
        ({**BASE, "attendee": {"id": "participant-1"}}, True),
        ({**BASE, "attendee": {"token": "abc"}, "id": "evt-9"}, True),
        ({**LEAVE, "score": {"percent": 80}}, True),
        ({**LEAVE, "score": {"percent": 80.0, "points": 0}}, True),
        ({**BY_EMAIL, "time": "2030-01-14T19:30:00.5+05:30"}, True),
        ({**BY_EMAIL, "time": "2030-01-14t19:30:00z"}, True),
        ([BY_EMAIL], False),
        ("join", False),
        ({"session": KEY, "time": BASE["time"]}, False),
        ({"type": "join", "time": BASE["time"], "attendee": {"id": "p"}}, False),
        ({"type": "join", "session": KEY, "attendee": {"id": "p"}}, False),
        ({**BY_EMAIL, "type": "arrive"}, False),
        ({**BY_EMAIL, "time": "2030-01-14T19:30:00"}, False),
        ({**BY_EMAIL, "time": "2030-01-14"}, False),
        ({**BY_EMAIL, "time": "2030-01-14 19:30:00Z"}, False),
        ({**BY_EMAIL, "time": "2030-01-14T19:30Z"}, False),
        ({**BY_EMAIL, "time": 1768419000}, False),
        ({**BY_EMAIL, "where": "here"}, False),
        (BASE, False),
        ({**BY_EMAIL, "type": "session_start"}, False),
        ({**BY_EMAIL, "score": {"percent": 80}}, False),
        ({**BASE, "attendee": {"name": "Ada"}}, False),
        ({**BASE, "attendee": {"email": "a@example.com", "age": 3}}, False),
        ({**BASE, "attendee": {"email": "   "}}, False),
        ({**BASE, "attendee": {"email": ""}}, False),
        ({**BASE, "attendee": {"id": "p", "first_name": "x" * 81}}, False),
        ({**BASE, "attendee": "ada@example.com"}, False),
        ({**LEAVE, "score": {"percent": 101}}, False),
        ({**LEAVE, "score": {"percent": -1}}, False),
        ({**LEAVE, "score": {"percent": 80.5}}, False),
        ({**LEAVE, "score": {"percent": True}}, False),
        ({**LEAVE, "score": {"percent": "80"}}, False),
        ({**LEAVE, "score": {}}, False),
        ({**LEAVE, "score": None}, False),
        ({**BY_EMAIL, "id": ""}, False),
        ({**BY_EMAIL, "id": None}, False),
        ({**BY_EMAIL, "id": "x" * 201}, False),
        ({**BY_EMAIL, "session": "k" * 33}, False),
    ],
)
def test_the_schema_and_the_api_agree_on_what_is_valid(
    app: Flask,
    document: dict[str, Any],
    webinar: Event,
    body: Any,
    is_valid: bool,
) -> None:
    validator = request_schema(document, "/api/v1/attendance")
    made = json.loads(json.dumps(body).replace(KEY, webinar.key))

    try:
        # A day after the bodies' times: within the window of times taken.
        read_attendance_event(made, datetime(2030, 1, 15, tzinfo=UTC))
    except ValidationFailed:
        api_accepts = False
    else:
        api_accepts = True

    assert (validator.is_valid(made), api_accepts) == (is_valid, is_valid)
