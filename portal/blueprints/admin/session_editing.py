"""Creating and editing sessions, recurring series and personal rooms."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.blueprints.admin import bp, earlier_result, remember_result, show_error
from portal.blueprints.admin.sessions import managed_event_or_404
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms.sessions_admin import (
    NewSessionForm,
    SeriesForm,
    SessionForm,
    new_session_data,
    room_data,
    room_form,
    room_input,
    series_data,
    session_data,
    session_form,
    session_input,
)
from portal.models import EventSeries
from portal.services.series import (
    can_manage_series,
    create_series,
    first_occurrence,
    occurrence_registrants,
    ordered_occurrences,
    update_series,
)
from portal.services.sessions import create_session, update_room, update_session

Page = str | Response | tuple[str, int]


@bp.route("/sessions/new", methods=["GET", "POST"])
def session_new() -> Page:
    """Create a session, or a recurring series of sessions."""
    form = session_form(
        NewSessionForm, current_user, data=new_session_data(current_user)
    )
    # The same form sent again (the back button, a second click) creates nothing.
    earlier = earlier_result(form.submission.data) if request.method == "POST" else None
    if earlier is not None:
        flash("That was created already; here it is.")
        return redirect(earlier, 303)
    if not form.validate_on_submit():
        return _page("admin/session_editing/session_new.html", form)

    try:
        if form.repeats:
            saved_series = create_series(
                current_user, session_input(form), form.recurrence()
            )
        else:
            saved = create_session(current_user, session_input(form))
    except ValidationFailed as error:
        return _page("admin/session_editing/session_new.html", form, error)

    if form.repeats:
        count = len(saved_series.series.occurrences)
        flash(f"Created the series “{form.title.data}” with {count} sessions.")
        _flash_notices(saved_series.notices)
        target = url_for("admin.series_edit", series_id=saved_series.series.id)
    else:
        flash(f"Created “{saved.event.title}”.")
        _flash_notices(saved.notices)
        target = url_for("admin.session_detail", event_id=saved.event.id)
    remember_result(form.submission.data, target)
    return redirect(target, 303)


@bp.route("/sessions/<int:event_id>/edit", methods=["GET", "POST"])
def session_edit(event_id: int) -> Page:
    """Change one session (one occurrence of a series changes alone)."""
    event = managed_event_or_404(event_id)
    if event.is_room:
        abort(404)
    form = session_form(
        SessionForm,
        current_user,
        data=session_data(event),
        current_type=event.type,
        current_campaign=event.campaign_id,
        choose_host=event.series_id is None,
        has_password=bool(event.join_password),
    )
    template = "admin/session_editing/session_edit.html"
    if not form.validate_on_submit():
        return _page(template, form, event=event)

    try:
        saved = update_session(current_user, event, session_input(form))
    except ValidationFailed as error:
        return _page(template, form, error, event=event)

    flash(f"Saved “{saved.event.title}”.")
    _flash_notices(saved.notices)
    return redirect(url_for("admin.session_detail", event_id=event.id), 303)


@bp.route("/series/<int:series_id>/edit", methods=["GET", "POST"])
def series_edit(series_id: int) -> Page:
    """Change a recurring series: its shared details, its host and its dates."""
    series = db.session.get(EventSeries, series_id)
    if series is None:
        abort(404)
    if not can_manage_series(current_user, series):
        abort(403)
    first = first_occurrence(series)
    form = session_form(
        SeriesForm,
        current_user,
        data=series_data(series, first),
        current_type=first.type if first else None,
        current_campaign=first.campaign_id if first else None,
        has_password=any(event.join_password for event in series.occurrences),
    )
    if not form.validate_on_submit():
        return _series_page(form, series)

    try:
        saved = update_series(
            current_user, series, session_input(form), form.recurrence()
        )
    except ValidationFailed as error:
        return _series_page(form, series, error)

    flash(f"Saved the series “{form.title.data}”.")
    _flash_notices(saved.notices)
    return redirect(url_for("admin.series_edit", series_id=series.id), 303)


@bp.route("/rooms/<int:event_id>/edit", methods=["GET", "POST"])
def room_edit(event_id: int) -> Page:
    """Change how people reach a personal room."""
    room = managed_event_or_404(event_id)
    if not room.is_room:
        abort(404)
    form = room_form(room_data(room), has_password=bool(room.join_password))
    template = "admin/session_editing/room_edit.html"
    if not form.validate_on_submit():
        return _page(template, form, room=room)

    try:
        update_room(current_user, room, room_input(form))
    except ValidationFailed as error:
        return _page(template, form, error, room=room)

    flash(f"Saved “{room.title}”.")
    return redirect(url_for("admin.rooms"), 303)


def _series_page(
    form: Any, series: EventSeries, error: ValidationFailed | None = None
) -> Page:
    return _page(
        "admin/session_editing/series_edit.html",
        form,
        error,
        series=series,
        occurrences=ordered_occurrences(series),
        registrants=occurrence_registrants(series),
    )


def _page(
    template: str, form: Any, error: ValidationFailed | None = None, **context: Any
) -> Page:
    """A form page; 422 when it shows a sent form's errors."""
    if error is not None:
        show_error(form, error)
    page = render_template(template, form=form, **context)
    if request.method == "POST":
        return page, 422
    return page


def _flash_notices(notices: list[str]) -> None:
    for notice in notices:
        flash(notice, "warning")
