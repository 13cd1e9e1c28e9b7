"""The CRM's API usage as last reported, kept for the queue and the admin area."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime


class CrmApiUsage(Base):
    """How much of a CRM's daily allowance of API requests was used, when last seen.

    One row per CRM (``name``), replaced at each new reading, so that every process
    (web, workers) and the admin area see the latest one.
    """

    __tablename__ = "crm_api_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The CRM it is about (``Salesforce``).
    crm: Mapped[str] = mapped_column(sa.String(40), unique=True)
    used: Mapped[int]
    allowed: Mapped[int]
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
