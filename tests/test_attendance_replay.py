"""A recorded webinar replayed through the attendance API and through Zoom's webhook.

The session starts; Ada, Grace and Alan join; Grace leaves and comes back; Alan
leaves early with a test score; everyone has left when it ends; Nora never came.
Both transports must leave the same CRM state (Zoom sends no scores), and a second
delivery of every signal must change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.crm.builtin import BuiltinCrm
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    Campaign,
    CampaignMember,
    CampaignMemberStatus,
    Event,
    FixedField,
    Lead,
    Registrant,
    Role,
    RuleObject,
    Task,
    User,
)
from portal.services.action_sets import add_rule
from portal.services.attendance import leave_facts
from portal.services.fields import Answer
from portal.services.processing import process_all
from portal.services.registration import register_attendee
from tests.conftest import post_attendance, post_zoom

ZOOM_MEETING = "850 1234 5678"
HOST_ZONE = ZoneInfo("America/New_York")
PEOPLE = {
    "ada": ("Ada", "Lovelace"),
    "grace": ("Grace", "Hopper"),
    "alan": ("Alan", "Turing"),
    "nora": ("Nora", "Noshow"),
}
#: (seconds after the start, what happened, to whom)
SEQUENCE: list[tuple[int, str, str | None]] = [
    (0, "session_start", None),
    (130, "join", "ada"),
    (180, "join", "grace"),
    (600, "leave", "grace"),
    (900, "join", "alan"),
    (1320, "leave", "alan"),
    (1800, "join", "grace"),
    (3300, "leave", "ada"),
    (3480, "leave", "grace"),
    (3600, "session_end", None),
]
ALAN_SCORE = {"percent": 80, "points": 40}
LEAVE_RULES = [
    (
        RuleObject.TASK,
        "Description",
        "Joined {!joinTime}, left {!leaveTime}: {!duration} min "
        "({!durationMins} whole, {!durationSecs} s), {!attendeeCount} attendees",
    ),
    (RuleObject.CAMPAIGN_MEMBER, "Joined_At__c", "{!joinTime}"),
    (RuleObject.CAMPAIGN_MEMBER, "Left_At__c", "{!leaveTime}"),
    (RuleObject.CAMPAIGN_MEMBER, "Minutes_Attended__c", "{!durationMins}"),
    (RuleObject.CAMPAIGN_MEMBER, "Attendance_Score__c", "{!scorePercent}"),
    (RuleObject.LEAD, "Webinars_Attended__c", "{!attendeeCount}"),
    (RuleObject.LEAD, "Description", "Scored {!scorePoints} points"),
]


@dataclass(frozen=True)
class Webinar:
    event: Event
    start: datetime
    registrants: dict[str, Registrant]

    def at(self, seconds: int) -> datetime:
        return self.start + timedelta(seconds=seconds)


@pytest.fixture
def webinar(
    webhooks: Flask, make_event: Callable[..., Event], make_user: Callable[..., User]
) -> Webinar:
    campaign = Campaign(name="Spring webinar")
    campaign.statuses = [
        CampaignMemberStatus(label="Sent", is_default=True, sort_order=1),
        CampaignMemberStatus(label="Registered", sort_order=2),
        CampaignMemberStatus(label="Attended", has_responded=True, sort_order=3),
        CampaignMemberStatus(
            label="Attended Briefly", has_responded=True, sort_order=4
        ),
        CampaignMemberStatus(label="No Show", sort_order=5),
    ]
    db.session.add(campaign)
    db.session.commit()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    host = make_user(role=Role.HOST, time_zone="America/New_York")
    event = make_event(
        host,
        campaign_id=str(campaign.id),
        starts_at=start,
        platform_activity_id=ZOOM_MEETING,
    )
    action_set = event.action_set
    assert action_set is not None
    end = action_set.for_trigger(ActivityKind.SESSION_END)
    assert end is not None
    end.campaign_status, end.no_show_status = "Attended", "No Show"
    end.short_stay_minutes, end.short_stay_status = 10, "Attended Briefly"
    for target, field, value in LEAVE_RULES:
        add_rule(
            action_set,
            BuiltinCrm(),
            trigger=ActivityKind.LEAVE,
            target=target,
            field=field,
            value=value,
        )
    db.session.commit()

    registrants = {}
    for name, (first, last) in PEOPLE.items():
        answers = [
            Answer(
                "First Name", "FirstName", "FirstName", first, FixedField.FIRST_NAME
            ),
            Answer("Last Name", "LastName", "LastName", last, FixedField.LAST_NAME),
            Answer("Email", "Email", "Email", f"{name}@example.com", FixedField.EMAIL),
            Answer("Company", "", "Company", "Analytical", FixedField.COMPANY),
        ]
        registration = register_attendee(
            event, answers, submission_id=f"form-{name}", now=start - timedelta(days=1)
        )
        registrants[name] = registration.registrant
    return Webinar(event, start, registrants)


def api_body(webinar: Webinar, seconds: int, kind: str, who: str | None) -> Any:
    body: dict[str, Any] = {
        "id": f"replay-{seconds}-{kind}",
        "type": kind,
        "session": webinar.event.key,
        "time": webinar.at(seconds).isoformat(),
    }
    if who == "ada":
        body["attendee"] = {"token": webinar.registrants["ada"].token}
    elif who is not None:
        body["attendee"] = {"email": f"{who}@example.com"}
    if who == "alan" and kind == "leave":
        body["score"] = ALAN_SCORE
    return body


def zoom_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zoom_body(webinar: Webinar, seconds: int, kind: str, who: str | None) -> Any:
    moment = webinar.at(seconds)
    event_name = {
        "session_start": "webinar.started",
        "session_end": "webinar.ended",
        "join": "webinar.participant_joined",
        "leave": "webinar.participant_left",
    }[kind]
    subject: dict[str, Any] = {
        "id": ZOOM_MEETING.replace(" ", ""),
        "uuid": "kXb0F3k6QmqJrXz7TPp4CA==",
        "host_id": "z8yAAAAAAAAAAAAAAAAAAA",
        "topic": webinar.event.title,
        "type": 5,
        "start_time": zoom_time(webinar.start),
        "timezone": "America/New_York",
        "duration": 60,
    }
    if kind == "session_end":
        subject["end_time"] = zoom_time(moment)
    if who is not None:
        first, last = PEOPLE[who]
        subject["participant"] = {
            "user_id": f"1677{seconds}",
            "user_name": f"{first} {last}",
            "id": "",
            "email": f"{who}@example.com",
            "participant_uuid": f"PUUID-{who}",
            "join_time" if kind == "join" else "leave_time": zoom_time(moment),
            **({"leave_reason": "left the webinar"} if kind == "leave" else {}),
        }
    return {
        "event": event_name,
        "event_ts": int(moment.timestamp() * 1000),
        "payload": {"account_id": "AAAAAAAAAAAAAAAAAAAAAA", "object": subject},
    }


TRANSPORTS = {
    "attendance API": (api_body, post_attendance, 202),
    "Zoom": (zoom_body, post_zoom, 200),
}


def replay(client: FlaskClient, webinar: Webinar, transport: str) -> list[Any]:
    """Send the whole sequence; work the queue as a worker would."""
    build, post, _ = TRANSPORTS[transport]
    answers = [post(client, build(webinar, *step)) for step in SEQUENCE]
    process_all("replay-test")
    return answers


def lead_of(name: str) -> Lead:
    return db.session.scalars(
        sa.select(Lead).where(Lead.email == f"{name}@example.com")
    ).one()


def crm_state() -> dict[str, Any]:
    """Everything the replay may have written, per person, plus the counts."""
    state: dict[str, Any] = {}
    for name in PEOPLE:
        lead = lead_of(name)
        member = db.session.scalars(
            sa.select(CampaignMember).where(CampaignMember.lead_id == lead.id)
        ).one()
        tasks = db.session.scalars(
            sa.select(Task).where(Task.who_lead_id == lead.id).order_by(Task.id)
        ).all()
        state[name] = {
            "status": member.status,
            "joined_at": member.joined_at,
            "left_at": member.left_at,
            "minutes": member.minutes_attended,
            "score": member.attendance_score,
            "webinars_attended": lead.webinars_attended,
            "lead_description": lead.description,
            "join_tasks": [
                (
                    task.status,
                    task.started_at,
                    task.ended_at,
                    task.duration_minutes,
                    task.description,
                )
                for task in tasks
                if task.subject.startswith("Attended: ")
            ],
            "tasks": len(tasks),
        }
    state["activities"] = db.session.scalar(sa.select(sa.func.count(Activity.id)))
    state["registrants"] = db.session.scalar(sa.select(sa.func.count(Registrant.id)))
    return state


def text_time(moment: datetime) -> str:
    local = moment.astimezone(HOST_ZONE)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def leave_text(
    webinar: Webinar, joined: int, left: int, seconds: int, attendees: int
) -> str:
    return (
        f"Joined {text_time(webinar.at(joined))}, left {text_time(webinar.at(left))}: "
        f"{round(seconds / 60, 1)} min ({round(seconds / 60)} whole, {seconds} s), "
        f"{attendees} attendees"
    )


def expected_state(webinar: Webinar, *, has_scores: bool) -> dict[str, Any]:
    """Who came, for how long, and what the Leave rules wrote, by hand."""

    def attended(
        status: str, first_join: int, visit_start: int, left: int, seconds: int
    ) -> dict[str, Any]:
        return {
            "status": status,
            "joined_at": webinar.at(visit_start),
            "left_at": webinar.at(left),
            "minutes": round(seconds / 60),
            "score": None,
            "webinars_attended": 3,
            "lead_description": "",
            "join_tasks": [
                (
                    "Completed",
                    webinar.at(first_join),
                    webinar.at(left),
                    round(seconds / 60),
                    leave_text(webinar, visit_start, left, seconds, 3),
                )
            ],
            # Register, its confirmation email, and the one Join task.
            "tasks": 3,
        }

    alan = attended("Attended Briefly", 900, 900, 1320, 420)
    if has_scores:
        alan.update(score=80, lead_description="Scored 40 points")
    return {
        "ada": attended("Attended", 130, 130, 3300, 3170),
        # Two visits: 180-600 and 1800-3480. {!joinTime} is the last visit's start.
        "grace": attended("Attended", 180, 1800, 3480, 420 + 1680),
        "alan": alan,
        "nora": {
            "status": "No Show",
            "joined_at": None,
            "left_at": None,
            "minutes": None,
            "score": None,
            "webinars_attended": None,
            "lead_description": "",
            "join_tasks": [],
            "tasks": 2,
        },
        # Registers and their emails; the start, fanned out to the four; eight
        # joins and leaves; the end, fanned out.
        "activities": 4 + 4 + (1 + 4) + 8 + (1 + 4),
        "registrants": 4,
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_replayed_webinar_gives_tasks_statuses_and_every_variable(
    client: FlaskClient, webinar: Webinar, transport: str
) -> None:
    answers = replay(client, webinar, transport)

    expected_status = TRANSPORTS[transport][2]
    assert [answer.status_code for answer in answers] == [expected_status] * len(
        SEQUENCE
    )
    assert all(answer.get_json()["status"] == "accepted" for answer in answers)
    assert crm_state() == expected_state(
        webinar, has_scores=transport == "attendance API"
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_second_delivery_of_every_signal_changes_nothing(
    client: FlaskClient, webinar: Webinar, transport: str
) -> None:
    replay(client, webinar, transport)
    before = crm_state()

    answers = replay(client, webinar, transport)

    assert {answer.status_code for answer in answers} == {200}
    assert {answer.get_json()["status"] for answer in answers} == {"duplicate"}
    assert crm_state() == before


def test_attendee_count_and_durations_at_the_first_leave(
    client: FlaskClient, webinar: Webinar
) -> None:
    replay(client, webinar, "attendance API")

    first_leave = db.session.scalars(
        sa.select(Activity)
        .where(Activity.kind == ActivityKind.LEAVE)
        .order_by(Activity.occurred_at)
    ).first()
    assert first_leave is not None
    assert first_leave.registrant == webinar.registrants["grace"]
    facts = leave_facts(first_leave)
    # Alan had not joined yet; Grace's total was her first visit.
    assert (facts.attendee_count, facts.duration_seconds) == (2, 420)
    assert facts.join_time == webinar.at(180)
