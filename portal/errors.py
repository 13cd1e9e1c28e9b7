"""The portal's own exceptions, turned into HTTP answers at the edge."""

from __future__ import annotations


class PortalError(Exception):
    """Base of every error the portal raises on purpose."""


class ConfigurationError(PortalError):
    """A setting is missing or cannot work; the application refuses to start."""


class NotFound(PortalError):
    """The object asked for does not exist (answered with 404)."""


class ValidationFailed(PortalError):
    """Input broke a rule that the form could not check by itself."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
