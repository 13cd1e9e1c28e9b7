"""Salesforce's refusals and failures as the portal's CRM errors.

The queue retries an error with ``is_transient`` set (with backoff) and marks the
activity failed on any other, with Salesforce's own message.
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from portal.crm.base import CrmError

#: Error codes that mean "not now": the daily or concurrent request limit, a record
#: another transaction holds, an org that is briefly unavailable.
TRANSIENT_CODES = frozenset(
    {
        "REQUEST_LIMIT_EXCEEDED",
        "UNABLE_TO_LOCK_ROW",
        "SERVER_UNAVAILABLE",
        "CONCURRENT_REQUESTS_LIMIT_EXCEEDED",
    }
)
#: What the other subrequests of an all-or-none composite request answer when one
#: of them failed: not the cause, so never reported as one.
PROCESSING_HALTED = "PROCESSING_HALTED"


class SalesforceCrmError(CrmError):
    """Salesforce refused or failed a request."""

    def __init__(self, message: str, *, code: str = "", is_transient: bool = False):
        super().__init__(message)
        #: Salesforce's error code (``DUPLICATE_VALUE``), or empty.
        self.code = code
        self.is_transient = is_transient

    @property
    def is_limit_exceeded(self) -> bool:
        """Whether the org refused because its API request limit is reached."""
        return self.code == "REQUEST_LIMIT_EXCEEDED"


def error_from_answer(status: int, body: Any, what: str) -> SalesforceCrmError:
    """The error an answer with HTTP ``status`` and Salesforce's ``body`` means."""
    code, message = first_error(body)
    text = f"Salesforce refused {what} (HTTP {status}"
    text += f", {code}): {message}" if code else f"): {message}"
    return SalesforceCrmError(
        text, code=code, is_transient=status >= 500 or code in TRANSIENT_CODES
    )


def error_from_exception(error: Exception, what: str) -> SalesforceCrmError:
    """The CRM error a simple-salesforce or requests exception means."""
    if isinstance(error, SalesforceAuthenticationFailed):
        # A revoked certificate or a changed connected app is put right by an
        # admin; until then the activities wait rather than fail.
        return SalesforceCrmError(
            f"Signing in to Salesforce failed ({error.code}): {error.auth_message}",
            code="AUTHENTICATION_FAILED",
            is_transient=True,
        )
    if isinstance(error, SalesforceError):
        status = int(error.status)
        translated = error_from_answer(status, error.content, what)
        if isinstance(error, SalesforceGeneralError) and status >= 500:
            translated.is_transient = True
        if isinstance(error, SalesforceRefusedRequest) and not translated.code:
            translated.code = "FORBIDDEN"
        return translated
    if isinstance(error, requests.Timeout):
        return SalesforceCrmError(
            f"Salesforce did not answer {what} in time.", is_transient=True
        )
    if isinstance(error, requests.RequestException):
        return SalesforceCrmError(
            f"Salesforce could not be reached for {what}: {type(error).__name__}.",
            is_transient=True,
        )
    raise error


def first_error(body: Any) -> tuple[str, str]:
    """Salesforce's error code and message from an error body, causes first."""
    errors = body if isinstance(body, list) else [body]
    found = [
        item
        for item in errors
        if isinstance(item, dict) and ("errorCode" in item or "message" in item)
    ]
    found.sort(key=lambda item: item.get("errorCode") == PROCESSING_HALTED)
    if not found:
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        return "", text[:500]
    item = found[0]
    message = str(item.get("message", ""))
    fields = item.get("fields") or []
    if fields:
        message = f"{message} (fields: {', '.join(map(str, fields))})"
    return str(item.get("errorCode", "")), message
