"""The CRM's daily API allowance: recording its use and pausing work before it runs out.

A CRM with such a limit (Salesforce) reports its usage with every answer. Before the
queue claims an activity, :func:`may_take_crm_work` compares the latest usage with
the budget (``SALESFORCE_API_BUDGET_PERCENT`` of the allowance). Once the budget
is spent, activities for the CRM wait (emails already queued still go out); the
usage is read again from the org's limits every ``SALESFORCE_LIMITS_CHECK_SECONDS``,
and work resumes
when it has fallen below the budget. Nothing is dropped: waiting activities are
claimed in their order as soon as the budget allows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.crm import get_crm
from portal.crm.base import ApiUsage, Crm, CrmError
from portal.extensions import db
from portal.models import CrmApiUsage, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApiBudget:
    """The CRM's usage against the share of it the portal may spend."""

    crm: str
    usage: ApiUsage | None
    limit_percent: int

    @property
    def is_spent(self) -> bool:
        """Whether work for the CRM waits until usage falls below the budget."""
        return self.usage is not None and self.usage.percent >= self.limit_percent

    def describe(self) -> str:
        """The budget in a sentence for the admin area."""
        if self.usage is None:
            return (
                f"{self.crm} has not reported its API usage yet. Work stops at "
                f"{self.limit_percent}% of the daily allowance."
            )
        usage = self.usage
        text = (
            f"{self.crm} API requests in the last 24 hours: {usage.used:,} of "
            f"{usage.allowed:,} ({usage.percent:.0f}%); the portal stops at "
            f"{self.limit_percent}%."
        )
        if self.is_spent:
            text += (
                " Activities for the CRM are waiting until usage falls below the "
                "budget; none is lost."
            )
        return text


def api_budget(crm: Crm | None = None) -> ApiBudget | None:
    """The CRM's budget as last recorded; None for a CRM without an API limit."""
    crm = crm or get_crm()
    if not crm.has_api_limit:
        return None
    return ApiBudget(
        crm=crm.name,
        usage=_latest(crm),
        limit_percent=int(current_app.config["SALESFORCE_API_BUDGET_PERCENT"]),
    )


def may_take_crm_work(now: datetime | None = None) -> bool:
    """Whether the queue may claim work for the CRM now (see the module's text)."""
    crm = get_crm()
    if not crm.has_api_limit:
        return True
    now = now or utcnow()
    budget = api_budget(crm)
    if budget is None:
        return True
    usage = budget.usage
    check_every = timedelta(
        seconds=int(current_app.config["SALESFORCE_LIMITS_CHECK_SECONDS"])
    )
    is_stale = usage is None or usage.checked_at < now - check_every
    if is_stale and (usage is None or budget.is_spent) and _may_ask(now, check_every):
        try:
            usage = crm.read_api_usage() or usage
        except CrmError as error:
            logger.warning("Reading %s's API usage failed: %s", crm.name, error)
    if usage is None:
        # Unknown (the org could not be reached): work is tried, and retried.
        return True
    _record(crm.name, usage)
    budget = ApiBudget(crm.name, usage, budget.limit_percent)
    if budget.is_spent:
        logger.info(
            "%s API budget spent (%s of %s); CRM work waits",
            crm.name,
            usage.used,
            usage.allowed,
        )
    return not budget.is_spent


def _latest(crm: Crm) -> ApiUsage | None:
    """The newer of this process's last reading and the one recorded by any."""
    seen = crm.api_usage()
    row = db.session.scalar(sa.select(CrmApiUsage).where(CrmApiUsage.crm == crm.name))
    stored = (
        ApiUsage(used=row.used, allowed=row.allowed, checked_at=row.checked_at)
        if row is not None
        else None
    )
    candidates = [usage for usage in (seen, stored) if usage is not None]
    return max(candidates, key=lambda usage: usage.checked_at, default=None)


def _record(crm_name: str, usage: ApiUsage) -> None:
    """Keep the reading for the other processes and the admin area."""
    row = db.session.scalar(sa.select(CrmApiUsage).where(CrmApiUsage.crm == crm_name))
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    CrmApiUsage(
                        crm=crm_name,
                        used=usage.used,
                        allowed=usage.allowed,
                        checked_at=usage.checked_at,
                    )
                )
        except sa.exc.IntegrityError:
            # Another process recorded the first reading at the same moment.
            return
    elif row.checked_at < usage.checked_at:
        row.used, row.allowed, row.checked_at = (
            usage.used,
            usage.allowed,
            usage.checked_at,
        )


def _may_ask(now: datetime, check_every: timedelta) -> bool:
    """Whether this process may read the org's limits again (not too often)."""
    asked_at: datetime | None = current_app.extensions.get("portal.limits_asked_at")
    if asked_at is not None and asked_at > now - check_every:
        return False
    current_app.extensions["portal.limits_asked_at"] = now
    return True
