"""The queue as admins see it: activities still to do or failed, and retrying them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Activity, ActivityStatus, User, utcnow
from portal.services.api_budget import ApiBudget, api_budget
from portal.services.runners import process_soon

logger = logging.getLogger(__name__)

#: Activities on one page of the queue.
PAGE_SIZE = 50
#: What the queue page lists: work not done yet, and work that gave up.
OPEN_STATUSES = (
    ActivityStatus.PENDING,
    ActivityStatus.PROCESSING,
    ActivityStatus.FAILED,
)


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the queue and how many activities each status has."""

    pagination: Pagination
    counts: dict[ActivityStatus, int]
    #: The status the list is narrowed to, or None for every open one.
    status: ActivityStatus | None
    #: The CRM's API usage and budget; None for a CRM without an API limit.
    budget: ApiBudget | None = None


def queue_page(
    *, status: ActivityStatus | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> QueuePage:
    """Pending, processing and failed activities, newest first."""
    statuses = (status,) if status in OPEN_STATUSES else OPEN_STATUSES
    query = (
        sa.select(Activity)
        .where(Activity.status.in_(statuses))
        .options(joinedload(Activity.event), joinedload(Activity.registrant))
        .order_by(Activity.id.desc())
    )
    pagination = db.paginate(
        query, page=max(page, 1), per_page=per_page, error_out=False
    )
    counts = dict.fromkeys(OPEN_STATUSES, 0)
    for each_status, number in db.session.execute(
        sa.select(Activity.status, sa.func.count())
        .where(Activity.status.in_(OPEN_STATUSES))
        .group_by(Activity.status)
    ):
        counts[each_status] = number
    return QueuePage(
        pagination=pagination,
        counts=counts,
        status=status if status in OPEN_STATUSES else None,
        budget=api_budget(),
    )


def retry_activity(activity: Activity, actor: User) -> None:
    """Put a failed activity back in the queue, ready now, with its tries reset.

    Its last error stays visible until a try succeeds. It is then processed as soon
    as a new submission would be.
    """
    # One conditional UPDATE: of two admins retrying at once, one puts it back.
    retried = db.session.execute(
        sa.update(Activity)
        .where(Activity.id == activity.id, Activity.status == ActivityStatus.FAILED)
        .values(
            status=ActivityStatus.PENDING,
            attempts=0,
            available_at=utcnow(),
            locked_at=None,
            locked_by=None,
            processed_at=None,
        )
        .returning(Activity.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()
    if retried is None:
        db.session.refresh(activity)
        raise ValidationFailed(
            f"Activity {activity.id} is {activity.status.value}, not failed: "
            "only failed activities can be retried."
        )
    logger.info("Activity %s put back in the queue by %s", activity.id, actor.email)
    process_soon([activity])
