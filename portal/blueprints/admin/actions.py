"""Actions in the admin area: the defaults of each scope, each session's and room's
own actions, and the settings of the whole site."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.blueprints.admin import bp, require_admin
from portal.blueprints.admin.sessions import managed_event_or_404
from portal.crm import get_crm
from portal.crm.base import CampaignInfo
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms.actions_admin import (
    TRIGGER_ORDER,
    TRIGGER_WORDING,
    AccountSearchForm,
    RuleForm,
    SiteSettingsForm,
    TriggerForm,
    TriggerWording,
    make_rule_form,
    make_trigger_form,
)
from portal.models import (
    ActionSet,
    ActivityKind,
    Event,
    FieldScope,
    FieldUpdateRule,
    InfluenceMode,
    RuleObject,
    TriggerAction,
)
from portal.services.action_editing import (
    ActionHolder,
    SiteSettingsChanges,
    TriggerChanges,
    action_set_of,
    add_field_update,
    delete_field_update,
    has_own_actions,
    reset_actions,
    rule_fields,
    update_site_settings,
    update_trigger,
)
from portal.services.action_sets import TASK_SETTING_TRIGGERS, TASK_TRIGGERS
from portal.services.action_sets import site_settings as current_site_settings
from portal.services.campaign_status import SessionEndStatuses
from portal.services.variables import Variable, variables_for

ANY_SCOPE = "any(" + ", ".join(scope.value for scope in FieldScope) + ")"
ANY_TRIGGER = "any(" + ", ".join(kind.value for kind in ActivityKind) + ")"
#: The preferred account is chosen from a list this long; a search narrows it.
ACCOUNT_LIST_LIMIT = 200
ROOM_SCOPES = (FieldScope.MEETING_ROOM, FieldScope.SUPPORT_ROOM)


@dataclass(frozen=True, slots=True)
class ActionsPage:
    """Whose actions an editor page shows, and where its forms are sent."""

    holder: ActionHolder
    heading: str
    #: The page's endpoint; its forms go to endpoints with suffixes of it.
    endpoint: str
    url_values: dict[str, Any] = field(default_factory=dict)

    @property
    def event(self) -> Event | None:
        """The session or room, when these are not a scope's defaults."""
        return self.holder if isinstance(self.holder, Event) else None

    @property
    def is_room(self) -> bool:
        """Whether the actions are a personal room's (whose tasks always complete)."""
        if isinstance(self.holder, Event):
            return self.holder.is_room
        return self.holder in ROOM_SCOPES

    def url(self, suffix: str = "", **values: Any) -> str:
        """The address of the page, or of one of its forms."""
        return url_for(self.endpoint + suffix, **self.url_values, **values)


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A rule as the editor lists it."""

    rule: FieldUpdateRule
    field_label: str
    #: Why the rule does nothing here, if it does not (no campaign, no task).
    idle_reason: str = ""


@dataclass(slots=True)
class TriggerCard:
    """One trigger on the editor: its settings, rules and forms."""

    trigger: ActivityKind
    settings: TriggerAction | None
    form: TriggerForm
    rule_form: RuleForm
    rules: list[RuleRow]
    variables: list[Variable]
    status_help: str
    #: A configured status the session's campaign does not have.
    status_warning: str = ""

    @property
    def wording(self) -> TriggerWording:
        """The trigger's name and the labels of its switches."""
        return TRIGGER_WORDING[self.trigger]


# The defaults of each scope (admins only).


@bp.get("/actions")
def action_scopes() -> str:
    """The three scopes whose default actions an admin sets."""
    require_admin()
    scopes = [(scope, action_set_of(scope)) for scope in FieldScope]
    return render_template(
        "admin/actions/scopes.html", scopes=scopes, trigger_order=TRIGGER_ORDER
    )


@bp.get(f"/actions/<{ANY_SCOPE}:scope>")
def action_scope(scope: str) -> str:
    """The default actions of one scope."""
    return _render_editor(_scope_page(scope))


@bp.post(f"/actions/<{ANY_SCOPE}:scope>/<{ANY_TRIGGER}:trigger>")
def action_scope_trigger(scope: str, trigger: str) -> Response | tuple[str, int]:
    """Save one trigger's default settings."""
    return _save_trigger(_scope_page(scope), ActivityKind(trigger))


@bp.post(f"/actions/<{ANY_SCOPE}:scope>/<{ANY_TRIGGER}:trigger>/rules")
def action_scope_rule(scope: str, trigger: str) -> Response | tuple[str, int]:
    """Add a field-update rule to a scope's defaults."""
    return _add_rule(_scope_page(scope), ActivityKind(trigger))


@bp.post(f"/actions/<{ANY_SCOPE}:scope>/rules/<int:rule_id>/delete")
def action_scope_rule_delete(scope: str, rule_id: int) -> Response:
    """Delete a field-update rule from a scope's defaults."""
    return _delete_rule(_scope_page(scope), rule_id)


# A session's own actions.


@bp.get("/sessions/<int:event_id>/actions")
def session_actions(event_id: int) -> str:
    """A session's actions, for its host or an admin."""
    return _render_editor(_session_page(event_id))


@bp.post(f"/sessions/<int:event_id>/actions/<{ANY_TRIGGER}:trigger>")
def session_actions_trigger(event_id: int, trigger: str) -> Response | tuple[str, int]:
    """Save one trigger's settings of a session."""
    return _save_trigger(_session_page(event_id), ActivityKind(trigger))


@bp.post(f"/sessions/<int:event_id>/actions/<{ANY_TRIGGER}:trigger>/rules")
def session_actions_rule(event_id: int, trigger: str) -> Response | tuple[str, int]:
    """Add a field-update rule to a session's actions."""
    return _add_rule(_session_page(event_id), ActivityKind(trigger))


@bp.post("/sessions/<int:event_id>/actions/rules/<int:rule_id>/delete")
def session_actions_rule_delete(event_id: int, rule_id: int) -> Response:
    """Delete a field-update rule from a session's actions."""
    return _delete_rule(_session_page(event_id), rule_id)


@bp.post("/sessions/<int:event_id>/actions/reset")
def session_actions_reset(event_id: int) -> Response:
    """Put a session's actions back to its scope's defaults."""
    return _reset(_session_page(event_id))


# A personal room's actions.


@bp.get("/rooms/<int:event_id>/actions")
def room_actions(event_id: int) -> str:
    """A personal room's actions, for its host or an admin."""
    return _render_editor(_room_page(event_id))


@bp.post(f"/rooms/<int:event_id>/actions/<{ANY_TRIGGER}:trigger>")
def room_actions_trigger(event_id: int, trigger: str) -> Response | tuple[str, int]:
    """Save one trigger's settings of a room."""
    return _save_trigger(_room_page(event_id), ActivityKind(trigger))


@bp.post(f"/rooms/<int:event_id>/actions/<{ANY_TRIGGER}:trigger>/rules")
def room_actions_rule(event_id: int, trigger: str) -> Response | tuple[str, int]:
    """Add a field-update rule to a room's actions."""
    return _add_rule(_room_page(event_id), ActivityKind(trigger))


@bp.post("/rooms/<int:event_id>/actions/rules/<int:rule_id>/delete")
def room_actions_rule_delete(event_id: int, rule_id: int) -> Response:
    """Delete a field-update rule from a room's actions."""
    return _delete_rule(_room_page(event_id), rule_id)


@bp.post("/rooms/<int:event_id>/actions/reset")
def room_actions_reset(event_id: int) -> Response:
    """Let a room follow its scope's defaults again."""
    return _reset(_room_page(event_id))


# The site's settings (admins only).


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> str | Response | tuple[str, int]:
    """Matching options, campaign influence and the session types hosts may use."""
    require_admin()
    search_form = AccountSearchForm(request.args)
    search = search_form.account_search.data if search_form.validate() else ""
    current = current_site_settings()
    form = SiteSettingsForm(
        data={
            "ignore_crm_users": current.ignore_crm_users,
            "preferred_account_id": current.preferred_account_id,
            "campaign_influence": current.campaign_influence.value,
            "enabled_session_types": current.enabled_session_types,
            "embed_origins": "\n".join(current.embed_origins),
        }
    )
    has_more_accounts = _offer_accounts(form, search, current.preferred_account_id)

    if form.validate_on_submit():
        changes = SiteSettingsChanges(
            ignore_crm_users=form.ignore_crm_users.data,
            preferred_account_id=form.preferred_account_id.data or "",
            campaign_influence=InfluenceMode(form.campaign_influence.data),
            enabled_session_types=list(form.enabled_session_types.data or []),
            embed_origins=form.origin_lines(),
        )
        try:
            changed = update_site_settings(changes, actor=current_user)
        except ValidationFailed as error:
            _show_error(form, error)
        else:
            flash("Settings saved." if changed else "Nothing changed.")
            return redirect(
                url_for("admin.settings", account_search=search or None), 303
            )

    page = render_template(
        "admin/actions/settings.html",
        form=form,
        search_form=search_form,
        search=search,
        show_search=has_more_accounts or bool(search),
        has_more_accounts=has_more_accounts,
    )
    return (page, 422) if request.method == "POST" else page


# What the editor pages share.


def _offer_accounts(form: SiteSettingsForm, search: str, current_id: str) -> bool:
    """Fill the preferred account's list; return whether the CRM has more to show."""
    accounts = get_crm().accounts(search, limit=ACCOUNT_LIST_LIMIT + 1)
    shown = accounts[:ACCOUNT_LIST_LIMIT]
    names = Counter(account.name for account in shown)
    choices = []
    if current_id and all(account.id != current_id for account in shown):
        # Kept in the list so that saving other settings does not drop it.
        choices.append((current_id, f"The current choice (account {current_id})"))
    choices += [
        (
            account.id,
            account.name
            if names[account.name] == 1
            else f"{account.name} ({account.id})",
        )
        for account in shown
    ]
    form.offer_accounts(choices)
    return len(accounts) > ACCOUNT_LIST_LIMIT


def _scope_page(scope: str) -> ActionsPage:
    require_admin()
    field_scope = FieldScope(scope)
    return ActionsPage(
        holder=field_scope,
        heading=f"Default actions: {field_scope.label}",
        endpoint="admin.action_scope",
        url_values={"scope": scope},
    )


def _session_page(event_id: int) -> ActionsPage:
    event = managed_event_or_404(event_id)
    if event.is_room:
        abort(404)
    return ActionsPage(
        holder=event,
        heading=f"Actions: {event.title}",
        endpoint="admin.session_actions",
        url_values={"event_id": event.id},
    )


def _room_page(event_id: int) -> ActionsPage:
    event = managed_event_or_404(event_id)
    if not event.is_room:
        abort(404)
    return ActionsPage(
        holder=event,
        heading=f"Actions: {event.title}",
        endpoint="admin.room_actions",
        url_values={"event_id": event.id},
    )


def _render_editor(
    page: ActionsPage,
    *,
    failed: TriggerForm | RuleForm | None = None,
    failed_trigger: ActivityKind | None = None,
) -> str:
    """The editor: a summary of every trigger, then one card each to change it."""
    crm = get_crm()
    action_set = action_set_of(page.holder)
    campaign = _campaign_of(page.event)
    cards = []
    for trigger in TRIGGER_ORDER:
        settings = action_set.for_trigger(trigger)
        form = _trigger_form(page, trigger, campaign, formdata=None, obj=settings)
        rule_form = make_rule_form(trigger, rule_fields(trigger, crm), formdata=None)
        if trigger is failed_trigger and isinstance(failed, TriggerForm):
            form = failed
        if trigger is failed_trigger and isinstance(failed, RuleForm):
            rule_form = failed
        cards.append(
            TriggerCard(
                trigger=trigger,
                settings=settings,
                form=form,
                rule_form=rule_form,
                rules=[
                    _rule_row(page, settings, rule)
                    for rule in action_set.rules_for(trigger)
                ],
                variables=variables_for(trigger),
                status_help=_status_help(page, trigger, campaign),
                status_warning=_status_warning(settings, campaign),
            )
        )
    return render_template(
        "admin/actions/editor.html",
        page=page,
        cards=cards,
        failed=failed,
        campaign=campaign,
        closing_statuses={
            status for status, closes in crm.task_statuses().items() if closes
        },
        has_own_copy=page.event is not None and has_own_actions(page.event),
        uses_series=_uses_series(page.event, action_set),
        task_setting_triggers=TASK_SETTING_TRIGGERS,
    )


def _save_trigger(
    page: ActionsPage, trigger: ActivityKind
) -> Response | tuple[str, int]:
    campaign = _campaign_of(page.event)
    form = _trigger_form(page, trigger, campaign)
    name = TRIGGER_WORDING[trigger].name
    if form.validate_on_submit():
        had_copy = page.event is None or has_own_actions(page.event)
        changes = TriggerChanges(
            campaign_status=(
                form.campaign_status.data or "" if "campaign_status" in form else None
            ),
            posts_to_feed=form.posts_to_feed.data,
            sends_email=form.sends_email.data if "sends_email" in form else False,
            has_task=form.has_task.data if "has_task" in form else None,
            task_status=form.task_status.data if "task_status" in form else None,
            task_priority=form.task_priority.data if "task_priority" in form else None,
            session_end=_session_end_statuses(form),
        )
        try:
            changed = update_trigger(page.holder, trigger, changes, actor=current_user)
        except ValidationFailed as error:
            _show_error(form, error)
        else:
            if changed:
                message = f"{name} actions saved.{_copy_note(page, had_copy)}"
            else:
                message = f"Nothing changed in the {name} actions."
            flash(message, _card_category(trigger))
            return redirect(page.url(_anchor=f"trigger-{trigger.value}"), 303)
    return _render_editor(page, failed=form, failed_trigger=trigger), 422


def _session_end_statuses(form: TriggerForm) -> SessionEndStatuses | None:
    """The no-show and short-stay settings, on the Session End card only."""
    if "no_show_status" not in form:
        return None
    return SessionEndStatuses(
        no_show_status=form.no_show_status.data or "",
        short_stay_minutes=form.short_stay_minutes.data,
        short_stay_status=form.short_stay_status.data or "",
    )


def _add_rule(page: ActionsPage, trigger: ActivityKind) -> Response | tuple[str, int]:
    form = make_rule_form(trigger, rule_fields(trigger, get_crm()))
    if form.validate_on_submit():
        had_copy = page.event is None or has_own_actions(page.event)
        target, field_name = form.target_and_field()
        try:
            add_field_update(
                page.holder,
                trigger=trigger,
                target=target,
                field=field_name,
                value=form.value.data or "",
                actor=current_user,
            )
        except ValidationFailed as error:
            _show_error(form, error, aliases={"field": "target_field"})
        else:
            flash(
                f"Field update added to {TRIGGER_WORDING[trigger].name}."
                f"{_copy_note(page, had_copy)}",
                _card_category(trigger),
            )
            return redirect(page.url(_anchor=f"trigger-{trigger.value}"), 303)
    return _render_editor(page, failed=form, failed_trigger=trigger), 422


def _delete_rule(page: ActionsPage, rule_id: int) -> Response:
    rule = db.session.get(FieldUpdateRule, rule_id)
    if rule is None or rule not in action_set_of(page.holder).rules:
        abort(404)
    trigger = rule.trigger
    had_copy = page.event is None or has_own_actions(page.event)
    delete_field_update(page.holder, rule, actor=current_user)
    flash(
        f"Field update deleted from {TRIGGER_WORDING[trigger].name}."
        f"{_copy_note(page, had_copy)}",
        _card_category(trigger),
    )
    return redirect(page.url(_anchor=f"trigger-{trigger.value}"), 303)


def _reset(page: ActionsPage) -> Response:
    if page.event is None:
        abort(404)
    reset_actions(page.event, actor=current_user)
    flash("The actions are back to the defaults.")
    return redirect(page.url(), 303)


def _trigger_form(
    page: ActionsPage,
    trigger: ActivityKind,
    campaign: CampaignInfo | None,
    **kwargs: Any,
) -> TriggerForm:
    form = make_trigger_form(
        trigger,
        task_statuses=get_crm().task_statuses(),
        has_task_setting=trigger in TASK_SETTING_TRIGGERS,
        has_priority=trigger in TASK_TRIGGERS,
        # In personal rooms a task is always completed: no status to choose.
        has_status_setting=not page.is_room,
        campaign_list_id="campaign-statuses" if campaign else None,
        **kwargs,
    )
    if page.is_room:
        # Rooms have no campaign, so there is no member status to set.
        del form.campaign_status
    return form


def _campaign_of(event: Event | None) -> CampaignInfo | None:
    if event is None or not event.campaign_id:
        return None
    return get_crm().campaign(event.campaign_id)


def _uses_series(event: Event | None, action_set: ActionSet) -> bool:
    """Whether an occurrence runs its series' actions (having none of its own)."""
    return (
        event is not None
        and event.action_set is None
        and event.series is not None
        and event.series.action_set is action_set
    )


def _rule_row(
    page: ActionsPage, settings: TriggerAction | None, rule: FieldUpdateRule
) -> RuleRow:
    spec = get_crm().fields(rule.target).get(rule.field)
    idle_reason = ""
    if spec is None:
        idle_reason = "the CRM has no such field now"
    elif (
        rule.target is RuleObject.CAMPAIGN_MEMBER
        and page.event is not None
        and not page.event.campaign_id
    ):
        idle_reason = "this session has no campaign"
    elif (
        rule.target is RuleObject.TASK
        and settings is not None
        and not settings.has_task
    ):
        idle_reason = "the task is switched off"
    return RuleRow(
        rule=rule,
        field_label=spec.label if spec is not None else rule.field,
        idle_reason=idle_reason,
    )


def _status_help(
    page: ActionsPage, trigger: ActivityKind, campaign: CampaignInfo | None
) -> str:
    if campaign is not None:
        default = campaign.default_status or "no status"
        text = f"Empty: new members get {default}, existing members keep theirs."
    elif page.event is not None:
        text = "Not used: this session has no campaign."
    else:
        text = (
            "For sessions with a campaign. Empty: new members get the campaign's "
            "default, existing members keep theirs."
        )
    return f"{text} {TRIGGER_WORDING[trigger].status_note}".strip()


def _status_warning(
    settings: TriggerAction | None, campaign: CampaignInfo | None
) -> str:
    if settings is None or campaign is None:
        return ""
    configured = [settings.campaign_status]
    if settings.trigger is ActivityKind.SESSION_END:
        configured += [settings.no_show_status, settings.short_stay_status]
    unknown = [
        status for status in configured if status and status not in campaign.statuses
    ]
    if not unknown:
        return ""
    fallback = campaign.default_status or "no status"
    return (
        f"“{unknown[0]}” is not one of {campaign.name}'s statuses: "
        f"the CRM will use its default ({fallback}) instead."
    )


def _card_category(trigger: ActivityKind) -> str:
    """The flash category that also shows a message on the trigger's card."""
    return f"trigger-{trigger.value}"


def _copy_note(page: ActionsPage, had_copy: bool) -> str:
    """What to tell the person when their change gave a room its own copy."""
    if had_copy or page.event is None:
        return ""
    kind = "room" if page.event.is_room else "session"
    return (
        f" This {kind} now has its own actions: later changes to the defaults "
        "no longer reach it."
    )


def _show_error(
    form: Any, error: ValidationFailed, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's message next to the field it is about."""
    name = (aliases or {}).get(error.field or "", error.field or "")
    target = form[name] if name and name in form else None
    if target is None:
        target = next(field for field in form if field.type != "CSRFTokenField")
    target.errors = [*target.errors, error.message]
