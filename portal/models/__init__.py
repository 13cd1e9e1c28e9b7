"""The portal's models; importing this package registers every table."""

from portal.models.actions import (
    ActionSet,
    FieldUpdateRule,
    InfluenceMode,
    RuleObject,
    SiteSettings,
    TriggerAction,
)
from portal.models.activity import Activity, ActivityKind, ActivityStatus
from portal.models.api_usage import CrmApiUsage
from portal.models.base import Base, utcnow
from portal.models.crm import (
    Account,
    Campaign,
    CampaignInfluence,
    CampaignMember,
    CampaignMemberStatus,
    Contact,
    CrmUser,
    FeedPost,
    Lead,
    Opportunity,
    Task,
)
from portal.models.event import Event, EventSeries, EventType, Frequency, RoomKind
from portal.models.field import (
    FieldDefinition,
    FieldList,
    FieldOption,
    FieldScope,
    FixedField,
)
from portal.models.registrant import Registrant
from portal.models.user import Role, User

__all__ = [
    "Account",
    "ActionSet",
    "Activity",
    "ActivityKind",
    "ActivityStatus",
    "Base",
    "Campaign",
    "CampaignInfluence",
    "CampaignMember",
    "CampaignMemberStatus",
    "Contact",
    "CrmApiUsage",
    "CrmUser",
    "Event",
    "EventSeries",
    "EventType",
    "FeedPost",
    "FieldDefinition",
    "FieldList",
    "FieldOption",
    "FieldScope",
    "FieldUpdateRule",
    "FixedField",
    "Frequency",
    "InfluenceMode",
    "Lead",
    "Opportunity",
    "Registrant",
    "Role",
    "RoomKind",
    "RuleObject",
    "SiteSettings",
    "Task",
    "TriggerAction",
    "User",
    "utcnow",
]
