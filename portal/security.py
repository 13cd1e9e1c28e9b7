"""Response headers that keep browsers from misusing the portal's pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, request
from werkzeug.wrappers import Response

_BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; object-src 'none'"
)


def allow_form_redirect(url: str) -> None:
    """Let this page's form lead to ``url``'s origin.

    Browsers apply ``form-action`` to the redirect that answers a form, so a join page,
    whose form ends at the meeting platform, must name that platform.
    """
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        g.setdefault("form_origins", set()).add(f"{parts.scheme}://{parts.netloc}")


def add_security_headers(response: Response) -> Response:
    """Content-Security-Policy and friends on every answer.

    Only the embeddable form may be shown inside another site's frame; every other
    page refuses to be framed.
    """
    is_embed = request.path.startswith("/embed/")
    ancestors = "*" if is_embed else "'none'"
    form_action = " ".join(["'self'", *sorted(g.get("form_origins", ()))])
    response.headers.setdefault(
        "Content-Security-Policy",
        f"{_BASE_POLICY}; form-action {form_action}; frame-ancestors {ancestors}",
    )
    if not is_embed:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response
