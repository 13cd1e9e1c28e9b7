"""Tracked links: a session's address prefilled for a campaign, and its iframe.

Both pages are GET forms: building a link stores nothing, and the page's own address
builds the same link again when it is bookmarked or shared with a colleague.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.blueprints.admin import bp
from portal.blueprints.admin.sessions import managed_event_or_404
from portal.extensions import db
from portal.forms.links_admin import LinkSessionForm, build_link_form
from portal.services.fields import effective_fields
from portal.services.permissions import visible_events
from portal.services.tracked_links import (
    InvalidLinkValues,
    TrackedLink,
    build_tracked_link,
)

Page = Response | tuple[str, int]


@bp.get("/links")
def links() -> Page:
    """Choose a session the account may see and a page, then fill the fields."""
    events = db.session.scalars(visible_events(current_user)).all()
    form = LinkSessionForm(formdata=request.args or None)
    form.offer_sessions(events)

    if request.args and form.validate():
        return redirect(
            url_for(
                "admin.session_links", event_id=form.event.data, page=form.page.data
            ),
            303,
        )
    status = 422 if form.errors else 200
    return render_template(
        "admin/links/index.html", form=form, has_sessions=bool(events)
    ), status


@bp.get("/sessions/<int:event_id>/links")
def session_links(event_id: int) -> Page:
    """Build a tracked link for one session: page, prefill values, campaign tags."""
    event = managed_event_or_404(event_id)
    if event.is_room:
        abort(404)

    form = build_link_form(effective_fields(event))(formdata=request.args or None)
    link: TrackedLink | None = None
    if request.args and form.validate():
        try:
            link = build_tracked_link(
                event, form.chosen_page(), form.prefill_values(), form.utm_values()
            )
        except InvalidLinkValues as error:
            form.add_errors(error.errors)
        else:
            form.show_values({value.parameter: value.value for value in link.values})

    status = 422 if form.has_errors() else 200
    return render_template(
        "admin/links/session.html", event=event, form=form, link=link
    ), status
