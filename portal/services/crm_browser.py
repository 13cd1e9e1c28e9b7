"""A read-only look at the built-in CRM's records, newest first, for admins.

The CRM interface (:mod:`portal.crm.base`) only finds and writes what processing
needs; listing a CRM's records is a matter of the built-in CRM's own tables, which
live in the portal's database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from portal.crm import get_crm
from portal.crm.builtin import BuiltinCrm
from portal.extensions import db
from portal.models import (
    Campaign,
    CampaignMember,
    Contact,
    CrmUser,
    Event,
    FeedPost,
    Lead,
    Task,
)

#: Records on one page of a list.
PAGE_SIZE = 50
#: The lists, by the name in their address, with their headings.
CRM_TABS = {
    "contacts": "Contacts",
    "leads": "Leads",
    "campaign-members": "Campaign members",
    "tasks": "Tasks",
    "feed-posts": "Feed posts",
}
_MODELS: dict[str, Any] = {
    "contacts": Contact,
    "leads": Lead,
    "campaign-members": CampaignMember,
    "tasks": Task,
    "feed-posts": FeedPost,
}
_PEOPLE: dict[str, Any] = {"contact": Contact, "lead": Lead, "user": CrmUser}


@dataclass(frozen=True, slots=True)
class PersonLabel:
    """How a contact, lead or CRM user is named in a list."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class CrmListing:
    """One page of one of the built-in CRM's lists, with what its rows point at."""

    tab: str
    pagination: Pagination
    search: str
    #: Records in each list, whatever the search.
    counts: dict[str, int]
    #: Contacts, leads and users the rows point at, by (type, id).
    people: dict[tuple[str, int], PersonLabel]
    campaigns: dict[int, str]
    sessions: dict[int, str]
    #: The name of the CRM processing writes to, and whether it is this one.
    crm_in_use: str
    uses_builtin: bool

    def person(self, person_type: str, person_id: int | None) -> PersonLabel | None:
        """The contact, lead or user a row points at, if it still exists."""
        if person_id is None:
            return None
        return self.people.get((person_type, person_id))


def crm_listing(tab: str, *, search: str = "", page: int = 1) -> CrmListing:
    """A page of one list (a key of :data:`CRM_TABS`), newest first."""
    model = _MODELS[tab]
    query = sa.select(model)
    search = search.strip()
    if search:
        query = query.where(_search_condition(tab, search.lower()))
    if model is Contact:
        query = query.options(joinedload(Contact.account))
    if model is CampaignMember:
        query = query.options(joinedload(CampaignMember.campaign))
    pagination = db.paginate(
        query.order_by(model.created_at.desc(), model.id.desc()),
        page=max(page, 1),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    records = list(pagination.items)
    crm = get_crm()
    return CrmListing(
        tab=tab,
        pagination=pagination,
        search=search,
        counts={
            name: db.session.scalar(sa.select(sa.func.count()).select_from(each)) or 0
            for name, each in _MODELS.items()
        },
        people=_people_of(records),
        campaigns=_names(Campaign, Campaign.name, _campaign_ids(records)),
        sessions=_names(
            Event, Event.title, {r.event_id for r in records if isinstance(r, Task)}
        ),
        crm_in_use=crm.name,
        uses_builtin=isinstance(crm, BuiltinCrm),
    )


def _person_matches(model: Any, wanted: str) -> sa.ColumnElement[bool]:
    """Records of a person model whose email or full name contains ``wanted``."""
    full_name = sa.func.lower(model.first_name + " " + model.last_name)
    return sa.or_(
        sa.func.lower(model.email).contains(wanted, autoescape=True),
        full_name.contains(wanted, autoescape=True),
    )


def _search_condition(tab: str, wanted: str) -> sa.ColumnElement[bool]:
    contacts = sa.select(Contact.id).where(_person_matches(Contact, wanted))
    leads = sa.select(Lead.id).where(_person_matches(Lead, wanted))
    if tab == "contacts":
        return _person_matches(Contact, wanted)
    if tab == "leads":
        return _person_matches(Lead, wanted)
    if tab == "campaign-members":
        return sa.or_(
            CampaignMember.contact_id.in_(contacts), CampaignMember.lead_id.in_(leads)
        )
    if tab == "tasks":
        return sa.or_(
            Task.who_contact_id.in_(contacts),
            Task.who_lead_id.in_(leads),
            sa.func.lower(Task.subject).contains(wanted, autoescape=True),
        )
    users = sa.select(CrmUser.id).where(_person_matches(CrmUser, wanted))
    return sa.or_(
        sa.and_(FeedPost.parent_type == "contact", FeedPost.parent_id.in_(contacts)),
        sa.and_(FeedPost.parent_type == "lead", FeedPost.parent_id.in_(leads)),
        sa.and_(FeedPost.parent_type == "user", FeedPost.parent_id.in_(users)),
        sa.func.lower(FeedPost.body).contains(wanted, autoescape=True),
    )


def _people_of(records: Iterable[Any]) -> dict[tuple[str, int], PersonLabel]:
    """Name and email of every person the records point at: a query per kind."""
    wanted: dict[str, set[int]] = {kind: set() for kind in _PEOPLE}
    for record in records:
        if isinstance(record, CampaignMember):
            pointers = [("contact", record.contact_id), ("lead", record.lead_id)]
        elif isinstance(record, Task):
            pointers = [
                ("contact", record.who_contact_id),
                ("lead", record.who_lead_id),
            ]
        elif isinstance(record, FeedPost):
            pointers = [(record.parent_type, record.parent_id)]
        else:
            pointers = []
        for kind, person_id in pointers:
            if kind in wanted and person_id is not None:
                wanted[kind].add(person_id)
    people: dict[tuple[str, int], PersonLabel] = {}
    for kind, ids in wanted.items():
        if not ids:
            continue
        model = _PEOPLE[kind]
        for person in db.session.scalars(sa.select(model).where(model.id.in_(ids))):
            name = f"{person.first_name} {person.last_name}".strip()
            people[(kind, person.id)] = PersonLabel(name=name, email=person.email)
    return people


def _campaign_ids(records: Iterable[Any]) -> set[int]:
    """Campaigns a task is related to, or a feed post is on."""
    ids: set[int] = set()
    for record in records:
        if isinstance(record, Task) and record.what_campaign_id is not None:
            ids.add(record.what_campaign_id)
        elif isinstance(record, FeedPost) and record.parent_type == "campaign":
            ids.add(record.parent_id)
    return ids


def _names(model: Any, column: Any, ids: set[Any]) -> dict[int, str]:
    """``{id: name}`` of the rows with these ids, in one query."""
    ids = {each for each in ids if each is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(model.id, column).where(model.id.in_(ids)))
    return {row_id: name for row_id, name in rows}
