"""What happens in the CRM on each trigger: tasks, statuses, field updates, posts.

An :class:`ActionSet` is either one of the three global defaults (``global_scope`` set)
or the own copy of a session or series, like field lists. It holds one
:class:`TriggerAction` per trigger and any number of :class:`FieldUpdateRule` rows.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.activity import ActivityKind
from portal.models.base import Base, UTCDateTime, enum_column, utcnow
from portal.models.event import EventType
from portal.models.field import FieldScope


class RuleObject(enum.Enum):
    """The CRM record a field-update rule writes to."""

    TASK = "task"
    CAMPAIGN_MEMBER = "campaign_member"
    CONTACT = "contact"
    LEAD = "lead"

    @property
    def label(self) -> str:
        """How the object is named to people."""
        return {
            RuleObject.TASK: "Task",
            RuleObject.CAMPAIGN_MEMBER: "Campaign Member",
            RuleObject.CONTACT: "Contact",
            RuleObject.LEAD: "Lead",
        }[self]


class ActionSet(Base):
    """The actions of a session, a series, or a scope's global defaults."""

    __tablename__ = "action_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Set on the three global sets only (unique); NULL on copies.
    global_scope: Mapped[FieldScope | None] = mapped_column(
        enum_column(FieldScope), unique=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    triggers: Mapped[list[TriggerAction]] = relationship(
        back_populates="action_set",
        cascade="all, delete-orphan",
        order_by="TriggerAction.id",
    )
    rules: Mapped[list[FieldUpdateRule]] = relationship(
        back_populates="action_set",
        cascade="all, delete-orphan",
        order_by="FieldUpdateRule.position",
    )

    def for_trigger(self, trigger: ActivityKind) -> TriggerAction | None:
        """The settings of one trigger, if the set has them."""
        return next((item for item in self.triggers if item.trigger is trigger), None)

    def rules_for(self, trigger: ActivityKind) -> list[FieldUpdateRule]:
        """The field-update rules of one trigger, in order."""
        return [rule for rule in self.rules if rule.trigger is trigger]


class TriggerAction(Base):
    """What one trigger does: its task, campaign status, feed post and email."""

    __tablename__ = "trigger_actions"
    __table_args__ = (sa.UniqueConstraint("action_set_id", "trigger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_set_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action_sets.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    #: Email, Register and Join create a task; Leave updates the Join task.
    has_task: Mapped[bool] = mapped_column(default=True)
    #: A closed status (Completed) puts the task in history; others keep it open.
    task_status: Mapped[str] = mapped_column(sa.String(255), default="Completed")
    task_priority: Mapped[str] = mapped_column(sa.String(20), default="Normal")
    #: Empty: a new member gets the campaign's default and an existing one is kept.
    campaign_status: Mapped[str] = mapped_column(sa.String(40), default="")
    posts_to_feed: Mapped[bool] = mapped_column(default=False)
    sends_email: Mapped[bool] = mapped_column(default=False)
    #: Session End only: the status of registrants who never joined (empty: kept).
    no_show_status: Mapped[str] = mapped_column(sa.String(40), default="")
    #: Session End only: attendees with fewer minutes in all than this get
    #: :attr:`short_stay_status` instead of :attr:`campaign_status`.
    short_stay_minutes: Mapped[int | None]
    short_stay_status: Mapped[str] = mapped_column(sa.String(40), default="")

    action_set: Mapped[ActionSet] = relationship(back_populates="triggers")


class FieldUpdateRule(Base):
    """On a trigger, set a field of the task, campaign member, contact or lead."""

    __tablename__ = "field_update_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_set_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action_sets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    trigger: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    target: Mapped[RuleObject] = mapped_column(enum_column(RuleObject))
    #: The CRM field's API name (``Description``, ``Minutes_Attended__c``).
    field: Mapped[str] = mapped_column(sa.String(80))
    #: Text with variables: ``Attended {!durationMins} minutes``.
    value: Mapped[str] = mapped_column(sa.String(1000))

    action_set: Mapped[ActionSet] = relationship(back_populates="rules")


class InfluenceMode(enum.Enum):
    """How a session's campaign is credited on a contact's open opportunities."""

    NONE = "none"
    #: Added as an influence; made primary only where no primary campaign is set.
    EXISTING = "existing"
    #: Added as an influence and made the primary campaign.
    CURRENT = "current"


class SiteSettings(Base):
    """Settings of the whole site, kept in one row."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Skip CRM Users when matching (by default activity by staff is not logged).
    ignore_crm_users: Mapped[bool] = mapped_column(default=False)
    #: The CRM id of an account whose contacts are looked at first.
    preferred_account_id: Mapped[str] = mapped_column(sa.String(18), default="")
    campaign_influence: Mapped[InfluenceMode] = mapped_column(
        enum_column(InfluenceMode), default=InfluenceMode.NONE
    )
    #: The session types hosts may create, by value ("webinar", "meeting", ...).
    enabled_session_types: Mapped[list[str]] = mapped_column(
        sa.JSON, default=lambda: [kind.value for kind in EventType]
    )
    #: Origins (``https://www.example.com``) whose pages may show the embeddable
    #: form in a frame; no other site may.
    embed_origins: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
