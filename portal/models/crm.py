"""The built-in CRM's tables, so that the portal runs with no CRM installed.

They follow Salesforce's objects (names, lengths, rules) closely enough that the same
matching and action code drives either: a Lead needs a last name and a company, a
campaign has one member per person, a task on a lead points at no campaign.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, utcnow


class CrmUser(Base):
    """A member of staff as the CRM knows them (Salesforce's User)."""

    __tablename__ = "crm_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(40), default="")
    last_name: Mapped[str] = mapped_column(sa.String(80))
    #: Lower-cased, so that look-ups by email use the index.
    email: Mapped[str] = mapped_column(sa.String(128), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Account(Base):
    """A company the CRM's contacts work for."""

    __tablename__ = "crm_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    industry: Mapped[str] = mapped_column(sa.String(255), default="")
    website: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Contact(Base):
    """A person who works for an account."""

    __tablename__ = "crm_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_accounts.id", ondelete="SET NULL"), index=True
    )
    first_name: Mapped[str] = mapped_column(sa.String(40), default="")
    last_name: Mapped[str] = mapped_column(sa.String(80))
    #: Lower-cased, so that look-ups by email use the index.
    email: Mapped[str] = mapped_column(sa.String(80), default="", index=True)
    title: Mapped[str] = mapped_column(sa.String(128), default="")
    department: Mapped[str] = mapped_column(sa.String(80), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    mobile_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    lead_source: Mapped[str] = mapped_column(sa.String(255), default="")
    mailing_street: Mapped[str] = mapped_column(sa.String(255), default="")
    mailing_city: Mapped[str] = mapped_column(sa.String(40), default="")
    mailing_state: Mapped[str] = mapped_column(sa.String(80), default="")
    mailing_postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    mailing_country: Mapped[str] = mapped_column(sa.String(80), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    last_webinar_date: Mapped[date | None]
    webinars_attended: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account | None] = relationship()


class Lead(Base):
    """A person not yet qualified into a contact."""

    __tablename__ = "crm_leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(40), default="")
    last_name: Mapped[str] = mapped_column(sa.String(80))
    #: Lower-cased, so that look-ups by email use the index.
    email: Mapped[str] = mapped_column(sa.String(80), default="", index=True)
    company: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(128), default="")
    industry: Mapped[str] = mapped_column(sa.String(255), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    mobile_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    lead_source: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[str] = mapped_column(sa.String(255), default="Open - Not Contacted")
    rating: Mapped[str] = mapped_column(sa.String(255), default="")
    website: Mapped[str] = mapped_column(sa.String(255), default="")
    street: Mapped[str] = mapped_column(sa.String(255), default="")
    city: Mapped[str] = mapped_column(sa.String(40), default="")
    state: Mapped[str] = mapped_column(sa.String(80), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(80), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    last_webinar_date: Mapped[date | None]
    webinars_attended: Mapped[int | None]
    #: Converted leads are read-only and never matched.
    is_converted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    """A marketing campaign a session can feed."""

    __tablename__ = "crm_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    type: Mapped[str] = mapped_column(sa.String(255), default="Webinar")
    is_active: Mapped[bool] = mapped_column(default=True)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    statuses: Mapped[list[CampaignMemberStatus]] = relationship(
        back_populates="campaign",
        order_by="CampaignMemberStatus.sort_order",
        cascade="all, delete-orphan",
    )

    @property
    def default_status(self) -> str | None:
        """The label new members get when no status is given."""
        for status in self.statuses:
            if status.is_default:
                return status.label
        return None


class CampaignMemberStatus(Base):
    """One status a campaign's members can have (Registered, Attended, ...)."""

    __tablename__ = "crm_campaign_member_statuses"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_campaigns.id", ondelete="CASCADE"), index=True
    )
    #: CampaignMember.Status holds 40 characters, so labels do too.
    label: Mapped[str] = mapped_column(sa.String(40))
    has_responded: Mapped[bool] = mapped_column(default=False)
    is_default: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="statuses")


class CampaignMember(Base):
    """A contact's or a lead's membership of a campaign: one per person and campaign."""

    __tablename__ = "crm_campaign_members"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "contact_id"),
        sa.UniqueConstraint("campaign_id", "lead_id"),
        sa.CheckConstraint(
            "(contact_id IS NULL) <> (lead_id IS NULL)", name="contact_or_lead"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_campaigns.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_contacts.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_leads.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(40))
    has_responded: Mapped[bool] = mapped_column(default=False)
    first_responded_date: Mapped[date | None]
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutes_attended: Mapped[int | None]
    attendance_score: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    campaign: Mapped[Campaign] = relationship()


class Task(Base):
    """An entry of a person's activity history: open, or closed and in history."""

    __tablename__ = "crm_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[str] = mapped_column(sa.String(255), default="Not Started")
    priority: Mapped[str] = mapped_column(sa.String(20), default="Normal")
    is_closed: Mapped[bool] = mapped_column(default=False)
    who_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_contacts.id", ondelete="CASCADE"), index=True
    )
    who_lead_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_leads.id", ondelete="CASCADE"), index=True
    )
    #: "Related to": the campaign, and only when the task is about a contact.
    what_campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_campaigns.id", ondelete="SET NULL")
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_users.id", ondelete="SET NULL")
    )
    #: The portal session the task is about.
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    activity_date: Mapped[date | None]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int | None]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Opportunity(Base):
    """A deal with an account; campaigns can be credited with influencing it."""

    __tablename__ = "crm_opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    stage: Mapped[str] = mapped_column(sa.String(255), default="Prospecting")
    is_closed: Mapped[bool] = mapped_column(default=False)
    close_date: Mapped[date | None]
    #: "Primary Campaign Source".
    primary_campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_campaigns.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account | None] = relationship()
    influences: Mapped[list[CampaignInfluence]] = relationship(
        cascade="all, delete-orphan", order_by="CampaignInfluence.id"
    )


class CampaignInfluence(Base):
    """A campaign credited with influencing an opportunity."""

    __tablename__ = "crm_campaign_influences"
    __table_args__ = (sa.UniqueConstraint("opportunity_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_opportunities.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_campaigns.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedPost(Base):
    """A short message on a record's feed (Salesforce's Chatter FeedItem)."""

    __tablename__ = "crm_feed_posts"
    __table_args__ = (sa.Index("ix_crm_feed_posts_parent", "parent_type", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``contact``, ``lead``, ``user`` or ``campaign``.
    parent_type: Mapped[str] = mapped_column(sa.String(20))
    parent_id: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
