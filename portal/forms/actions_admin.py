"""Admin forms of the actions editor and the site settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.crm.fields import TASK_PRIORITIES, CrmField
from portal.forms.sessions_admin import OptionalIntegerField
from portal.models import ActivityKind, EventType, InfluenceMode, RuleObject

#: Rule values are stored in 1,000 characters.
RULE_VALUE_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class TriggerWording:
    """How the editor names a trigger and its switches."""

    name: str
    #: When it fires, in a sentence.
    when: str
    task_label: str = ""
    email_label: str = ""
    #: Who the campaign status goes to, when that is not everyone the trigger meets.
    status_note: str = ""


#: The triggers in the order an attendee meets them; Email, which follows any of
#: them, comes last.
TRIGGER_ORDER = (
    ActivityKind.REGISTER,
    ActivityKind.JOIN,
    ActivityKind.LEAVE,
    ActivityKind.SESSION_START,
    ActivityKind.SESSION_END,
    ActivityKind.EMAIL,
)

TRIGGER_WORDING: dict[ActivityKind, TriggerWording] = {
    ActivityKind.REGISTER: TriggerWording(
        "Register",
        "Someone registers on the hosted or the embedded form.",
        task_label="Log a task in the person's activity history",
        email_label="Send the confirmation (join link and calendar file)",
    ),
    ActivityKind.JOIN: TriggerWording(
        "Join",
        "Someone joins, on the join page or as the meeting platform reports.",
        task_label="Log a task in the person's activity history",
        email_label="Send a “you joined” email",
    ),
    ActivityKind.LEAVE: TriggerWording(
        "Leave",
        "Someone leaves the meeting, as the meeting platform reports.",
        task_label="Update the join task with the leave time and duration",
        email_label="Send a thank-you email",
    ),
    ActivityKind.SESSION_START: TriggerWording(
        "Session Start",
        "The session starts; the actions run for each registrant.",
        email_label="Send a “starting now” email to those not yet in",
    ),
    ActivityKind.SESSION_END: TriggerWording(
        "Session End",
        "The session ends; the actions run for each registrant.",
        email_label="Send a follow-up: thanks to those who came, "
        "“sorry we missed you” to the others",
        status_note="Given to those who joined; below, the status for those who "
        "never came, and for those who stayed only a short time.",
    ),
    ActivityKind.EMAIL: TriggerWording(
        "Email",
        "The portal sends the attendee one of the emails switched on above.",
        task_label="Log a task in the person's activity history",
    ),
}

SESSION_TYPE_LABELS: dict[EventType, str] = {
    EventType.WEBINAR: "Webinar",
    EventType.MEETING: "Meeting",
    EventType.LEARNING: "Learning session",
    EventType.SUPPORT: "Support session",
    EventType.EXISTING: "Existing activity on the meeting platform",
}

INFLUENCE_CHOICES = [
    SelectChoice(
        InfluenceMode.NONE.value,
        "None: sessions never credit their campaign on opportunities.",
    ),
    SelectChoice(
        InfluenceMode.EXISTING.value,
        "Existing: the campaign is added to each open opportunity of a contact's "
        "account, and made primary only where none is set yet.",
    ),
    SelectChoice(
        InfluenceMode.CURRENT.value,
        "Current: the campaign is added to each open opportunity of a contact's "
        "account and made its primary campaign.",
    ),
]


_STATUS_TOO_LONG = "A campaign member status has at most 40 characters."


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class TriggerForm(FlaskForm):
    """One trigger's settings; fields the trigger has no use for are removed."""

    has_task = BooleanField("Log a task")
    task_status = SelectField("Task status")
    task_priority = SelectField(
        "Task priority",
        choices=[SelectChoice(priority) for priority in TASK_PRIORITIES],
    )
    campaign_status = StringField(
        "Campaign member status",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=40, message=_STATUS_TOO_LONG),
        ],
    )
    posts_to_feed = BooleanField("Post to the person's CRM feed")
    sends_email = BooleanField("Send an email")
    # Session End only.
    no_show_status = StringField(
        "Status for registrants who never joined",
        filters=[_strip],
        validators=[Optional(), Length(max=40, message=_STATUS_TOO_LONG)],
    )
    short_stay_minutes = OptionalIntegerField(
        "Short stay: fewer minutes than",
        invalid_value_message="Enter a whole number of minutes.",
        validators=[
            Optional(),
            NumberRange(min=1, max=24 * 60, message="Enter 1 to 1440 minutes."),
        ],
    )
    short_stay_status = StringField(
        "Status for a short stay",
        filters=[_strip],
        validators=[Optional(), Length(max=40, message=_STATUS_TOO_LONG)],
    )


def make_trigger_form(
    trigger: ActivityKind,
    *,
    task_statuses: Mapping[str, bool],
    has_task_setting: bool,
    has_priority: bool,
    has_status_setting: bool,
    campaign_list_id: str | None,
    **kwargs: object,
) -> TriggerForm:
    """The settings form of one trigger, prefixed with its name on the page."""
    wording = TRIGGER_WORDING[trigger]
    form = TriggerForm(prefix=trigger.value, **kwargs)
    form.task_status.choices = [
        SelectChoice(
            status,
            f"{status} (closes the task)" if closes else f"{status} (stays open)",
        )
        for status, closes in task_statuses.items()
    ]
    if has_task_setting:
        form.has_task.label.text = wording.task_label
    else:
        del form.has_task
    if not (has_task_setting and has_status_setting):
        del form.task_status
    elif trigger is ActivityKind.LEAVE:
        form.task_status.label.text = "Join task status after leaving"
    if not (has_task_setting and has_priority):
        del form.task_priority
    if wording.email_label:
        form.sends_email.label.text = wording.email_label
    else:
        del form.sends_email
    status_fields = [form.campaign_status]
    if trigger is ActivityKind.SESSION_END:
        status_fields += [form.no_show_status, form.short_stay_status]
        form.short_stay_minutes.render_kw = {"min": 1, "max": 24 * 60}
    else:
        del form.no_show_status, form.short_stay_minutes, form.short_stay_status
    for field in status_fields:
        field.render_kw = {"maxlength": 40, "autocomplete": "off"}
        if campaign_list_id:
            field.render_kw["list"] = campaign_list_id
    return form


class RuleForm(FlaskForm):
    """A new field-update rule: the field to set and the value, with variables."""

    target_field = SelectField(
        "Field to set", validators=[InputRequired(message="Choose a field.")]
    )
    value = StringField(
        "Value",
        validators=[
            DataRequired(message="Enter the value to write."),
            Length(max=RULE_VALUE_LENGTH),
        ],
        render_kw={"maxlength": RULE_VALUE_LENGTH, "autocomplete": "off"},
    )

    def target_and_field(self) -> tuple[RuleObject, str]:
        """The object and the field chosen (``task:Subject`` is the Task's Subject)."""
        target, _, field = str(self.target_field.data).partition(":")
        return RuleObject(target), field


def make_rule_form(
    trigger: ActivityKind,
    fields: Mapping[RuleObject, Sequence[CrmField]],
    **kwargs: object,
) -> RuleForm:
    """The add-rule form of one trigger, offering its objects' fields by group."""
    form = RuleForm(prefix=f"rule-{trigger.value}", **kwargs)
    form.target_field.choices = [
        SelectChoice(
            f"{target.value}:{spec.name}",
            f"{spec.label} ({spec.name}, {spec.type.value})",
            optgroup=target.label,
        )
        for target, specs in fields.items()
        for spec in specs
    ]
    return form


class SiteSettingsForm(FlaskForm):
    """The settings of the whole site."""

    ignore_crm_users = BooleanField("Ignore CRM users when matching")
    preferred_account_id = SelectField("Preferred account", validate_choice=True)
    campaign_influence = RadioField(
        "Campaign influence", choices=INFLUENCE_CHOICES, default="none"
    )
    enabled_session_types = SelectMultipleField(
        "Session types hosts may create",
        choices=[
            SelectChoice(kind.value, SESSION_TYPE_LABELS[kind]) for kind in EventType
        ],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    embed_origins = TextAreaField(
        "Sites that may show the embeddable form",
        validators=[Length(max=10_000, message="That is more sites than fit here.")],
        render_kw={"rows": 4, "spellcheck": "false"},
    )

    def origin_lines(self) -> list[str]:
        """The sites typed, one a line."""
        return (self.embed_origins.data or "").splitlines()

    def offer_accounts(self, accounts: Sequence[tuple[str, str]]) -> None:
        """Offer these (id, name) accounts, after "No preferred account"."""
        self.preferred_account_id.choices = [
            SelectChoice("", "No preferred account"),
            *(SelectChoice(account_id, name) for account_id, name in accounts),
        ]


class AccountSearchForm(FlaskForm):
    """Narrows the preferred account's list by name (sent by GET, no token)."""

    class Meta:
        csrf = False

    account_search = SearchField(
        "Find an account by name",
        filters=[_strip],
        validators=[Optional(), Length(max=80)],
        # Sent by the search form, although it sits inside the settings form.
        render_kw={"form": "account-search"},
    )
