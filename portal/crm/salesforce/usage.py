"""The org's API usage as the answers report it, shared by a process's threads."""

from __future__ import annotations

import threading

from portal.crm.base import ApiUsage
from portal.models import utcnow


class UsageTracker:
    """The latest ``api-usage=N/M`` seen, from any answer or the org's limits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: ApiUsage | None = None

    @property
    def latest(self) -> ApiUsage | None:
        """The usage last seen, or None before the first answer."""
        with self._lock:
            return self._latest

    def note(self, used: int, allowed: int) -> None:
        """Record what an answer reported."""
        with self._lock:
            self._latest = ApiUsage(used=used, allowed=allowed, checked_at=utcnow())

    def note_exhausted(self) -> None:
        """The org refused a request for its limit: treat the allowance as spent."""
        with self._lock:
            allowed = self._latest.allowed if self._latest else 0
            self._latest = ApiUsage(used=allowed, allowed=allowed, checked_at=utcnow())
