"""The embeddable registration form: the hosted form without the site's chrome.

It is meant for an iframe on somebody else's page, so everything after the first
page (errors, the confirmation) stays inside the frame.
"""

from __future__ import annotations

from flask import Blueprint

from portal.blueprints.public import (
    Page,
    already_registered_page,
    confirmation_page,
    registrant_or_404,
    registration_page,
    session_or_404,
)

bp = Blueprint("embed", __name__, url_prefix="/embed")


@bp.route("/<key>/register", methods=["GET", "POST"])
def register(key: str) -> Page:
    """The registration form for an iframe."""
    return registration_page(session_or_404(key), embedded=True)


@bp.get("/<key>/registered/<token>")
def registered(key: str, token: str) -> str:
    """The confirmation, inside the frame."""
    event, registrant = registrant_or_404(key, token)
    return confirmation_page(event, registrant, embedded=True)


@bp.get("/<key>/already-registered")
def already_registered(key: str) -> str:
    """Said, inside the frame, to someone who registers an email registered before."""
    return already_registered_page(session_or_404(key), embedded=True)
