"""The SOQL the backend sends.

Every value is quoted by simple-salesforce's ``format_soql``, never by string
formatting of our own; field lists come from the org's own descriptions. People
come oldest first (CreatedDate, then Id), as matching's "the oldest record" needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from simple_salesforce.format import format_soql

from portal.crm.salesforce.records import PERSON_FIELDS

#: More people with one email than this are not looked at.
PEOPLE_LIMIT = 200


def _select(fields: Iterable[str]) -> str:
    # Field names come from the org's own description, never from a person.
    return ", ".join(dict.fromkeys(fields))


def users_by_email(email: str) -> str:
    """Active staff users (not portal or community users) with the email."""
    return format_soql(
        "SELECT {:literal} FROM User "
        "WHERE Email = {} AND IsActive = true AND UserType = 'Standard' "
        "ORDER BY CreatedDate, Id LIMIT {:literal}",
        _select(PERSON_FIELDS),
        email,
        str(PEOPLE_LIMIT),
    )


def contacts_by_email(email: str, fields: Iterable[str]) -> str:
    """Contacts with the email, with their account and the fields forms fill."""
    return format_soql(
        "SELECT {:literal} FROM Contact WHERE Email = {} "
        "ORDER BY CreatedDate, Id LIMIT {:literal}",
        _select([*PERSON_FIELDS, "AccountId", *fields]),
        email,
        str(PEOPLE_LIMIT),
    )


def leads_by_email(email: str, fields: Iterable[str]) -> str:
    """Leads not converted yet with the email, with the fields forms fill."""
    return format_soql(
        "SELECT {:literal} FROM Lead WHERE Email = {} AND IsConverted = false "
        "ORDER BY CreatedDate, Id LIMIT {:literal}",
        _select([*PERSON_FIELDS, *fields]),
        email,
        str(PEOPLE_LIMIT),
    )


def record_fields(sobject: str, record_id: str, fields: Iterable[str]) -> str:
    """Some fields of one record."""
    return format_soql(
        "SELECT {:literal} FROM {:literal} WHERE Id = {}",
        _select(["Id", *fields]),
        sobject,
        record_id,
    )


def task_statuses() -> str:
    """Every task status with whether it closes the task."""
    return "SELECT MasterLabel, IsClosed FROM TaskStatus ORDER BY SortOrder"


def active_campaigns() -> str:
    """The campaigns a session can feed."""
    return (
        "SELECT Id, Name FROM Campaign WHERE IsActive = true ORDER BY Name LIMIT 2000"
    )


def campaign(campaign_id: str) -> str:
    """One campaign's name."""
    return format_soql("SELECT Id, Name FROM Campaign WHERE Id = {}", campaign_id)


def campaign_statuses(campaign_id: str) -> str:
    """A campaign's member statuses in their order."""
    return format_soql(
        "SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus "
        "WHERE CampaignId = {} ORDER BY SortOrder",
        campaign_id,
    )


def campaign_member(campaign_id: str, person_field: str, person_id: str) -> str:
    """The member one person is of a campaign (``person_field``: LeadId, ContactId)."""
    return format_soql(
        "SELECT Id, Status, HasResponded FROM CampaignMember "
        "WHERE CampaignId = {} AND {:literal} = {} LIMIT 1",
        campaign_id,
        person_field,
        person_id,
    )


def accounts(search: str, limit: int) -> str:
    """Accounts by name, those containing ``search`` when given."""
    if search:
        return format_soql(
            "SELECT Id, Name FROM Account WHERE Name LIKE '%{:like}%' "
            "ORDER BY Name, Id LIMIT {}",
            search,
            int(limit),
        )
    return format_soql("SELECT Id, Name FROM Account ORDER BY Name, Id LIMIT {}", limit)


def open_opportunities(account_id: str) -> str:
    """An account's open opportunities with their primary campaign source."""
    return format_soql(
        "SELECT Id, Name, CampaignId FROM Opportunity "
        "WHERE AccountId = {} AND IsClosed = false ORDER BY Id",
        account_id,
    )


def influences(account_id: str, model_id: str) -> str:
    """The campaigns a custom influence model credits on the account's open deals."""
    return format_soql(
        "SELECT OpportunityId, CampaignId FROM CampaignInfluence "
        "WHERE ModelId = {} AND Opportunity.AccountId = {} "
        "AND Opportunity.IsClosed = false",
        model_id,
        account_id,
    )
