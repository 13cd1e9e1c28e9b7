"""Registering, then joining, through the demo's pages leaves the CRM as SPEC says."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    CampaignMember,
    Contact,
    Event,
    FeedPost,
    Lead,
    Opportunity,
    Task,
)
from portal.services.demo import CUSTOMER_EMAIL
from tests.conftest import form_values, page
from tests.test_registration_pages import fill


@pytest.fixture
def webinar(app: Flask) -> Event:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return db.session.scalars(sa.select(Event).where(Event.room_kind.is_(None))).one()


def register_and_join(client: FlaskClient, webinar: Event, email_address: str) -> None:
    url = f"/e/{webinar.key}/register?sf_LeadSource=Newsletter"
    response = client.post(
        url,
        data=fill(
            form_values(page(client.get(url))),
            sf_Email=email_address,
            sf_Title="Analyst",
        ),
    )
    confirmation = page(client.get(response.headers["Location"]))
    join_link = confirmation.select_one(".join-link a")["href"].removeprefix(
        "http://portal.test"
    )
    joined = client.post(join_link, data=form_values(page(client.get(join_link))))
    assert joined.status_code == 303


def test_a_new_attendee_becomes_a_lead_with_tasks_status_updates_posts_and_mail(
    client: FlaskClient, webinar: Event, app: Flask
) -> None:
    register_and_join(client, webinar, "ada@example.com")

    (lead,) = db.session.scalars(sa.select(Lead).where(Lead.email == "ada@example.com"))
    assert (lead.first_name, lead.last_name, lead.company) == (
        "Ada",
        "Lovelace",
        "Analytical Engines Ltd",
    )
    assert (lead.title, lead.lead_source) == ("Analyst", "Newsletter")
    host_zone = ZoneInfo("America/New_York")
    assert lead.last_webinar_date == datetime.now(UTC).astimezone(host_zone).date()

    tasks = db.session.scalars(
        sa.select(Task).where(Task.who_lead_id == lead.id).order_by(Task.id)
    ).all()
    subjects = [task.subject for task in tasks]
    assert subjects == [
        f"Registered: {webinar.title}",
        f"Email: You're registered: {webinar.title}",
        f"Attended: {webinar.title}",
    ]
    assert all(task.is_closed and task.status == "Completed" for task in tasks)
    # A task on a lead may not point at a campaign.
    assert {task.what_campaign_id for task in tasks} == {None}
    assert tasks[2].started_at is not None

    (member,) = db.session.scalars(
        sa.select(CampaignMember).where(CampaignMember.lead_id == lead.id)
    )
    assert member.campaign_id == int(webinar.campaign_id or 0)
    assert member.status == "Attended"
    assert member.has_responded
    assert member.registered_at is not None
    assert member.joined_at == tasks[2].started_at

    posts = db.session.scalars(
        sa.select(FeedPost).where(
            FeedPost.parent_type == "lead", FeedPost.parent_id == lead.id
        )
    ).all()
    assert [post.body for post in posts] == [
        f"Ada Lovelace registered for {webinar.title}.",
        f"Ada Lovelace joined {webinar.title}.",
    ]

    statuses = db.session.scalars(sa.select(Activity.status)).all()
    assert set(statuses) == {ActivityStatus.DONE}

    (mail_file,) = sorted(Path(app.config["MAIL_DIR"]).glob("*.eml"))
    message = email.message_from_bytes(
        mail_file.read_bytes(), policy=email.policy.default
    )
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    (entry,) = calendar.walk("VEVENT")
    assert entry.decoded("dtstart") == webinar.starts_at


def test_a_known_contact_is_matched_credited_and_filled_only_where_blank(
    client: FlaskClient, webinar: Event
) -> None:
    register_and_join(client, webinar, CUSTOMER_EMAIL.upper())

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
    contact = db.session.scalars(
        sa.select(Contact).where(Contact.email == CUSTOMER_EMAIL)
    ).one()
    # Title and lead source were blank and are filled; the names were not and stay.
    assert (contact.first_name, contact.last_name) == ("Grace", "Hopper")
    assert (contact.title, contact.lead_source) == ("Analyst", "Newsletter")
    (member,) = db.session.scalars(
        sa.select(CampaignMember).where(CampaignMember.contact_id == contact.id)
    )
    assert member.status == "Attended"
    tasks = db.session.scalars(sa.select(Task).where(Task.who_contact_id == contact.id))
    assert {task.what_campaign_id for task in tasks} == {int(webinar.campaign_id or 0)}
    register = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.REGISTER)
    ).one()
    assert register.trace["match"]["chosen"] == {
        "type": "contact",
        "id": str(contact.id),
    }
    assert register.trace["match"]["filled"] == ["Title", "LeadSource"]
    opportunity = db.session.scalars(sa.select(Opportunity)).one()
    # The demo credits campaigns on open deals ("Existing"): primary where none was.
    assert opportunity.primary_campaign_id == int(webinar.campaign_id or 0)
    assert [influence.campaign_id for influence in opportunity.influences] == [
        int(webinar.campaign_id or 0)
    ]
