"""The one interface the matching and action services speak to a CRM through.

Records are named by the CRM's own ids, as strings, so that a Salesforce id and a
built-in row id travel the same way. Field values are keyed by the CRM's API field
names (``FirstName``, ``Minutes_Attended__c``) and typed (str, int, date, datetime).
"""

from __future__ import annotations

import abc
import contextlib
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from portal.crm.fields import CrmField
from portal.models.actions import RuleObject


class CrmError(Exception):
    """The CRM refused or failed a request."""

    #: Whether trying again later may succeed (a timeout, a limit, a 5xx).
    is_transient: bool = False


class PersonType(enum.Enum):
    """The kinds of CRM record a person can be, in the order matching prefers them."""

    USER = "user"
    CONTACT = "contact"
    LEAD = "lead"


@dataclass(frozen=True, slots=True)
class Person:
    """A CRM User, Contact or Lead as matching sees it."""

    type: PersonType
    id: str
    first_name: str
    last_name: str
    email: str
    created_at: datetime
    #: The contact's account; None for users and leads.
    account_id: str | None = None
    #: The record's current values of the fields a form can fill, by API name.
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PeopleFound:
    """Every User, Contact and Lead with one email, each list oldest first."""

    users: tuple[Person, ...] = ()
    contacts: tuple[Person, ...] = ()
    leads: tuple[Person, ...] = ()

    def of_type(self, person_type: PersonType) -> tuple[Person, ...]:
        """The candidates of one kind."""
        return {
            PersonType.USER: self.users,
            PersonType.CONTACT: self.contacts,
            PersonType.LEAD: self.leads,
        }[person_type]


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """A campaign's member statuses."""

    id: str
    name: str
    statuses: tuple[str, ...]
    default_status: str | None
    #: The statuses that count as a response (HasResponded in Salesforce).
    responded_statuses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """A CRM record offered in a list: its id and its name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class MemberResult:
    """A campaign member after an upsert."""

    id: str
    status: str
    is_new: bool
    #: Whether the upsert wrote anything (a status, a field) to an existing member.
    is_changed: bool = True
    #: A status asked for but not given, because the member had responded already.
    kept_instead_of: str | None = None


@dataclass(slots=True)
class NewTask:
    """A task to create in a person's activity history."""

    subject: str
    status: str
    priority: str
    who: Person
    #: The campaign it relates to; the CRM drops it for leads.
    campaign_id: str | None = None
    event_id: int | None = None
    owner_id: str | None = None
    activity_date: date | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_minutes: int | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpportunityInfo:
    """An open opportunity and the campaigns credited on it."""

    id: str
    name: str
    primary_campaign_id: str | None
    campaign_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """How much of the CRM's daily allowance of API requests is used."""

    used: int
    allowed: int
    checked_at: datetime

    @property
    def percent(self) -> float:
        """The share used, in percent."""
        return 100.0 * self.used / self.allowed if self.allowed else 100.0


Value = TypeVar("Value")


class WriteBatch:
    """The writes of one activity, as a backend groups them.

    A backend that sends them together hands out stand-in ids for the records it is
    still to create; :meth:`resolve` turns those into the CRM's ids once the batch
    has been sent. The built-in CRM writes at once, so this one changes nothing.
    """

    def resolve(self, value: Value) -> Value:
        """``value`` (an id, or text, lists and mappings holding ids) with real ids."""
        return value


class Crm(abc.ABC):
    """What the portal needs from a CRM."""

    #: Shown in traces and the admin area.
    name: str = "crm"
    #: Whether the CRM limits the API requests a day (the queue then keeps a budget).
    has_api_limit: bool = False

    @contextlib.contextmanager
    def activity_writes(self) -> Iterator[WriteBatch]:
        """Group the writes of one activity: all are made, or none (on an error)."""
        yield WriteBatch()

    def api_usage(self) -> ApiUsage | None:
        """The API usage last seen; None for a CRM without such a limit."""
        return None

    def read_api_usage(self) -> ApiUsage | None:
        """Ask the CRM for its API usage now; None for a CRM without such a limit."""
        return None

    @abc.abstractmethod
    def fields(self, target: RuleObject) -> Mapping[str, CrmField]:
        """The writable fields of an object, by API name."""

    @abc.abstractmethod
    def task_statuses(self) -> Mapping[str, bool]:
        """Every task status, with whether it closes the task."""

    @abc.abstractmethod
    def find_people(self, email_key: str) -> PeopleFound:
        """Every active User, Contact and unconverted Lead with this email."""

    @abc.abstractmethod
    def find_user(self, email_key: str) -> Person | None:
        """The oldest active CRM User with this email: a host as the CRM knows them."""

    @abc.abstractmethod
    def create_lead(self, values: Mapping[str, Any]) -> Person:
        """Create a lead; ``values`` includes LastName and Company."""

    @abc.abstractmethod
    def fill_blank_fields(self, person: Person, values: Mapping[str, Any]) -> list[str]:
        """Write each value whose field is blank on the record; return those written."""

    @abc.abstractmethod
    def campaigns(self) -> list[Choice]:
        """The active campaigns a session can feed, by name."""

    @abc.abstractmethod
    def accounts(self, search: str = "", limit: int = 200) -> list[Choice]:
        """Accounts by name (those containing ``search``), for a preferred account."""

    @abc.abstractmethod
    def campaign(self, campaign_id: str) -> CampaignInfo | None:
        """A campaign and its member statuses, or None if there is no such campaign."""

    @abc.abstractmethod
    def upsert_campaign_member(
        self,
        campaign_id: str,
        person: Person,
        status: str | None,
        values: Mapping[str, Any],
    ) -> MemberResult:
        """Make the person a member with ``status``, or update the member there is.

        With no status, a new member gets the campaign's default and an existing one
        keeps its own. A member whose status counts as a response (Attended) is
        never moved back to one that does not (Registered): a person who joined and
        then registers stays Attended.
        """

    @abc.abstractmethod
    def create_task(self, task: NewTask) -> str:
        """Create a task; return its id."""

    @abc.abstractmethod
    def update_task(self, task_id: str, values: Mapping[str, Any]) -> None:
        """Change fields of a task (Status closes or reopens it)."""

    @abc.abstractmethod
    def update_record(
        self, target: RuleObject, record_id: str, values: Mapping[str, Any]
    ) -> None:
        """Set fields of a contact, lead, task or campaign member."""

    @abc.abstractmethod
    def post_to_feed(self, parent_type: str, parent_id: str, body: str) -> str:
        """Post ``body`` on a record's feed; return the post's id."""

    @abc.abstractmethod
    def open_opportunities(self, account_id: str) -> list[OpportunityInfo]:
        """The account's open opportunities."""

    @abc.abstractmethod
    def credit_campaign(
        self, opportunity_id: str, campaign_id: str, *, make_primary: bool
    ) -> None:
        """Add the campaign to the opportunity's influences; maybe make it primary."""
