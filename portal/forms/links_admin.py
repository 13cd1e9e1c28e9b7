"""Forms of the tracked link builder.

Both are sent with GET: building a link stores nothing, and the builder's own address
can be bookmarked to build the same link again. They carry no CSRF token for that
reason (a token would only end up in bookmarks and browser history).

The builder's fields are named like the public form's inputs (``sf_LeadSource``), so
that its query string reads like the link it builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired

from portal.forms.attendee import field_kind
from portal.models import Event
from portal.services.fields import FieldSpec
from portal.services.schedule import describe_schedule
from portal.services.tracked_links import UTM_MAX_LENGTH, UTM_PARAMETERS, LinkPage


def _page_choices() -> list[SelectChoice]:
    return [SelectChoice(page.value, page.label) for page in LinkPage]


class LinkSessionForm(FlaskForm):
    """Which session and page to build a tracked link for."""

    class Meta:
        csrf = False

    event = SelectField(
        "Session",
        coerce=int,
        validators=[InputRequired(message="Choose a session.")],
        invalid_choice_message="Choose one of the sessions offered.",
    )
    page = SelectField(
        "Page",
        choices=_page_choices(),
        default=LinkPage.REGISTER.value,
        invalid_choice_message="Choose one of the pages offered.",
    )

    def offer_sessions(self, events: Sequence[Event]) -> None:
        """Offer these sessions, each named by its title and schedule."""
        self.event.choices = [
            SelectChoice(event.id, f"{event.title} ({describe_schedule(event)})")
            for event in events
        ]


class TrackedLinkForm(FlaskForm):
    """A page and a prefill value per field; subclasses made by
    :func:`build_link_form`."""

    class Meta:
        csrf = False

    specs: tuple[FieldSpec, ...] = ()

    page = SelectField(
        "Page",
        choices=_page_choices(),
        default=LinkPage.REGISTER.value,
        invalid_choice_message="Choose one of the pages offered.",
    )

    def prefill_fields(self) -> list[tuple[Field, str]]:
        """Each field's input with its help text, in the list's order."""
        return [(self[spec.param_name], _help(spec)) for spec in self.specs]

    def utm_fields(self) -> list[Field]:
        """The campaign parameters' inputs."""
        return [self[name] for name in UTM_PARAMETERS]

    def chosen_page(self) -> LinkPage:
        """The page chosen, after a successful validation."""
        return LinkPage(self.page.data)

    def prefill_values(self) -> dict[str, str]:
        """The value typed or chosen for each field, keyed by prefill parameter."""
        return {
            spec.param_name: self[spec.param_name].data or "" for spec in self.specs
        }

    def utm_values(self) -> dict[str, str]:
        """The value of each campaign parameter."""
        return {name: self[name].data or "" for name in UTM_PARAMETERS}

    def add_errors(self, errors: dict[str, str]) -> None:
        """Show the service's messages next to the fields they are about."""
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, message]

    def show_values(self, values: dict[str, str]) -> None:
        """Show each field as the link carries it (cleaned, picklists by value)."""
        for spec in self.specs:
            self[spec.param_name].data = values.get(spec.param_name, "")

    def has_errors(self) -> bool:
        """Whether any field carries a message."""
        return any(field.errors for field in self)


def build_link_form(specs: tuple[FieldSpec, ...]) -> type[TrackedLinkForm]:
    """A new builder form class with one input per field definition, in order."""
    attributes: dict[str, Any] = {"specs": specs}
    for spec in specs:
        attributes[spec.param_name] = _prefill_field(spec)
    for name in UTM_PARAMETERS:
        attributes[name] = StringField(
            name, render_kw={"maxlength": UTM_MAX_LENGTH, "spellcheck": "false"}
        )
    return type("TrackedLinkForm", (TrackedLinkForm,), attributes)


def _prefill_field(spec: FieldSpec) -> Any:
    label = f"{spec.display_name} (hidden)" if spec.is_hidden else spec.display_name
    if spec.is_picklist:
        # The service decides which values are options (shown text or stored
        # value), so that a hand-edited address gets a message, not a blank.
        return SelectField(
            label,
            choices=[
                SelectChoice("", "(not set)"),
                *(SelectChoice(value, text) for text, value in spec.options),
            ],
            default="",
            validate_choice=False,
        )
    kind = EmailField if field_kind(spec) == "email" else StringField
    return kind(label, render_kw={"maxlength": spec.max_length})


def _help(spec: FieldSpec) -> str:
    parts = [f"Parameter {spec.param_name}."]
    if spec.is_hidden:
        parts.append("Attendees do not see this field; it is sent as set here.")
    if spec.is_locked:
        parts.append(
            "Locked: only links built on this page fill it (they are signed); a "
            "link edited by hand leaves the default."
        )
    if spec.default_value:
        parts.append(f"When not set, the default “{spec.default_value}” applies.")
    return " ".join(parts)
