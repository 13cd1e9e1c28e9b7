"""Field definitions in the admin area: scope defaults, and each session's and room's.

The three kinds of list share their pages: a :class:`ListPage` says whose list it is,
which endpoints its buttons post to, and whether the signed-in account may change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.blueprints.admin import bp, require_admin
from portal.blueprints.admin.sessions import managed_event_or_404
from portal.errors import ValidationFailed
from portal.forms.fields_admin import (
    FieldDefinitionForm,
    LockScopeForm,
    field_definition_form,
)
from portal.models import Event, FieldDefinition, FieldList, FieldScope, RuleObject
from portal.services.field_editing import (
    Direction,
    ListOrigin,
    ListOwner,
    ResetKind,
    ResetPlan,
    add_field,
    crm_field_choices,
    definition_in,
    delete_field,
    describe_reset,
    edit_field,
    list_origin,
    lock_scope,
    move_field,
    reset_fields,
    rooms_with_own_list,
    shown_list,
    unlock_scope,
)
from portal.services.fields import global_list
from portal.services.permissions import can_edit_event_fields, is_scope_locked

Page = str | Response | tuple[str, int]


@dataclass(frozen=True, slots=True)
class ListPage:
    """Whose list a page shows, where its buttons go, and who may change it."""

    owner: ListOwner
    heading: str
    #: The endpoint of each of the list's pages: list, new, edit, move, delete, reset.
    endpoints: Mapping[str, str]
    url_args: Mapping[str, Any]
    can_edit: bool
    back_label: str
    back_url: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def event(self) -> Event | None:
        """The session or room, when the list is not a scope's defaults."""
        return self.owner if isinstance(self.owner, Event) else None

    def url(self, page: str, **values: Any) -> str:
        """The address of one of this list's pages."""
        return url_for(self.endpoints[page], **self.url_args, **values)


def _endpoints(list_endpoint: str, item: str, reset: str | None) -> dict[str, str]:
    endpoints = {
        "list": list_endpoint,
        "new": f"admin.{item}_new",
        "edit": f"admin.{item}_edit",
        "move": f"admin.{item}_move",
        "delete": f"admin.{item}_delete",
    }
    if reset:
        endpoints["reset"] = reset
    return endpoints


SCOPE_ENDPOINTS = _endpoints("admin.field_scope", "field_scope", None)
SESSION_ENDPOINTS = _endpoints(
    "admin.session_fields", "session_field", "admin.session_fields_reset"
)
ROOM_ENDPOINTS = _endpoints(
    "admin.room_fields", "room_field", "admin.room_fields_reset"
)


def _scope_page(scope_name: str) -> ListPage:
    require_admin()
    scope = _scope_or_404(scope_name)
    return ListPage(
        owner=scope,
        heading=f"Default fields: {scope.label}",
        endpoints=SCOPE_ENDPOINTS,
        url_args={"scope_name": scope.value},
        can_edit=True,
        back_label="All field scopes",
        back_url=url_for("admin.field_scopes"),
        extra={"lock": _scope_row(scope)},
    )


def _event_page(event_id: int, *, is_room: bool) -> ListPage:
    event = managed_event_or_404(event_id)
    if event.is_room != is_room:
        abort(404)
    if is_room:
        back_label, back_url = "Rooms", url_for("admin.rooms")
    else:
        back_label = event.title
        back_url = url_for("admin.session_detail", event_id=event.id)
    return ListPage(
        owner=event,
        heading=f"Fields of {event.title}",
        endpoints=ROOM_ENDPOINTS if is_room else SESSION_ENDPOINTS,
        url_args={"event_id": event.id},
        can_edit=can_edit_event_fields(current_user, event),
        back_label=back_label,
        back_url=back_url,
        extra={"is_locked": is_scope_locked(event), "origin": list_origin(event)},
    )


def _scope_or_404(scope_name: str) -> FieldScope:
    try:
        return FieldScope(scope_name)
    except ValueError:
        abort(404)


# The scopes


@dataclass(frozen=True, slots=True)
class ScopeRow:
    """One global scope on the scopes page."""

    scope: FieldScope
    field_list: FieldList
    rooms_with_own_list: int
    lock_form: LockScopeForm | None


@bp.get("/fields")
def field_scopes() -> str:
    """The three global scopes, each with its list and, for rooms, the lock."""
    require_admin()
    rows = [_scope_row(scope) for scope in FieldScope]
    return render_template("admin/fields/scopes.html", rows=rows)


def _scope_row(scope: FieldScope) -> ScopeRow:
    """A scope's list and, for a room scope, the form that locks it."""
    own = len(rooms_with_own_list(scope))
    lock_form = None
    if scope is not FieldScope.SCHEDULED:
        lock_form = LockScopeForm(prefix=scope.value)
        lock_form.reset_rooms.label.text = (
            f"Also put the {own} room{'s' if own != 1 else ''} with a list of "
            "its own back on these defaults"
        )
    return ScopeRow(scope, global_list(scope), own, lock_form)


def _after_locking(scope: FieldScope) -> Response:
    """Back to the page the lock was changed on: the scope's list, or all scopes."""
    if request.args.get("back") == "list":
        return redirect(url_for("admin.field_scope", scope_name=scope.value), 303)
    return redirect(url_for("admin.field_scopes"), 303)


@bp.post("/fields/<scope_name>/lock")
def field_scope_lock(scope_name: str) -> Response:
    """Lock a room scope: hosts can no longer change their rooms' lists."""
    require_admin()
    scope = _scope_or_404(scope_name)
    form = LockScopeForm(prefix=scope.value)

    try:
        reset = lock_scope(scope, current_user, reset_rooms=bool(form.reset_rooms.data))
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        message = f"Locked the defaults for {scope.label.lower()}."
        if reset:
            message += f" {reset} room{'s' if reset != 1 else ''} went back to them."
        flash(message)
    return _after_locking(scope)


@bp.post("/fields/<scope_name>/unlock")
def field_scope_unlock(scope_name: str) -> Response:
    """Let hosts change their rooms' lists again."""
    require_admin()
    scope = _scope_or_404(scope_name)

    try:
        unlock_scope(scope, current_user)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash(f"Unlocked the defaults for {scope.label.lower()}.")
    return _after_locking(scope)


# One route per page and kind of list; the work is shared below.


@bp.get("/fields/<scope_name>")
def field_scope(scope_name: str) -> str:
    """A scope's default fields."""
    return _show_list(_scope_page(scope_name))


@bp.route("/fields/<scope_name>/new", methods=["GET", "POST"])
def field_scope_new(scope_name: str) -> Page:
    """Add a field to a scope's defaults."""
    return _new_field(_scope_page(scope_name))


@bp.route("/fields/<scope_name>/<int:definition_id>", methods=["GET", "POST"])
def field_scope_edit(scope_name: str, definition_id: int) -> Page:
    """Edit a field of a scope's defaults."""
    return _edit_field(_scope_page(scope_name), definition_id)


@bp.post("/fields/<scope_name>/<int:definition_id>/<any(up, down):direction>")
def field_scope_move(scope_name: str, definition_id: int, direction: str) -> Response:
    """Move a field of a scope's defaults up or down."""
    return _move_field(_scope_page(scope_name), definition_id, direction)


@bp.post("/fields/<scope_name>/<int:definition_id>/delete")
def field_scope_delete(scope_name: str, definition_id: int) -> Response:
    """Delete a field of a scope's defaults."""
    return _delete_field(_scope_page(scope_name), definition_id)


@bp.get("/sessions/<int:event_id>/fields")
def session_fields(event_id: int) -> str:
    """A session's fields."""
    return _show_list(_event_page(event_id, is_room=False))


@bp.route("/sessions/<int:event_id>/fields/new", methods=["GET", "POST"])
def session_field_new(event_id: int) -> Page:
    """Add a field to a session."""
    return _new_field(_event_page(event_id, is_room=False))


@bp.route(
    "/sessions/<int:event_id>/fields/<int:definition_id>", methods=["GET", "POST"]
)
def session_field_edit(event_id: int, definition_id: int) -> Page:
    """Edit a field of a session."""
    return _edit_field(_event_page(event_id, is_room=False), definition_id)


@bp.post(
    "/sessions/<int:event_id>/fields/<int:definition_id>/<any(up, down):direction>"
)
def session_field_move(event_id: int, definition_id: int, direction: str) -> Response:
    """Move a field of a session up or down."""
    return _move_field(_event_page(event_id, is_room=False), definition_id, direction)


@bp.post("/sessions/<int:event_id>/fields/<int:definition_id>/delete")
def session_field_delete(event_id: int, definition_id: int) -> Response:
    """Delete a field of a session."""
    return _delete_field(_event_page(event_id, is_room=False), definition_id)


@bp.route("/sessions/<int:event_id>/fields/reset", methods=["GET", "POST"])
def session_fields_reset(event_id: int) -> Page:
    """Confirm, then put a session's fields back to the defaults."""
    return _reset(_event_page(event_id, is_room=False))


@bp.get("/rooms/<int:event_id>/fields")
def room_fields(event_id: int) -> str:
    """A personal room's fields (read-only for its host when the scope is locked)."""
    return _show_list(_event_page(event_id, is_room=True))


@bp.route("/rooms/<int:event_id>/fields/new", methods=["GET", "POST"])
def room_field_new(event_id: int) -> Page:
    """Add a field to a room."""
    return _new_field(_event_page(event_id, is_room=True))


@bp.route("/rooms/<int:event_id>/fields/<int:definition_id>", methods=["GET", "POST"])
def room_field_edit(event_id: int, definition_id: int) -> Page:
    """Edit a field of a room."""
    return _edit_field(_event_page(event_id, is_room=True), definition_id)


@bp.post("/rooms/<int:event_id>/fields/<int:definition_id>/<any(up, down):direction>")
def room_field_move(event_id: int, definition_id: int, direction: str) -> Response:
    """Move a field of a room up or down."""
    return _move_field(_event_page(event_id, is_room=True), definition_id, direction)


@bp.post("/rooms/<int:event_id>/fields/<int:definition_id>/delete")
def room_field_delete(event_id: int, definition_id: int) -> Response:
    """Delete a field of a room."""
    return _delete_field(_event_page(event_id, is_room=True), definition_id)


@bp.route("/rooms/<int:event_id>/fields/reset", methods=["GET", "POST"])
def room_fields_reset(event_id: int) -> Page:
    """Confirm, then put a room back on its scope's defaults."""
    return _reset(_event_page(event_id, is_room=True))


# The shared work


def _show_list(page: ListPage) -> str:
    field_list = shown_list(page.owner)
    event = page.event
    return render_template(
        "admin/fields/list.html",
        page=page,
        definitions=field_list.definitions,
        reset_plan=describe_reset(event) if event is not None else None,
        origins=ListOrigin,
        rooms_with_own_list=(
            len(rooms_with_own_list(page.owner))
            if isinstance(page.owner, FieldScope)
            else 0
        ),
    )


def _new_field(page: ListPage) -> Page:
    _require_edit(page)
    form = _form(None)
    if not form.validate_on_submit():
        return _show_form(page, form, None)

    try:
        definition = add_field(page.owner, form.field_values(None), current_user)
    except ValidationFailed as error:
        return _refused(page, form, None, error)
    flash(f"Added {definition.display_name}.")
    return redirect(page.url("list"), 303)


def _edit_field(page: ListPage, definition_id: int) -> Page:
    definition = _definition_or_404(page, definition_id)
    _require_edit(page)
    form = _form(definition)
    if not form.validate_on_submit():
        return _show_form(page, form, definition)

    values = form.field_values(definition)
    old_parameter, old_key = definition.param_name, definition.param_key
    try:
        saved = edit_field(page.owner, definition, values, current_user)
    except ValidationFailed as error:
        return _refused(page, form, definition, error)
    flash(f"Saved {saved.display_name}.")
    # Parameters match without regard to case: only another key breaks links.
    if saved.param_key != old_key:
        flash(
            f"The prefill parameter of {saved.display_name} is now "
            f"{saved.param_name}: links with {old_parameter} no longer fill it. "
            "Build them again under Tracked links.",
            "warning",
        )
    return redirect(page.url("list"), 303)


def _move_field(page: ListPage, definition_id: int, direction: str) -> Response:
    definition = _definition_or_404(page, definition_id)
    _require_edit(page)

    name = definition.display_name
    try:
        move_field(page.owner, definition, Direction(direction), current_user)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash(f"Moved {name} {direction}.")
    return redirect(page.url("list"), 303)


def _delete_field(page: ListPage, definition_id: int) -> Response:
    definition = _definition_or_404(page, definition_id)
    _require_edit(page)

    name = definition.display_name
    try:
        delete_field(page.owner, definition, current_user)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash(f"Deleted {name}.")
    return redirect(page.url("list"), 303)


def _reset(page: ListPage) -> Page:
    event = page.event
    if event is None:
        abort(404)
    _require_edit(page)
    plan = describe_reset(event)
    if request.method != "POST":
        return render_template(
            "admin/fields/reset.html",
            page=page,
            plan=plan,
            current=shown_list(event),
            kinds=ResetKind,
        )

    try:
        reset_fields(event, current_user)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash(_reset_message(event, plan))
    return redirect(page.url("list"), 303)


def _reset_message(event: Event, plan: ResetPlan) -> str:
    if not plan.changes_anything:
        return f"{event.title} already uses the defaults; nothing changed."
    if plan.kind is ResetKind.FRESH_COPY:
        return f"{event.title} has a fresh copy of the default fields."
    if plan.kind is ResetKind.FOLLOW_SERIES:
        return f"{event.title} uses its series' fields again."
    return f"{event.title} uses the default fields again."


def _require_edit(page: ListPage) -> None:
    if not page.can_edit:
        abort(403)


def _definition_or_404(page: ListPage, definition_id: int) -> FieldDefinition:
    definition = definition_in(page.owner, definition_id)
    if definition is None:
        abort(404)
    return definition


def _form(definition: FieldDefinition | None) -> FieldDefinitionForm:
    return field_definition_form(
        definition,
        crm_field_choices(RuleObject.CONTACT),
        crm_field_choices(RuleObject.LEAD),
    )


def _show_form(
    page: ListPage, form: FieldDefinitionForm, definition: FieldDefinition | None
) -> tuple[str, int]:
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/fields/edit.html", page=page, form=form, definition=definition
    ), status


def _refused(
    page: ListPage,
    form: FieldDefinitionForm,
    definition: FieldDefinition | None,
    error: ValidationFailed,
) -> tuple[str, int]:
    """The form again, with the service's message next to the field it is about."""
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, error.message]
    else:
        flash(error.message, "error")
    return _show_form(page, form, definition)
