"""Admin forms of field lists: one field definition, and locking a room scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.crm.fields import CrmField
from portal.forms.attendee import clean_text
from portal.models import FieldDefinition
from portal.services.field_editing import (
    DISPLAY_NAME_LENGTH,
    VALUE_LENGTH,
    FieldValues,
    options_text,
)

#: Enough for the longest picklist the service accepts, with room for shown texts.
OPTIONS_TEXT_LENGTH = 60_000


class FieldDefinitionForm(FlaskForm):
    """A field's name, CRM mapping, behaviour, default and picklist options."""

    display_name = StringField(
        "Display name",
        validators=[
            DataRequired(message="Enter a display name."),
            Length(
                max=DISPLAY_NAME_LENGTH,
                message=f"A display name can be at most {DISPLAY_NAME_LENGTH} "
                "characters.",
            ),
        ],
        filters=[clean_text],
        render_kw={"maxlength": DISPLAY_NAME_LENGTH, "required": True},
    )
    contact_field = SelectField(
        "Contact field",
        choices=[],
        invalid_choice_message="Choose a contact field from the list.",
    )
    lead_field = SelectField(
        "Lead field",
        choices=[],
        invalid_choice_message="Choose a lead field from the list.",
    )
    is_required = BooleanField("Required")
    is_hidden = BooleanField("Hidden")
    is_locked = BooleanField("Locked: prefilled only by signed tracked links")
    default_value = StringField(
        "Default value",
        validators=[
            Length(
                max=VALUE_LENGTH,
                message=f"The default can be at most {VALUE_LENGTH} characters.",
            )
        ],
        filters=[clean_text],
        render_kw={"maxlength": VALUE_LENGTH},
    )
    options = TextAreaField(
        "Picklist options",
        validators=[
            Length(
                max=OPTIONS_TEXT_LENGTH,
                message="That is more options than a picklist can hold.",
            )
        ],
        render_kw={"rows": 8},
    )

    def field_values(self, definition: FieldDefinition | None) -> FieldValues:
        """What the form says, with a fixed field's unchangeable parts kept."""

        def entered(name: str, kept: Any) -> Any:
            return self[name].data if name in self else kept

        return FieldValues(
            display_name=self.display_name.data or "",
            contact_field=entered(
                "contact_field", definition.contact_field if definition else ""
            )
            or "",
            lead_field=entered(
                "lead_field", definition.lead_field if definition else ""
            )
            or "",
            is_required=bool(entered("is_required", True)),
            is_hidden=bool(entered("is_hidden", False)),
            is_locked=bool(entered("is_locked", False)),
            default_value=self.default_value.data or "",
            options_text=entered("options", "") or "",
        )


def field_definition_form(
    definition: FieldDefinition | None,
    contact_fields: Sequence[CrmField],
    lead_fields: Sequence[CrmField],
) -> FieldDefinitionForm:
    """The form for a new field, or for ``definition``, offering the CRM's fields.

    A fixed field keeps its CRM fields, so the form does not offer them; First Name,
    Last Name and Email are always required, shown and typed, so it does not offer
    those switches or a picklist either.
    """
    data: dict[str, Any] = {}
    if definition is not None:
        data = {
            "display_name": definition.display_name,
            "contact_field": definition.contact_field,
            "lead_field": definition.lead_field,
            "is_required": definition.is_required,
            "is_hidden": definition.is_hidden,
            "is_locked": definition.is_locked,
            "default_value": definition.default_value,
            "options": options_text(definition),
        }
    form = FieldDefinitionForm(data=data)
    form.contact_field.choices = _choices(contact_fields, data.get("contact_field", ""))
    form.lead_field.choices = _choices(lead_fields, data.get("lead_field", ""))

    fixed = definition.fixed if definition is not None else None
    if fixed is not None:
        del form.contact_field
        del form.lead_field
        if fixed.is_always_required:
            del form.is_required
            del form.is_hidden
            del form.is_locked
            del form.options
    return form


def _choices(fields: Sequence[CrmField], current: str) -> list[tuple[str, str]]:
    choices = [("", "(none)")]
    choices += [(field.name, f"{field.label} ({field.name})") for field in fields]
    if current and current not in {field.name for field in fields}:
        # Kept visible so that nobody loses it unknowingly; saving it is refused.
        choices.append((current, f"{current} (not in the CRM's field list)"))
    return choices


class LockScopeForm(FlaskForm):
    """Lock a room scope's defaults, optionally resetting rooms with own lists."""

    reset_rooms = BooleanField("Also put these rooms back on the defaults")
