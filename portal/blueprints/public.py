"""Public pages: hosted registration, direct join, confirmation, personal rooms."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

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
    locked_values,
)
from portal.forms.tokens import locked_values_of
from portal.models import ActivityKind, Event, Registrant, utcnow
from portal.security import let_forms_leave
from portal.services.action_sets import effective_action_set
from portal.services.calendar import registrant_calendar
from portal.services.events import event_by_key
from portal.services.fields import FieldSpec, effective_fields
from portal.services.links import calendar_url, personal_join_url
from portal.services.prefill import locked_prefill, read_prefill
from portal.services.registration import (
    RegistrationClosed,
    record_join,
    register_attendee,
    registrant_by_token,
)

bp = Blueprint("public", __name__)
logger = logging.getLogger(__name__)

Page = str | BaseResponse | tuple[str, int]


@bp.get("/")
def home() -> str:
    """What the portal is, for someone who opens its bare address."""
    return render_template("public/home.html")


@bp.route("/e/<key>/register", methods=["GET", "POST"])
def register(key: str) -> Page:
    """The hosted registration page."""
    return registration_page(session_or_404(key), embedded=False)


@bp.get("/e/<key>/registered/<token>")
def registered(key: str, token: str) -> str:
    """The confirmation shown after registering, with the personal join link."""
    event, registrant = registrant_or_404(key, token)
    return confirmation_page(event, registrant, embedded=False)


@bp.get("/e/<key>/already-registered")
def already_registered(key: str) -> str:
    """Said to someone who registers an email that was registered before."""
    return already_registered_page(session_or_404(key), embedded=False)


@bp.get("/e/<key>/registered/<token>/calendar.ics")
def calendar(key: str, token: str) -> Response:
    """The registrant's calendar file."""
    event, registrant = registrant_or_404(key, token)
    content = registrant_calendar(registrant, personal_join_url(registrant))
    if content is None:
        abort(404)
    response = Response(content, mimetype="text/calendar")
    response.headers.set(
        "Content-Disposition", "attachment", filename=calendar_filename(event)
    )
    return response


@bp.route("/e/<key>/join", methods=["GET", "POST"])
def join(key: str) -> Page:
    """The direct join page: records the join, then opens the meeting."""
    return join_page(session_or_404(key))


@bp.route("/room/<key>/join", methods=["GET", "POST"])
def room_join(key: str) -> Page:
    """A host's personal room: the join page is its only page."""
    event = event_by_key(key)
    if event is None or not event.is_room:
        abort(404)
    return join_page(event)


def registration_page(event: Event, *, embedded: bool) -> Page:
    """Show or take a registration form, hosted or embedded."""
    layout = "embed/base.html" if embedded else "base.html"
    if event.has_ended(utcnow()):
        return render_template("public/closed.html", event=event, layout=layout)

    specs = effective_fields(event)
    form_class = build_attendee_form(specs)
    meta = _form_meta(
        event, specs, f"{'embed' if embedded else 'register'}:{event.key}"
    )
    if request.method != "POST":
        form = _fresh_form(form_class, specs, meta)
        return _render_form("public/register.html", event, form, layout=layout)

    form = form_class(request.form, meta=meta)
    if form.is_from_a_bot():
        _log_bot(event)
        return render_template("public/received.html", event=event, layout=layout)
    if not form.validate():
        return _render_form("public/register.html", event, form, layout=layout)
    # Read before the registration's commit, after which it would be loaded again.
    key = event.key
    try:
        registration = register_attendee(
            event, form.answers(), submission_id=str(form.submission_id)
        )
    except RegistrationClosed:
        return render_template("public/closed.html", event=event, layout=layout)

    blueprint = "embed" if embedded else "public"
    if not registration.may_see_confirmation:
        resent = 1 if registration.confirmation_resent else None
        address = url_for(f"{blueprint}.already_registered", key=key, sent=resent)
        return redirect(address, 303)
    token = registration.registrant.token
    return redirect(url_for(f"{blueprint}.registered", key=key, token=token), 303)


def confirmation_page(event: Event, registrant: Registrant, *, embedded: bool) -> str:
    """The registration's confirmation, hosted or embedded."""
    has_calendar = not event.is_always_available
    return render_template(
        "public/registered.html",
        event=event,
        registrant=registrant,
        join_link=personal_join_url(registrant),
        calendar_link=calendar_url(registrant) if has_calendar else None,
        calendar_filename=calendar_filename(event),
        layout="embed/base.html" if embedded else "base.html",
    )


def already_registered_page(event: Event, *, embedded: bool) -> str:
    """The answer to a registration for an email registered before."""
    settings = effective_action_set(event).for_trigger(ActivityKind.REGISTER)
    return render_template(
        "public/already_registered.html",
        event=event,
        sends_email=settings is not None and settings.sends_email,
        was_sent_now=request.args.get("sent") == "1",
        layout="embed/base.html" if embedded else "base.html",
    )


def join_page(event: Event) -> Page:
    """Show or take a join form, then send the attendee to the meeting."""
    if not event.join_url:
        return render_template("public/join_unavailable.html", event=event)

    let_forms_leave()
    password_check = _password_check(event)
    meta = {"csrf_context": f"join:{event.key}"}
    registrant = registrant_by_token(event, request.args.get("t", ""))
    if registrant is not None:
        return _personal_join(event, registrant, password_check, meta)

    specs = effective_fields(event)
    form_class = build_attendee_form(specs, password_check=password_check)
    meta = _form_meta(event, specs, meta["csrf_context"])
    if request.method != "POST":
        form = _fresh_form(form_class, specs, meta)
        return _render_form(
            "public/join.html", event, form, invalid_link="t" in request.args
        )

    form = form_class(request.form, meta=meta)
    if form.is_from_a_bot():
        _log_bot(event)
        return redirect(event.join_url, code=303)
    if not form.validate():
        return _render_form("public/join.html", event, form)
    # Read before the join's commit, after which it would be loaded again.
    join_url = event.join_url
    record_join(event, submission_id=str(form.submission_id), answers=form.answers())
    return redirect(join_url, code=303)


def _personal_join(
    event: Event,
    registrant: Registrant,
    password_check: Callable[[str], bool] | None,
    meta: dict[str, str],
) -> Page:
    """The one-button join page of a personal join link."""
    form_class = build_join_button_form(password_check)
    if request.method != "POST":
        form = form_class(meta=meta)
        return _render_form("public/join.html", event, form, registrant=registrant)

    form = form_class(request.form, meta=meta)
    if not form.validate():
        return _render_form("public/join.html", event, form, registrant=registrant)
    join_url = event.join_url
    record_join(event, submission_id=str(form.submission_id), registrant=registrant)
    return redirect(join_url, code=303)


def _form_meta(
    event: Event, specs: tuple[FieldSpec, ...], context: str
) -> dict[str, Any]:
    """The form's page context and the values of its locked fields.

    A form as first shown takes them from the address, if the tracked-link builder
    signed it; a sent form from its own token, which the portal signed.
    """
    if request.method == "POST":
        carried = locked_values_of(request.form.get("form_token"), context)
        return {"csrf_context": context, "locked_values": locked_values(specs, carried)}

    values = locked_prefill(event, specs, list(request.args.items(multi=True)))
    return {"csrf_context": context, "locked_values": values}


def _log_bot(event: Event) -> None:
    logger.warning(
        "Honeypot filled on %s for event %s from %s; nothing recorded",
        request.path,
        event.id,
        request.remote_addr,
    )


def _fresh_form(form_class: Any, specs: tuple[FieldSpec, ...], meta: Any) -> Any:
    """A form as first shown: prefilled from the address, else the defaults."""
    prefill = read_prefill(request.args.items(multi=True))
    return form_class(data=initial_values(specs, prefill), meta=meta)


def _render_form(template: str, event: Event, form: Any, **context: Any) -> Page:
    """A page with a form; 422 when it shows a sent form's errors."""
    context.setdefault("layout", "base.html")
    page = render_template(template, event=event, form=form, **context)
    return (page, 422) if request.method == "POST" and form.errors else page


def calendar_filename(event: Event) -> str:
    """A calendar file's name from the session's title: ``quarterly-review.ics``."""
    words = "".join(
        character if character.isalnum() else " " for character in event.title.lower()
    ).split()
    stem = "-".join(words)[:60].strip("-")
    return f"{stem or 'session'}.ics"


def _password_check(event: Event) -> Callable[[str], bool] | None:
    expected = event.join_password
    if not expected:
        return None
    # Spaces around a pasted password are never part of it.
    return lambda given: hmac.compare_digest(
        given.strip().encode(), expected.strip().encode()
    )


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
