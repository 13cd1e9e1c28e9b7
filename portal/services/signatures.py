"""Signed webhooks: the portal's own scheme and Zoom's, both HMAC-SHA256.

Both sign the raw body together with a timestamp in seconds, so a body is never
parsed before its signature is checked, and a delivery replayed more than five
minutes later (or dated more than five minutes ahead) is refused.

* The portal: header ``X-Portal-Timestamp`` and header ``X-Portal-Signature`` =
  ``v1=`` + hex HMAC-SHA256(secret, ``{timestamp}.{body}``).
* Zoom: header ``x-zm-request-timestamp`` and header ``x-zm-signature`` = ``v0=`` +
  hex HMAC-SHA256(secret token, ``v0:{timestamp}:{body}``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from portal.errors import PortalError

#: How far a signature's timestamp may be from the portal's clock, either way.
TOLERANCE = timedelta(minutes=5)
PORTAL_TIMESTAMP_HEADER = "X-Portal-Timestamp"
PORTAL_SIGNATURE_HEADER = "X-Portal-Signature"
ZOOM_TIMESTAMP_HEADER = "x-zm-request-timestamp"
ZOOM_SIGNATURE_HEADER = "x-zm-signature"
#: Longest timestamp header read: ten digits last until the year 2286.
_TIMESTAMP_DIGITS = 12


class SignatureRejected(PortalError):
    """The delivery is not signed with the site's secret, or not recently."""


def hmac_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` with ``secret``."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def portal_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Portal-Signature`` of a body sent at ``timestamp``."""
    return "v1=" + hmac_hex(secret, timestamp.encode() + b"." + body)


def zoom_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``x-zm-signature`` Zoom sends with a body at ``timestamp``."""
    return "v0=" + hmac_hex(secret, b"v0:" + timestamp.encode() + b":" + body)


def zoom_url_validation(secret: str, plain_token: str) -> dict[str, str]:
    """Zoom's endpoint check answered: the token, and its HMAC with the secret."""
    return {
        "plainToken": plain_token,
        "encryptedToken": hmac_hex(secret, plain_token.encode()),
    }


def verify_portal_delivery(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
) -> None:
    """Raise :class:`SignatureRejected` unless the portal's signature is right."""
    checked = _recent_timestamp(timestamp, now, PORTAL_TIMESTAMP_HEADER)
    _compare(
        portal_signature(secret, checked, body), signature, PORTAL_SIGNATURE_HEADER
    )


def verify_zoom_delivery(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
) -> None:
    """Raise :class:`SignatureRejected` unless Zoom's signature is right."""
    checked = _recent_timestamp(timestamp, now, ZOOM_TIMESTAMP_HEADER)
    _compare(zoom_signature(secret, checked, body), signature, ZOOM_SIGNATURE_HEADER)


def _recent_timestamp(text: str | None, now: datetime, header: str) -> str:
    value = (text or "").strip()
    if not value:
        raise SignatureRejected(f"The {header} header is missing.")
    if not (value.isascii() and value.isdigit()) or len(value) > _TIMESTAMP_DIGITS:
        raise SignatureRejected(f"The {header} header is not a time in Unix seconds.")
    offset = abs(now.timestamp() - int(value))
    if offset > TOLERANCE.total_seconds():
        raise SignatureRejected(
            f"The {header} header is more than five minutes from the portal's clock."
        )
    return value


def _compare(expected: str, given: str | None, header: str) -> None:
    if not given:
        raise SignatureRejected(f"The {header} header is missing.")
    if not hmac.compare_digest(
        expected.encode(), given.strip().encode("utf-8", "replace")
    ):
        raise SignatureRejected(f"The {header} header does not match the body.")
