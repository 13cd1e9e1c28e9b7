"""Protection of public forms that does not rely on a cookie.

An embedded form lives in a cross-site iframe, where browsers increasingly refuse
third-party cookies, so the usual session-bound CSRF token cannot work there. Public
forms instead carry a token signed with the site's secret, bound to the page it was
issued for and stamped with its issue time. Each token also names one submission, so
that the same form sent twice can be recognised, and carries the values of locked
fields that came from a signed link, so that they reach the server unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from wtforms import Form
from wtforms.csrf.core import CSRF
from wtforms.validators import ValidationError

EXPIRED_MESSAGE = (
    "This page was open for a long time, so we could not accept it as it was. "
    "Please check your details and send the form again."
)
INVALID_MESSAGE = "We could not verify this form. Please send it again."


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        str(current_app.config["SECRET_KEY"]), salt="portal.public-form"
    )


def issue_token(context: str, locked_values: Mapping[str, str] | None = None) -> str:
    """A new signed token for a form shown on the page named ``context``, carrying
    ``locked_values`` (locked fields' values by prefill key)."""
    payload: dict[str, Any] = {"page": context, "submission": secrets.token_urlsafe(12)}
    if locked_values:
        payload["locked"] = dict(locked_values)
    return _serializer().dumps(payload)


def locked_values_of(token: str | None, context: str) -> dict[str, str]:
    """The locked values a token signed for ``context`` carries, even when it has
    expired (they were signed by the portal all the same); else nothing."""
    if not token:
        return {}
    serializer = _serializer()
    try:
        payload: Any = serializer.loads(token)
    except SignatureExpired as error:
        # Raised only once the signature has been verified.
        if not isinstance(error.payload, bytes):
            return {}
        payload = serializer.load_payload(error.payload)
    except BadData:
        return {}
    if not isinstance(payload, dict) or payload.get("page") != context:
        return {}
    locked = payload.get("locked")
    if not isinstance(locked, dict):
        return {}
    return {str(key): value for key, value in locked.items() if isinstance(value, str)}


def read_token(token: str, context: str) -> str:
    """The submission id in a valid token for ``context``; else ValidationError."""
    max_age = int(current_app.config["FORM_TOKEN_MAX_AGE"])
    try:
        payload: Any = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ValidationError(EXPIRED_MESSAGE) from error
    except BadData as error:
        raise ValidationError(INVALID_MESSAGE) from error
    if not isinstance(payload, dict) or payload.get("page") != context:
        raise ValidationError(INVALID_MESSAGE)
    submission = payload.get("submission")
    if not isinstance(submission, str) or not submission:
        raise ValidationError(INVALID_MESSAGE)
    return submission


class SignedFormToken(CSRF):
    """WTForms CSRF protection with :func:`issue_token` and :func:`read_token`.

    The page context comes from the form's ``meta.csrf_context``.
    """

    def setup_form(self, form: Form) -> Any:
        self.context = str(form.meta.csrf_context)
        self.locked_values = getattr(form.meta, "locked_values", None) or {}
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        return issue_token(self.context, self.locked_values)

    def validate_csrf_token(self, form: Form, field: Any) -> None:
        if not field.data:
            raise ValidationError(INVALID_MESSAGE)
        form.submission_id = read_token(str(field.data), self.context)


class PublicForm(Form):
    """Base of every form an attendee sends: protected by a signed token."""

    #: Set by a valid token: the same value for the same form sent twice.
    submission_id: str | None = None

    class Meta:
        csrf = True
        csrf_class = SignedFormToken
        csrf_field_name = "form_token"
