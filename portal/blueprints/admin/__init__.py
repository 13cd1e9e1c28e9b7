"""The admin area: staff only, signed in; hosts see their own sessions and rooms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.errors import ValidationFailed

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_staff() -> Response | None:
    """Send visitors to the sign-in page; everything here needs an account."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    return None


def require_admin() -> None:
    """Answer 403 unless the signed-in account is an admin."""
    if not current_user.is_admin:
        abort(403)


#: Page numbers past this are read as this one: an empty page, never an overflow.
LAST_PAGE = 1_000_000


def page_number() -> int:
    """The ``page`` the address asks for: 1 when missing or not a page number."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), LAST_PAGE)


#: How many recent creations the signed-in person's session remembers.
REMEMBERED_SUBMISSIONS = 20


def earlier_result(submission: str | None) -> str | None:
    """Where the form sent before with this key led, if it was sent already."""
    if not submission:
        return None
    return dict(session.get("submitted", {})).get(submission)


def remember_result(submission: str | None, target: str) -> None:
    """Note that the form with this key was done, and led to ``target``."""
    if not submission:
        return
    done = dict(session.get("submitted", {}))
    done[submission] = target
    session["submitted"] = dict(list(done.items())[-REMEMBERED_SUBMISSIONS:])


def show_error(form: Any, error: ValidationFailed) -> None:
    """Put a service's refusal next to the field it names, or flash it."""
    field = getattr(form, error.field or "", None)
    if field is None:
        flash(error.message, "error")
    else:
        field.errors = [*field.errors, error.message]


# The views register themselves on ``bp``.
from portal.blueprints.admin import (  # noqa: E402
    accounts,  # noqa: F401
    actions,  # noqa: F401
    fields,  # noqa: F401
    links,  # noqa: F401
    registrants,  # noqa: F401
    session_editing,  # noqa: F401
    sessions,  # noqa: F401
)
