"""Return addresses: only ever back to the portal itself."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` if it is a path on this portal, else ``fallback``.

    Only a plain path is accepted (``/admin/sessions?page=2``): no scheme, no host,
    no ``//`` or backslash trick that a browser would read as another site.
    """
    if not target:
        return fallback
    candidate = target.strip()
    parts = urlsplit(candidate)
    if (
        parts.scheme
        or parts.netloc
        or not candidate.startswith("/")
        or candidate.startswith("//")
        or "\\" in candidate
        or any(ord(character) < 32 for character in candidate)
    ):
        return fallback
    return candidate
