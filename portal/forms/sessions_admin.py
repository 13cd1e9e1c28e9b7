"""Forms of the admin area for sessions, series and personal rooms.

Choices that depend on the site (enabled session types, the CRM's campaigns, the
hosts, the time zones) are set on each new form instance by :func:`session_form`,
never on the shared classes.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from portal.crm import get_crm
from portal.errors import ValidationFailed
from portal.forms.attendee import clean_text
from portal.forms.time_zones import TimeZoneField, time_zone_choices
from portal.models import Event, EventSeries, EventType, Frequency, User
from portal.services.action_sets import site_settings
from portal.services.schedule import is_time_zone
from portal.services.series import MAX_INTERVAL, MAX_OCCURRENCES, Recurrence
from portal.services.sessions import (
    RoomInput,
    SessionInput,
    check_join_url,
    possible_hosts,
)
from portal.services.wall_clock import (
    EARLIEST_DAY,
    LATEST_DAY,
    check_schedulable_day,
    entered_instant,
)

#: How each type of session is offered.
TYPE_LABELS = {
    EventType.WEBINAR: "Webinar",
    EventType.MEETING: "Meeting",
    EventType.LEARNING: "Learning (training with tests and scores)",
    EventType.SUPPORT: "Support",
    EventType.EXISTING: "Existing activity on the meeting platform",
}

REPEAT_CHOICES = [
    SelectChoice(Frequency.DAILY.value, "Every day"),
    SelectChoice(Frequency.WEEKLY.value, "Every week"),
    SelectChoice(Frequency.MONTHLY.value, "Every month"),
]

#: The formats of a datetime-local input: the first is the one shown.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
#: The browser's date pickers offer only the days sessions may take place on.
LOCAL_RANGE = {"min": f"{EARLIEST_DAY}T00:00", "max": f"{LATEST_DAY}T23:59"}
DATE_RANGE = {"min": f"{EARLIEST_DAY}", "max": f"{LATEST_DAY}"}


def clean_multiline(value: Any) -> str:
    """Normalise typed text that may hold line breaks (a description)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n")
    kept = "".join(
        character
        for character in text
        if character in "\n\t" or unicodedata.category(character) != "Cc"
    )
    return kept.strip()


def _refuse_as_field_error(check: Any, *args: Any) -> None:
    """Run one of the service's checks and show its refusal next to the field."""
    try:
        check(*args)
    except ValidationFailed as error:
        raise ValidationError(error.message) from None


class BlankIsNone:
    """A typed field whose empty box means "no value" rather than an error."""

    data: Any

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)  # type: ignore[misc]


class LocalDateTimeField(BlankIsNone, DateTimeLocalField):
    """A wall-clock date and time, without a time zone."""


class OptionalDateField(BlankIsNone, DateField):
    """A date that may be left empty."""


class OptionalIntegerField(BlankIsNone, IntegerField):
    """A whole number that may be left empty."""


class _SessionBasics(FlaskForm):
    """What a session is and when: the top of the session form."""

    title = StringField(
        "Title",
        validators=[
            InputRequired(message="Enter a title."),
            Length(max=200, message="Use at most 200 characters."),
        ],
        filters=[clean_text],
    )
    description = TextAreaField(
        "Description", validators=[Length(max=5000)], filters=[clean_multiline]
    )
    type = SelectField(
        "Type",
        choices=[],
        invalid_choice_message="Choose a type of session from the list.",
    )
    platform_activity_id = StringField(
        "Meeting platform id", validators=[Length(max=64)], filters=[clean_text]
    )
    owner_id = SelectField(
        "Host",
        coerce=int,
        choices=[],
        # A value that is no number, or no host's, was not picked from the list.
        invalid_value_message="Choose a host from the list.",
        invalid_choice_message="Choose a host from the list.",
    )
    campaign_id = SelectField(
        "Campaign",
        choices=[],
        invalid_choice_message="Choose a campaign from the list.",
    )
    time_zone = TimeZoneField()
    is_always_available = BooleanField("Always available (no fixed time)")
    starts_at = LocalDateTimeField(
        "Starts",
        format=LOCAL_FORMATS,
        invalid_value_message="Enter a date and a time.",
        render_kw=LOCAL_RANGE,
    )
    ends_at = LocalDateTimeField(
        "Ends",
        format=LOCAL_FORMATS,
        invalid_value_message="Enter a date and a time.",
        render_kw=LOCAL_RANGE,
    )


class _RepeatFields(FlaskForm):
    """How a series repeats."""

    repeat = SelectField(
        "Repeats",
        choices=REPEAT_CHOICES,
        invalid_choice_message="Choose how the session repeats from the list.",
    )
    interval = OptionalIntegerField(
        "Every how many days, weeks or months",
        default=1,
        invalid_value_message="Enter a whole number.",
    )
    ends_by = SelectField(
        "Ends",
        choices=[
            SelectChoice("count", "After a number of sessions"),
            SelectChoice("until", "On a date"),
        ],
        invalid_choice_message="Choose how the series ends from the list.",
    )
    count = OptionalIntegerField(
        "Number of sessions", invalid_value_message="Enter a whole number."
    )
    until = OptionalDateField(
        "Last date", invalid_value_message="Enter a date.", render_kw=DATE_RANGE
    )


class RoomForm(FlaskForm):
    """How people reach a meeting: what a host may change about a personal room."""

    join_url = URLField(
        "Meeting address",
        validators=[Length(max=2000, message="Use at most 2000 characters.")],
        filters=[clean_text],
        render_kw={"placeholder": "https://"},
    )
    join_password = PasswordField(
        "Join password",
        validators=[Length(max=64, message="Use at most 64 characters.")],
        render_kw={"autocomplete": "new-password"},
    )
    remove_password = BooleanField("Remove the join password")
    dial_in_number = StringField(
        "Dial-in number",
        validators=[Length(max=40, message="Use at most 40 characters.")],
        filters=[clean_text],
    )
    participant_code = StringField(
        "Participant code",
        validators=[Length(max=32, message="Use at most 32 characters.")],
        filters=[clean_text],
    )
    moderator_code = StringField(
        "Moderator code",
        validators=[Length(max=32, message="Use at most 32 characters.")],
        filters=[clean_text],
    )
    has_video = BooleanField("Video")
    has_internet_audio = BooleanField("Internet audio")
    has_listen_only_audio = BooleanField("Listen-only internet audio")

    def validate_join_url(self, field: Any) -> None:
        """Only an http or https address."""
        _refuse_as_field_error(check_join_url, field.data or "")


class SessionForm(_SessionBasics, RoomForm):
    """Every attribute of a session."""

    def validate_starts_at(self, field: Any) -> None:
        """A scheduled session needs a start that the clocks show."""
        if self.is_always_available.data:
            return
        if field.data is None:
            raise ValidationError(
                "Enter when the session starts, or tick “Always available”."
            )
        self._check_wall_time(field, "starts_at")

    def validate_ends_at(self, field: Any) -> None:
        """A scheduled session needs an end after its start."""
        if self.is_always_available.data:
            return
        if field.data is None:
            raise ValidationError("Enter when the session ends.")
        if self.starts_at.data is not None and field.data <= self.starts_at.data:
            raise ValidationError("The session must end after it starts.")
        self._check_wall_time(field, "ends_at")

    def _check_wall_time(self, field: Any, name: str) -> None:
        _refuse_as_field_error(check_schedulable_day, field.data, name)
        zone = self.time_zone.data
        if zone and is_time_zone(zone):
            _refuse_as_field_error(entered_instant, field.data, zone, name, [])

    def validate_platform_activity_id(self, field: Any) -> None:
        """An ``existing`` session names the platform's activity."""
        if self.type.data == EventType.EXISTING.value and not field.data:
            raise ValidationError(
                "Enter the id of the activity on the meeting platform."
            )


class RepeatingForm(SessionForm, _RepeatFields):
    """A session form that also says how the session repeats."""

    #: Whether "Does not repeat" is one of the choices.
    may_stay_single = False

    @property
    def repeats(self) -> bool:
        """Whether the form asks for a series."""
        return bool(self.repeat.data)

    def validate_interval(self, field: Any) -> None:
        """A step of 1 to 99."""
        if self.repeats and not 1 <= (field.data or 0) <= MAX_INTERVAL:
            raise ValidationError(f"Enter a whole number from 1 to {MAX_INTERVAL}.")

    def validate_count(self, field: Any) -> None:
        """A series ended by a count has 1 to 200 sessions."""
        if not self.repeats or self.ends_by.data != "count":
            return
        if not 1 <= (field.data or 0) <= MAX_OCCURRENCES:
            raise ValidationError(
                f"Enter a number of sessions from 1 to {MAX_OCCURRENCES}."
            )

    def validate_until(self, field: Any) -> None:
        """A series ended by a date names it."""
        if not self.repeats or self.ends_by.data != "until":
            return
        if field.data is None:
            raise ValidationError("Enter the date of the last session.")
        _refuse_as_field_error(check_schedulable_day, field.data, "until")

    def recurrence(self) -> Recurrence:
        """How the series repeats, as the service takes it."""
        by_count = self.ends_by.data == "count"
        return Recurrence(
            frequency=Frequency(self.repeat.data),
            interval=self.interval.data or 1,
            count=self.count.data if by_count else None,
            until=None if by_count else self.until.data,
        )


class NewSessionForm(RepeatingForm):
    """A new session, repeating or not."""

    may_stay_single = True
    #: A key of this one form, so that sending it again creates nothing more.
    submission = HiddenField(validators=[Length(max=64)])


class SeriesForm(RepeatingForm):
    """A recurring series: the first session's details and how it repeats."""


def session_form(
    form_class: type[SessionForm],
    user: User,
    *,
    data: dict[str, Any] | None = None,
    current_type: EventType | None = None,
    current_campaign: str | None = None,
    choose_host: bool = True,
    has_password: bool = False,
) -> Any:
    """A session form for this request, with the site's choices.

    The choices offer what the site allows today, plus whatever the session already
    has (a type switched off since, a campaign no longer active), so that saving a
    session never forces a change nobody asked for.
    """
    form = form_class(data=data)
    if getattr(form_class, "may_stay_single", False):
        form.repeat.choices = [SelectChoice("", "Does not repeat"), *REPEAT_CHOICES]
    enabled = site_settings().enabled_session_types
    form.type.choices = [
        SelectChoice(kind.value, label)
        for kind, label in TYPE_LABELS.items()
        if kind.value in enabled or kind is current_type
    ]
    form.campaign_id.choices = [
        SelectChoice("", "No campaign"),
        *_campaign_choices(current_campaign),
    ]
    # Offered: the zone stored (an older alias stays), never one the browser sent.
    form.time_zone.choices = time_zone_choices((data or {}).get("time_zone"))
    if choose_host and user.is_admin:
        form.owner_id.choices = [
            SelectChoice(str(host.id), f"{host.display_name} ({host.email})")
            for host in possible_hosts()
        ]
    else:
        del form.owner_id
    if not has_password:
        del form.remove_password
    return form


def room_form(data: dict[str, Any] | None, *, has_password: bool) -> RoomForm:
    """The room form for this request."""
    form = RoomForm(data=data)
    if not has_password:
        del form.remove_password
    return form


def _campaign_choices(current: str | None) -> list[Any]:
    crm = get_crm()
    choices = [SelectChoice(choice.id, choice.name) for choice in crm.campaigns()]
    if current and all(choice.value != current for choice in choices):
        campaign = crm.campaign(current)
        name = campaign.name if campaign else f"Campaign {current}"
        choices.append(SelectChoice(current, f"{name} (not active)"))
    return choices


def new_session_data(user: User) -> dict[str, Any]:
    """What a new session's form starts with."""
    return {
        "submission": secrets.token_urlsafe(16),
        "time_zone": user.time_zone,
        "owner_id": user.id,
        "has_video": True,
        "has_internet_audio": True,
        "interval": 1,
        "count": 5,
        "ends_by": "count",
    }


def session_data(event: Event) -> dict[str, Any]:
    """A session's form as its attributes stand, times in its own zone."""
    zone = ZoneInfo(event.time_zone)
    return {
        "title": event.title,
        "description": event.description,
        "type": event.type.value,
        "owner_id": event.owner_id,
        "campaign_id": event.campaign_id or "",
        "time_zone": event.time_zone,
        "is_always_available": event.is_always_available,
        "starts_at": event.starts_at.astimezone(zone).replace(tzinfo=None)
        if event.starts_at
        else None,
        "ends_at": event.ends_at.astimezone(zone).replace(tzinfo=None)
        if event.ends_at
        else None,
        "platform_activity_id": event.platform_activity_id or "",
        **room_data(event),
    }


def series_data(series: EventSeries, first: Event | None) -> dict[str, Any]:
    """A series' form: its first occurrence's details and how it repeats."""
    data = session_data(first) if first is not None else {}
    return {
        **data,
        "owner_id": series.owner_id,
        "repeat": series.frequency.value,
        "interval": series.interval,
        "ends_by": "count" if series.occurrence_count is not None else "until",
        "count": series.occurrence_count,
        "until": series.until_date,
    }


def room_data(event: Event) -> dict[str, Any]:
    """The room (or session) attributes of the room form."""
    return {
        "join_url": event.join_url,
        "dial_in_number": event.dial_in_number,
        "participant_code": event.participant_code,
        "moderator_code": event.moderator_code,
        "has_video": event.has_video,
        "has_internet_audio": event.has_internet_audio,
        "has_listen_only_audio": event.has_listen_only_audio,
    }


def session_input(form: Any) -> SessionInput:
    """What a valid session form says, as the service takes it."""
    owner_field = getattr(form, "owner_id", None)
    return SessionInput(
        title=form.title.data or "",
        type=EventType(form.type.data),
        time_zone=form.time_zone.data,
        starts_local=form.starts_at.data,
        ends_local=form.ends_at.data,
        is_always_available=form.is_always_available.data,
        description=form.description.data or "",
        owner_id=owner_field.data if owner_field is not None else None,
        campaign_id=form.campaign_id.data or "",
        platform_activity_id=form.platform_activity_id.data or "",
        **_room_values(form),
    )


def room_input(form: RoomForm) -> RoomInput:
    """What a valid room form says, as the service takes it."""
    return RoomInput(**_room_values(form))


def _room_values(form: Any) -> dict[str, Any]:
    remove = getattr(form, "remove_password", None)
    return {
        "join_url": form.join_url.data or "",
        "join_password": form.join_password.data or "",
        "remove_password": bool(remove is not None and remove.data),
        "dial_in_number": form.dial_in_number.data or "",
        "participant_code": form.participant_code.data or "",
        "moderator_code": form.moderator_code.data or "",
        "has_video": form.has_video.data,
        "has_internet_audio": form.has_internet_audio.data,
        "has_listen_only_audio": form.has_listen_only_audio.data,
    }
