"""Signals in any order: one Join task per person, leaves that wait for their join,
and visits still open when the session ends."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.crm.builtin import BuiltinCrm
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Campaign,
    CampaignMember,
    CampaignMemberStatus,
    Event,
    FeedPost,
    FixedField,
    Lead,
    Registrant,
    RuleObject,
    Task,
)
from portal.services.action_sets import add_rule
from portal.services.fields import Answer
from portal.services.processing import process_all
from portal.services.registration import register_attendee
from tests.conftest import page, post_attendance, post_zoom

NOW = datetime.now(UTC).replace(microsecond=0)
MEETING = "85012345678"


@pytest.fixture
def webinar(webhooks: Flask, make_event: Callable[..., Event]) -> Event:
    """A webinar an hour in, with a campaign and the minutes on its members."""
    campaign = Campaign(name="Webinar")
    campaign.statuses = [
        CampaignMemberStatus(label="Sent", is_default=True, sort_order=1),
        CampaignMemberStatus(label="Registered", sort_order=2),
        CampaignMemberStatus(label="Attended", has_responded=True, sort_order=3),
    ]
    db.session.add(campaign)
    db.session.commit()
    event = make_event(
        starts_at=NOW - timedelta(hours=1),
        campaign_id=str(campaign.id),
        platform_activity_id=MEETING,
    )
    action_set = event.action_set
    assert action_set is not None
    for field, value in (
        ("Left_At__c", "{!leaveTime}"),
        ("Minutes_Attended__c", "{!durationMins}"),
    ):
        add_rule(
            action_set,
            BuiltinCrm(),
            trigger=ActivityKind.LEAVE,
            target=RuleObject.CAMPAIGN_MEMBER,
            field=field,
            value=value,
        )
    db.session.commit()
    return event


@pytest.fixture
def ada(webinar: Event) -> Registrant:
    answers = [
        Answer("First Name", "FirstName", "FirstName", "Ada", FixedField.FIRST_NAME),
        Answer("Last Name", "LastName", "LastName", "Lovelace", FixedField.LAST_NAME),
        Answer("Email", "Email", "Email", "ada@example.com", FixedField.EMAIL),
    ]
    registration = register_attendee(
        webinar, answers, submission_id="ada", now=NOW - timedelta(days=1)
    )
    return registration.registrant


def signal(
    event: Event, kind: str, minutes_ago: float, event_id: str, **attendee: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event_id,
        "type": kind,
        "session": event.key,
        "time": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
    }
    if attendee:
        body["attendee"] = attendee
    return body


def zoom_join(minutes_ago: int, participant: str) -> dict[str, Any]:
    return {
        "event": "webinar.participant_joined",
        "event_ts": int(NOW.timestamp() * 1000),
        "payload": {
            "object": {
                "id": MEETING,
                "uuid": "occurrence==",
                "start_time": (NOW - timedelta(hours=1)).isoformat(),
                "participant": {
                    "email": "ada@example.com",
                    "participant_uuid": participant,
                    "join_time": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
                },
            }
        },
    }


def join_tasks() -> list[Task]:
    return list(
        db.session.scalars(sa.select(Task).where(Task.subject.startswith("Attended")))
    )


def join_posts() -> list[FeedPost]:
    return list(
        db.session.scalars(sa.select(FeedPost).where(FeedPost.body.contains("joined")))
    )


def member() -> CampaignMember:
    return db.session.scalars(sa.select(CampaignMember)).one()


@pytest.mark.parametrize("transport", ["api", "zoom"])
def test_an_earlier_join_arriving_later_moves_the_task_instead_of_making_another(
    client: FlaskClient, webinar: Event, ada: Registrant, transport: str
) -> None:
    if transport == "api":
        post_attendance(client, signal(webinar, "join", 30, "o-1", email=ada.email))
        post_attendance(client, signal(webinar, "join", 40, "o-2", email=ada.email))
    else:
        post_zoom(client, zoom_join(30, "P-1"))
        post_zoom(client, zoom_join(40, "P-2"))

    (task,) = join_tasks()
    assert task.started_at == NOW - timedelta(minutes=40)
    assert len(join_posts()) == 1
    later_arrival = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.JOIN)
    ).all()[-1]
    assert later_arrival.crm_task_id is None
    assert any("joined again" in note for note in later_arrival.trace["actions"])


def test_a_leave_that_arrives_before_its_join_is_applied_by_the_join(
    client: FlaskClient, webinar: Event
) -> None:
    person = {"email": "lee@example.org", "name": "Lee Early"}

    post_attendance(client, signal(webinar, "leave", 50, "l-1", **person))
    assert db.session.scalars(sa.select(CampaignMember)).all() == []
    # Nothing reaches the CRM until the join: not even a lead for the person.
    assert db.session.scalars(sa.select(Lead)).all() == []
    post_attendance(client, signal(webinar, "join", 55, "j-1", **person))

    (lead,) = db.session.scalars(sa.select(Lead)).all()
    assert lead.email == "lee@example.org"
    (task,) = join_tasks()
    assert (task.ended_at, task.duration_minutes) == (NOW - timedelta(minutes=50), 5)
    assert (member().status, member().minutes_attended) == ("Attended", 5)
    assert member().left_at == NOW - timedelta(minutes=50)
    leave = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.LEAVE)
    ).one()
    assert leave.status is ActivityStatus.DONE
    assert "awaits_join" not in leave.payload


def test_a_leave_with_no_visit_open_sends_nothing_to_the_crm(
    client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    post_attendance(client, signal(webinar, "join", 30, "j-1", email=ada.email))
    post_attendance(client, signal(webinar, "leave", 20, "l-1", email=ada.email))
    post_attendance(client, signal(webinar, "leave", 19, "l-2", email=ada.email))

    (task,) = join_tasks()
    assert (task.ended_at, task.duration_minutes) == (NOW - timedelta(minutes=20), 10)
    assert member().left_at == NOW - timedelta(minutes=20)
    second = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.LEAVE)
    ).all()[-1]
    assert second.crm_task_id is None
    assert any("no visit was open" in note for note in second.trace["actions"])


def test_session_end_closes_the_visits_still_open(
    admin_client: FlaskClient, webinar: Event, ada: Registrant
) -> None:
    post_attendance(admin_client, signal(webinar, "join", 20, "j-1", email=ada.email))

    post_attendance(admin_client, signal(webinar, "session_end", 5, "end"))
    # The registrants' own Session End work is the queue's (see the README).
    process_all("test")

    (task,) = join_tasks()
    assert (task.ended_at, task.duration_minutes) == (NOW - timedelta(minutes=5), 15)
    assert (member().left_at, member().minutes_attended) == (
        NOW - timedelta(minutes=5),
        15,
    )
    listing = page(admin_client.get(f"/admin/sessions/{webinar.id}/registrants"))
    assert "no leave after the last join" not in listing.get_text()
    export = admin_client.get(f"/admin/sessions/{webinar.id}/registrants.csv")
    header, row = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert row[header.index("Minutes attended")] == "15"
