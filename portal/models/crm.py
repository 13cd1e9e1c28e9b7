"""The built-in CRM's tables, so that the portal runs with no CRM installed.

They follow Salesforce's objects (names, lengths, rules) closely enough that the same
matching and action code drives either.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, utcnow


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
