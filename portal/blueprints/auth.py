"""Staff sign-in and sign-out."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from portal.extensions import db, login_manager
from portal.forms.auth import SignInForm
from portal.models import User
from portal.services.accounts import authenticate
from portal.services.navigation import safe_next

bp = Blueprint("auth", __name__)
logger = logging.getLogger(__name__)


def load_user(user_id: str) -> User | None:
    """The signed-in account, if it still exists and may sign in."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


login_manager.user_loader(load_user)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    """The sign-in page of the admin area."""
    destination = safe_next(request.values.get("next"), url_for("admin.sessions"))
    if current_user.is_authenticated:
        return redirect(destination)
    form = SignInForm(next=destination)
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/sign_in.html", form=form), status

    user = authenticate(form.email.data or "", form.password.data or "")
    if user is None:
        form.password.errors = ["That email and password do not match an account."]
        return render_template("auth/sign_in.html", form=form), 422
    session.clear()
    login_user(user)
    session.permanent = True
    return redirect(safe_next(form.next.data, url_for("admin.sessions")))


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the staff session."""
    if current_user.is_authenticated:
        logger.info("%s signed out", current_user.email)
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))
