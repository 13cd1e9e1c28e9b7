"""Staff accounts: the admin's list of admins and hosts, and each person's own page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.blueprints.admin import bp, require_admin, show_error
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms.accounts_admin import (
    AccountForm,
    PasswordForm,
    account_form,
    profile_form,
)
from portal.models import Role, User
from portal.services.accounts import (
    AccountChanges,
    add_account,
    change_own_password,
    list_accounts,
    update_account,
    update_own_profile,
)

Page = str | Response | tuple[str, int]


@bp.get("/accounts")
def accounts() -> str:
    """Every admin and host, with what they may do."""
    require_admin()
    return render_template("admin/accounts/list.html", accounts=list_accounts())


@bp.route("/accounts/new", methods=["GET", "POST"])
def account_new() -> Page:
    """Create an admin or a host account."""
    require_admin()
    form = account_form()
    if form.validate_on_submit():
        try:
            user = add_account(form.email.data, _changes(form), actor=current_user)
        except ValidationFailed as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(f"Created the account {user.email}.")
            return redirect(url_for("admin.accounts"), 303)
    return _form_page(form, None)


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
def account_edit(user_id: int) -> Page:
    """Change an account's name, role, time zone, access or password."""
    require_admin()
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = account_form(user)
    if form.validate_on_submit():
        try:
            changed = update_account(user, _changes(form), actor=current_user)
        except ValidationFailed as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(f"Saved {user.email}." if changed else "Nothing changed.")
            return redirect(url_for("admin.accounts"), 303)
    return _form_page(form, user)


@bp.get("/account")
def own_account() -> Page:
    """The signed-in person's name, time zone and password."""
    profile = profile_form(current_user)
    password = PasswordForm()
    return render_template(
        "admin/accounts/mine.html", profile=profile, password=password
    )


@bp.post("/account/profile")
def own_profile() -> Page:
    """Save the signed-in person's name and time zone."""
    profile = profile_form(current_user)
    if profile.validate_on_submit():
        try:
            changed = update_own_profile(
                current_user, profile.display_name.data, profile.time_zone.data
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_error(profile, error)
        else:
            flash("Saved your profile." if changed else "Nothing changed.")
            return redirect(url_for("admin.own_account"), 303)
    page = render_template(
        "admin/accounts/mine.html",
        profile=profile,
        password=PasswordForm(formdata=None),
    )
    return page, 422


@bp.post("/account/password")
def own_password() -> Page:
    """Change the signed-in person's password."""
    password = PasswordForm()
    if password.validate_on_submit():
        try:
            change_own_password(
                current_user,
                password.current_password.data,
                password.new_password.data,
            )
        except ValidationFailed as error:
            db.session.rollback()
            show_error(password, error)
        else:
            flash("Your password is changed.")
            return redirect(url_for("admin.own_account"), 303)
    page = render_template(
        "admin/accounts/mine.html",
        profile=profile_form(current_user),
        password=password,
    )
    return page, 422


def _changes(form: AccountForm) -> AccountChanges:
    return AccountChanges(
        display_name=form.display_name.data,
        role=Role(form.role.data),
        time_zone=form.time_zone.data,
        is_active=bool(form.is_active.data),
        password=form.password.data or "",
    )


def _form_page(form: AccountForm, user: User | None) -> Page:
    page = render_template("admin/accounts/edit.html", form=form, account=user)
    return (page, 422) if form.errors else page
