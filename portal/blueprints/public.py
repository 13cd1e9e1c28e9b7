"""Public pages: hosted registration, direct join, confirmation, personal rooms."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from portal.forms.attendee import (
    build_attendee_form,
    build_join_button_form,
    initial_values,
)
from portal.models import Event, Registrant, utcnow
from portal.services.calendar import registrant_calendar
from portal.services.events import event_by_key
from portal.services.fields import effective_fields
from portal.services.links import calendar_url, personal_join_url
from portal.services.prefill import read_prefill
from portal.services.registration import (
    RegistrationClosed,
    record_join,
    register_attendee,
    registrant_by_token,
)

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> str:
    """What the portal is, for someone who opens its bare address."""
    return render_template("public/home.html")


@bp.route("/e/<key>/register", methods=["GET", "POST"])
def register(key: str) -> str | BaseResponse | tuple[str, int]:
    """The hosted registration page."""
    return registration_page(session_or_404(key), embedded=False)


@bp.get("/e/<key>/registered/<token>")
def registered(key: str, token: str) -> str:
    """The confirmation shown after registering, with the personal join link."""
    event, registrant = registrant_or_404(key, token)
    return confirmation_page(event, registrant, embedded=False)


@bp.get("/e/<key>/registered/<token>/calendar.ics")
def calendar(key: str, token: str) -> Response:
    """The registrant's calendar file."""
    _event, registrant = registrant_or_404(key, token)
    content = registrant_calendar(registrant, personal_join_url(registrant))
    if content is None:
        abort(404)
    return Response(
        content,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="session.ics"'},
    )


@bp.route("/e/<key>/join", methods=["GET", "POST"])
def join(key: str) -> str | BaseResponse | tuple[str, int]:
    """The direct join page: records the join, then opens the meeting."""
    return join_page(session_or_404(key))


@bp.route("/room/<key>/join", methods=["GET", "POST"])
def room_join(key: str) -> str | BaseResponse | tuple[str, int]:
    """A host's personal room: the join page is its only page."""
    event = event_by_key(key)
    if event is None or not event.is_room:
        abort(404)
    return join_page(event)


def registration_page(
    event: Event, *, embedded: bool
) -> str | BaseResponse | tuple[str, int]:
    """Show or take a registration form, hosted or embedded."""
    layout = "embed/base.html" if embedded else "base.html"
    if event.has_ended(utcnow()):
        return render_template("public/closed.html", event=event, layout=layout)

    specs = effective_fields(event)
    form_class = build_attendee_form(specs)
    page = "embed" if embedded else "register"
    meta = {"csrf_context": f"{page}:{event.key}"}
    if request.method == "GET":
        prefill = read_prefill(request.args.items(multi=True))
        form = form_class(data=initial_values(specs, prefill), meta=meta)
        return render_template(
            "public/register.html", event=event, form=form, layout=layout
        )

    form = form_class(request.form, meta=meta)
    if not form.validate():
        return (
            render_template(
                "public/register.html", event=event, form=form, layout=layout
            ),
            422,
        )
    try:
        registration = register_attendee(event, form.answers())
    except RegistrationClosed:
        return render_template("public/closed.html", event=event, layout=layout)
    endpoint = "embed.registered" if embedded else "public.registered"
    again = None if registration.is_new else 1
    return redirect(
        url_for(
            endpoint, key=event.key, token=registration.registrant.token, again=again
        ),
        code=303,
    )


def confirmation_page(event: Event, registrant: Registrant, *, embedded: bool) -> str:
    """The registration's confirmation, hosted or embedded."""
    return render_template(
        "public/registered.html",
        event=event,
        registrant=registrant,
        is_repeat=request.args.get("again") == "1",
        join_link=personal_join_url(registrant),
        calendar_link=calendar_url(registrant)
        if not event.is_always_available
        else None,
        layout="embed/base.html" if embedded else "base.html",
    )


def join_page(event: Event) -> str | BaseResponse | tuple[str, int]:
    """Show or take a join form, then send the attendee to the meeting."""
    if not event.join_url:
        return render_template("public/join_unavailable.html", event=event)

    password_check = _password_check(event)
    meta = {"csrf_context": f"join:{event.key}"}
    registrant = registrant_by_token(event, request.args.get("t", ""))
    if registrant is not None:
        button_form = build_join_button_form(password_check)(
            request.form if request.method == "POST" else None, meta=meta
        )
        if request.method == "POST" and button_form.validate():
            record_join(
                event,
                submission_id=str(button_form.submission_id),
                registrant=registrant,
            )
            return redirect(event.join_url, code=303)
        return _render_join(event, button_form, registrant=registrant)

    specs = effective_fields(event)
    form_class = build_attendee_form(specs, password_check=password_check)
    if request.method == "GET":
        prefill = read_prefill(request.args.items(multi=True))
        form = form_class(data=initial_values(specs, prefill), meta=meta)
        return _render_join(event, form, invalid_link="t" in request.args)

    form = form_class(request.form, meta=meta)
    if not form.validate():
        return _render_join(event, form)
    record_join(event, submission_id=str(form.submission_id), answers=form.answers())
    return redirect(event.join_url, code=303)


def _render_join(
    event: Event,
    form: object,
    *,
    registrant: Registrant | None = None,
    invalid_link: bool = False,
) -> str | tuple[str, int]:
    page = render_template(
        "public/join.html",
        event=event,
        form=form,
        registrant=registrant,
        invalid_link=invalid_link,
    )
    has_errors = bool(getattr(form, "errors", None))
    return (page, 422) if request.method == "POST" and has_errors else page


def _password_check(event: Event) -> Callable[[str], bool] | None:
    expected = event.join_password
    if not expected:
        return None
    return lambda given: hmac.compare_digest(given.encode(), expected.encode())


def session_or_404(key: str) -> Event:
    """The session (not a room) with this key, or a 404 answer."""
    event = event_by_key(key)
    if event is None or event.is_room:
        abort(404)
    return event


def registrant_or_404(key: str, token: str) -> tuple[Event, Registrant]:
    """A session and one of its registrants, by key and personal token, or 404."""
    event = session_or_404(key)
    registrant = registrant_by_token(event, token)
    if registrant is None or registrant.registered_at is None:
        abort(404)
    return event, registrant
