"""Variables in field-update values: ``{!now}``, ``{!durationMins}`` and the rest.

A rule's value is checked when the rule is saved (each variable must be known and
offered by the rule's trigger, and the value must make sense for the field's type),
and evaluated when its trigger fires, to a value of the field's type.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal.crm.fields import CrmField, FieldType, fit
from portal.models import ActivityKind

PATTERN = re.compile(r"\{!([A-Za-z]+)\}")
ALL_TRIGGERS = frozenset(ActivityKind)
ATTENDANCE = frozenset({ActivityKind.JOIN, ActivityKind.LEAVE})
LEAVE_ONLY = frozenset({ActivityKind.LEAVE})


class ValueType(enum.Enum):
    """What a variable stands for."""

    DATETIME = "date-time"
    DATE = "date"
    ID = "id"
    INTEGER = "integer"
    #: Minutes with decimals, such as 42.5.
    MINUTES = "minutes"


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable: its name, type, the triggers that provide it, its meaning."""

    name: str
    type: ValueType
    triggers: frozenset[ActivityKind]
    meaning: str


VARIABLES: dict[str, Variable] = {
    variable.name: variable
    for variable in (
        Variable(
            "now", ValueType.DATETIME, ALL_TRIGGERS, "the time, in the host's zone"
        ),
        Variable("today", ValueType.DATE, ALL_TRIGGERS, "the date, in the host's zone"),
        Variable("userId", ValueType.ID, ALL_TRIGGERS, "the CRM id of the person"),
        Variable("leaderId", ValueType.ID, ALL_TRIGGERS, "the CRM id of the host"),
        Variable("eventId", ValueType.ID, ALL_TRIGGERS, "the session's key"),
        Variable("joinTime", ValueType.DATETIME, ATTENDANCE, "when the person joined"),
        Variable("leaveTime", ValueType.DATETIME, LEAVE_ONLY, "when the person left"),
        Variable(
            "attendeeCount", ValueType.INTEGER, LEAVE_ONLY, "distinct attendees so far"
        ),
        Variable(
            "duration", ValueType.MINUTES, LEAVE_ONLY, "time attended, in minutes"
        ),
        Variable(
            "durationMins", ValueType.INTEGER, LEAVE_ONLY, "whole minutes attended"
        ),
        Variable("durationSecs", ValueType.INTEGER, LEAVE_ONLY, "seconds attended"),
        Variable("scorePercent", ValueType.INTEGER, LEAVE_ONLY, "test score, percent"),
        Variable("scorePoints", ValueType.INTEGER, LEAVE_ONLY, "test score, points"),
    )
}

_LITERAL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LITERAL_INTEGER = re.compile(r"^-?\d+$")


def variables_for(trigger: ActivityKind) -> list[Variable]:
    """The variables a trigger provides, in the table's order."""
    return [variable for variable in VARIABLES.values() if trigger in variable.triggers]


def check_value(trigger: ActivityKind, field: CrmField, value: str) -> list[str]:
    """What keeps ``value`` from being a value for ``field`` on ``trigger``."""
    problems = []
    names = PATTERN.findall(value)
    if "{!" in PATTERN.sub("", value):
        problems.append("Write each variable whole, as {!name}, with its closing }.")
    for name in names:
        variable = VARIABLES.get(name)
        if variable is None:
            problems.append(f"{{!{name}}} is not a variable.")
        elif trigger not in variable.triggers:
            problems.append(
                f"{{!{name}}} is not available on the "
                f"{trigger.value.replace('_', ' ')} trigger."
            )
    if problems:
        return problems
    return _type_problems(field, value.strip(), names)


def _type_problems(field: CrmField, value: str, names: list[str]) -> list[str]:
    single = VARIABLES[names[0]] if _is_one_variable(value, names) else None
    label = field.label
    if field.type is FieldType.INTEGER:
        numeric = {ValueType.INTEGER, ValueType.MINUTES}
        if (
            single is None or single.type not in numeric
        ) and not _LITERAL_INTEGER.match(value):
            return [
                f"{label} holds a whole number: use one number variable or a number."
            ]
    elif field.type is FieldType.DATE:
        dated = {ValueType.DATE, ValueType.DATETIME}
        if (single is None or single.type not in dated) and not _LITERAL_DATE.match(
            value
        ):
            return [
                f"{label} holds a date: use {{!today}}, a time variable or YYYY-MM-DD."
            ]
    elif field.type is FieldType.DATETIME:
        if single is None or single.type is not ValueType.DATETIME:
            return [
                f"{label} holds a date and time: use {{!now}}, {{!joinTime}} or "
                "{!leaveTime}."
            ]
    elif field.options and value not in field.options:
        return [f"{label} takes one of: {', '.join(field.options)}."]
    elif field.length and len(value) > field.length:
        return [f"{label} holds at most {field.length} characters."]
    return []


def _is_one_variable(text: str, names: list[str]) -> bool:
    """Whether ``text`` is exactly one variable and nothing else."""
    return len(names) == 1 and text == f"{{!{names[0]}}}"


@dataclass(frozen=True, slots=True)
class VariableContext:
    """The values variables take for one activity."""

    now: datetime
    host_time_zone: str
    user_id: str = ""
    leader_id: str = ""
    event_id: str = ""
    join_time: datetime | None = None
    leave_time: datetime | None = None
    attendee_count: int | None = None
    duration_seconds: int | None = None
    score_percent: int | None = None
    score_points: int | None = None

    def value_of(self, name: str) -> Any:
        """The typed value of one variable, None when it has none here."""
        zone = ZoneInfo(self.host_time_zone)
        seconds = self.duration_seconds
        values: dict[str, Any] = {
            "now": self.now,
            "today": self.now.astimezone(zone).date(),
            "userId": self.user_id,
            "leaderId": self.leader_id,
            "eventId": self.event_id,
            "joinTime": self.join_time,
            "leaveTime": self.leave_time,
            "attendeeCount": self.attendee_count,
            "duration": None if seconds is None else round(seconds / 60, 1),
            "durationMins": None if seconds is None else round(seconds / 60),
            "durationSecs": seconds,
            "scorePercent": self.score_percent,
            "scorePoints": self.score_points,
        }
        return values.get(name)

    def as_text(self, value: Any) -> str:
        """How a typed value reads inside text."""
        if isinstance(value, datetime):
            local = value.astimezone(ZoneInfo(self.host_time_zone))
            return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A rule's value, ready to write; ``missing`` names variables with no value."""

    value: Any
    missing: tuple[str, ...] = ()
    was_cut: bool = False


def evaluate(value: str, field: CrmField, context: VariableContext) -> Evaluated:
    """The value a rule writes to ``field``, typed as the field is."""
    names = PATTERN.findall(value)
    missing = tuple(name for name in names if context.value_of(name) is None)
    if missing:
        return Evaluated(None, missing)
    text = value.strip()
    single = context.value_of(names[0]) if _is_one_variable(text, names) else None
    if field.type is FieldType.INTEGER:
        return Evaluated(round(single) if single is not None else int(text))
    if field.type is FieldType.DATE:
        if isinstance(single, datetime):
            return Evaluated(single.astimezone(ZoneInfo(context.host_time_zone)).date())
        return Evaluated(single if single is not None else date.fromisoformat(text))
    if field.type is FieldType.DATETIME:
        return Evaluated(single)
    rendered = PATTERN.sub(
        lambda match: context.as_text(context.value_of(match[1])), value
    )
    limit = field.length or len(rendered)
    cut, was_cut = fit(rendered, limit)
    return Evaluated(cut, was_cut=was_cut)
