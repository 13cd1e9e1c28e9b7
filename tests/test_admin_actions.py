"""The actions editors and the settings page, read and sent as a browser would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient

from portal.crm import get_crm
from portal.extensions import db
from portal.models import (
    Account,
    Activity,
    ActivityKind,
    Campaign,
    CampaignInfluence,
    CampaignMember,
    CampaignMemberStatus,
    Contact,
    CrmUser,
    Event,
    FeedPost,
    FieldScope,
    FieldUpdateRule,
    FixedField,
    InfluenceMode,
    Lead,
    Opportunity,
    Role,
    RuleObject,
    Task,
    User,
    utcnow,
)
from portal.services.action_sets import (
    add_rule,
    effective_action_set,
    global_action_set,
    site_settings,
)
from portal.services.fields import Answer
from portal.services.processing import process_all
from portal.services.registration import register_attendee
from portal.services.variables import variables_for
from tests.conftest import form_values, page, post_attendance
from tests.test_registration_pages import fill

TRIGGER_NAMES = ["Register", "Join", "Leave", "Session Start", "Session End", "Email"]


@pytest.fixture
def campaign(app: Flask) -> Campaign:
    campaign = Campaign(name="Spring Launch")
    campaign.statuses = [
        CampaignMemberStatus(label="Sent", is_default=True, sort_order=1),
        CampaignMemberStatus(label="Registered", sort_order=2),
        CampaignMemberStatus(label="Confirmed", sort_order=3),
        CampaignMemberStatus(label="Attended", has_responded=True, sort_order=4),
    ]
    db.session.add(campaign)
    db.session.commit()
    return campaign


@pytest.fixture
def webinar(make_event: Callable[..., Event], campaign: Campaign) -> Event:
    return make_event(campaign_id=str(campaign.id))


@pytest.fixture
def hosted(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> tuple[FlaskClient, Event]:
    """A host's client and one of the host's own sessions."""
    client, host = host_client
    return client, make_event(host)


def room_of(host: User) -> Event:
    return db.session.scalars(
        sa.select(Event)
        .where(Event.owner_id == host.id, Event.room_kind.is_not(None))
        .order_by(Event.room_kind)
    ).first()


def card(soup: BeautifulSoup, trigger: str) -> Tag:
    found = soup.find("section", id=f"trigger-{trigger}")
    assert found is not None, f"no card for {trigger}"
    return found


def values_of(form: Tag) -> dict[str, Any]:
    """What a browser would send for this form."""
    return form_values(BeautifulSoup(str(form), "html.parser"))


def card_form(soup: BeautifulSoup, trigger: str, which: int = 0) -> dict[str, Any]:
    """The action and the values of a card's settings (0) or add-rule (1) form."""
    form = card(soup, trigger).find_all("form", class_="stacked-form")[which]
    values = values_of(form)
    for box in form.select("input[type=checkbox]"):
        if not box.has_attr("checked"):
            values.pop(box["name"])
    return {"action": form["action"], "data": values}


def save_card(
    client: FlaskClient, address: str, trigger: str, which: int = 0, **changes: Any
) -> Any:
    """Open the editor, change some of a card's values, and send that form."""
    form = card_form(page(client.get(address)), trigger, which)
    data = form["data"]
    for name, value in changes.items():
        key = f"{trigger}-{name}" if which == 0 else f"rule-{trigger}-{name}"
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return client.post(form["action"], data=data)


def register_through_the_page(
    client: FlaskClient, event: Event, email: str = "ada@example.com"
) -> None:
    address = f"/e/{event.key}/register"
    response = client.post(
        address, data=fill(form_values(page(client.get(address))), sf_Email=email)
    )
    assert response.status_code in (302, 303)


def flash_text(client: FlaskClient, address: str) -> str:
    return page(client.get(address)).select_one(".flashes").get_text(" ", strip=True)


# Who may open what.


@pytest.mark.parametrize(
    "address",
    [
        "/admin/actions",
        "/admin/actions/scheduled",
        "/admin/settings",
        "/admin/sessions/1/actions",
        "/admin/rooms/1/actions",
    ],
)
def test_actions_pages_send_visitors_to_sign_in(
    client: FlaskClient, address: str
) -> None:
    response = client.get(address)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(
    ("method", "address"),
    [
        ("get", "/admin/actions"),
        ("get", "/admin/actions/meeting_room"),
        ("post", "/admin/actions/scheduled/register"),
        ("post", "/admin/actions/scheduled/register/rules"),
        ("get", "/admin/settings"),
        ("post", "/admin/settings"),
    ],
)
def test_global_actions_and_settings_are_for_admins_only(
    host_client: tuple[FlaskClient, User], method: str, address: str
) -> None:
    client, _ = host_client
    token = page(client.get("/admin/")).find("input", attrs={"name": "csrf_token"})

    response = getattr(client, method)(address, data={"csrf_token": token["value"]})

    assert response.status_code == 403
    assert global_action_set(FieldScope.SCHEDULED).rules == []


def test_hosts_see_no_admin_sections_in_the_navigation(
    host_client: tuple[FlaskClient, User], admin_client: FlaskClient
) -> None:
    client, _ = host_client

    host_nav = [
        a.get_text() for a in page(client.get("/admin/")).select(".admin-nav a")
    ]
    admin_nav = [
        a.get_text() for a in page(admin_client.get("/admin/")).select(".admin-nav a")
    ]

    assert "Actions" not in host_nav
    assert "Settings" not in host_nav
    assert {"Actions", "Settings"} <= set(admin_nav)


def test_a_host_may_not_open_another_host_s_actions(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    client, _ = host_client
    other = make_user(role=Role.HOST)
    session = make_event(other)

    assert client.get(f"/admin/sessions/{session.id}/actions").status_code == 403
    assert client.get(f"/admin/rooms/{room_of(other).id}/actions").status_code == 403


@pytest.mark.parametrize(
    "address",
    [
        "/admin/sessions/999/actions",
        "/admin/rooms/999/actions",
        "/admin/actions/nowhere",
        "/admin/sessions/{room}/actions",
        "/admin/rooms/{session}/actions",
    ],
)
def test_missing_or_mismatched_pages_answer_404(
    admin_client: FlaskClient,
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
    address: str,
) -> None:
    session = make_event()
    room = room_of(session.owner)

    response = admin_client.get(address.format(room=room.id, session=session.id))

    assert response.status_code == 404


def test_a_rule_of_other_actions_cannot_be_deleted_through_this_page(
    hosted: tuple[FlaskClient, Event], make_event: Callable[..., Event]
) -> None:
    client, own = hosted
    other = make_event()
    assert other.action_set is not None
    rule = add_rule(
        other.action_set,
        get_crm(),
        trigger=ActivityKind.REGISTER,
        target=RuleObject.LEAD,
        field="Rating",
        value="Hot",
    )
    db.session.commit()
    address = f"/admin/sessions/{own.id}/actions"
    token = page(client.get(address)).find("input", attrs={"name": "csrf_token"})

    response = client.post(
        f"{address}/rules/{rule.id}/delete", data={"csrf_token": token["value"]}
    )

    assert response.status_code == 404
    assert db.session.get(FieldUpdateRule, rule.id) is not None


# The editor.


def test_the_editor_lays_out_six_triggers_with_the_settings_each_one_has(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted

    soup = page(client.get(f"/admin/sessions/{session.id}/actions"))

    glance = [th.get_text(strip=True) for th in soup.select(".glance-table tbody th")]
    cards = [
        section.h2.get_text(strip=True) for section in soup.select(".trigger-card")
    ]
    assert glance == cards == TRIGGER_NAMES

    def settings_of(trigger: str) -> list[str]:
        form = card(soup, trigger).find("form")
        return [
            element["name"].removeprefix(f"{trigger}-")
            for element in form.select("input, select")
            if not element["name"].endswith("csrf_token")
        ]

    everything = [
        "has_task",
        "task_status",
        "task_priority",
        "campaign_status",
        "posts_to_feed",
        "sends_email",
    ]
    assert settings_of("register") == everything
    assert settings_of("join") == everything
    assert settings_of("leave") == [
        "has_task",
        "task_status",
        "campaign_status",
        "posts_to_feed",
        "sends_email",
    ]
    assert settings_of("session_start") == [
        "campaign_status",
        "posts_to_feed",
        "sends_email",
    ]
    assert settings_of("session_end") == [
        "campaign_status",
        "no_show_status",
        "short_stay_minutes",
        "short_stay_status",
        "posts_to_feed",
        "sends_email",
    ]
    assert settings_of("email") == everything[:-1]


def test_task_statuses_and_priorities_come_from_the_crm(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted

    soup = page(client.get(f"/admin/sessions/{session.id}/actions"))

    statuses = soup.find("select", id="register-task_status").find_all("option")
    assert [option["value"] for option in statuses] == list(get_crm().task_statuses())
    completed = next(option for option in statuses if option["value"] == "Completed")
    assert "closes the task" in completed.get_text()
    priorities = soup.find("select", id="register-task_priority").find_all("option")
    assert [option["value"] for option in priorities] == ["High", "Normal", "Low"]


@pytest.mark.parametrize("trigger", list(ActivityKind))
def test_each_trigger_offers_exactly_the_variables_it_provides(
    hosted: tuple[FlaskClient, Event], trigger: ActivityKind
) -> None:
    client, session = hosted

    soup = page(client.get(f"/admin/sessions/{session.id}/actions"))

    rows = card(soup, trigger.value).select("table.variables tbody tr")
    offered = [
        (row.th.get_text(strip=True), row.td.get_text(strip=True)) for row in rows
    ]
    assert offered == [
        (f"{{!{variable.name}}}", variable.meaning)
        for variable in variables_for(trigger)
    ]


def test_task_fields_are_offered_only_to_triggers_with_a_task(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted

    soup = page(client.get(f"/admin/sessions/{session.id}/actions"))

    def groups(trigger: str) -> list[str]:
        select = soup.find("select", id=f"rule-{trigger}-target_field")
        return [group["label"] for group in select.find_all("optgroup")]

    assert groups("leave") == ["Task", "Campaign Member", "Contact", "Lead"]
    assert groups("session_end") == ["Campaign Member", "Contact", "Lead"]
    offered = [
        option["value"]
        for option in soup.find("select", id="rule-join-target_field").find_all(
            "option"
        )
    ]
    assert "task:ActivityDate" in offered
    assert "task:Status" not in offered
    assert "campaign_member:Status" not in offered


def test_a_session_with_a_campaign_suggests_its_statuses(
    admin_client: FlaskClient, webinar: Event
) -> None:
    soup = page(admin_client.get(f"/admin/sessions/{webinar.id}/actions"))

    field = soup.find("input", id="register-campaign_status")
    suggestions = soup.find("datalist", id=field["list"])
    assert [option["value"] for option in suggestions.find_all("option")] == [
        "Sent",
        "Registered",
        "Confirmed",
        "Attended",
    ]
    assert field["maxlength"] == "40"


def test_a_session_without_a_campaign_says_statuses_are_not_used(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted

    soup = page(client.get(f"/admin/sessions/{session.id}/actions"))

    assert soup.find("datalist") is None
    assert not soup.find("input", id="register-campaign_status").has_attr("list")
    assert "has no campaign" in soup.select_one(".page-heading").get_text()


def test_a_status_the_campaign_lacks_is_refused_on_the_session(
    admin_client: FlaskClient, webinar: Event
) -> None:
    address = f"/admin/sessions/{webinar.id}/actions"

    response = save_card(admin_client, address, "join", campaign_status="Came")

    assert response.status_code == 422
    error = card(page(response), "join").select_one(".field-error")
    assert "Spring Launch has no status “Came”" in error.get_text()
    db.session.expire_all()
    assert webinar.action_set.for_trigger(ActivityKind.JOIN).campaign_status != "Came"


def test_a_status_is_stored_as_the_campaign_spells_it(
    admin_client: FlaskClient, webinar: Event
) -> None:
    address = f"/admin/sessions/{webinar.id}/actions"

    save_card(admin_client, address, "join", campaign_status=" attended ")

    db.session.expire_all()
    join = webinar.action_set.for_trigger(ActivityKind.JOIN)
    assert join.campaign_status == "Attended"


def test_a_copied_status_the_campaign_lacks_is_pointed_out(
    admin_client: FlaskClient, webinar: Event
) -> None:
    address = f"/admin/sessions/{webinar.id}/actions"
    webinar.action_set.for_trigger(ActivityKind.JOIN).campaign_status = "Came"
    db.session.commit()

    warning = card(page(admin_client.get(address)), "join").select_one(".warning")

    assert "not one of Spring Launch's statuses" in warning.get_text()
    assert "(Sent)" in warning.get_text()


# Settings saved and used by processing.


def test_the_register_campaign_status_set_on_a_session_reaches_the_crm(
    admin_client: FlaskClient, client: FlaskClient, webinar: Event
) -> None:
    address = f"/admin/sessions/{webinar.id}/actions"

    response = save_card(admin_client, address, "register", campaign_status="Confirmed")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{address}#trigger-register")
    assert flash_text(admin_client, address) == "Register actions saved."
    register_through_the_page(client, webinar)
    member = db.session.scalars(sa.select(CampaignMember)).one()
    assert member.status == "Confirmed"


def test_an_empty_campaign_status_gives_new_members_the_default(
    admin_client: FlaskClient, client: FlaskClient, webinar: Event
) -> None:
    save_card(
        admin_client,
        f"/admin/sessions/{webinar.id}/actions",
        "register",
        campaign_status="",
    )

    register_through_the_page(client, webinar)

    assert db.session.scalars(sa.select(CampaignMember.status)).one() == "Sent"


def test_task_status_and_priority_set_on_a_session_reach_the_task(
    hosted: tuple[FlaskClient, Event], client: FlaskClient
) -> None:
    host_client, session = hosted

    save_card(
        host_client,
        f"/admin/sessions/{session.id}/actions",
        "register",
        task_status="Not Started",
        task_priority="High",
    )
    register_through_the_page(client, session)

    task = db.session.scalars(
        sa.select(Task).where(Task.subject.startswith("Registered"))
    ).one()
    assert (task.status, task.priority, task.is_closed) == (
        "Not Started",
        "High",
        False,
    )


def test_switching_off_the_task_feed_post_and_email_stops_them(
    hosted: tuple[FlaskClient, Event], client: FlaskClient
) -> None:
    host_client, session = hosted

    save_card(
        host_client,
        f"/admin/sessions/{session.id}/actions",
        "register",
        has_task=None,
        posts_to_feed=None,
        sends_email=None,
    )
    register_through_the_page(client, session)

    assert db.session.scalars(sa.select(Lead)).one().email == "ada@example.com"
    for model in (Task, FeedPost):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    kinds = db.session.scalars(sa.select(Activity.kind)).all()
    assert kinds == [ActivityKind.REGISTER]


def test_saving_without_changes_changes_nothing(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted
    address = f"/rooms/{room_of(session.owner).id}/actions"

    response = save_card(client, f"/admin{address}", "join")

    assert response.status_code == 303
    assert (
        flash_text(client, f"/admin{address}") == "Nothing changed in the Join actions."
    )
    assert room_of(session.owner).action_set is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("campaign_status", "x" * 41, "at most 40 characters"),
        ("task_status", "Done", "Not a valid choice"),
        ("task_priority", "Urgent", "Not a valid choice"),
    ],
)
def test_bad_trigger_settings_are_refused_next_to_the_field(
    hosted: tuple[FlaskClient, Event], field: str, value: str, message: str
) -> None:
    client, session = hosted
    address = f"/admin/sessions/{session.id}/actions"

    response = save_card(client, address, "register", **{field: value})

    assert response.status_code == 422
    soup = page(response)
    error = soup.find(id=f"register-{field}-error")
    assert message in error.get_text()
    assert soup.select_one(".error-summary a")["href"] == f"#register-{field}"
    settings = session.action_set.for_trigger(ActivityKind.REGISTER)
    db.session.refresh(settings)
    assert (settings.campaign_status, settings.task_status, settings.task_priority) == (
        "Registered",
        "Completed",
        "Normal",
    )


def test_session_end_statuses_set_on_the_page_reach_no_shows_and_short_stays(
    admin_client: FlaskClient,
    webhooks: Flask,
    webinar: Event,
    campaign: Campaign,
) -> None:
    campaign.statuses.append(CampaignMemberStatus(label="No Show", sort_order=5))
    campaign.statuses.append(
        CampaignMemberStatus(label="Dropped In", has_responded=True, sort_order=6)
    )
    db.session.commit()
    address = f"/admin/sessions/{webinar.id}/actions"

    response = save_card(
        admin_client,
        address,
        "session_end",
        campaign_status="Attended",
        no_show_status="No Show",
        short_stay_minutes="15",
        short_stay_status="Dropped In",
    )

    assert response.status_code == 303
    glance = page(admin_client.get(address)).select(".glance-table tbody tr")
    session_end_row = [cell.get_text(" ", strip=True) for cell in glance[4]("td")]
    assert session_end_row[1] == (
        "Attended; never joined: No Show; under 15 min: Dropped In"
    )
    stayed, dropped_in, missed = (
        register_attendee(
            webinar,
            answers_for(email),
            submission_id=email,
        ).registrant
        for email in ("ada@example.com", "bob@example.com", "cy@example.com")
    )
    now = utcnow().replace(microsecond=0)
    for registrant, minutes in ((stayed, 40), (dropped_in, 5)):
        for kind, ago in (("join", 50), ("leave", 50 - minutes)):
            post_attendance(
                admin_client,
                {
                    "type": kind,
                    "session": webinar.key,
                    "time": (now - timedelta(minutes=ago)).isoformat(),
                    "attendee": {"token": registrant.token},
                },
            )
    post_attendance(
        admin_client,
        {"type": "session_end", "session": webinar.key, "time": now.isoformat()},
    )
    process_all("test")

    statuses = {
        lead.email: status
        for lead, status in db.session.execute(
            sa.select(Lead, CampaignMember.status).join(
                CampaignMember, CampaignMember.lead_id == Lead.id
            )
        )
    }
    assert statuses == {
        stayed.email_key: "Attended",
        dropped_in.email_key: "Dropped In",
        missed.email_key: "No Show",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"short_stay_minutes": "10"}, "short_stay_status", "or neither"),
        ({"short_stay_status": "Briefly"}, "short_stay_minutes", "or neither"),
        (
            {"short_stay_minutes": "0", "short_stay_status": "Briefly"},
            "short_stay_minutes",
            "1 to 1440",
        ),
        ({"short_stay_minutes": "ten"}, "short_stay_minutes", "whole number"),
        ({"no_show_status": "x" * 41}, "no_show_status", "at most 40"),
    ],
)
def test_bad_session_end_statuses_are_refused_next_to_the_field(
    admin_client: FlaskClient,
    webinar: Event,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    address = f"/admin/sessions/{webinar.id}/actions"

    response = save_card(admin_client, address, "session_end", **changes)

    assert response.status_code == 422
    error = page(response).find(id=f"session_end-{field}-error")
    assert error is not None
    assert message in error.get_text()
    settings = effective_action_set(webinar).for_trigger(ActivityKind.SESSION_END)
    db.session.refresh(settings)
    assert (settings.no_show_status, settings.short_stay_minutes) == ("", None)


@pytest.mark.parametrize("status", ["Registered", "registered", "Sent"])
def test_a_short_stay_status_that_is_no_response_is_refused_next_to_the_field(
    admin_client: FlaskClient, webinar: Event, status: str
) -> None:
    address = f"/admin/sessions/{webinar.id}/actions"

    response = save_card(
        admin_client,
        address,
        "session_end",
        short_stay_minutes="10",
        short_stay_status=status,
    )

    assert response.status_code == 422
    error = page(response).find(id="session_end-short_stay_status-error")
    assert error is not None
    assert "does not count as a response in Spring Launch" in error.get_text()
    assert "use one that does: Attended" in error.get_text()
    settings = effective_action_set(webinar).for_trigger(ActivityKind.SESSION_END)
    db.session.refresh(settings)
    assert (settings.short_stay_minutes, settings.short_stay_status) == (None, "")


def answers_for(email: str) -> list[Answer]:
    first = email.split("@")[0].title()
    return [
        Answer("First Name", "FirstName", "FirstName", first, FixedField.FIRST_NAME),
        Answer("Last Name", "LastName", "LastName", "Tester", FixedField.LAST_NAME),
        Answer("Email", "Email", "Email", email, FixedField.EMAIL),
        Answer("Company", "", "Company", "Testing", FixedField.COMPANY),
    ]


# Field-update rules.


def test_a_rule_added_on_the_page_is_listed_and_applied(
    hosted: tuple[FlaskClient, Event], client: FlaskClient
) -> None:
    host_client, session = hosted
    address = f"/admin/sessions/{session.id}/actions"

    response = save_card(
        host_client,
        address,
        "register",
        which=1,
        target_field="lead:Rating",
        value="Warm",
    )

    assert response.status_code == 303
    rows = card(page(host_client.get(address)), "register").select(
        ".rules-table tbody tr"
    )
    assert [
        [cell.get_text(" ", strip=True) for cell in row.find_all("td")[:3]]
        for row in rows
    ] == [["Lead", "Rating", "Warm"]]
    register_through_the_page(client, session)
    assert db.session.scalars(sa.select(Lead)).one().rating == "Warm"


def test_a_rule_with_a_variable_the_trigger_lacks_is_refused_and_not_saved(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted
    address = f"/admin/sessions/{session.id}/actions"

    response = save_card(
        client,
        address,
        "register",
        which=1,
        target_field="lead:Description",
        value="Stayed {!durationMins} minutes",
    )

    assert response.status_code == 422
    soup = page(response)
    error = soup.find(id="rule-register-value-error")
    assert (
        error.get_text(strip=True)
        == "{!durationMins} is not available on the register trigger."
    )
    assert card(soup, "register").find("details").has_attr("open")
    assert (
        soup.find(id="rule-register-value")["value"] == "Stayed {!durationMins} minutes"
    )
    db.session.expire_all()
    assert db.session.scalars(sa.select(FieldUpdateRule)).all() == []


def test_a_rule_of_the_wrong_type_is_refused_next_to_the_value(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted

    response = save_card(
        client,
        f"/admin/sessions/{session.id}/actions",
        "leave",
        which=1,
        target_field="campaign_member:Minutes_Attended__c",
        value="{!leaveTime}",
    )

    assert response.status_code == 422
    error = page(response).find(id="rule-leave-value-error")
    assert "holds a whole number" in error.get_text()


def test_a_rule_is_deleted_from_the_page(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted
    address = f"/admin/sessions/{session.id}/actions"
    save_card(client, address, "join", which=1, target_field="lead:Rating", value="Hot")
    delete = card(page(client.get(address)), "join").select_one(".rules-table form")

    response = client.post(delete["action"], data=values_of(delete))

    assert response.status_code == 303
    assert flash_text(client, address) == "Field update deleted from Join."
    assert db.session.scalars(sa.select(FieldUpdateRule)).all() == []


# Rooms and global defaults.


def test_a_room_page_says_its_tasks_always_complete_and_offers_no_status(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted

    soup = page(client.get(f"/admin/rooms/{room_of(session.owner).id}/actions"))

    assert "always logged as Completed" in soup.select_one(".notice").get_text(
        " ", strip=True
    )
    assert soup.find(id="register-task_status") is None
    assert soup.find(id="register-task_priority") is not None


def test_a_room_s_first_change_gives_it_its_own_copy(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted
    room = room_of(session.owner)
    address = f"/admin/rooms/{room.id}/actions"
    assert (
        "runs the defaults"
        in page(client.get(address)).select_one(".source-note").get_text()
    )

    save_card(client, address, "join", task_priority="High")

    assert "now has its own actions" in flash_text(client, address)
    db.session.expire_all()
    room = room_of(session.owner)
    assert room.action_set is not None
    assert room.action_set.for_trigger(ActivityKind.JOIN).task_priority == "High"
    defaults = global_action_set(room.field_scope).for_trigger(ActivityKind.JOIN)
    assert defaults.task_priority == "Normal"


def test_rooms_have_no_campaign_member_status_to_set(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted

    soup = page(client.get(f"/admin/rooms/{room_of(session.owner).id}/actions"))

    assert soup.find(id="join-campaign_status") is None
    headings = [th.get_text() for th in soup.select(".glance-table thead th")]
    assert "Campaign member status" not in headings


def test_resetting_a_room_lets_it_follow_the_defaults_again(
    hosted: tuple[FlaskClient, Event],
) -> None:
    client, session = hosted
    room = room_of(session.owner)
    address = f"/admin/rooms/{room.id}/actions"
    save_card(client, address, "join", task_priority="High")
    reset = page(client.get(address)).select_one(".source-note form")

    response = client.post(reset["action"], data=values_of(reset))

    assert response.status_code == 303
    db.session.expire_all()
    room = room_of(session.owner)
    assert room.action_set is None
    assert effective_action_set(room) is global_action_set(room.field_scope)


def test_the_scheduled_defaults_changed_by_an_admin_reach_new_sessions(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    soup = page(admin_client.get("/admin/actions"))
    scopes = [a.get_text(strip=True) for a in soup.select("tbody th a")]
    assert scopes == [scope.label for scope in FieldScope]

    save_card(admin_client, "/admin/actions/scheduled", "join", task_priority="High")
    session = make_event()

    assert session.action_set is not None
    assert session.action_set.for_trigger(ActivityKind.JOIN).task_priority == "High"


# Site settings.


def save_settings(
    client: FlaskClient, address: str = "/admin/settings", **changes: Any
) -> Any:
    soup = page(client.get(address))
    form = soup.find("form", class_="settings-form")
    data = values_of(form)
    data.pop("campaign_influence", None)
    data.pop("enabled_session_types", None)
    data.pop("ignore_crm_users", None)
    for box in form.select("input[type=checkbox][checked], input[type=radio][checked]"):
        data.setdefault(box["name"], [])
        if isinstance(data[box["name"]], list):
            data[box["name"]].append(box["value"])
    data.update(changes)
    return client.post(form["action"], data=data)


def test_the_settings_page_shows_the_current_settings(
    admin_client: FlaskClient,
) -> None:
    soup = page(admin_client.get("/admin/settings"))

    influence = soup.find_all("input", attrs={"name": "campaign_influence"})
    assert [(radio["value"], radio.has_attr("checked")) for radio in influence] == [
        ("none", True),
        ("existing", False),
        ("current", False),
    ]
    labels = [soup.find("label", attrs={"for": radio["id"]}) for radio in influence]
    assert all(len(label.get_text()) > 40 for label in labels)
    types = soup.find_all("input", attrs={"name": "enabled_session_types"})
    assert all(box.has_attr("checked") for box in types)
    assert soup.find(id="account_search") is None


def test_ignoring_crm_users_set_on_the_page_logs_staff_as_leads(
    admin_client: FlaskClient, client: FlaskClient, webinar: Event
) -> None:
    db.session.add(
        CrmUser(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    )
    db.session.commit()

    response = save_settings(admin_client, ignore_crm_users="y")

    assert response.status_code == 303
    assert flash_text(admin_client, "/admin/settings") == "Settings saved."
    register_through_the_page(client, webinar)
    assert db.session.scalars(sa.select(Lead.email)).all() == ["ada@example.com"]


def test_the_preferred_account_chosen_on_the_page_wins_the_match(
    admin_client: FlaskClient, client: FlaskClient, webinar: Event
) -> None:
    older = Contact(
        account=Account(name="Elsewhere"),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    db.session.add(older)
    db.session.flush()
    preferred = Contact(
        account=Account(name="Partner Inc"),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    db.session.add(preferred)
    db.session.commit()
    options = page(admin_client.get("/admin/settings")).find(
        "select", id="preferred_account_id"
    )
    assert [option.get_text() for option in options.find_all("option")] == [
        "No preferred account",
        "Elsewhere",
        "Partner Inc",
    ]

    save_settings(admin_client, preferred_account_id=str(preferred.account_id))
    register_through_the_page(client, webinar)

    member = db.session.scalars(sa.select(CampaignMember)).one()
    assert member.contact_id == preferred.id


def test_campaign_influence_chosen_on_the_page_credits_open_opportunities(
    admin_client: FlaskClient, client: FlaskClient, webinar: Event
) -> None:
    contact = Contact(
        account=Account(name="Engines"),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    db.session.add(contact)
    db.session.flush()
    opportunity = Opportunity(account_id=contact.account_id, name="Renewal")
    db.session.add(opportunity)
    db.session.commit()

    save_settings(admin_client, campaign_influence="current")
    register_through_the_page(client, webinar)

    db.session.refresh(opportunity)
    assert opportunity.primary_campaign_id == int(webinar.campaign_id or 0)
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(CampaignInfluence))
        == 1
    )
    assert site_settings().campaign_influence is InfluenceMode.CURRENT


def test_enabled_session_types_are_saved(admin_client: FlaskClient) -> None:
    response = save_settings(admin_client, enabled_session_types=["webinar", "meeting"])

    assert response.status_code == 303
    db.session.expire_all()
    assert site_settings().enabled_session_types == ["meeting", "webinar"]
    soup = page(admin_client.get("/admin/settings"))
    checked = [
        box["value"]
        for box in soup.find_all("input", attrs={"name": "enabled_session_types"})
        if box.has_attr("checked")
    ]
    assert checked == ["meeting", "webinar"]


def test_switching_off_every_session_type_is_refused(admin_client: FlaskClient) -> None:
    response = save_settings(admin_client, enabled_session_types=[])

    assert response.status_code == 422
    error = page(response).find(id="enabled_session_types-error")
    assert error.get_text(strip=True) == "Keep at least one session type enabled."
    db.session.expire_all()
    assert len(site_settings().enabled_session_types) == 5


def test_many_accounts_are_narrowed_with_a_search(admin_client: FlaskClient) -> None:
    db.session.add_all(Account(name=f"Account {number:03}") for number in range(205))
    db.session.add(Account(name="Zebra Partners"))
    db.session.commit()

    soup = page(admin_client.get("/admin/settings"))
    options = soup.find("select", id="preferred_account_id").find_all("option")
    assert len(options) == 201
    search = soup.find(id="account_search")
    assert search["form"] == "account-search"
    assert soup.find("form", id="account-search")["method"] == "get"

    found = page(admin_client.get("/admin/settings?account_search=zebra"))
    options = found.find("select", id="preferred_account_id").find_all("option")
    assert [option.get_text() for option in options] == [
        "No preferred account",
        "Zebra Partners",
    ]
    zebra = options[1]["value"]

    response = save_settings(
        admin_client,
        "/admin/settings?account_search=zebra",
        preferred_account_id=zebra,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/settings?account_search=zebra"
    db.session.expire_all()
    assert site_settings().preferred_account_id == zebra
