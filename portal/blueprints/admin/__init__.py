"""The admin area: staff only, signed in; hosts see their own sessions and rooms."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

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


# The views register themselves on ``bp``.
from portal.blueprints.admin import (  # noqa: E402
    actions,  # noqa: F401
    fields,  # noqa: F401
    links,  # noqa: F401
    registrants,  # noqa: F401
    session_editing,  # noqa: F401
    sessions,  # noqa: F401
)
