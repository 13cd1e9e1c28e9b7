"""Identifying the person behind an activity: which CRM User, Contact or Lead.

The rules are SPEC's "Identifying the person", in order:

1. find every User, Contact and Lead with the email (compared without case);
2. prefer a User over a Contact, and a Contact over a Lead;
3. among several of that type, keep those whose first and last name equal the
   submitted ones exactly;
4. still several (or no name matched): the oldest record;
5. nobody at all: a new Lead from the submitted values.

*Ignore CRM users* leaves Users out of step 1. A *preferred account* puts that
account's contacts before everything else. A matched Contact or Lead only ever gets
fields filled that are blank on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.crm.base import Crm, Person, PersonType
from portal.crm.fields import NOT_PROVIDED, CrmField, fit
from portal.models import RuleObject


@dataclass(frozen=True, slots=True)
class Submitted:
    """What the person told the portal: identity and every answer with its mapping."""

    email: str
    first_name: str
    last_name: str
    answers: Sequence[Mapping[str, str]] = ()

    def values_for(self, person_type: PersonType) -> dict[str, str]:
        """The non-empty answers, keyed by the CRM field they map to on this type."""
        key = "contact_field" if person_type is PersonType.CONTACT else "lead_field"
        values: dict[str, str] = {}
        for answer in self.answers:
            name = answer.get(key, "")
            if name and answer.get("value"):
                values.setdefault(name, answer["value"])
        # The identity fields fill FirstName/LastName/Email even if unmapped.
        values.setdefault("FirstName", self.first_name)
        values.setdefault("LastName", self.last_name)
        values.setdefault("Email", self.email)
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """The site's matching settings."""

    ignore_crm_users: bool = False
    preferred_account_id: str = ""


@dataclass(slots=True)
class Match:
    """Who the person is, and how matching decided."""

    person: Person
    rule: str
    is_new: bool = False
    candidates: dict[str, list[str]] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)

    @property
    def is_staff(self) -> bool:
        """Whether the person is a CRM User (staff), whose activity is not logged."""
        return self.person.type is PersonType.USER

    def trace(self) -> dict[str, Any]:
        """The short record of the decision stored on the activity."""
        return {
            "candidates": self.candidates,
            "rule": self.rule,
            "chosen": {"type": self.person.type.value, "id": self.person.id},
            "created": self.is_new,
            "filled": self.filled,
            "cut": self.cut,
        }


def match_person(crm: Crm, submitted: Submitted, options: MatchOptions) -> Match:
    """Identify the person in the CRM, creating a lead when nobody matches."""
    match, candidates = identify(crm, submitted, options)
    if match is None:
        match = _create_lead(crm, submitted)
    match.candidates = candidates
    if match.person.type is not PersonType.USER and not match.is_new:
        match.filled, match.cut = _fill_blanks(crm, match.person, submitted)
    return match


def identify(
    crm: Crm, submitted: Submitted, options: MatchOptions
) -> tuple[Match | None, dict[str, list[str]]]:
    """Steps 1 to 4: the existing record the person is, if any, and the candidates
    of each type; writes nothing."""
    found = crm.find_people(submitted.email)
    candidates = {
        "user": [person.id for person in found.users],
        "contact": [person.id for person in found.contacts],
        "lead": [person.id for person in found.leads],
    }
    match = _choose(found.users, found.contacts, found.leads, submitted, options)
    if match is not None:
        match.candidates = candidates
    return match, candidates


def _choose(
    users: Sequence[Person],
    contacts: Sequence[Person],
    leads: Sequence[Person],
    submitted: Submitted,
    options: MatchOptions,
) -> Match | None:
    preferred = [
        contact
        for contact in contacts
        if options.preferred_account_id
        and contact.account_id == options.preferred_account_id
    ]
    ordered: list[tuple[str, Sequence[Person]]] = [
        ("preferred account contact", preferred),
        ("user", [] if options.ignore_crm_users else users),
        ("contact", contacts),
        ("lead", leads),
    ]
    for label, people in ordered:
        if people:
            return _pick(label, people, submitted)
    return None


def _pick(label: str, people: Sequence[Person], submitted: Submitted) -> Match:
    if len(people) == 1:
        return Match(people[0], f"only {label} with this email")
    named = [
        person
        for person in people
        if person.first_name == submitted.first_name
        and person.last_name == submitted.last_name
    ]
    if len(named) == 1:
        return Match(named[0], f"{label} whose name matches")
    if named:
        return Match(_oldest(named), f"oldest of several {label}s whose name matches")
    return Match(_oldest(people), f"oldest {label}; no name matched")


def _oldest(people: Iterable[Person]) -> Person:
    return min(people, key=lambda person: (person.created_at, _id_order(person.id)))


def _id_order(record_id: str) -> tuple[int, str]:
    return (int(record_id), "") if record_id.isdigit() else (0, record_id)


def _create_lead(crm: Crm, submitted: Submitted) -> Match:
    catalogue = crm.fields(RuleObject.LEAD)
    values: dict[str, Any] = submitted.values_for(PersonType.LEAD)
    notes = []
    for required in ("LastName", "Company"):
        # The CRM requires a last name and a company on a lead; the portal's own
        # record of the person keeps them empty.
        if not values.get(required):
            values[required] = NOT_PROVIDED
            notes.append(f"{required} set to {NOT_PROVIDED}: none was given")
    values, cut = _fitted(values, catalogue)
    person = crm.create_lead(values)
    match = Match(person, "no match: new lead", is_new=True)
    match.filled = sorted(values)
    match.cut = notes + cut
    return match


def _fill_blanks(
    crm: Crm, person: Person, submitted: Submitted
) -> tuple[list[str], list[str]]:
    target = (
        RuleObject.CONTACT if person.type is PersonType.CONTACT else RuleObject.LEAD
    )
    catalogue = crm.fields(target)
    wanted = {
        name: value
        for name, value in submitted.values_for(person.type).items()
        if name in catalogue and person.values.get(name) in ("", None)
    }
    values, cut = _fitted(wanted, catalogue)
    if not values:
        return [], cut
    return crm.fill_blank_fields(person, values), cut


def _fitted(
    values: Mapping[str, Any], catalogue: Mapping[str, CrmField]
) -> tuple[dict[str, Any], list[str]]:
    """Values cut to their fields' lengths at word boundaries, with notes on cuts."""
    fitted: dict[str, Any] = {}
    cut: list[str] = []
    for name, value in values.items():
        spec = catalogue.get(name)
        if spec is None:
            cut.append(f"{name} is not a field of this CRM record; not written")
            continue
        if isinstance(value, str) and spec.length:
            value, was_cut = fit(value, spec.length)
            if was_cut:
                cut.append(f"{name} cut to {spec.length} characters")
        fitted[name] = value
    return fitted, cut
