"""Changing actions and settings: the service behind the admin area's editors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from portal.crm import get_crm
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    ActionSet,
    ActivityKind,
    Event,
    EventSeries,
    FieldScope,
    FieldUpdateRule,
    Frequency,
    InfluenceMode,
    Role,
    RuleObject,
    User,
)
from portal.services.action_editing import (
    SiteSettingsChanges,
    TriggerChanges,
    add_field_update,
    delete_field_update,
    own_action_set,
    reset_actions,
    rule_fields,
    update_site_settings,
    update_trigger,
)
from portal.services.action_sets import (
    add_rule,
    copy_action_set,
    effective_action_set,
    global_action_set,
    site_settings,
)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.ADMIN, email="admin@example.com")


@pytest.fixture
def host(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.HOST, email="host@example.com")


@pytest.fixture
def room(host: User) -> Event:
    return db.session.scalars(
        sa.select(Event).where(Event.owner_id == host.id, Event.room_kind.is_not(None))
    ).first()


@pytest.fixture
def occurrence(make_event: Callable[..., Event], host: User) -> Event:
    """An occurrence of a weekly series, running the series' actions."""
    event = make_event(host)
    series = EventSeries(
        owner=host,
        frequency=Frequency.WEEKLY,
        occurrence_count=3,
        action_set=copy_action_set(global_action_set(FieldScope.SCHEDULED)),
    )
    series.action_set.for_trigger(ActivityKind.REGISTER).campaign_status = "Invited"
    event.series = series
    doomed = event.action_set
    event.action_set = None
    db.session.delete(doomed)
    db.session.commit()
    return event


def changes(**overrides: Any) -> TriggerChanges:
    """The Register trigger's factory settings, with some changed."""
    values: dict[str, Any] = {
        "campaign_status": "Registered",
        "posts_to_feed": True,
        "sends_email": True,
        "has_task": True,
        "task_status": "Completed",
        "task_priority": "Normal",
    }
    values.update(overrides)
    return TriggerChanges(**values)


def action_set_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ActionSet)) or 0


def test_changing_a_scope_s_defaults_changes_them_in_place_and_logs_it(
    admin: User, caplog: pytest.LogCaptureFixture
) -> None:
    before = action_set_count()
    caplog.set_level("INFO", logger="portal")

    changed = update_trigger(
        FieldScope.SCHEDULED,
        ActivityKind.REGISTER,
        changes(task_priority="High", campaign_status=" Signed up "),
        actor=admin,
    )

    assert changed == ["task_priority", "campaign_status"]
    settings = global_action_set(FieldScope.SCHEDULED).for_trigger(
        ActivityKind.REGISTER
    )
    assert (settings.task_priority, settings.campaign_status) == ("High", "Signed up")
    assert action_set_count() == before
    lines = [
        r.getMessage() for r in caplog.records if r.name.endswith("action_editing")
    ]
    assert lines == [
        "admin@example.com changed the register actions of the scheduled sessions "
        "defaults: task_priority, campaign_status"
    ]


def test_a_session_changes_its_own_copy_only(
    make_event: Callable[..., Event], host: User
) -> None:
    session = make_event(host)
    own = session.action_set

    update_trigger(
        session, ActivityKind.JOIN, changes(task_status="In Progress"), actor=host
    )

    assert session.action_set is own
    assert own.for_trigger(ActivityKind.JOIN).task_status == "In Progress"
    defaults = global_action_set(FieldScope.SCHEDULED).for_trigger(ActivityKind.JOIN)
    assert defaults.task_status == "Completed"


def test_a_room_gets_its_own_copy_on_its_first_change(
    room: Event, host: User, caplog: pytest.LogCaptureFixture
) -> None:
    defaults = global_action_set(room.field_scope)
    add_rule(
        defaults,
        get_crm(),
        trigger=ActivityKind.JOIN,
        target=RuleObject.LEAD,
        field="Rating",
        value="Warm",
    )
    db.session.commit()
    caplog.set_level("INFO", logger="portal")

    update_trigger(
        room, ActivityKind.JOIN, changes(campaign_status="Visited"), actor=host
    )

    assert room.action_set is not None
    assert room.action_set is not defaults
    assert effective_action_set(room) is room.action_set
    assert room.action_set.for_trigger(ActivityKind.JOIN).campaign_status == "Visited"
    assert [rule.value for rule in room.action_set.rules] == ["Warm"]
    assert defaults.for_trigger(ActivityKind.JOIN).campaign_status == "Attended"
    messages = [r.getMessage() for r in caplog.records if r.name.endswith("editing")]
    assert len(messages) == 2
    assert messages[0].startswith(f"host@example.com gave room {room.id} its own")


def test_saving_unchanged_settings_makes_no_copy(room: Event, host: User) -> None:
    before = action_set_count()

    changed = update_trigger(room, ActivityKind.REGISTER, changes(), actor=host)

    assert changed == []
    assert room.action_set is None
    assert action_set_count() == before


def test_an_occurrence_copies_its_series_actions_and_leaves_the_series_alone(
    occurrence: Event, host: User
) -> None:
    series_set = occurrence.series.action_set

    update_trigger(
        occurrence, ActivityKind.JOIN, changes(campaign_status="Came"), actor=host
    )

    own = occurrence.action_set
    assert own is not None
    assert own is not series_set
    assert own.for_trigger(ActivityKind.REGISTER).campaign_status == "Invited"
    assert own.for_trigger(ActivityKind.JOIN).campaign_status == "Came"
    assert series_set.for_trigger(ActivityKind.JOIN).campaign_status == "Attended"


def test_own_action_set_is_made_once(room: Event, host: User) -> None:
    first = own_action_set(room, host)

    assert own_action_set(room, host) is first


@pytest.mark.parametrize(
    ("trigger", "overrides", "field"),
    [
        (ActivityKind.REGISTER, {"task_status": "Done"}, "task_status"),
        (ActivityKind.REGISTER, {"task_priority": "Urgent"}, "task_priority"),
        (ActivityKind.REGISTER, {"campaign_status": "x" * 41}, "campaign_status"),
        (ActivityKind.SESSION_START, {"has_task": True}, "has_task"),
        (ActivityKind.EMAIL, {"sends_email": True}, "sends_email"),
    ],
)
def test_impossible_trigger_settings_are_refused(
    room: Event,
    host: User,
    trigger: ActivityKind,
    overrides: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        update_trigger(room, trigger, changes(**overrides), actor=host)

    assert refused.value.field == field
    assert room.action_set is None


def test_a_campaign_status_of_forty_characters_is_taken(
    room: Event, host: User
) -> None:
    update_trigger(
        room, ActivityKind.JOIN, changes(campaign_status="x" * 40), actor=host
    )

    assert room.action_set.for_trigger(ActivityKind.JOIN).campaign_status == "x" * 40


def test_a_rule_with_a_variable_the_trigger_lacks_leaves_nothing_behind(
    room: Event, host: User
) -> None:
    before = action_set_count()

    with pytest.raises(ValidationFailed) as refused:
        add_field_update(
            room,
            trigger=ActivityKind.JOIN,
            target=RuleObject.CAMPAIGN_MEMBER,
            field="Minutes_Attended__c",
            value="{!durationMins}",
            actor=host,
        )

    assert refused.value.field == "value"
    assert (
        refused.value.message == "{!durationMins} is not available on the join trigger."
    )
    db.session.expire_all()
    assert room.action_set is None
    assert action_set_count() == before
    assert db.session.scalars(sa.select(FieldUpdateRule)).all() == []


@pytest.mark.parametrize(
    ("trigger", "target", "field", "message"),
    [
        (
            ActivityKind.SESSION_END,
            RuleObject.TASK,
            "Subject",
            "The Session End trigger has no task to update.",
        ),
        (
            ActivityKind.REGISTER,
            RuleObject.CAMPAIGN_MEMBER,
            "Status",
            "Campaign Member Status is set by the trigger's campaign member status; "
            "change it there.",
        ),
        (ActivityKind.REGISTER, RuleObject.LEAD, "Shoe_Size__c", "Lead has no field"),
    ],
)
def test_a_rule_on_a_field_it_cannot_write_is_refused_on_the_field(
    admin: User, trigger: ActivityKind, target: RuleObject, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        add_field_update(
            FieldScope.SCHEDULED,
            trigger=trigger,
            target=target,
            field=field,
            value="x",
            actor=admin,
        )

    assert refused.value.field == "field"
    assert refused.value.message.startswith(message)


@pytest.mark.usefixtures("app")
def test_the_rule_fields_follow_the_trigger() -> None:
    leave = rule_fields(ActivityKind.LEAVE, get_crm())
    start = rule_fields(ActivityKind.SESSION_START, get_crm())

    assert list(leave) == [
        RuleObject.TASK,
        RuleObject.CAMPAIGN_MEMBER,
        RuleObject.CONTACT,
        RuleObject.LEAD,
    ]
    assert RuleObject.TASK not in start
    task_fields = [spec.name for spec in leave[RuleObject.TASK]]
    assert "Status" not in task_fields
    assert "Priority" not in task_fields
    assert "Duration_Minutes__c" in task_fields


def test_deleting_an_inherited_rule_copies_first_and_keeps_the_defaults(
    room: Event, host: User
) -> None:
    defaults = global_action_set(room.field_scope)
    for value in ("Hot", "Warm"):
        add_rule(
            defaults,
            get_crm(),
            trigger=ActivityKind.JOIN,
            target=RuleObject.LEAD,
            field="Rating",
            value=value,
        )
    db.session.commit()
    warm = defaults.rules[1]

    delete_field_update(room, warm, actor=host)

    assert [rule.value for rule in room.action_set.rules] == ["Hot"]
    assert [rule.value for rule in defaults.rules] == ["Hot", "Warm"]


def test_reset_gives_a_session_a_fresh_copy_of_the_defaults(
    make_event: Callable[..., Event], host: User
) -> None:
    session = make_event(host)
    old = session.action_set
    update_trigger(
        session, ActivityKind.JOIN, changes(campaign_status="Came"), actor=host
    )

    reset_actions(session, actor=host)

    assert session.action_set is not None
    assert session.action_set is not old
    assert (
        session.action_set.for_trigger(ActivityKind.JOIN).campaign_status == "Attended"
    )
    assert db.session.get(ActionSet, old.id) is None


def test_reset_lets_an_occurrence_follow_its_series_again(
    occurrence: Event, host: User
) -> None:
    update_trigger(
        occurrence, ActivityKind.JOIN, changes(campaign_status="Came"), actor=host
    )

    reset_actions(occurrence, actor=host)

    assert occurrence.action_set is None
    assert effective_action_set(occurrence) is occurrence.series.action_set


def site_changes(**overrides: Any) -> SiteSettingsChanges:
    values: dict[str, Any] = {
        "ignore_crm_users": False,
        "preferred_account_id": "",
        "campaign_influence": InfluenceMode.NONE,
        "enabled_session_types": [
            "meeting",
            "learning",
            "webinar",
            "support",
            "existing",
        ],
    }
    values.update(overrides)
    return SiteSettingsChanges(**values)


def test_site_settings_are_saved_and_logged(
    admin: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="portal")

    changed = update_site_settings(
        site_changes(
            ignore_crm_users=True,
            preferred_account_id=" 7 ",
            campaign_influence=InfluenceMode.EXISTING,
            enabled_session_types=["webinar", "meeting"],
        ),
        actor=admin,
    )

    assert changed == [
        "ignore_crm_users",
        "preferred_account_id",
        "campaign_influence",
        "enabled_session_types",
    ]
    settings = site_settings()
    assert settings.ignore_crm_users is True
    assert settings.preferred_account_id == "7"
    assert settings.campaign_influence is InfluenceMode.EXISTING
    assert settings.enabled_session_types == ["meeting", "webinar"]
    assert [r.getMessage() for r in caplog.records if r.name.endswith("editing")] == [
        "admin@example.com changed the site settings: ignore_crm_users, "
        "preferred_account_id, campaign_influence, enabled_session_types"
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"enabled_session_types": []}, "enabled_session_types"),
        ({"enabled_session_types": ["webinar", "party"]}, "enabled_session_types"),
        ({"preferred_account_id": "x" * 19}, "preferred_account_id"),
    ],
)
def test_impossible_site_settings_are_refused(
    admin: User, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        update_site_settings(site_changes(**overrides), actor=admin)

    assert refused.value.field == field
    db.session.expire_all()
    assert len(site_settings().enabled_session_types) == 5
    assert site_settings().preferred_account_id == ""


@pytest.mark.parametrize(
    ("target", "field", "value", "message"),
    [
        (RuleObject.LEAD, "Rating", "NotARating", "Rating takes one of: Hot, Warm"),
        (RuleObject.LEAD, "Status", "open", "Lead Status takes one of"),
        (RuleObject.LEAD, "Description", "came at {!now", "Write each variable whole"),
        (RuleObject.LEAD, "Description", "{!now}{!", "Write each variable whole"),
    ],
)
def test_a_rule_value_its_field_cannot_take_is_refused(
    admin: User, target: RuleObject, field: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        add_field_update(
            FieldScope.SCHEDULED,
            trigger=ActivityKind.JOIN,
            target=target,
            field=field,
            value=value,
            actor=admin,
        )

    assert refused.value.field == "value"
    assert refused.value.message.startswith(message)
    assert db.session.scalars(sa.select(FieldUpdateRule)).all() == []


@pytest.mark.parametrize(
    ("field", "value"), [("Rating", "Warm"), ("Description", "came {!now} {not!}")]
)
def test_a_rule_value_its_field_takes_is_saved(
    admin: User, field: str, value: str
) -> None:
    add_field_update(
        FieldScope.SCHEDULED,
        trigger=ActivityKind.JOIN,
        target=RuleObject.LEAD,
        field=field,
        value=value,
        actor=admin,
    )

    assert db.session.scalars(sa.select(FieldUpdateRule.value)).all() == [value]
