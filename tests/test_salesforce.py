"""The Salesforce backend's own behaviour: API calls per activity, the API budget,
sign-in, errors, duplicates, ``crm check`` and its settings.

The shared matching and action behaviour is in the contract tests
(``test_matching``, ``test_actions``), which run on this backend too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
import sqlalchemy as sa
from conftest import base_config, page
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakeorg.contract import backend_settings
from fakeorg.org import FakeOrg
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.crm import get_crm
from portal.errors import ConfigurationError
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Event,
    FixedField,
    Role,
    RuleObject,
    User,
)
from portal.services.action_sets import add_rule
from portal.services.api_budget import api_budget
from portal.services.fields import Answer
from portal.services.processing import process_all, process_next
from portal.services.registration import record_join, register_attendee
from portal.services.sessions import missing_campaign_statuses


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """The fake org; activities wait for ``process_all``, as with a worker."""
    return {**backend_settings("salesforce"), "PROCESSING": "worker"}


@pytest.fixture
def org(app: Flask) -> Iterator[FakeOrg]:
    """The fake org, answering every request the portal makes."""
    fake = FakeOrg()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake


@pytest.fixture
def webinar(
    org: FakeOrg, make_event: Callable[..., Event], make_user: Callable[..., User]
) -> Event:
    """A webinar with the default actions, on a campaign with the usual statuses."""
    campaign = org.add("Campaign", Name="Launch", IsActive=True)
    for order, (label, default, responded) in enumerate(
        [("Sent", True, False), ("Registered", False, False), ("Attended", False, True)]
    ):
        org.add(
            "CampaignMemberStatus",
            CampaignId=campaign,
            Label=label,
            IsDefault=default,
            HasResponded=responded,
            SortOrder=order,
        )
    host = make_user(role=Role.HOST, email="host@example.com")
    org.add(
        "User",
        FirstName="Hilda",
        LastName="Host",
        Email=host.email,
        IsActive=True,
        UserType="Standard",
    )
    return make_event(host, campaign_id=campaign)


def answers(email: str) -> list[Answer]:
    return [
        Answer("First Name", "FirstName", "FirstName", "Ada", FixedField.FIRST_NAME),
        Answer("Last Name", "LastName", "LastName", "Lovelace", FixedField.LAST_NAME),
        Answer("Email", "Email", "Email", email, FixedField.EMAIL),
        Answer("Company", "", "Company", "Engines", FixedField.COMPANY),
    ]


def register(event: Event, email: str) -> Any:
    return register_attendee(
        event, answers(email), submission_id=f"form-{email}"
    ).registrant


def calls_for(org: FakeOrg, work: Callable[[], Any]) -> list[str]:
    """The API requests ``work`` makes."""
    before = len(org.calls)
    work()
    return org.calls[before:]


def activities(kind: ActivityKind | None = None) -> list[Activity]:
    query = sa.select(Activity).order_by(Activity.id)
    if kind is not None:
        query = query.where(Activity.kind == kind)
    return list(db.session.scalars(query))


def test_api_calls_for_one_registration_and_one_join(
    org: FakeOrg, webinar: Event
) -> None:
    first = calls_for(
        org, lambda: (register(webinar, "first@example.com"), process_all("w"))
    )
    registrant = register(webinar, "ada@example.com")

    registration = calls_for(org, lambda: process_next("w"))
    confirmation = calls_for(org, lambda: process_all("w"))
    record_join(webinar, submission_id="visit", registrant=registrant)
    joining = calls_for(org, lambda: process_all("w"))

    assert first == [
        *("GET limits", "POST composite", "POST composite", "GET query"),
        *("POST composite", "POST composite"),
        *("POST composite", "GET query", "POST composite"),
    ]
    # Register: the people with the email (three queries in one composite), then
    # every write (lead, member, task, feed post) in one composite.
    assert registration == ["POST composite", "POST composite"]
    assert confirmation == ["POST composite", "GET query", "POST composite"]
    assert joining == ["POST composite", "GET query", "POST composite"]
    assert all(a.status is ActivityStatus.DONE for a in activities())


def test_work_waits_while_the_api_budget_is_spent_and_resumes_after(
    app: Flask, org: FakeOrg, webinar: Event, admin_client: FlaskClient
) -> None:
    app.config["SALESFORCE_LIMITS_CHECK_SECONDS"] = 1
    org.api_used = 13_000  # of 15,000: 87%, above the budget of 80%
    register(webinar, "ada@example.com")
    register(webinar, "grace@example.com")

    process_all("w")

    waiting = activities()
    assert [a.kind for a in waiting] == [ActivityKind.REGISTER] * 2
    assert all(a.status is ActivityStatus.PENDING for a in waiting)
    assert not org.all("Lead")
    notice = page(admin_client.get("/admin/queue")).find(id="api-budget")
    assert notice is not None
    assert "13,001 of 15,000 (87%)" in notice.get_text()
    assert "waiting until usage falls below the budget" in notice.get_text()
    assert "waiting for the CRM's API budget" in admin_client.get(
        "/admin/queue"
    ).get_data(as_text=True)

    org.api_used = 2_000  # the rolling 24 hours moved on
    time.sleep(1.1)
    process_all("w")

    done = activities()
    assert [a.kind for a in done] == [ActivityKind.REGISTER] * 2 + [
        ActivityKind.EMAIL
    ] * 2
    assert all(a.status is ActivityStatus.DONE for a in done)
    assert len(org.all("Lead")) == 2
    budget = api_budget()
    assert budget is not None
    assert not budget.is_spent


def test_an_expired_session_is_renewed_and_the_call_tried_once_more(
    org: FakeOrg, webinar: Event
) -> None:
    register(webinar, "first@example.com")
    process_all("w")
    org.expire_tokens()

    register(webinar, "ada@example.com")
    process_all("w")

    assert len(org.token_requests) == 2
    assert org.token_requests[0]["grant_type"] == "client_credentials"
    assert all(a.status is ActivityStatus.DONE for a in activities())


@pytest.mark.parametrize(
    ("status", "body", "outcome", "error"),
    [
        (
            403,
            [
                {
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    "message": "TotalRequests Limit exceeded.",
                }
            ],
            ActivityStatus.PENDING,
            "REQUEST_LIMIT_EXCEEDED",
        ),
        (
            503,
            [{"errorCode": "SERVER_UNAVAILABLE", "message": "Try again later"}],
            ActivityStatus.PENDING,
            "HTTP 503",
        ),
        (
            400,
            [{"errorCode": "MALFORMED_QUERY", "message": "unexpected token: 'FORM'"}],
            ActivityStatus.FAILED,
            "MALFORMED_QUERY): unexpected token: 'FORM'",
        ),
    ],
)
def test_limits_and_outages_are_retried_and_a_malformed_request_fails(
    org: FakeOrg,
    webinar: Event,
    status: int,
    body: Any,
    outcome: ActivityStatus,
    error: str,
) -> None:
    register(webinar, "first@example.com")
    process_all("w")
    register(webinar, "ada@example.com")
    org.faults.append((status, body))

    process_next("w")

    (activity,) = [
        a
        for a in activities(ActivityKind.REGISTER)
        if a.registrant.email == "ada@example.com"
    ]
    assert activity.status is outcome
    assert error in (activity.last_error or "")
    if status == 403:
        budget = api_budget()
        assert budget is not None
        assert budget.is_spent


def test_a_member_made_meanwhile_is_updated_instead_of_created_twice(
    org: FakeOrg, webinar: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    registrant = register(webinar, "ada@example.com")
    process_all("w")
    (lead,) = org.all("Lead")
    crm = get_crm()
    lookups: list[Any] = []
    original = crm._member  # type: ignore[attr-defined]

    def miss_the_first(*args: Any) -> Any:
        # The first lookup misses the member, as if it was made just after it.
        lookups.append(args)
        return None if len(lookups) == 1 else original(*args)

    monkeypatch.setattr(crm, "_member", miss_the_first)

    record_join(webinar, submission_id="visit", registrant=registrant)
    process_all("w")

    (member,) = org.all("CampaignMember", LeadId=lead["Id"])
    assert member["Status"] == "Attended"
    assert len(lookups) == 2  # the miss, then the look-up after DUPLICATE_VALUE
    join = activities(ActivityKind.JOIN)[0]
    assert join.status is ActivityStatus.DONE


def test_jwt_bearer_signs_in_with_the_connected_app_s_key(
    app_settings: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "portal.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = {
        **base_config(database_url),
        **app_settings,
        "SALESFORCE_CONSUMER_SECRET": "",
        "SALESFORCE_DOMAIN": "test",
        "SALESFORCE_USERNAME": "integration@acme.example",
        "SALESFORCE_PRIVATE_KEY_FILE": str(key_file),
    }
    application = create_app(settings)
    fake = FakeOrg()
    with (
        application.app_context(),
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        fake.install(mock)
        usage = get_crm().read_api_usage()
        db.session.remove()
        db.engine.dispose()

    assert usage is not None
    assert (usage.used, usage.allowed) == (1001, 15000)
    (token,) = fake.token_requests
    assert token["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert token["claims"]["iss"] == "3MVG9-fake-consumer-key"
    assert token["claims"]["sub"] == "integration@acme.example"
    assert token["claims"]["aud"] == "https://test.salesforce.com"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SALESFORCE_CONSUMER_KEY": ""}, "SALESFORCE_CONSUMER_KEY is not set"),
        ({"SALESFORCE_CONSUMER_SECRET": ""}, "to sign in to Salesforce"),
        ({"SALESFORCE_DOMAIN": "login"}, "needs the org's My Domain"),
        ({"SALESFORCE_USERNAME": "x@example.com"}, "needs both SALESFORCE_USERNAME"),
        ({"SALESFORCE_API_VERSION": "v62"}, "SALESFORCE_API_VERSION must be"),
        ({"SALESFORCE_API_BUDGET_PERCENT": 0}, "from 1 to 100"),
    ],
)
def test_settings_that_cannot_sign_in_stop_the_portal(
    app_settings: dict[str, Any],
    database_url: str,
    changes: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app({**base_config(database_url), **app_settings, **changes})


def test_a_status_the_campaign_lacks_is_reported_when_a_session_is_saved(
    org: FakeOrg, webinar: Event
) -> None:
    assert webinar.action_set is not None
    webinar.action_set.for_trigger(ActivityKind.JOIN).campaign_status = "Atended"
    db.session.commit()

    assert missing_campaign_statuses(webinar) == [
        "The campaign “Launch” has no member status “Atended” (used on Join); "
        "the CRM will use “Sent” instead."
    ]


def test_crm_check_reports_what_the_actions_need_and_the_org_lacks(
    app: Flask, org: FakeOrg, webinar: Event
) -> None:
    assert webinar.action_set is not None
    webinar.action_set.for_trigger(ActivityKind.JOIN).campaign_status = "Atended"
    add_rule(
        webinar.action_set,
        get_crm(),
        trigger=ActivityKind.JOIN,
        target=RuleObject.LEAD,
        field="Last_Webinar_Date__c",
        value="{!today}",
    )
    db.session.commit()
    org.drop_field("Lead", "Last_Webinar_Date__c")
    org.drop_field("Task", "Start_Time__c")
    get_crm()._cache.clear()  # type: ignore[attr-defined]

    result = app.test_cli_runner().invoke(args=["crm", "check"])

    assert result.exit_code == 1
    assert "ok       Signed in to acme.my.salesforce.com." in result.output
    assert "API requests in the last 24 hours: 1,0" in result.output
    assert (
        "MISSING  Lead.Last_Webinar_Date__c (for a join field update): no such "
        "field" in result.output
    )
    assert "ok       Task.Start_Time__c: not in the org" in result.output
    assert "has no member status “Atended” (used on join)" in result.output
    assert "2 things the portal needs missing in Salesforce." in result.output


def test_crm_check_passes_when_the_org_has_everything(
    app: Flask, org: FakeOrg, webinar: Event
) -> None:
    result = app.test_cli_runner().invoke(args=["crm", "check"])

    assert result.exit_code == 0, result.output
    assert "MISSING" not in result.output
    assert "Salesforce has everything the configured forms and actions need." in (
        result.output
    )
