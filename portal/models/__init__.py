"""The portal's models; importing this package registers every table."""

from portal.models.activity import Activity, ActivityKind, ActivityStatus
from portal.models.base import Base, utcnow
from portal.models.crm import Campaign, CampaignMemberStatus
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
    "Activity",
    "ActivityKind",
    "ActivityStatus",
    "Base",
    "Campaign",
    "CampaignMemberStatus",
    "Event",
    "EventSeries",
    "EventType",
    "FieldDefinition",
    "FieldList",
    "FieldOption",
    "FieldScope",
    "FixedField",
    "Frequency",
    "Registrant",
    "Role",
    "RoomKind",
    "User",
    "utcnow",
]
