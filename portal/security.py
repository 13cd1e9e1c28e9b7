"""Response headers that keep browsers from misusing the portal's pages."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

_BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)


def add_security_headers(response: Response) -> Response:
    """Content-Security-Policy and friends on every answer.

    Only the embeddable form may be shown inside another site's frame; every other
    page refuses to be framed.
    """
    is_embed = request.path.startswith("/embed/")
    ancestors = "*" if is_embed else "'none'"
    response.headers.setdefault(
        "Content-Security-Policy", f"{_BASE_POLICY}; frame-ancestors {ancestors}"
    )
    if not is_embed:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response
