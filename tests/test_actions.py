"""The actions of each trigger.

A contract test: it runs on the built-in CRM and on the Salesforce backend (against
the fake org), with the same assertions; the few facts only one backend has are
asserted on that one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fakeorg.contract import ContractOrg, backend_settings

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Event,
    FieldScope,
    FixedField,
    InfluenceMode,
    Registrant,
    Role,
    RuleObject,
    User,
)
from portal.services.action_sets import add_rule, global_action_set, site_settings
from portal.services.fields import Answer
from portal.services.processing import process_all
from portal.services.registration import record_join, register_attendee

START = datetime(2030, 5, 6, 14, 0, tzinfo=UTC)


@pytest.fixture
def app_settings(backend: str) -> dict[str, Any]:
    """The portal feeds the backend under test."""
    return backend_settings(backend)


@pytest.fixture
def campaign(org: ContractOrg) -> str:
    """A campaign's id; its statuses: Sent (default), Registered, Attended."""
    return org.add_campaign(
        "Launch",
        [
            ("Sent", True, False),
            ("Registered", False, False),
            ("Attended", False, True),
        ],
    )


@pytest.fixture
def webinar(
    make_event: Callable[..., Event], make_user: Callable[..., User], campaign: str
) -> Event:
    host = make_user(role=Role.HOST, time_zone="America/New_York")
    return make_event(host, campaign_id=campaign, starts_at=START)


def answers(email: str = "ada@example.com", first: str = "Ada") -> list[Answer]:
    return [
        Answer("First Name", "FirstName", "FirstName", first, FixedField.FIRST_NAME),
        Answer("Last Name", "LastName", "LastName", "Lovelace", FixedField.LAST_NAME),
        Answer("Email", "Email", "Email", email, FixedField.EMAIL),
        Answer("Company", "", "Company", "Engines", FixedField.COMPANY),
    ]


def register(
    event: Event, email: str = "ada@example.com", first: str = "Ada"
) -> Registrant:
    registration = register_attendee(
        event, answers(email, first), submission_id=f"form-{email}-{event.id}"
    )
    return registration.registrant


def join(event: Event, registrant: Registrant, at: datetime, visit: int = 1) -> None:
    record_join(event, submission_id=f"visit-{visit}", registrant=registrant, now=at)


def signal(event: Event, kind: ActivityKind, at: datetime, **extra: Any) -> Activity:
    """A platform signal (leave, start, end), recorded and processed."""
    registrant = extra.pop("registrant", None)
    activity = Activity(
        kind=kind,
        event=event,
        registrant=registrant,
        person_key=registrant.email_key if registrant else f"event:{event.id}",
        occurred_at=at,
        payload=extra,
    )
    db.session.add(activity)
    db.session.commit()
    process_all("test-worker")
    db.session.refresh(activity)
    return activity


def settings_of(event: Event, trigger: ActivityKind) -> Any:
    assert event.action_set is not None
    return event.action_set.for_trigger(trigger)


def only_lead(org: ContractOrg) -> Any:
    (lead,) = org.leads()
    return lead


def member_of(org: ContractOrg, lead: Any) -> Any:
    (member,) = org.members_of(lead)
    return member


def test_register_creates_task_member_post_and_confirmation(
    org: ContractOrg, webinar: Event
) -> None:
    register(webinar)

    lead = only_lead(org)
    register_task, email_task = org.tasks_of(lead)
    assert register_task.subject == f"Registered: {webinar.title}"
    assert (register_task.status, register_task.is_closed) == ("Completed", True)
    if org.kind == "builtin":
        assert register_task.event_id == webinar.id
    else:
        # A task about a lead may not point at the campaign in Salesforce.
        assert register_task.what_campaign_id is None
    assert email_task.subject.startswith("Email: ")
    assert member_of(org, lead).status == "Registered"
    posts = [post.body for post in org.feed_posts()]
    assert posts == [f"Ada Lovelace registered for {webinar.title}."]


def test_an_open_task_status_keeps_the_task_open(
    org: ContractOrg, webinar: Event
) -> None:
    settings = settings_of(webinar, ActivityKind.REGISTER)
    settings.task_status, settings.task_priority = "Not Started", "High"
    db.session.commit()

    register(webinar)

    task = org.tasks_of(only_lead(org))[0]
    assert (task.status, task.priority, task.is_closed) == (
        "Not Started",
        "High",
        False,
    )
    assert not task.completed_at


def test_personal_rooms_always_complete_their_tasks(
    org: ContractOrg,
    make_user: Callable[..., User],
) -> None:
    host = make_user(role=Role.HOST)
    room = db.session.scalars(
        sa.select(Event).where(Event.owner_id == host.id, Event.room_kind.is_not(None))
    ).first()
    assert room is not None
    global_action_set(room.field_scope).for_trigger(
        ActivityKind.JOIN
    ).task_status = "In Progress"
    db.session.commit()

    record_join(room, submission_id="x", answers=answers())

    (task,) = org.tasks_of(only_lead(org))
    assert (task.status, task.is_closed) == ("Completed", True)


def test_leave_updates_the_join_task_with_times_and_duration(
    org: ContractOrg, webinar: Event
) -> None:
    settings_of(webinar, ActivityKind.JOIN).task_status = "In Progress"
    db.session.commit()
    registrant = register(webinar)
    join(webinar, registrant, START + timedelta(minutes=2))

    leave = signal(
        webinar,
        ActivityKind.LEAVE,
        START + timedelta(minutes=47),
        registrant=registrant,
    )

    join_task = org.tasks_of(only_lead(org))[-1]
    assert join_task.subject == f"Attended: {webinar.title}"
    assert (join_task.status, join_task.is_closed) == ("Completed", True)
    assert join_task.started_at == START + timedelta(minutes=2)
    assert join_task.ended_at == START + timedelta(minutes=47)
    assert join_task.duration_minutes == 45
    assert leave.crm_task_id == str(join_task.id)
    assert leave.status is ActivityStatus.DONE


def test_a_trigger_without_a_status_gives_new_members_the_default_and_keeps_others(
    org: ContractOrg,
    webinar: Event,
) -> None:
    settings_of(webinar, ActivityKind.REGISTER).campaign_status = ""
    db.session.commit()
    registrant = register(webinar)
    assert member_of(org, only_lead(org)).status == "Sent"

    settings_of(webinar, ActivityKind.JOIN).campaign_status = "Attended"
    db.session.commit()
    join(webinar, registrant, START)
    signal(
        webinar, ActivityKind.LEAVE, START + timedelta(minutes=5), registrant=registrant
    )

    member = member_of(org, only_lead(org))
    assert (member.status, member.has_responded) == ("Attended", True)
    assert member.first_responded_date is not None


def test_an_unknown_status_becomes_the_campaign_default(
    org: ContractOrg, webinar: Event
) -> None:
    settings_of(webinar, ActivityKind.REGISTER).campaign_status = "Atended"
    db.session.commit()

    register(webinar)

    assert member_of(org, only_lead(org)).status == "Sent"


def test_one_member_per_person_and_campaign(
    org: ContractOrg, webinar: Event, make_event: Any
) -> None:
    second = make_event(campaign_id=webinar.campaign_id, starts_at=START)

    register(webinar)
    register(second)

    assert org.count("member") == 1


def test_a_session_without_campaign_makes_no_member(
    org: ContractOrg, make_event: Any
) -> None:
    register(make_event())

    assert org.count("member") == 0


def test_feed_post_only_when_the_trigger_has_other_actions(
    org: ContractOrg, webinar: Event
) -> None:
    settings = settings_of(webinar, ActivityKind.REGISTER)
    settings.has_task = False
    settings.campaign_status = ""
    settings.sends_email = False
    settings.posts_to_feed = True
    db.session.commit()

    register(webinar)

    assert org.count("feed post") == 0
    activity = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.REGISTER)
    ).one()
    assert (
        "no feed post: the trigger has no other actions on this session"
        in (activity.trace["actions"])
    )


def test_switching_the_email_off_sends_nothing(
    org: ContractOrg, webinar: Event
) -> None:
    settings_of(webinar, ActivityKind.REGISTER).sends_email = False
    db.session.commit()

    register(webinar)

    kinds = db.session.scalars(sa.select(Activity.kind)).all()
    assert kinds == [ActivityKind.REGISTER]


def test_field_updates_write_typed_values_with_variables(
    org: ContractOrg, webinar: Event
) -> None:
    crm = org.crm
    action_set = webinar.action_set
    assert action_set is not None
    rules = [
        (
            ActivityKind.REGISTER,
            RuleObject.LEAD,
            "Description",
            "Signed up {!today} ({!eventId})",
        ),
        (
            ActivityKind.REGISTER,
            RuleObject.CAMPAIGN_MEMBER,
            "Registered_At__c",
            "{!now}",
        ),
        (ActivityKind.JOIN, RuleObject.CAMPAIGN_MEMBER, "Joined_At__c", "{!joinTime}"),
        (ActivityKind.JOIN, RuleObject.CONTACT, "Title", "Attendee"),
        (
            ActivityKind.LEAVE,
            RuleObject.CAMPAIGN_MEMBER,
            "Minutes_Attended__c",
            "{!durationMins}",
        ),
        (
            ActivityKind.LEAVE,
            RuleObject.CAMPAIGN_MEMBER,
            "Attendance_Score__c",
            "{!scorePercent}",
        ),
        (
            ActivityKind.LEAVE,
            RuleObject.LEAD,
            "Webinars_Attended__c",
            "{!attendeeCount}",
        ),
        (ActivityKind.LEAVE, RuleObject.TASK, "Description", "Left at {!leaveTime}"),
    ]
    for trigger, target, field, value in rules:
        add_rule(
            action_set, crm, trigger=trigger, target=target, field=field, value=value
        )
    db.session.commit()
    registrant = register(webinar)
    join(webinar, registrant, START)

    leave = signal(
        webinar,
        ActivityKind.LEAVE,
        START + timedelta(minutes=30, seconds=40),
        registrant=registrant,
        score_percent=87,
    )

    lead = only_lead(org)
    member = member_of(org, lead)
    host_today = datetime.now(UTC).astimezone(ZoneInfo("America/New_York")).date()
    assert lead.description == f"Signed up {host_today.isoformat()} ({webinar.key})"
    assert isinstance(member.registered_at, datetime)
    assert member.joined_at == START
    assert member.minutes_attended == 31
    assert member.attendance_score == 87
    assert lead.webinars_attended == 1
    assert org.tasks_of(lead)[-1].description == "Left at 2030-05-06 10:30 EDT"
    assert (
        "Contact rules skipped: the person is a Lead"
        in db.session.scalars(
            sa.select(Activity).where(Activity.kind == ActivityKind.JOIN)
        )
        .one()
        .trace["actions"]
    )
    assert leave.status is ActivityStatus.DONE


@pytest.mark.parametrize(
    ("trigger", "target", "field", "value", "message"),
    [
        (
            ActivityKind.REGISTER,
            RuleObject.TASK,
            "Description",
            "{!leaveTime}",
            "not available",
        ),
        (
            ActivityKind.JOIN,
            RuleObject.LEAD,
            "Description",
            "{!duration}",
            "not available",
        ),
        (ActivityKind.EMAIL, RuleObject.LEAD, "Title", "{!joinTime}", "not available"),
        (
            ActivityKind.REGISTER,
            RuleObject.LEAD,
            "Title",
            "{!tomorrow}",
            "not a variable",
        ),
        (
            ActivityKind.LEAVE,
            RuleObject.CAMPAIGN_MEMBER,
            "Minutes_Attended__c",
            "about {!durationMins}",
            "whole number",
        ),
        (
            ActivityKind.JOIN,
            RuleObject.CAMPAIGN_MEMBER,
            "Joined_At__c",
            "{!today}",
            "date and time",
        ),
        (ActivityKind.JOIN, RuleObject.LEAD, "Last_Webinar_Date__c", "soon", "a date"),
        (ActivityKind.JOIN, RuleObject.LEAD, "Shoe_Size__c", "42", "no field"),
        (ActivityKind.JOIN, RuleObject.LEAD, "Title", "x" * 129, "at most 128"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_when_saved(
    org: ContractOrg,
    webinar: Event,
    trigger: ActivityKind,
    target: RuleObject,
    field: str,
    value: str,
    message: str,
) -> None:
    action_set = webinar.action_set
    assert action_set is not None

    with pytest.raises(ValidationFailed, match=message):
        add_rule(
            action_set,
            org.crm,
            trigger=trigger,
            target=target,
            field=field,
            value=value,
        )

    assert action_set.rules == []


@pytest.mark.parametrize(
    ("trigger", "target", "field", "value"),
    [
        (
            ActivityKind.LEAVE,
            RuleObject.CAMPAIGN_MEMBER,
            "Minutes_Attended__c",
            "{!duration}",
        ),
        (ActivityKind.LEAVE, RuleObject.CAMPAIGN_MEMBER, "Left_At__c", "{!leaveTime}"),
        (ActivityKind.JOIN, RuleObject.LEAD, "Last_Webinar_Date__c", "{!joinTime}"),
        (ActivityKind.EMAIL, RuleObject.LEAD, "Last_Webinar_Date__c", "2031-01-31"),
        (
            ActivityKind.SESSION_END,
            RuleObject.CONTACT,
            "Description",
            "{!now} {!userId}",
        ),
        (ActivityKind.REGISTER, RuleObject.LEAD, "Webinars_Attended__c", "3"),
    ],
)
def test_rules_with_available_variables_of_the_right_type_are_taken(
    org: ContractOrg,
    webinar: Event,
    trigger: ActivityKind,
    target: RuleObject,
    field: str,
    value: str,
) -> None:
    action_set = webinar.action_set
    assert action_set is not None

    rule = add_rule(
        action_set,
        org.crm,
        trigger=trigger,
        target=target,
        field=field,
        value=value,
    )

    assert rule in action_set.rules


@pytest.fixture
def customer(org: ContractOrg) -> str:
    """The id of a customer's account, with the contact Ada Lovelace in it."""
    account_id = org.add_account("Engines")
    org.add_contact(
        account_id=account_id,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    return account_id


def opportunities(org: ContractOrg, account_id: str) -> list[str]:
    other = org.add_campaign("Older", [("Sent", True, False)])
    return [
        org.add_opportunity(account_id, "No primary"),
        org.add_opportunity(account_id, "Has primary", primary_campaign_id=other),
        org.add_opportunity(account_id, "Closed", is_closed=True),
    ]


@pytest.mark.parametrize(
    ("mode", "primaries", "credited"),
    [
        (InfluenceMode.NONE, ["none", "older"], [False, False]),
        (InfluenceMode.EXISTING, ["this", "older"], [True, True]),
        (InfluenceMode.CURRENT, ["this", "this"], [True, True]),
    ],
)
def test_campaign_influence_on_the_contact_s_open_opportunities(
    org: ContractOrg,
    webinar: Event,
    customer: str,
    campaign: str,
    mode: InfluenceMode,
    primaries: list[str],
    credited: list[bool],
) -> None:
    ids = opportunities(org, customer)
    site_settings().campaign_influence = mode
    db.session.commit()

    register(webinar)

    names = {campaign: "this", None: "none"}
    rows = [org.opportunity(each) for each in ids]
    open_rows = rows[:2]
    assert [
        names.get(_id_text(row.primary_campaign_id), "older") for row in open_rows
    ] == primaries
    assert [
        any(str(influence.campaign_id) == campaign for influence in row.influences)
        for row in open_rows
    ] == credited
    assert rows[2].influences == []
    assert rows[2].primary_campaign_id is None


def _id_text(record_id: int | str | None) -> str | None:
    """An id as the CRM interface writes it (the built-in CRM's are numbers)."""
    return None if record_id is None else str(record_id)


def test_activity_by_staff_is_not_logged_but_still_gets_its_email(
    org: ContractOrg,
    webinar: Event,
) -> None:
    org.add_user(first_name="Ada", last_name="Lovelace", email="ada@example.com")

    register(webinar)

    register_activity, email_activity = db.session.scalars(
        sa.select(Activity).order_by(Activity.id)
    ).all()
    assert register_activity.status is ActivityStatus.SKIPPED
    assert email_activity.kind is ActivityKind.EMAIL
    assert email_activity.trace["email"]["message_id"]
    for kind in ("lead", "task", "member", "feed post"):
        assert org.count(kind) == 0


def test_ignoring_crm_users_logs_staff_like_anyone(
    org: ContractOrg, webinar: Event
) -> None:
    org.add_user(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    site_settings().ignore_crm_users = True
    db.session.commit()

    register(webinar)

    assert only_lead(org).email == "ada@example.com"


def test_session_end_fans_out_to_each_registrant_in_their_turn(
    org: ContractOrg, webinar: Event
) -> None:
    end = settings_of(webinar, ActivityKind.SESSION_END)
    end.campaign_status, end.posts_to_feed, end.sends_email = "Attended", True, True
    settings_of(webinar, ActivityKind.JOIN).campaign_status = ""
    db.session.commit()
    came = register(webinar, "ada@example.com")
    register(webinar, "grace@example.com", first="Grace")
    join(webinar, came, START)

    session_end = signal(webinar, ActivityKind.SESSION_END, START + timedelta(hours=1))

    assert session_end.status is ActivityStatus.DONE
    assert "2 registrants queued for their own actions" in session_end.trace["actions"]
    statuses = {lead.email: member_of(org, lead).status for lead in org.leads()}
    assert statuses == {
        "ada@example.com": "Attended",
        "grace@example.com": "Registered",
    }
    campaign_posts = [
        post.body for post in org.feed_posts() if post.parent_type == "campaign"
    ]
    assert campaign_posts == [f"{webinar.title} ended."]
    follow_ups = db.session.scalars(
        sa.select(Activity).where(
            Activity.kind == ActivityKind.EMAIL,
            Activity.payload["message"].as_string() == "session_end",
        )
    ).all()
    subjects = sorted(activity.payload["subject"] for activity in follow_ups)
    assert len(subjects) == 2
    assert all(activity.status is ActivityStatus.DONE for activity in follow_ups)


def test_session_start_writes_only_to_those_who_have_not_joined(
    org: ContractOrg, webinar: Event
) -> None:
    settings_of(webinar, ActivityKind.SESSION_START).sends_email = True
    db.session.commit()
    early = register(webinar, "ada@example.com")
    register(webinar, "grace@example.com", first="Grace")
    join(webinar, early, START - timedelta(minutes=1))

    signal(webinar, ActivityKind.SESSION_START, START)

    reminded = db.session.scalars(
        sa.select(Registrant.email)
        .join(Activity, Activity.registrant_id == Registrant.id)
        .where(
            Activity.kind == ActivityKind.EMAIL,
            Activity.payload["message"].as_string() == "session_start",
        )
    ).all()
    assert reminded == ["grace@example.com"]


def test_global_defaults_are_copied_into_each_new_session(
    org: ContractOrg,
    make_event: Callable[..., Event],
) -> None:
    defaults = global_action_set(FieldScope.SCHEDULED)
    defaults.for_trigger(ActivityKind.REGISTER).campaign_status = "Invited"
    db.session.commit()

    event = make_event()
    defaults.for_trigger(ActivityKind.REGISTER).campaign_status = "Changed later"
    db.session.commit()

    assert event.action_set is not None
    assert event.action_set.id != defaults.id
    assert (
        event.action_set.for_trigger(ActivityKind.REGISTER).campaign_status == "Invited"
    )


def test_registering_after_joining_never_takes_back_attended(
    org: ContractOrg, webinar: Event
) -> None:
    joined = record_join(webinar, submission_id="walk-in", answers=answers())

    register(webinar)

    member = member_of(org, only_lead(org))
    assert (member.status, member.has_responded) == ("Attended", True)
    register_activity = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.REGISTER)
    ).one()
    assert any(
        "kept Attended, not Registered" in note
        for note in register_activity.trace["actions"]
    )
    assert joined.registered_at is not None


def test_task_dates_are_the_day_it_happened(org: ContractOrg, webinar: Event) -> None:
    register(webinar)

    register_task = org.tasks_of(only_lead(org))[0]
    today = datetime.now(UTC).astimezone(ZoneInfo(webinar.time_zone)).date()
    assert register_task.activity_date == today
