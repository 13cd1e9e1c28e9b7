"""Which other sites may show the embeddable form in a frame.

The admin lists origins (``https://www.example.com``) on the settings page; they go
into the ``frame-ancestors`` directive of the Content-Security-Policy of the
``/embed/`` pages, and every other page refuses to be framed at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import idna
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import SiteSettings

logger = logging.getLogger(__name__)

MAX_EMBED_ORIGINS = 50
#: A host name as CSP accepts it: labels of letters, digits and hyphens, the first
#: of which may be ``*`` (every subdomain).
_HOST = re.compile(
    r"(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?"
)


def parse_embed_origins(lines: Iterable[str]) -> list[str]:
    """The origins typed on the settings page, checked and normalised; blank lines
    skipped, repeats dropped.

    An origin is a scheme (``https`` or ``http``), a host and an optional port, with
    nothing after it (a trailing ``/`` is forgiven). ``https://*.example.com`` allows
    every subdomain. An international host is stored in its ASCII (``xn--``) form.
    """
    origins: list[str] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        origin = _origin(text.removesuffix("/"))
        if origin is None:
            raise ValidationFailed(
                f"Line {number}: “{text}” is not a site address such as "
                "https://www.example.com (a scheme and a host, and no path).",
                "embed_origins",
            )
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise ValidationFailed(
            f"List at most {MAX_EMBED_ORIGINS} sites.", "embed_origins"
        )
    return origins


def _origin(text: str) -> str | None:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.path or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname
    wildcard = host.startswith("*.")
    try:
        ascii_host = idna.encode(host.removeprefix("*."), uts46=True).decode()
    except idna.IDNAError:
        return None
    host = ("*." if wildcard else "") + ascii_host.lower()
    if not _HOST.fullmatch(host):
        return None
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def allowed_frame_origins() -> list[str]:
    """The origins that may frame the embeddable form, as the admin listed them.

    Read for every embed page's headers. When the database cannot answer (the page
    is the error page of a database failure), no other site may frame it.
    """
    try:
        origins = db.session.scalar(
            sa.select(SiteSettings.embed_origins).order_by(SiteSettings.id).limit(1)
        )
    except SQLAlchemyError:
        logger.warning("Could not read the embed origins; framing stays closed")
        return []
    return list(origins or [])
