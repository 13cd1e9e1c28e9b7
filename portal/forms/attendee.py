"""The attendee form, built fresh for each request from field definitions.

Every field definition becomes one WTForms field through :data:`FIELD_KINDS`, the one
registry of the kinds a form can hold. The input's name is the field's prefill
parameter (``sf_LeadSource``), so an address's query string and a form's body speak
the same language, and a reordered list never sends a value to the wrong field.

A locked field has no input at all: its value travels inside the form's signed token
(see :mod:`portal.forms.tokens`), so neither the address nor the body can change it.
Every attendee form also has a honeypot, a text box people never see or reach that
bots fill in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape
from wtforms import Field, PasswordField
from wtforms.fields import (
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import Select

from portal.forms.tokens import PublicForm
from portal.models import FixedField
from portal.services.email_addresses import InvalidEmail, parse_email
from portal.services.fields import Answer, FieldSpec

#: Browser autofill hints for the CRM fields a form commonly maps to.
AUTOCOMPLETE = {
    "FirstName": "given-name",
    "LastName": "family-name",
    "Email": "email",
    "Company": "organization",
    "Title": "organization-title",
    "Phone": "tel",
    "MobilePhone": "tel",
    "Website": "url",
    "Street": "street-address",
    "City": "address-level2",
    "State": "address-level1",
    "PostalCode": "postal-code",
    "Country": "country-name",
}


#: Invisible format characters that a name may legitimately hold: the zero-width
#: joiner and non-joiner (emoji sequences, Persian and Indic scripts).
_KEPT_FORMAT_CHARACTERS = {"\u200c", "\u200d"}


def clean_text(value: Any) -> str:
    """Normalise one line of typed text.

    Unicode is stored composed (NFC); control characters (NUL and the like) and
    invisible format characters (zero-width spaces, direction overrides) are dropped;
    every run of white space, line breaks and tabs included, becomes one space;
    surrounding spaces are trimmed.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    kept = "".join(character for character in text if _is_kept(character))
    return " ".join(kept.split())


def _is_kept(character: str) -> bool:
    if character.isspace():
        return True
    category = unicodedata.category(character)
    if category == "Cf":
        return character in _KEPT_FORMAT_CHARACTERS
    return category != "Cc"


def normalised_email(value: str) -> str:
    """An address as the portal stores it; a usable address or a field error.

    Raising ValueError in a WTForms filter puts its message on the field.
    """
    if not value:
        return ""
    try:
        return parse_email(value).address
    except InvalidEmail as error:
        raise ValueError(str(error)) from error


def _required(spec: FieldSpec) -> list[Any]:
    if spec.is_required:
        return [DataRequired(message=f"{spec.display_name} is required.")]
    return [Optional()]


def _length(spec: FieldSpec) -> Length:
    return Length(
        max=spec.max_length,
        message=f"{spec.display_name} can be at most {spec.max_length} characters.",
    )


def _render_kw(spec: FieldSpec) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if not spec.is_picklist:
        attributes["maxlength"] = spec.max_length
    hint = AUTOCOMPLETE.get(spec.lead_field) or AUTOCOMPLETE.get(spec.contact_field)
    if hint:
        attributes["autocomplete"] = hint
    if spec.is_required and not spec.is_hidden:
        attributes["required"] = True
    return attributes


def _text(spec: FieldSpec) -> Any:
    return StringField(
        spec.display_name,
        validators=[*_required(spec), _length(spec)],
        filters=[clean_text],
        default=spec.default_value,
        render_kw=_render_kw(spec),
    )


def _email(spec: FieldSpec) -> Any:
    return EmailField(
        spec.display_name,
        # Checked for length after normalising: an internationalised domain grows
        # in its ASCII form.
        validators=[
            *_required(spec),
            Length(
                max=spec.max_length,
                message=f"{spec.display_name} can be at most {spec.max_length} "
                "characters (an international domain counts in its longer ASCII "
                "form).",
            ),
        ],
        filters=[clean_text, normalised_email],
        default=spec.default_value,
        render_kw=_render_kw(spec),
    )


class PicklistSelect(Select):
    """WTForms' select, writing each plain option in one step.

    WTForms builds every option's attributes through ``html_params``; with the
    thirty options of a picklist such as Industry, that was a quarter of the time
    a registration page took to render. The HTML is the same, attribute order too.
    """

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        """One ``<option>``; options with attributes of their own go WTForms' way."""
        if kwargs or choice.render_kw:
            rendered: Markup = super().render_option(choice, **kwargs)
            return rendered
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        selected = " selected" if choice.selected else ""
        quoted, label = escape(value), escape(choice.label or choice.value)
        # Both pieces of text are escaped just above.
        return Markup(f'<option{selected} value="{quoted}">{label}</option>')  # noqa: S704


def _picklist(spec: FieldSpec) -> Any:
    placeholder = SelectChoice("", "Choose one" if spec.is_required else "(none)")
    return SelectField(
        spec.display_name,
        widget=PicklistSelect(),
        choices=[
            placeholder,
            *(SelectChoice(value, label) for label, value in spec.options),
        ],
        validators=_required(spec),
        filters=[clean_text],
        default=spec.default_value,
        render_kw=_render_kw(spec),
        invalid_choice_message=f"Choose one of the options offered for "
        f"{spec.display_name}.",
    )


def _hidden(spec: FieldSpec) -> Any:
    validators = [*_required(spec), _length(spec)]
    if spec.is_picklist:
        validators.append(
            AnyOf(
                [value for _, value in spec.options],
                message=f"{spec.display_name} is not one of the options offered.",
            )
        )
    return HiddenField(
        spec.display_name,
        validators=validators,
        filters=[clean_text],
        default=spec.default_value,
    )


#: The kinds of field a form can hold, and how each is built.
FIELD_KINDS: dict[str, Callable[[FieldSpec], Any]] = {
    "text": _text,
    "email": _email,
    "picklist": _picklist,
    "hidden": _hidden,
}


def field_kind(spec: FieldSpec) -> str:
    """Which entry of :data:`FIELD_KINDS` renders ``spec``."""
    if spec.is_hidden:
        return "hidden"
    if spec.fixed is FixedField.EMAIL:
        return "email"
    if spec.is_picklist:
        return "picklist"
    return "text"


class AttendeeForm(PublicForm):
    """An attendee form; subclasses made by :func:`build_attendee_form`."""

    specs: tuple[FieldSpec, ...] = ()

    #: The honeypot: positioned off the page, hidden from screen readers and skipped
    #: by the keyboard, so only a program that fills every box fills it.
    comments = StringField(
        "Leave this box empty",
        render_kw={"tabindex": "-1", "autocomplete": "off"},
    )

    def attendee_fields(self) -> list[Field]:
        """The fields built from definitions that have an input, in the list's order."""
        return [self[spec.param_name] for spec in self.specs if not spec.is_locked]

    def is_from_a_bot(self) -> bool:
        """Whether the honeypot was filled in."""
        return bool((self.comments.data or "").strip())

    def answers(self) -> list[Answer]:
        """Every field's cleaned value, in order, after a successful validation.

        A locked field's value is the one its signed token carries, else its default.
        """
        locked = getattr(self.meta, "locked_values", None) or {}
        return [
            Answer(
                field=spec.display_name,
                contact_field=spec.contact_field,
                lead_field=spec.lead_field,
                value=(
                    locked.get(spec.param_key, spec.default_value)
                    if spec.is_locked
                    else self[spec.param_name].data or ""
                ),
                fixed=spec.fixed,
            )
            for spec in self.specs
        ]


def build_attendee_form(
    specs: tuple[FieldSpec, ...],
    *,
    password_check: Callable[[str], bool] | None = None,
) -> type[AttendeeForm]:
    """A new form class with one field per spec, in order.

    With ``password_check``, the form also asks for the session's join password.
    """
    attributes: dict[str, Any] = {"specs": specs}
    for spec in specs:
        if not spec.is_locked:
            attributes[spec.param_name] = FIELD_KINDS[field_kind(spec)](spec)
    if password_check is not None:
        attributes["join_password"] = _password_field(password_check)
    return type("AttendeeForm", (AttendeeForm,), attributes)


def _password_field(password_check: Callable[[str], bool]) -> Any:
    def check(form: PublicForm, field: Field) -> None:
        if not password_check(field.data or ""):
            raise ValidationError("That is not this session's password.")

    return PasswordField(
        "Session password",
        validators=[DataRequired(message="Enter the session's password."), check],
        render_kw={"autocomplete": "off", "required": True},
    )


def initial_values(
    specs: tuple[FieldSpec, ...], prefill: Mapping[str, str]
) -> dict[str, str]:
    """The values a freshly shown form starts with: prefill, else the default.

    A picklist prefill matches an option's stored value or shown text without regard
    to case. A prefill that is not one of the options, or is too long for a hidden
    field, is dropped (the default stands), so that a mistyped tracked link never
    blocks a field the attendee cannot see or correct; such a value sent in a form is
    refused like any typed one.
    """
    values = {}
    for spec in specs:
        if spec.is_locked:
            continue
        value = _prefilled(spec, prefill.get(spec.param_key))
        values[spec.param_name] = spec.default_value if value is None else value
    return values


def locked_values(
    specs: tuple[FieldSpec, ...], signed: Mapping[str, str]
) -> dict[str, str]:
    """The values of locked fields from a signed link's prefill, by prefill key.

    Each is checked like any hidden prefill (a picklist option, the field's length);
    a field without a usable value is left out and keeps its default.
    """
    values = {}
    for spec in specs:
        if not spec.is_locked or spec.param_key not in signed:
            continue
        value = clean_text(_prefilled(spec, signed[spec.param_key]))
        if value:
            values[spec.param_key] = value
    return values


def _prefilled(spec: FieldSpec, value: str | None) -> str | None:
    if value is None:
        return None
    if spec.is_picklist:
        return spec.option_value(value)
    if spec.is_hidden and len(clean_text(value)) > spec.max_length:
        return None
    return value


class JoinPasswordForm(PublicForm):
    """The one-button join form of a personal join link."""


def build_join_button_form(
    password_check: Callable[[str], bool] | None,
) -> type[JoinPasswordForm]:
    """A join form with no attendee fields, asking for the password if needed."""
    attributes: dict[str, Any] = {}
    if password_check is not None:
        attributes["join_password"] = _password_field(password_check)
    return type("JoinPasswordForm", (JoinPasswordForm,), attributes)
