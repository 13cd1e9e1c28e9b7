"""The Salesforce backend's reads: what answers at once, kept for a while where it
changes rarely (the objects' fields, task statuses, campaigns and their statuses,
hosts), and the plumbing every call goes through."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from portal.crm.base import ApiUsage, CampaignInfo, Choice, Crm, Person, PersonType
from portal.crm.fields import CrmField
from portal.crm.salesforce import queries
from portal.crm.salesforce.client import SalesforceClient, SalesforceSettings
from portal.crm.salesforce.errors import SalesforceCrmError, error_from_answer
from portal.crm.salesforce.records import catalogue, is_salesforce_id, to_person
from portal.crm.salesforce.usage import UsageTracker
from portal.models import RuleObject

SOBJECTS = {
    RuleObject.CONTACT: "Contact",
    RuleObject.LEAD: "Lead",
    RuleObject.TASK: "Task",
    RuleObject.CAMPAIGN_MEMBER: "CampaignMember",
}


class CampaignFacts:
    """A campaign's statuses as the backend needs them."""

    def __init__(self, info: CampaignInfo, responded: frozenset[str]) -> None:
        self.info = info
        self.responded = responded

    def stored_status(self, label: str) -> str:
        """What Salesforce keeps for ``label``: an unknown one becomes the default."""
        if label in self.info.statuses:
            return label
        return self.info.default_status or label


class OrgReads(Crm):
    """The reads of the CRM interface on a Salesforce org, and the plumbing."""

    name = "Salesforce"
    has_api_limit = True

    def __init__(self, settings: SalesforceSettings, *, cache_seconds: int) -> None:
        self.usage = UsageTracker()
        self.client = SalesforceClient(settings, self.usage.note)
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Any]] = {}

    def api_usage(self) -> ApiUsage | None:
        return self.usage.latest

    def read_api_usage(self) -> ApiUsage | None:
        limits = self._call("GET", "limits", what="the org's limits") or {}
        daily = limits.get("DailyApiRequests") or {}
        allowed = int(daily.get("Max", 0))
        self.usage.note(allowed - int(daily.get("Remaining", 0)), allowed)
        return self.usage.latest

    def fields(self, target: RuleObject) -> Mapping[str, CrmField]:
        return catalogue(self.describe(SOBJECTS[target]))

    def describe(self, sobject: str) -> dict[str, Any]:
        """Salesforce's description of an object (its fields), kept for a while."""
        cached = self._cached(f"describe:{sobject}")
        if cached is None:
            self._describe_all()
            cached = self._cached(f"describe:{sobject}")
        return dict(cached or {})

    def describe_object(self, sobject: str) -> dict[str, Any] | None:
        """Any object's description; None when the user cannot see the object."""
        if sobject in SOBJECTS.values():
            return self.describe(sobject)
        try:
            answer = self._call(
                "GET", f"sobjects/{sobject}/describe", what=f"{sobject}'s description"
            )
        except SalesforceCrmError as error:
            if error.code in ("NOT_FOUND", "INVALID_TYPE", "FORBIDDEN"):
                return None
            raise
        return dict(answer or {})

    def _describe_all(self) -> None:
        """The four objects actions write to, described in one API call."""
        names = list(SOBJECTS.values())
        answers = self._composite(
            [
                {
                    "method": "GET",
                    "url": self.client.data_url(f"sobjects/{name}/describe"),
                    "referenceId": name,
                }
                for name in names
            ],
            what="the objects' descriptions",
        )
        for name, answer in zip(names, answers, strict=True):
            self._keep(f"describe:{name}", answer)

    def task_statuses(self) -> Mapping[str, bool]:
        statuses = self._cached("task_statuses")
        if statuses is None:
            records = self._query(queries.task_statuses(), "the task statuses")
            statuses = {row["MasterLabel"]: bool(row["IsClosed"]) for row in records}
            self._keep("task_statuses", statuses)
        return dict(statuses)

    def find_user(self, email_key: str) -> Person | None:
        key = f"user:{email_key.strip().lower()}"
        cached = self._cached(key)
        if cached is None:
            rows = self._query(
                queries.users_by_email(email_key.strip().lower()), "the host's user"
            )
            cached = [to_person(PersonType.USER, row) for row in rows[:1]]
            self._keep(key, cached)
        return cached[0] if cached else None

    def campaigns(self) -> list[Choice]:
        rows = self._cached("campaigns")
        if rows is None:
            rows = self._query(queries.active_campaigns(), "the campaigns")
            self._keep("campaigns", rows)
        return [Choice(id=row["Id"], name=row["Name"]) for row in rows]

    def accounts(self, search: str = "", limit: int = 200) -> list[Choice]:
        rows = self._query(queries.accounts(search, limit), "the accounts")
        return [Choice(id=row["Id"], name=row["Name"]) for row in rows]

    def campaign(self, campaign_id: str) -> CampaignInfo | None:
        found = self._campaign(campaign_id)
        return found.info if found is not None else None

    def _campaign(self, campaign_id: str) -> CampaignFacts | None:
        if not is_salesforce_id(campaign_id):
            return None
        key = f"campaign:{campaign_id}"
        cached = self._cached(key)
        if cached is None:
            campaigns, statuses = self._queries(
                [queries.campaign(campaign_id), queries.campaign_statuses(campaign_id)],
                what="the campaign and its statuses",
            )
            cached = [campaigns, statuses]
            self._keep(key, cached)
        campaigns, statuses = cached
        if not campaigns:
            return None
        default = next((row["Label"] for row in statuses if row["IsDefault"]), None)
        return CampaignFacts(
            CampaignInfo(
                id=campaigns[0]["Id"],
                name=campaigns[0]["Name"],
                statuses=tuple(row["Label"] for row in statuses),
                default_status=default,
                responded_statuses=tuple(
                    row["Label"] for row in statuses if row["HasResponded"]
                ),
            ),
            frozenset(row["Label"] for row in statuses if row["HasResponded"]),
        )

    def _call(self, method: str, path: str, *, what: str) -> Any:
        return self._guard(lambda: self.client.call(method, path, what=what))

    def _query(self, soql: str, what: str) -> list[dict[str, Any]]:
        return list(self._guard(lambda: self.client.query(soql, what=what)))

    def _queries(self, soql: list[str], *, what: str) -> list[list[dict[str, Any]]]:
        """Several queries in one API call (a composite request)."""
        answers = self._composite(
            [
                {
                    "method": "GET",
                    "url": self.client.query_url(text),
                    "referenceId": f"q{i}",
                }
                for i, text in enumerate(soql)
            ],
            what=what,
        )
        return [list(answer.get("records", [])) for answer in answers]

    def _composite(self, subrequests: list[dict[str, Any]], *, what: str) -> list[Any]:
        answers = self._guard(
            lambda: self.client.composite(subrequests, all_or_none=False, what=what)
        )
        bodies = []
        for answer in answers:
            status = int(answer.get("httpStatusCode", 500))
            if status >= 300:
                self._cache.clear()  # a field or campaign may have changed
                raise error_from_answer(status, answer.get("body"), what)
            bodies.append(answer.get("body") or {})
        return bodies

    def _guard(self, call: Callable[[], Any]) -> Any:
        """Run a call; a refusal for the API limit marks the allowance as spent."""
        try:
            return call()
        except SalesforceCrmError as error:
            if error.is_limit_exceeded:
                self.usage.note_exhausted()
            raise

    def _cached(self, key: str) -> Any:
        found = self._cache.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def _keep(self, key: str, value: Any) -> None:
        self._cache[key] = (time.monotonic() + self._cache_seconds, value)
