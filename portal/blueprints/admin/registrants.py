"""Reports: each session's and room's registrants, the activity queue, the CRM.

Registrants are shown to whoever manages the session or room; the queue and the
built-in CRM's records are for admins only. Everything here only reads, except the
queue's Retry button.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from portal.blueprints.admin import bp, page_number, require_admin
from portal.blueprints.admin.sessions import managed_event_or_404
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms.reports_admin import SearchForm
from portal.models import Activity, ActivityStatus, Event, Registrant, utcnow
from portal.services.crm_browser import CRM_TABS, crm_listing
from portal.services.queue_admin import queue_page, retry_activity
from portal.services.report_chart import chart_layout, registrations_by_day
from portal.services.reports import (
    export_filename,
    registrant_activities,
    registrant_report,
    registrants_csv,
    trace_json,
    trace_summary,
)


@bp.get("/sessions/<int:event_id>/registrants")
def session_registrants(event_id: int) -> tuple[str, int]:
    """A session's registrants and attendance, with the chart and the export."""
    return _registrants_page(_session_or_404(event_id))


@bp.get("/sessions/<int:event_id>/registrants.csv")
def session_registrants_csv(event_id: int) -> Response:
    """Every registrant of a session as a CSV file."""
    return _csv_download(_session_or_404(event_id))


@bp.get("/sessions/<int:event_id>/registrants/chart.svg")
def session_registrants_chart(event_id: int) -> Response:
    """The chart of registrations per day and lead source, as an SVG image."""
    event = _session_or_404(event_id)
    data = registrations_by_day(event)
    chart = chart_layout(data, f"Registrations per day for {event.title}")
    svg = render_template("admin/reports/chart.svg", chart=chart, data=data)
    return Response(
        svg,
        content_type="image/svg+xml; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


@bp.get("/sessions/<int:event_id>/registrants/<int:registrant_id>")
def session_registrant(event_id: int, registrant_id: int) -> str:
    """One registrant of a session: answers, and every activity with its trace."""
    event = _session_or_404(event_id)
    return _registrant_page(event, registrant_id)


@bp.get("/rooms/<int:event_id>/registrants/<int:registrant_id>")
def room_registrant(event_id: int, registrant_id: int) -> str:
    """One attendee of a personal room: answers, and every activity."""
    event = _room_or_404(event_id)
    return _registrant_page(event, registrant_id)


@bp.get("/rooms/<int:event_id>/registrants")
def room_registrants(event_id: int) -> tuple[str, int]:
    """The people who joined a personal room."""
    return _registrants_page(_room_or_404(event_id))


@bp.get("/rooms/<int:event_id>/registrants.csv")
def room_registrants_csv(event_id: int) -> Response:
    """Every attendee of a personal room as a CSV file."""
    return _csv_download(_room_or_404(event_id))


@bp.get("/queue")
def queue() -> str:
    """Activities waiting, being processed or failed, newest first (admins)."""
    require_admin()
    try:
        status = ActivityStatus(request.args.get("status", ""))
    except ValueError:
        status = None
    listing = queue_page(status=status, page=page_number())
    return render_template(
        "admin/reports/queue.html",
        listing=listing,
        zone=_viewer_zone(),
        now=utcnow(),
        trace_summary=trace_summary,
        trace_json=trace_json,
    )


@bp.post("/queue/<int:activity_id>/retry")
def queue_retry(activity_id: int) -> BaseResponse:
    """Put a failed activity back in the queue (admins)."""
    require_admin()
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        abort(404)
    try:
        retry_activity(activity, current_user)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash(f"Activity {activity_id} is back in the queue and will be tried now.")
    back = url_for(
        "admin.queue",
        status=request.args.get("status") or None,
        page=request.args.get("page") or None,
    )
    return redirect(back, 303)


@bp.get("/crm")
def crm() -> BaseResponse:
    """The built-in CRM's first list (admins)."""
    require_admin()
    return redirect(url_for("admin.crm_list", tab="contacts"))


@bp.get("/crm/<tab>")
def crm_list(tab: str) -> tuple[str, int]:
    """The built-in CRM's records, one list per tab, read-only (admins)."""
    require_admin()
    if tab not in CRM_TABS:
        abort(404)
    form = SearchForm(formdata=request.args or None)
    status = 200 if form.validate() else 422
    listing = crm_listing(tab, search=form.search, page=page_number())
    return render_template(
        "admin/reports/crm.html",
        listing=listing,
        tabs=CRM_TABS,
        form=form,
        zone=_viewer_zone(),
    ), status


def _session_or_404(event_id: int) -> Event:
    event = managed_event_or_404(event_id)
    if event.is_room:
        abort(404)
    return event


def _room_or_404(event_id: int) -> Event:
    event = managed_event_or_404(event_id)
    if not event.is_room:
        abort(404)
    return event


def _registrants_page(event: Event) -> tuple[str, int]:
    form = SearchForm(formdata=request.args or None)
    status = 200 if form.validate() else 422
    report = registrant_report(event, page=page_number(), search=form.search)
    chart = None if event.is_room else registrations_by_day(event)
    return render_template(
        "admin/reports/registrants.html",
        event=event,
        report=report,
        chart=chart,
        form=form,
        trace_summary=trace_summary,
        trace_json=trace_json,
    ), status


def _registrant_page(event: Event, registrant_id: int) -> str:
    registrant = db.session.get(Registrant, registrant_id)
    if registrant is None or registrant.event_id != event.id:
        abort(404)
    return render_template(
        "admin/reports/registrant.html",
        event=event,
        registrant=registrant,
        activities=registrant_activities(registrant),
        zone=ZoneInfo(event.time_zone),
        trace_summary=trace_summary,
        trace_json=trace_json,
    )


def _csv_download(event: Event) -> Response:
    today = datetime.now(ZoneInfo(event.time_zone)).date()
    return Response(
        registrants_csv(event),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{export_filename(event, today)}"'
            ),
            "Cache-Control": "no-store",
        },
    )


def _viewer_zone() -> ZoneInfo:
    """The signed-in account's time zone, for times that belong to no session."""
    return ZoneInfo(current_user.time_zone or "UTC")
