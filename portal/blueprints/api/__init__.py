"""The attendance API: signed webhooks from the meeting platform, answered in JSON.

Its requests carry no cookies and no form token: each is signed with a secret the
site shares with the platform (``ATTENDANCE_SECRET``, ``ZOOM_SECRET_TOKEN``), so CSRF
protection does not apply. Every answer, errors included, is a JSON object with an
``error`` code and a ``message`` when something is wrong.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from portal.errors import PortalError, ValidationFailed
from portal.services.signals import SignalConflict
from portal.services.signatures import SignatureRejected

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PREFIX = "/api/"


class BadBody(PortalError):
    """The body is not JSON at all."""


def is_api_request() -> bool:
    """Whether the request being answered is one of the API's."""
    return request.path.startswith(PREFIX)


def api_error(status: int, code: str, message: str, **extra: Any) -> Response:
    """An error answer: ``{"error": code, "message": ...}`` with ``status``."""
    response = jsonify(error=code, message=message, **extra)
    response.status_code = status
    return response


#: Digits a whole number in a body may have; Python's own limit (4300) is far more
#: than any field needs, and past it the error would speak of interpreter settings.
NUMBER_DIGITS = 100


def parse_json(body: bytes) -> Any:
    """The JSON document in ``body``; raise BadBody saying why there is none."""
    try:
        data = json.loads(
            body.decode("utf-8"),
            parse_constant=_refuse_constant,
            parse_int=_whole_number,
        )
        # An escaped lone surrogate ("\\ud800") is valid JSON but no text at all.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeError as error:
        raise BadBody("The body is not UTF-8 text.") from error
    except RecursionError as error:
        raise BadBody("The body is nested too deeply.") from error
    except ValueError as error:
        raise BadBody("The body is not JSON.") from error
    return data


def require_json_content_type() -> None:
    """Refuse (415) a body not sent as ``application/json``, UTF-8 if a charset."""
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if request.mimetype != "application/json" or charset not in ("utf-8", "utf8"):
        abort(
            415,
            description=(
                "Send the body with Content-Type: application/json "
                "(charset=utf-8 if any)."
            ),
        )


def _whole_number(digits: str) -> int:
    if len(digits.lstrip("-")) > NUMBER_DIGITS:
        raise BadBody("A number in the body is too long.")
    return int(digits)


def _refuse_constant(name: str) -> Any:
    raise BadBody(f"The body is not JSON: {name} is not a JSON number.")


def configured_secret(setting: str) -> str | None:
    """The secret a webhook is checked with; None when the site has not set it."""
    secret = current_app.config.get(setting)
    return str(secret) if secret else None


@bp.errorhandler(SignatureRejected)
def unauthorized(error: SignatureRejected) -> Response:
    """A delivery that is not signed, or not recently: nothing is stored."""
    logger.warning("Refused a webhook on %s: %s", request.path, error)
    return api_error(401, "unauthorized", str(error))


@bp.errorhandler(BadBody)
def bad_body(error: BadBody) -> Response:
    """A signed body that is not JSON."""
    logger.warning("Refused a body on %s: %s", request.path, error)
    return api_error(400, "bad_request", str(error))


@bp.errorhandler(SignalConflict)
def conflict(error: SignalConflict) -> Response:
    """A sender's event id used again for a different event: nothing is stored."""
    return api_error(409, "conflict", str(error))


@bp.errorhandler(ValidationFailed)
def invalid(error: ValidationFailed) -> Response:
    """A JSON body with a field that is wrong, and which."""
    logger.warning(
        "Refused a body on %s: %s (%s)", request.path, error.message, error.field
    )
    extra = {"field": error.field} if error.field else {}
    return api_error(422, "invalid", error.message, **extra)


# The views register themselves on ``bp``.
from portal.blueprints.api import views  # noqa: E402, F401
