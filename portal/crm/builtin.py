"""The built-in CRM: the CRM interface on the portal's own tables.

Its writes join the caller's database transaction, so that processing an activity and
every CRM change it makes are committed, or rolled back, together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from portal.crm.base import (
    CampaignInfo,
    Choice,
    Crm,
    CrmError,
    MemberResult,
    NewTask,
    OpportunityInfo,
    PeopleFound,
    Person,
    PersonType,
)
from portal.crm.fields import (
    CAMPAIGN_MEMBER_FIELDS,
    CONTACT_FIELDS,
    LEAD_FIELDS,
    TASK_FIELDS,
    TASK_STATUSES,
    CrmField,
)
from portal.extensions import db
from portal.models import (
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
    RuleObject,
    Task,
    utcnow,
)

_CATALOGUES: dict[RuleObject, dict[str, CrmField]] = {
    RuleObject.CONTACT: CONTACT_FIELDS,
    RuleObject.LEAD: LEAD_FIELDS,
    RuleObject.TASK: TASK_FIELDS,
    RuleObject.CAMPAIGN_MEMBER: CAMPAIGN_MEMBER_FIELDS,
}
_MODELS: dict[RuleObject, type[Contact | Lead | Task | CampaignMember]] = {
    RuleObject.CONTACT: Contact,
    RuleObject.LEAD: Lead,
    RuleObject.TASK: Task,
    RuleObject.CAMPAIGN_MEMBER: CampaignMember,
}
_FEED_PARENTS = {"contact", "lead", "user", "campaign"}


class BuiltinCrm(Crm):
    """The CRM that ships with the portal."""

    name = "built-in CRM"

    def fields(self, target: RuleObject) -> Mapping[str, CrmField]:
        return _CATALOGUES[target]

    def task_statuses(self) -> Mapping[str, bool]:
        return TASK_STATUSES

    def find_people(self, email_key: str) -> PeopleFound:
        # One statement for the three kinds: at a million records a look-up is
        # mostly round trips and ORM loading, and this is on every activity's path.
        rows = db.session.execute(
            _PEOPLE_BY_EMAIL, {"email": email_key.strip().lower()}
        )
        found: dict[str, list[Any]] = {"user": [], "contact": [], "lead": []}
        for row in rows:
            found[row.kind].append(row)
        for kind_rows in found.values():
            kind_rows.sort(key=lambda row: (row.created_at, row.id))
        return PeopleFound(
            users=tuple(_user(row) for row in found["user"]),
            contacts=tuple(
                _person(PersonType.CONTACT, row) for row in found["contact"]
            ),
            leads=tuple(_person(PersonType.LEAD, row) for row in found["lead"]),
        )

    def find_user(self, email_key: str) -> Person | None:
        user = db.session.scalars(
            sa.select(CrmUser)
            .where(CrmUser.email == email_key.strip().lower(), CrmUser.is_active)
            .order_by(CrmUser.created_at, CrmUser.id)
        ).first()
        return _user(user) if user is not None else None

    def create_lead(self, values: Mapping[str, Any]) -> Person:
        if not values.get("LastName") or not values.get("Company"):
            raise CrmError("A lead needs a last name and a company.")
        lead = Lead()
        _assign(lead, LEAD_FIELDS, values)
        lead.email = (lead.email or "").lower()
        db.session.add(lead)
        db.session.flush()
        return _person(PersonType.LEAD, lead)

    def fill_blank_fields(self, person: Person, values: Mapping[str, Any]) -> list[str]:
        target = _rule_object(person.type)
        record = self._record(target, person.id)
        catalogue = _CATALOGUES[target]
        filled = []
        for name, value in values.items():
            spec = catalogue.get(name)
            if spec is None or value in ("", None):
                continue
            if getattr(record, spec.column) in ("", None):
                setattr(record, spec.column, value)
                filled.append(name)
        db.session.flush()
        return filled

    def campaigns(self) -> list[Choice]:
        rows = db.session.scalars(
            sa.select(Campaign).where(Campaign.is_active).order_by(Campaign.name)
        )
        return [Choice(id=str(row.id), name=row.name) for row in rows]

    def accounts(self, search: str = "", limit: int = 200) -> list[Choice]:
        query = sa.select(Account).order_by(Account.name, Account.id).limit(limit)
        if search:
            query = query.where(Account.name.icontains(search, autoescape=True))
        return [
            Choice(id=str(row.id), name=row.name) for row in db.session.scalars(query)
        ]

    def campaign(self, campaign_id: str) -> CampaignInfo | None:
        campaign = _get(Campaign, campaign_id)
        if campaign is None:
            return None
        return CampaignInfo(
            id=str(campaign.id),
            name=campaign.name,
            statuses=tuple(status.label for status in campaign.statuses),
            default_status=campaign.default_status,
            responded_statuses=tuple(
                status.label for status in campaign.statuses if status.has_responded
            ),
        )

    def upsert_campaign_member(
        self,
        campaign_id: str,
        person: Person,
        status: str | None,
        values: Mapping[str, Any],
    ) -> MemberResult:
        campaign = _get(Campaign, campaign_id)
        if campaign is None:
            raise CrmError(f"There is no campaign {campaign_id}.")
        column = _member_column(person)
        member = db.session.scalar(
            sa.select(CampaignMember).where(
                CampaignMember.campaign_id == campaign.id, column == int(person.id)
            )
        )
        is_new = member is None
        if member is None:
            member = CampaignMember(campaign_id=campaign.id, status="")
            setattr(member, column.key, int(person.id))
            status = status or campaign.default_status or ""
        kept_instead_of = None
        if (
            status
            and not is_new
            and _would_take_back_a_response(member, campaign, status)
        ):
            kept_instead_of, status = status, None
        if status:
            _set_member_status(member, campaign, status)
        _assign(member, CAMPAIGN_MEMBER_FIELDS, _without_status(values))
        db.session.add(member)
        db.session.flush()
        return MemberResult(
            id=str(member.id),
            status=member.status,
            is_new=is_new,
            is_changed=is_new or bool(status or values),
            kept_instead_of=kept_instead_of,
        )

    def create_task(self, task: NewTask) -> str:
        record = Task(
            subject=task.subject,
            priority=task.priority,
            owner_id=_int(task.owner_id),
            event_id=task.event_id,
            activity_date=task.activity_date,
            started_at=task.started_at,
            ended_at=task.ended_at,
            duration_minutes=task.duration_minutes,
            description=task.description,
        )
        if task.who.type is PersonType.CONTACT:
            record.who_contact_id = int(task.who.id)
            # A task may point at a campaign only when it is about a contact.
            record.what_campaign_id = _int(task.campaign_id)
        elif task.who.type is PersonType.LEAD:
            record.who_lead_id = int(task.who.id)
        _set_task_status(record, task.status)
        _assign(record, TASK_FIELDS, task.extra)
        db.session.add(record)
        db.session.flush()
        return str(record.id)

    def update_task(self, task_id: str, values: Mapping[str, Any]) -> None:
        self.update_record(RuleObject.TASK, task_id, values)

    def update_record(
        self, target: RuleObject, record_id: str, values: Mapping[str, Any]
    ) -> None:
        record = self._record(target, record_id)
        # Status carries rules of its own: it closes a task, or it must be one of the
        # campaign's statuses.
        if isinstance(record, Task) and "Status" in values:
            _set_task_status(record, str(values["Status"]))
        if isinstance(record, CampaignMember) and "Status" in values:
            _set_member_status(record, record.campaign, str(values["Status"]))
        _assign(record, _CATALOGUES[target], _without_status(values))
        db.session.flush()

    def post_to_feed(self, parent_type: str, parent_id: str, body: str) -> str:
        if parent_type not in _FEED_PARENTS:
            raise CrmError(f"A {parent_type} has no feed.")
        post = FeedPost(parent_type=parent_type, parent_id=int(parent_id), body=body)
        db.session.add(post)
        db.session.flush()
        return str(post.id)

    def open_opportunities(self, account_id: str) -> list[OpportunityInfo]:
        opportunities = db.session.scalars(
            sa.select(Opportunity)
            .where(Opportunity.account_id == _int(account_id), ~Opportunity.is_closed)
            .order_by(Opportunity.id)
        )
        return [
            OpportunityInfo(
                id=str(opportunity.id),
                name=opportunity.name,
                primary_campaign_id=_str(opportunity.primary_campaign_id),
                campaign_ids=tuple(
                    str(influence.campaign_id) for influence in opportunity.influences
                ),
            )
            for opportunity in opportunities
        ]

    def credit_campaign(
        self, opportunity_id: str, campaign_id: str, *, make_primary: bool
    ) -> None:
        opportunity = _get(Opportunity, opportunity_id)
        if opportunity is None:
            raise CrmError(f"There is no opportunity {opportunity_id}.")
        campaign = int(campaign_id)
        if all(
            influence.campaign_id != campaign for influence in opportunity.influences
        ):
            opportunity.influences.append(CampaignInfluence(campaign_id=campaign))
        if make_primary:
            opportunity.primary_campaign_id = campaign
        db.session.flush()

    def _record(self, target: RuleObject, record_id: str) -> Any:
        record = _get(_MODELS[target], record_id)
        if record is None:
            raise CrmError(f"There is no {target.label} {record_id}.")
        return record


def _get(model: type[Any], record_id: str | None) -> Any:
    number = _int(record_id)
    return db.session.get(model, number) if number is not None else None


def _int(value: str | None) -> int | None:
    if value is None or not str(value).isdigit():
        return None
    return int(value)


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


def _assign(
    record: Any, catalogue: Mapping[str, CrmField], values: Mapping[str, Any]
) -> None:
    for name, value in values.items():
        spec = catalogue.get(name)
        if spec is None:
            raise CrmError(f"The built-in CRM has no field {name}.")
        setattr(record, spec.column, value)


def _without_status(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name != "Status"}


def _rule_object(person_type: PersonType) -> RuleObject:
    if person_type is PersonType.CONTACT:
        return RuleObject.CONTACT
    if person_type is PersonType.LEAD:
        return RuleObject.LEAD
    raise CrmError("Users are never written to.")


def _member_column(person: Person) -> Any:
    if person.type is PersonType.CONTACT:
        return CampaignMember.contact_id
    if person.type is PersonType.LEAD:
        return CampaignMember.lead_id
    raise CrmError("Only contacts and leads can be campaign members.")


def _would_take_back_a_response(
    member: CampaignMember, campaign: Campaign, label: str
) -> bool:
    """Whether ``label`` would move a member who responded back to no response."""
    if not member.has_responded:
        return False
    responded = {status.label for status in campaign.statuses if status.has_responded}
    return label not in responded


def _set_member_status(member: CampaignMember, campaign: Campaign, label: str) -> None:
    """Set a status as Salesforce does: an unknown one becomes the default."""
    known: dict[str, CampaignMemberStatus] = {
        status.label: status for status in campaign.statuses
    }
    chosen = known.get(label)
    if chosen is None:
        default = campaign.default_status
        chosen = known.get(default) if default else None
    if chosen is None:
        member.status = label
        member.has_responded = False
        return
    member.status = chosen.label
    if chosen.has_responded and not member.has_responded:
        member.first_responded_date = member.first_responded_date or utcnow().date()
    member.has_responded = chosen.has_responded


def _set_task_status(task: Task, status: str) -> None:
    task.status = status
    task.is_closed = TASK_STATUSES.get(status, False)
    task.completed_at = utcnow() if task.is_closed else None


def _people_by_email() -> sa.CompoundSelect[Any]:
    """Every active User, Contact and unconverted Lead with the ``email``
    parameter, as rows of one shape: the kind, the identity columns and each
    catalogue field's column (typed NULL where the kind has no such column).
    Built once: constructing its three times thirty columns costs more than
    running it."""
    key = sa.bindparam("email", type_=sa.String())
    users = sa.select(
        sa.literal("user").label("kind"), *_people_columns(CrmUser)
    ).where(CrmUser.email == key, CrmUser.is_active)
    contacts = sa.select(
        sa.literal("contact").label("kind"), *_people_columns(Contact)
    ).where(Contact.email == key)
    leads = sa.select(sa.literal("lead").label("kind"), *_people_columns(Lead)).where(
        Lead.email == key, Lead.is_converted.is_(False)
    )
    return sa.union_all(users, contacts, leads)


def _people_columns(model: type[CrmUser | Contact | Lead]) -> list[Any]:
    table = model.__table__
    columns = []
    for name in _PEOPLE_COLUMNS:
        if name in table.c:
            columns.append(table.c[name].label(name))
        else:
            columns.append(sa.cast(sa.null(), _PEOPLE_TYPES[name]).label(name))
    return columns


def _people_column_types() -> dict[str, Any]:
    types: dict[str, Any] = {}
    for model in (CrmUser, Contact, Lead):
        for column in model.__table__.c:
            types.setdefault(column.name, column.type)
    return types


_PEOPLE_COLUMNS = tuple(
    dict.fromkeys(
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "created_at",
            "account_id",
            *(spec.column for spec in CONTACT_FIELDS.values()),
            *(spec.column for spec in LEAD_FIELDS.values()),
        ]
    )
)
_PEOPLE_TYPES = _people_column_types()
_PEOPLE_BY_EMAIL = _people_by_email()


def people_by_email_statement() -> sa.CompoundSelect[Any]:
    """The statement :meth:`BuiltinCrm.find_people` runs, for its query plan."""
    return _PEOPLE_BY_EMAIL


def _person(person_type: PersonType, record: Any) -> Person:
    """A Contact or Lead, from its ORM record or a row of :func:`_people_by_email`."""
    catalogue = CONTACT_FIELDS if person_type is PersonType.CONTACT else LEAD_FIELDS
    return Person(
        type=person_type,
        id=str(record.id),
        first_name=record.first_name,
        last_name=record.last_name,
        email=record.email,
        created_at=record.created_at,
        account_id=(
            _str(record.account_id) if person_type is PersonType.CONTACT else None
        ),
        values={name: getattr(record, spec.column) for name, spec in catalogue.items()},
    )


def _user(user: Any) -> Person:
    return Person(
        type=PersonType.USER,
        id=str(user.id),
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        created_at=user.created_at,
    )
