"""Forms of the staff accounts pages: the admin's list, and each person's own."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from portal.forms.attendee import clean_text
from portal.forms.time_zones import TimeZoneField, time_zone_choices
from portal.models import Role, User
from portal.services.accounts import DISPLAY_NAME_LENGTH, MIN_PASSWORD_LENGTH

ROLE_CHOICES = [
    SelectChoice(Role.HOST.value, "Host: their own sessions and rooms"),
    SelectChoice(Role.ADMIN.value, "Admin: the whole site"),
]
PASSWORD_HELP = f"At least {MIN_PASSWORD_LENGTH} characters."


class AccountForm(FlaskForm):
    """A staff account as an admin sets it up."""

    email = EmailField(
        "Email",
        filters=[clean_text],
        validators=[InputRequired("Enter the email this person signs in with.")],
        render_kw={"autocomplete": "off", "maxlength": 254},
    )
    display_name = StringField(
        "Name",
        filters=[clean_text],
        validators=[
            InputRequired("Enter the name shown for this account."),
            Length(max=DISPLAY_NAME_LENGTH),
        ],
        render_kw={"maxlength": DISPLAY_NAME_LENGTH},
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.HOST.value)
    time_zone = TimeZoneField(default="UTC")
    is_active = BooleanField("May sign in", default=True)
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        render_kw={"autocomplete": "new-password", "maxlength": 200},
    )


class ProfileForm(FlaskForm):
    """The signed-in person's own name and time zone."""

    display_name = StringField(
        "Name",
        filters=[clean_text],
        validators=[
            InputRequired("Enter the name shown for your account."),
            Length(max=DISPLAY_NAME_LENGTH),
        ],
        render_kw={"maxlength": DISPLAY_NAME_LENGTH},
    )
    time_zone = TimeZoneField()


class PasswordForm(FlaskForm):
    """A new password for the signed-in person, who proves the current one."""

    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[
            InputRequired("Enter a new password."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Use {MIN_PASSWORD_LENGTH} to 200 characters.",
            ),
        ],
        render_kw={"autocomplete": "new-password", "maxlength": 200},
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            InputRequired("Enter the new password again."),
            EqualTo("new_password", message="The two new passwords differ."),
        ],
        render_kw={"autocomplete": "new-password", "maxlength": 200},
    )


def account_form(user: User | None = None, **kwargs: Any) -> AccountForm:
    """The account form, filled from ``user`` when there is one."""
    data = None
    if user is not None:
        data = {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role.value,
            "time_zone": user.time_zone,
            "is_active": user.is_active,
        }
    form = AccountForm(data=data, **kwargs)
    form.time_zone.choices = time_zone_choices(user.time_zone if user else None)
    if user is not None:
        # The email is the sign-in name and the key of the person's history.
        del form.email
        form.password.label.text = "New password"
    else:
        form.password.validators = [
            InputRequired("Give the account a first password."),
            *form.password.validators[1:],
        ]
        form.password.flags.required = True
    return form


def profile_form(user: User) -> ProfileForm:
    """The profile form, filled from the signed-in account."""
    form = ProfileForm(
        data={"display_name": user.display_name, "time_zone": user.time_zone}
    )
    form.time_zone.choices = time_zone_choices(user.time_zone)
    return form
