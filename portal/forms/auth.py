"""Forms of the staff sign-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    """Email and password of a staff account."""

    email = EmailField(
        "Email",
        validators=[
            DataRequired(message="Enter your email."),
            Length(max=254, message="Email can be at most 254 characters."),
        ],
        render_kw={"autocomplete": "username", "required": True},
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(message="Enter your password."),
            Length(max=200, message="Password can be at most 200 characters."),
        ],
        render_kw={"autocomplete": "current-password", "required": True},
    )
    next = HiddenField()
