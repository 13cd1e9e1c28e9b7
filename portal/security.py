"""Response headers that keep browsers from misusing the portal's pages."""

from __future__ import annotations

from flask import current_app, g, request
from werkzeug.wrappers import Response

from portal.services.framing import allowed_frame_origins

_BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; object-src 'none'"
)


def let_forms_leave() -> None:
    """Leave ``form-action`` out of this page's policy.

    Browsers hold the whole redirect chain that answers a form to ``form-action``, and
    a join page's form ends at the meeting platform, whose address may itself redirect
    to hosts nobody can list in advance (a vanity domain, a single sign-on page).
    """
    g.forms_may_leave = True


def add_security_headers(response: Response) -> Response:
    """Content-Security-Policy and friends on every answer.

    Only the embeddable form may be shown inside another site's frame, and only by
    the sites the admin lists; every other page refuses to be framed. Browsers
    remember to use HTTPS only when the page itself came over HTTPS.
    """
    is_embed = request.path.startswith("/embed/")
    # Embed pages send no X-Frame-Options: it cannot name sites, and a browser that
    # read it would contradict frame-ancestors.
    ancestors = " ".join(["'self'", *allowed_frame_origins()]) if is_embed else "'none'"
    form_action = "" if g.get("forms_may_leave") else "; form-action 'self'"
    response.headers.setdefault(
        "Content-Security-Policy",
        f"{_BASE_POLICY}{form_action}; frame-ancestors {ancestors}",
    )
    if not is_embed:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint != "static":
        # Pages carry form tokens, personal join links and staff data: never kept
        # by a browser's or a proxy's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    max_age = int(current_app.config["HSTS_MAX_AGE"])
    if request.is_secure and max_age > 0:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response
