"""Identifying the person: every rule and option of SPEC's "Identifying the person".

A contract test: it runs on the built-in CRM and on the Salesforce backend (against
the fake org), with the same assertions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakeorg.contract import ContractOrg, backend_settings

from portal.crm.fields import NOT_PROVIDED
from portal.services.matching import MatchOptions, Submitted, identify, match_person

EMAIL = "ada@example.com"
DAY = timedelta(days=1)
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """A CRM record a case starts with; ``label`` names it in the expectation."""

    label: str
    kind: str
    first_name: str = "Ada"
    last_name: str = "Lovelace"
    email: str = EMAIL
    age_days: int = 0
    account: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One row of the table: records, options, and the record matching must choose."""

    records: tuple[Record, ...]
    chosen: str
    rule: str
    options: MatchOptions = field(default_factory=MatchOptions)
    first_name: str = "Ada"
    last_name: str = "Lovelace"


CASES = {
    "a user comes before a contact and a lead": Case(
        (Record("lead", "lead"), Record("contact", "contact"), Record("user", "user")),
        chosen="user",
        rule="only user with this email",
    ),
    "a contact comes before a lead": Case(
        (Record("lead", "lead", age_days=9), Record("contact", "contact")),
        chosen="contact",
        rule="only contact with this email",
    ),
    "a lead is used when nobody else matches": Case(
        (Record("lead", "lead"),), chosen="lead", rule="only lead with this email"
    ),
    "the email matches without regard to case": Case(
        (Record("contact", "contact", email="ADA@Example.com"),),
        chosen="contact",
        rule="only contact with this email",
    ),
    "the exact name decides between several, case-sensitively": Case(
        (
            Record(
                "lower", "contact", first_name="ada", last_name="lovelace", age_days=5
            ),
            Record("exact", "contact", age_days=1),
        ),
        chosen="exact",
        rule="contact whose name matches",
    ),
    "the oldest wins when no name matches": Case(
        (
            Record("newer", "contact", first_name="Augusta", age_days=1),
            Record("oldest", "contact", first_name="A.", age_days=30),
            Record("middle", "contact", first_name="Countess", age_days=10),
        ),
        chosen="oldest",
        rule="oldest contact; no name matched",
    ),
    "the oldest of several whose name matches wins": Case(
        (
            Record("newer", "lead", age_days=1),
            Record("other", "lead", first_name="Bob", age_days=99),
            Record("older", "lead", age_days=20),
        ),
        chosen="older",
        rule="oldest of several leads whose name matches",
    ),
    "ignore CRM users skips users": Case(
        (Record("user", "user"), Record("lead", "lead")),
        chosen="lead",
        rule="only lead with this email",
        options=MatchOptions(ignore_crm_users=True),
    ),
    "a preferred account's contact comes first": Case(
        (
            Record("user", "user"),
            Record("elsewhere", "contact", account="Elsewhere", age_days=50),
            Record("preferred", "contact", account="Preferred", first_name="A."),
        ),
        chosen="preferred",
        rule="only preferred account contact with this email",
        options=MatchOptions(preferred_account_id="Preferred"),
    ),
    "without a contact in the preferred account, everywhere else": Case(
        (Record("elsewhere", "contact", account="Elsewhere"), Record("lead", "lead")),
        chosen="elsewhere",
        rule="only contact with this email",
        options=MatchOptions(preferred_account_id="Preferred"),
    ),
    "a converted lead is never matched": Case(
        (Record("converted", "lead", values={"is_converted": True}),),
        chosen="new lead",
        rule="no match: new lead",
    ),
    "an inactive user is never matched": Case(
        (Record("gone", "user", values={"is_active": False}), Record("lead", "lead")),
        chosen="lead",
        rule="only lead with this email",
    ),
    "somebody else's email is no match": Case(
        (Record("other", "contact", email="grace@example.com"),),
        chosen="new lead",
        rule="no match: new lead",
    ),
}


@pytest.fixture
def app_settings(backend: str) -> dict[str, Any]:
    """The portal feeds the backend under test."""
    return backend_settings(backend)


def make_records(
    org: ContractOrg, records: tuple[Record, ...]
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Create the records; return each label's (type, id), and accounts' ids."""
    accounts: dict[str, str] = {}
    made: dict[str, tuple[str, str]] = {}
    for record in records:
        created_at = EPOCH - record.age_days * DAY
        common = {
            "first_name": record.first_name,
            "last_name": record.last_name,
            # Salesforce keeps an email as typed; the built-in CRM lower-cases it.
            "email": record.email if org.kind == "salesforce" else record.email.lower(),
            "created_at": created_at,
            **record.values,
        }
        if record.kind == "user":
            record_id = org.add_user(**common)
        elif record.kind == "contact":
            account_id = None
            if record.account:
                if record.account not in accounts:
                    accounts[record.account] = org.add_account(record.account)
                account_id = accounts[record.account]
            record_id = org.add_contact(account_id=account_id, **common)
        else:
            record_id = org.add_lead(**common)
        made[record.label] = (record.kind, record_id)
    return made, accounts


def preferred(options: MatchOptions, accounts: dict[str, str]) -> MatchOptions:
    """The options with the preferred account's name replaced by its id."""
    if not options.preferred_account_id:
        return options
    return MatchOptions(
        ignore_crm_users=options.ignore_crm_users,
        preferred_account_id=accounts.get(
            options.preferred_account_id, "no-such-account"
        ),
    )


def submitted(**overrides: Any) -> Submitted:
    values: dict[str, Any] = {
        "email": EMAIL,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "answers": [
            {
                "field": "Company",
                "contact_field": "",
                "lead_field": "Company",
                "value": "Engines",
            },
            {
                "field": "Title",
                "contact_field": "Title",
                "lead_field": "Title",
                "value": "Analyst",
            },
        ],
    }
    values.update(overrides)
    return Submitted(**values)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_matching_chooses_the_record_spec_says(org: ContractOrg, case: Case) -> None:
    made, accounts = make_records(org, case.records)

    match = match_person(
        org.crm,
        submitted(first_name=case.first_name, last_name=case.last_name),
        preferred(case.options, accounts),
    )

    if case.chosen == "new lead":
        assert match.is_new
        assert match.person.type.value == "lead"
        assert ("lead", match.person.id) not in made.values()
    else:
        assert (match.person.type.value, match.person.id) == made[case.chosen]
        assert not match.is_new
    assert match.rule == case.rule
    assert match.is_staff is (case.chosen == "user")


def test_the_trace_lists_candidates_per_type(org: ContractOrg) -> None:
    made, _ = make_records(
        org,
        (Record("user", "user"), Record("c1", "contact"), Record("c2", "contact")),
    )

    trace = match_person(org.crm, submitted(), MatchOptions()).trace()

    assert trace["candidates"] == {
        "user": [made["user"][1]],
        "contact": [made["c1"][1], made["c2"][1]],
        "lead": [],
    }
    assert trace["chosen"] == {"type": "user", "id": made["user"][1]}


def test_a_new_lead_takes_the_lead_mapping_and_not_provided_company(
    org: ContractOrg,
) -> None:
    answers = [
        {"field": "Company", "contact_field": "", "lead_field": "Company", "value": ""},
        {
            "field": "Role",
            "contact_field": "Title",
            "lead_field": "Title",
            "value": "CTO",
        },
        {
            "field": "Source",
            "contact_field": "",
            "lead_field": "LeadSource",
            "value": "Web",
        },
        {
            "field": "Sector",
            "contact_field": "",
            "lead_field": "Industry",
            "value": "Energy",
        },
    ]

    match = match_person(org.crm, submitted(answers=answers), MatchOptions())

    lead = org.lead(match.person.id)
    assert lead is not None
    assert (lead.first_name, lead.last_name, lead.email) == ("Ada", "Lovelace", EMAIL)
    assert lead.company == NOT_PROVIDED
    assert (lead.title, lead.lead_source, lead.industry) == ("CTO", "Web", "Energy")
    assert match.rule == "no match: new lead"


def test_a_lead_without_a_last_name_gets_the_crm_s_placeholder(
    org: ContractOrg,
) -> None:
    match = match_person(
        org.crm, submitted(first_name="", last_name="", answers=[]), MatchOptions()
    )

    lead = org.lead(match.person.id)
    assert lead is not None
    assert (lead.last_name, lead.company) == (NOT_PROVIDED, NOT_PROVIDED)
    assert f"LastName set to {NOT_PROVIDED}: none was given" in match.cut


def test_only_blank_fields_of_a_matched_record_are_filled(org: ContractOrg) -> None:
    made, _ = make_records(
        org,
        (Record("contact", "contact", first_name="Augusta", values={"title": "CEO"}),),
    )
    answers = [
        {
            "field": "Title",
            "contact_field": "Title",
            "lead_field": "Title",
            "value": "Analyst",
        },
        {
            "field": "Phone",
            "contact_field": "Phone",
            "lead_field": "Phone",
            "value": "555",
        },
        {"field": "Dept", "contact_field": "Department", "lead_field": "", "value": ""},
    ]

    match = match_person(org.crm, submitted(answers=answers), MatchOptions())

    contact = org.contact(made["contact"][1])
    assert contact is not None
    assert (contact.first_name, contact.title, contact.phone) == (
        "Augusta",
        "CEO",
        "555",
    )
    assert contact.department == ""
    assert match.filled == ["Phone"]


def test_a_user_is_never_written_to(org: ContractOrg) -> None:
    made, _ = make_records(org, (Record("user", "user", first_name=""),))

    match = match_person(org.crm, submitted(), MatchOptions())

    user = org.user(made["user"][1])
    assert user is not None
    assert user.first_name == ""
    assert match.filled == []


def test_values_too_long_for_the_crm_are_cut_at_a_word_and_noted(
    org: ContractOrg,
) -> None:
    long_title = "Head of " + " ".join(["Strategic Revenue Operations"] * 8)
    answers = [
        {
            "field": "Title",
            "contact_field": "Title",
            "lead_field": "Title",
            "value": long_title,
        },
        {
            "field": "Company",
            "contact_field": "",
            "lead_field": "Company",
            "value": "Engines",
        },
    ]

    match = match_person(org.crm, submitted(answers=answers), MatchOptions())

    lead = org.lead(match.person.id)
    assert lead is not None
    assert len(lead.title) <= 128
    assert long_title.startswith(lead.title)
    assert long_title[len(lead.title)] == " "
    assert match.cut == ["Title cut to 128 characters"]


def test_identifying_finds_the_record_and_writes_nothing(org: ContractOrg) -> None:
    made, _ = make_records(org, (Record("c1", "contact"), Record("l1", "lead")))
    leads_before = org.count("lead")

    known, known_candidates = identify(org.crm, submitted(), MatchOptions())
    unknown, unknown_candidates = identify(
        org.crm, submitted(email="nobody@example.com"), MatchOptions()
    )

    assert known is not None
    assert (known.person.type.value, known.person.id) == made["c1"]
    assert known.candidates == known_candidates
    assert known_candidates["lead"] == [made["l1"][1]]
    assert unknown is None
    assert unknown_candidates == {"user": [], "contact": [], "lead": []}
    assert org.count("lead") == leads_before
