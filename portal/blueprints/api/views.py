"""The API's views: the portal's attendance events, Zoom's webhook, the document."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Response, abort, current_app, jsonify, request

from portal.blueprints.api import (
    bp,
    configured_secret,
    parse_json,
    require_json_content_type,
)
from portal.blueprints.api.openapi import openapi_document
from portal.models import utcnow
from portal.services.attendance_api import read_attendance_event
from portal.services.signals import Recorded, SignalRefused, record_signal
from portal.services.signatures import (
    PORTAL_SIGNATURE_HEADER,
    PORTAL_TIMESTAMP_HEADER,
    ZOOM_SIGNATURE_HEADER,
    ZOOM_TIMESTAMP_HEADER,
    verify_portal_delivery,
    verify_zoom_delivery,
    zoom_url_validation,
)
from portal.services.zoom import URL_VALIDATION, Ignored, plain_token, read_zoom_event

logger = logging.getLogger(__name__)


@bp.post("/attendance")
def attendance() -> tuple[Response, int]:
    """Record a session's start or end, or a person's join or leave."""
    secret = _secret_or_503("ATTENDANCE_SECRET")
    body = request.get_data()
    now = utcnow()
    verify_portal_delivery(
        secret,
        request.headers.get(PORTAL_TIMESTAMP_HEADER),
        request.headers.get(PORTAL_SIGNATURE_HEADER),
        body,
        now,
    )
    require_json_content_type()

    signal = read_attendance_event(parse_json(body), now)
    recorded = record_signal(signal)
    return _answer(recorded), 200 if recorded.is_repeat else 202


@bp.post("/zoom/webhook")
def zoom_webhook() -> Response:
    """Zoom's endpoint check, and its meeting and webinar attendance events."""
    secret = _secret_or_503("ZOOM_SECRET_TOKEN")
    body = request.get_data()
    now = utcnow()
    verify_zoom_delivery(
        secret,
        request.headers.get(ZOOM_TIMESTAMP_HEADER),
        request.headers.get(ZOOM_SIGNATURE_HEADER),
        body,
        now,
    )

    data = parse_json(body)
    if isinstance(data, Mapping) and data.get("event") == URL_VALIDATION:
        return jsonify(zoom_url_validation(secret, plain_token(data)))
    outcome = read_zoom_event(data, now)
    if isinstance(outcome, Ignored):
        logger.info("Ignored a Zoom event: %s", outcome.reason)
        return jsonify(status="ignored", reason=outcome.reason)
    try:
        recorded = record_signal(outcome)
    except SignalRefused as refused:
        logger.info("Ignored a Zoom event: %s", refused.message)
        return jsonify(status="ignored", reason=refused.message)
    return _answer(recorded)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The API's OpenAPI 3.1 document."""
    return jsonify(openapi_document(current_app.config["PUBLIC_URL"]))


def _secret_or_503(setting: str) -> str:
    secret = configured_secret(setting)
    if secret is None:
        abort(503, description=f"This site has no {setting} set: the webhook is off.")
    return secret


def _answer(recorded: Recorded) -> Response:
    status = "duplicate" if recorded.is_repeat else "accepted"
    return jsonify(status=status, activity=recorded.activity.id)
