"""Variables in field-update values: which trigger offers which, and their values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.crm.fields import CrmField, FieldType
from portal.models import ActivityKind
from portal.services.variables import VariableContext, evaluate, variables_for

NOW = datetime(2030, 1, 15, 3, 30, tzinfo=UTC)
CONTEXT = VariableContext(
    now=NOW,
    host_time_zone="America/Los_Angeles",
    user_id="00Q1",
    leader_id="0051",
    event_id="abc",
    join_time=datetime(2030, 1, 15, 3, 0, tzinfo=UTC),
    leave_time=NOW,
    attendee_count=12,
    duration_seconds=1_777,
    score_percent=90,
)
TEXT = CrmField("Description", "Description", FieldType.TEXTAREA, 32000)
SHORT = CrmField("Title", "Title", FieldType.TEXT, 10)
NUMBER = CrmField("Minutes__c", "Minutes", FieldType.INTEGER)
DAY = CrmField("Day__c", "Day", FieldType.DATE)
MOMENT = CrmField("At__c", "At", FieldType.DATETIME)


@pytest.mark.parametrize(
    ("trigger", "names"),
    [
        (ActivityKind.REGISTER, ["now", "today", "userId", "leaderId", "eventId"]),
        (ActivityKind.EMAIL, ["now", "today", "userId", "leaderId", "eventId"]),
        (
            ActivityKind.JOIN,
            ["now", "today", "userId", "leaderId", "eventId", "joinTime"],
        ),
        (
            ActivityKind.LEAVE,
            [
                "now",
                "today",
                "userId",
                "leaderId",
                "eventId",
                "joinTime",
                "leaveTime",
                "attendeeCount",
                "duration",
                "durationMins",
                "durationSecs",
                "scorePercent",
                "scorePoints",
            ],
        ),
        (ActivityKind.SESSION_END, ["now", "today", "userId", "leaderId", "eventId"]),
    ],
)
def test_each_trigger_offers_the_variables_of_spec_s_table(
    trigger: ActivityKind, names: list[str]
) -> None:
    assert [variable.name for variable in variables_for(trigger)] == names


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ("{!durationMins}", NUMBER, 30),
        ("{!duration}", NUMBER, 30),
        ("{!durationSecs}", NUMBER, 1777),
        ("{!attendeeCount}", NUMBER, 12),
        ("7", NUMBER, 7),
        ("{!today}", DAY, date(2030, 1, 14)),
        ("{!joinTime}", DAY, date(2030, 1, 14)),
        ("2031-02-03", DAY, date(2031, 2, 3)),
        ("{!joinTime}", MOMENT, datetime(2030, 1, 15, 3, 0, tzinfo=UTC)),
        ("{!now}", TEXT, "2030-01-14 19:30 PST"),
        ("{!today}", TEXT, "2030-01-14"),
        ("{!duration} min ({!durationSecs} s)", TEXT, "29.6 min (1777 s)"),
        ("{!userId}/{!leaderId}/{!eventId}", TEXT, "00Q1/0051/abc"),
        ("plain text", TEXT, "plain text"),
        ("user {!userId} attended", SHORT, "user 00Q1"),
    ],
)
def test_values_take_the_field_s_type(
    value: str, field: CrmField, expected: object
) -> None:
    assert evaluate(value, field, CONTEXT).value == expected


def test_a_value_too_long_for_its_field_is_cut_and_says_so() -> None:
    assert evaluate("user {!userId} attended", SHORT, CONTEXT).was_cut


def test_a_variable_without_a_value_here_is_reported_missing() -> None:
    evaluated = evaluate("{!scorePoints} points", TEXT, CONTEXT)

    assert evaluated.value is None
    assert evaluated.missing == ("scorePoints",)
