"""Demo data: an admin, a host with rooms, a campaign and an upcoming webinar.

The built-in CRM gets the host as a CRM user and one customer (a contact with an
account and an open opportunity), and the scheduled defaults get field updates that
show the variables at work.

Running it again changes nothing but moving the webinar forward once it is over, so
that the printed addresses always lead to a session that takes registrations.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from portal.crm import get_crm
from portal.extensions import db
from portal.models import (
    Account,
    ActivityKind,
    Campaign,
    CampaignMemberStatus,
    Contact,
    CrmUser,
    Event,
    EventType,
    FieldScope,
    InfluenceMode,
    Opportunity,
    Role,
    RuleObject,
    User,
)
from portal.services.accounts import create_user, user_by_email
from portal.services.action_sets import add_rule, global_action_set, site_settings
from portal.services.events import EventDetails, create_event, ensure_personal_rooms
from portal.services.fields import ensure_global_lists
from portal.services.links import EventAddresses, event_addresses

logger = logging.getLogger(__name__)

ADMIN_EMAIL = "admin@example.com"
HOST_EMAIL = "host@example.com"
CAMPAIGN_NAME = "Spring Webinar Series"
WEBINAR_TITLE = "Forecasting Pipeline with Confidence"
WEBINAR_TIME_ZONE = "America/New_York"
CUSTOMER = "Analytical Engines Ltd"
CUSTOMER_EMAIL = "grace@example.com"
DEMO_RULES = (
    (ActivityKind.REGISTER, RuleObject.CAMPAIGN_MEMBER, "Registered_At__c", "{!now}"),
    (ActivityKind.JOIN, RuleObject.CAMPAIGN_MEMBER, "Joined_At__c", "{!joinTime}"),
    (ActivityKind.JOIN, RuleObject.LEAD, "Last_Webinar_Date__c", "{!today}"),
    (ActivityKind.JOIN, RuleObject.CONTACT, "Last_Webinar_Date__c", "{!today}"),
    (ActivityKind.LEAVE, RuleObject.CAMPAIGN_MEMBER, "Left_At__c", "{!leaveTime}"),
    (
        ActivityKind.LEAVE,
        RuleObject.CAMPAIGN_MEMBER,
        "Minutes_Attended__c",
        "{!durationMins}",
    ),
)
CAMPAIGN_STATUSES = (
    # label, responded, default
    ("Sent", False, True),
    ("Registered", False, False),
    ("Attended", True, False),
    ("No Show", False, False),
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo command prints."""

    webinar: Event
    addresses: EventAddresses
    admin_email: str
    admin_password: str
    host_email: str


def demo_admin_password() -> str:
    """The demo admin's password: stable for this installation, secret with it.

    It is derived from the secret key, so running the demo again prints the same
    password without the portal ever storing it in clear.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, b"portal demo admin", hashlib.sha256).hexdigest()
    return f"demo-{digest[:16]}"


def load_demo(now: datetime) -> DemoSummary:
    """Create the demo data that is missing and commit it."""
    ensure_global_lists()
    password = demo_admin_password()
    if user_by_email(ADMIN_EMAIL) is None:
        create_user(
            ADMIN_EMAIL, role=Role.ADMIN, display_name="Demo Admin", password=password
        )
    host = user_by_email(HOST_EMAIL) or create_user(
        HOST_EMAIL,
        role=Role.HOST,
        display_name="Dana Host",
        password=password,
        time_zone=WEBINAR_TIME_ZONE,
    )
    _set_up_rooms(host)
    _crm_people(host)
    # Show campaign influence on the customer's open deal.
    settings = site_settings()
    if settings.campaign_influence is InfluenceMode.NONE:
        settings.campaign_influence = InfluenceMode.EXISTING
    _demo_rules()
    campaign = _campaign()
    webinar = _webinar(host, campaign, now)
    db.session.commit()
    logger.info("Demo data is in place (webinar %s)", webinar.id)
    return DemoSummary(
        webinar=webinar,
        addresses=event_addresses(webinar),
        admin_email=ADMIN_EMAIL,
        admin_password=password,
        host_email=host.email,
    )


def _set_up_rooms(host: User) -> None:
    for room in ensure_personal_rooms(host):
        if not room.join_url:
            slug = "support" if room.type is EventType.SUPPORT else "meet"
            room.join_url = f"https://meet.example.com/{slug}/dana-host"


def _crm_people(host: User) -> None:
    """The host as a CRM user, and a customer with an open deal, to match against."""
    if db.session.scalar(sa.select(CrmUser).where(CrmUser.email == host.email)) is None:
        first, _, last = host.display_name.partition(" ")
        db.session.add(
            CrmUser(first_name=first, last_name=last or first, email=host.email)
        )
    if db.session.scalar(sa.select(Account).where(Account.name == CUSTOMER)) is None:
        account = Account(name=CUSTOMER, industry="Manufacturing")
        db.session.add_all(
            [
                account,
                Contact(
                    account=account,
                    first_name="Grace",
                    last_name="Hopper",
                    email=CUSTOMER_EMAIL,
                    title="",
                ),
                Opportunity(account=account, name=f"{CUSTOMER} renewal"),
            ]
        )
    db.session.flush()


def _demo_rules() -> None:
    """Field updates that show the variables at work, on the scheduled defaults."""
    action_set = global_action_set(FieldScope.SCHEDULED)
    if action_set.rules:
        return
    crm = get_crm()
    for trigger, target, field, value in DEMO_RULES:
        add_rule(
            action_set, crm, trigger=trigger, target=target, field=field, value=value
        )


def _campaign() -> Campaign:
    campaign = db.session.scalar(
        sa.select(Campaign).where(Campaign.name == CAMPAIGN_NAME)
    )
    if campaign is None:
        campaign = Campaign(name=CAMPAIGN_NAME, type="Webinar")
        campaign.statuses = [
            CampaignMemberStatus(
                label=label,
                has_responded=responded,
                is_default=default,
                sort_order=order,
            )
            for order, (label, responded, default) in enumerate(CAMPAIGN_STATUSES)
        ]
        db.session.add(campaign)
        db.session.flush()
    return campaign


def _webinar(host: User, campaign: Campaign, now: datetime) -> Event:
    starts_at, ends_at = _next_slot(now)
    webinar = db.session.scalar(
        sa.select(Event).where(Event.owner_id == host.id, Event.title == WEBINAR_TITLE)
    )
    if webinar is None:
        return create_event(
            host,
            EventDetails(
                title=WEBINAR_TITLE,
                type=EventType.WEBINAR,
                time_zone=WEBINAR_TIME_ZONE,
                starts_at=starts_at,
                ends_at=ends_at,
                description=(
                    "Forty minutes on building a pipeline forecast your board will "
                    "believe, then twenty minutes of questions from the audience."
                ),
                join_url="https://meet.example.com/j/8265551234",
                # The meeting id in the join address, as a Zoom meeting would have.
                platform_activity_id="8265551234",
                dial_in_number="+1 555 0100 200",
                participant_code="826 555 1234",
                moderator_code="4417",
                campaign_id=str(campaign.id),
            ),
        )
    if webinar.has_ended(now):
        webinar.starts_at, webinar.ends_at = starts_at, ends_at
        logger.info("Moved the demo webinar %s to %s", webinar.id, starts_at)
    return webinar


def _next_slot(now: datetime) -> tuple[datetime, datetime]:
    """Two weeks from now at 11:00 in the webinar's zone, for one hour."""
    zone = ZoneInfo(WEBINAR_TIME_ZONE)
    day = (now.astimezone(zone) + timedelta(days=14)).date()
    starts_at = datetime(day.year, day.month, day.day, 11, 0, tzinfo=zone)
    return starts_at, starts_at + timedelta(hours=1)
