"""The OpenAPI 3.1 document of the attendance API, served at /api/v1/openapi.json.

The request schemas say what :mod:`portal.services.attendance_api` accepts; the
tests hold the two to each other with the examples given here and a table of bodies
both refuse.
"""

from __future__ import annotations

from typing import Any

from portal.services.attendance_api import (
    ATTENDEE_LIMITS,
    EVENT_ID_LENGTH,
    EVENT_TYPES,
    MAX_POINTS,
    SESSION_KEY_LENGTH,
    TIME_PATTERN,
)

_NON_BLANK = {"type": "string", "pattern": "\\S"}
_EXAMPLE_SESSION = "Qm9vaz3x7TtW2c1l0xYp4A"


def _text(limit: int, description: str) -> dict[str, Any]:
    return {**_NON_BLANK, "maxLength": limit, "description": description}


ATTENDEE = {
    "type": "object",
    "description": (
        "Who joined or left: the token of their personal join link, else their "
        "email, else the platform's id for them. An email no registrant has makes "
        "a registrant (someone who joined without registering); an id alone, never "
        "seen with an email or token, is counted as an unnamed guest."
    ),
    "additionalProperties": False,
    "anyOf": [
        {"required": ["token"]},
        {"required": ["email"]},
        {"required": ["id"]},
    ],
    "properties": {
        "token": _text(
            ATTENDEE_LIMITS["token"], "The `t` parameter of the personal join link."
        ),
        "email": _text(ATTENDEE_LIMITS["email"], "The attendee's email address."),
        "id": _text(
            ATTENDEE_LIMITS["id"], "The platform's own id for this participant."
        ),
        "first_name": _text(ATTENDEE_LIMITS["first_name"], "For a new registrant."),
        "last_name": _text(ATTENDEE_LIMITS["last_name"], "For a new registrant."),
        "name": _text(
            ATTENDEE_LIMITS["name"],
            "A display name, used when first and last are not given.",
        ),
    },
}

SCORE = {
    "type": "object",
    "description": "A test's result, for {!scorePercent} and {!scorePoints}.",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "points": {"type": "integer", "minimum": 0, "maximum": MAX_POINTS},
    },
}

ATTENDANCE_EVENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "session", "time"],
    "properties": {
        "id": _text(
            EVENT_ID_LENGTH,
            "The sender's id of this event. Sent again with the same content, the "
            "event is a repeat and changes nothing; with other content, 409. "
            "Without it, the same type, session, time and attendee make the same "
            "event.",
        ),
        "type": {"enum": list(EVENT_TYPES)},
        "session": _text(
            SESSION_KEY_LENGTH, "The session's key, as in its public addresses."
        ),
        "time": {
            "type": "string",
            "pattern": f"^{TIME_PATTERN.pattern}$",
            "description": (
                "When it happened, with its offset from UTC; at most 30 days ago "
                "and at most five minutes ahead of the portal's clock."
            ),
        },
        "attendee": {"$ref": "#/components/schemas/Attendee"},
        "score": {"$ref": "#/components/schemas/Score"},
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"enum": ["join", "leave"]}}},
            "then": {"required": ["attendee"]},
            "else": {"not": {"required": ["attendee"]}},
        },
        {
            "if": {"properties": {"type": {"const": "leave"}}},
            "else": {"not": {"required": ["score"]}},
        },
    ],
}

ZOOM_EVENT = {
    "type": "object",
    "description": (
        "A Zoom webhook event. `meeting.started`, `webinar.started`, `*.ended`, "
        "`*.participant_joined` and `*.participant_left` are recorded for the session "
        "whose meeting platform id is `payload.object.id`; `endpoint.url_validation` "
        "is answered with the encrypted token; other events are ignored."
    ),
    "required": ["event", "payload"],
    "properties": {
        "event": {"type": "string"},
        "event_ts": {"type": "integer", "description": "Milliseconds since 1970."},
        "payload": {"type": "object"},
    },
}

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {
            "enum": [
                "unauthorized",
                "bad_request",
                "invalid",
                "not_configured",
                "too_large",
                "not_found",
                "method_not_allowed",
                "server_error",
            ]
        },
        "message": {"type": "string"},
        "field": {"type": "string", "description": "The field that is wrong."},
    },
}

RECORDED = {
    "type": "object",
    "required": ["status", "activity"],
    "properties": {
        "status": {"enum": ["accepted", "duplicate"]},
        "activity": {"type": "integer", "description": "The portal's record of it."},
    },
}

EXAMPLES = {
    "session_start": {
        "id": "evt-0001",
        "type": "session_start",
        "session": _EXAMPLE_SESSION,
        "time": "2030-01-14T19:00:00Z",
    },
    "join_by_token": {
        "id": "evt-0002",
        "type": "join",
        "session": _EXAMPLE_SESSION,
        "time": "2030-01-14T19:02:10Z",
        "attendee": {"token": "registrant-token-from-the-personal-join-link"},
    },
    "join_by_email": {
        "id": "evt-0003",
        "type": "join",
        "session": _EXAMPLE_SESSION,
        "time": "2030-01-14T20:03:00+01:00",
        "attendee": {"email": "pat@example.com", "name": "Pat Example"},
    },
    "leave_with_score": {
        "id": "evt-0004",
        "type": "leave",
        "session": _EXAMPLE_SESSION,
        "time": "2030-01-14T19:58:30Z",
        "attendee": {"email": "pat@example.com"},
        "score": {"percent": 90, "points": 45},
    },
    "guest_join": {
        "type": "join",
        "session": _EXAMPLE_SESSION,
        "time": "2030-01-14T19:05:00Z",
        "attendee": {"id": "participant-7781", "name": "iPhone"},
    },
    "session_end": {
        "id": "evt-0005",
        "type": "session_end",
        "session": _EXAMPLE_SESSION,
        "time": "2030-01-14T20:00:00Z",
    },
}


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        },
    }


_REFUSALS = {
    "400": _json("Error", "The body is not JSON."),
    "401": _json(
        "Error",
        "The signature is missing or wrong, or its timestamp is more than five "
        "minutes away from the portal's clock. Nothing is stored.",
    ),
    "413": _json(
        "Error", "The body is larger than the site accepts (64 KB by default)."
    ),
    "422": _json("Error", "A field is wrong; `field` says which."),
    "503": _json("Error", "The site has not set the webhook's secret."),
}
_FOR_THE_API = {
    "409": _json(
        "Error",
        "The event's `id` was used before for an event that says something else "
        "(another time, attendee or type). Nothing is stored.",
    ),
    "415": _json(
        "Error",
        "The body is not sent as `application/json` (a charset, if given, is "
        "`utf-8`). Nothing is stored.",
    ),
}


def openapi_document(public_url: str) -> dict[str, Any]:
    """The OpenAPI document, with the site's address as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portal attendance API",
            "version": "1.0.0",
            "description": (
                "The meeting platform tells the portal when a session starts and "
                "ends and when each person joins and leaves. Each delivery is stored "
                "before it is answered and processed from the portal's queue."
            ),
        },
        "servers": [{"url": public_url}],
        "paths": {
            "/api/v1/attendance": {
                "post": {
                    "operationId": "recordAttendance",
                    "summary": "Record a start, end, join or leave",
                    "parameters": [
                        _header(
                            "X-Portal-Timestamp",
                            "When the request was signed, in Unix seconds.",
                        ),
                        _header(
                            "X-Portal-Signature",
                            "`v1=` and the hex HMAC-SHA256, keyed with the site's "
                            "ATTENDANCE_SECRET, of the timestamp, a full stop and "
                            "the raw body: `{timestamp}.{body}`.",
                        ),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "$ref": "#/components/schemas/AttendanceEvent"
                                },
                                "examples": {
                                    name: {"value": value}
                                    for name, value in EXAMPLES.items()
                                },
                            }
                        },
                    },
                    "responses": {
                        "202": _json("Recorded", "Stored; it is processed next."),
                        "200": _json("Recorded", "A repeat of an event stored before."),
                        **_REFUSALS,
                        **_FOR_THE_API,
                    },
                }
            },
            "/api/v1/zoom/webhook": {
                "post": {
                    "operationId": "zoomWebhook",
                    "summary": "Zoom's webhook for meetings and webinars",
                    "parameters": [
                        _header(
                            "x-zm-request-timestamp",
                            "When Zoom signed the request, in Unix seconds.",
                        ),
                        _header(
                            "x-zm-signature",
                            "`v0=` and the hex HMAC-SHA256, keyed with the app's "
                            "secret token (ZOOM_SECRET_TOKEN), of "
                            "`v0:{timestamp}:{body}`.",
                        ),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ZoomEvent"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": (
                                "Recorded, a repeat, ignored (with the reason), or "
                                "the URL validation answer: `plainToken` and "
                                "`encryptedToken`, the hex HMAC-SHA256 of the plain "
                                "token keyed with the secret token."
                            ),
                            "content": {"application/json": {"schema": {}}},
                        },
                        **_REFUSALS,
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapiDocument",
                    "summary": "This document",
                    "responses": {"200": {"description": "The OpenAPI document."}},
                }
            },
        },
        "components": {
            "schemas": {
                "AttendanceEvent": ATTENDANCE_EVENT,
                "Attendee": ATTENDEE,
                "Score": SCORE,
                "ZoomEvent": ZOOM_EVENT,
                "Recorded": RECORDED,
                "Error": ERROR,
            }
        },
    }
