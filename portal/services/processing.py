"""The queue of activities: claiming, processing exactly once, retrying.

An activity is claimed by one atomic UPDATE ... RETURNING, which on PostgreSQL skips
rows other workers hold (``FOR UPDATE SKIP LOCKED``) and on SQLite runs under the
database's single write lock, so no two workers ever take the same activity. An
activity is only claimable when no earlier activity with the same ``person_key`` is
still pending or being processed, and no other one of that person is being
processed: each person's activities run one at a time, in order of arrival, which is
also what keeps two simultaneous first registrations with one new email from making
two leads.

On PostgreSQL, ids are handed out when a row is inserted but become visible when its
transaction commits, so an activity can appear behind one with a higher id that a
worker already holds; that is why a held activity blocks the person's others
whatever its id. Two claims made at that very moment could still both succeed, so
processing also takes a per-person advisory lock for its transaction: one person's
CRM work never runs twice at once.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from portal.crm.base import CrmError
from portal.extensions import db
from portal.models import Activity, ActivityStatus, utcnow
from portal.models.activity import MAIL_QUEUE
from portal.services.api_budget import may_take_crm_work
from portal.services.handling import handle_activity
from portal.services.mail import MailError

logger = logging.getLogger(__name__)

_CLAIMABLE = (ActivityStatus.PENDING, ActivityStatus.PROCESSING)


def worker_name() -> str:
    """A name for this process's claims: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def claim_next(
    worker: str,
    now: datetime | None = None,
    *,
    person_keys: Iterable[str] | None = None,
) -> int | None:
    """Claim the oldest activity that may run now; return its id, or None.

    With ``person_keys``, only those people's activities are considered.
    """
    now = now or utcnow()
    lock_expired = now - timedelta(
        seconds=int(current_app.config["PROCESSING_LOCK_SECONDS"])
    )
    max_attempts = int(current_app.config["PROCESSING_MAX_ATTEMPTS"])
    _fail_abandoned(lock_expired, max_attempts)
    ready = sa.or_(
        sa.and_(
            Activity.status == ActivityStatus.PENDING, Activity.available_at <= now
        ),
        sa.and_(
            Activity.status == ActivityStatus.PROCESSING,
            Activity.locked_at < lock_expired,
            Activity.attempts < max_attempts,
        ),
    )
    other = aliased(Activity)
    must_wait = (
        sa.select(other.id)
        .where(
            other.person_key == Activity.person_key,
            other.id != Activity.id,
            sa.or_(
                sa.and_(other.id < Activity.id, other.status.in_(_CLAIMABLE)),
                # Held by a live worker, even if it arrived later (see above).
                sa.and_(
                    other.status == ActivityStatus.PROCESSING,
                    other.locked_at >= lock_expired,
                ),
            ),
        )
        .exists()
    )
    candidates = sa.select(Activity.id).where(ready, ~must_wait)
    if not may_take_crm_work(now):
        # The CRM's API budget is spent: only emails go out; the rest waits.
        candidates = candidates.where(Activity.person_key.startswith(MAIL_QUEUE))
    if person_keys is not None:
        candidates = candidates.where(Activity.person_key.in_(list(person_keys)))
    candidate = (
        candidates.order_by(Activity.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = db.session.execute(
        sa.update(Activity)
        .where(Activity.id == candidate, ready)
        .values(
            status=ActivityStatus.PROCESSING,
            locked_at=now,
            locked_by=worker,
            attempts=Activity.attempts + 1,
        )
        .returning(Activity.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()
    return claimed


def _fail_abandoned(lock_expired: datetime, max_attempts: int) -> None:
    """Fail activities whose every try ended with its worker gone.

    An activity that kills the process handling it would otherwise be taken over
    and tried again forever.
    """
    db.session.execute(
        sa.update(Activity)
        .where(
            Activity.status == ActivityStatus.PROCESSING,
            Activity.locked_at < lock_expired,
            Activity.attempts >= max_attempts,
        )
        .values(
            status=ActivityStatus.FAILED,
            locked_at=None,
            locked_by=None,
            processed_at=utcnow(),
            last_error="Abandoned: the worker handling it stopped on every try.",
        )
        .execution_options(synchronize_session=False)
    )


def process_next(worker: str, *, person_keys: Iterable[str] | None = None) -> bool:
    """Claim and process one activity; False when none is ready."""
    activity_id = claim_next(worker, person_keys=person_keys)
    if activity_id is None:
        return False
    process_claimed(activity_id, worker)
    return True


class TakenOver(Exception):
    """Another worker took this activity over while this one was still at it."""


def process_claimed(activity_id: int, worker: str) -> None:
    """Process an activity this worker has claimed, and record the outcome."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        return
    try:
        activity.status = handle_activity(activity)
        _confirm_still_held(activity_id, worker)
        activity.locked_at = None
        activity.locked_by = None
        activity.last_error = None
        if activity.status is ActivityStatus.PENDING:
            # A first stage is done (an email sent); the next waits in its queue
            # with a fresh budget of tries.
            activity.available_at = utcnow()
            activity.attempts = 0
        else:
            activity.processed_at = utcnow()
        # Inside the try: a commit that fails (a constraint checked only now, a lost
        # connection) is a failed try like any other, not a crashed worker.
        db.session.commit()
    except TakenOver:
        db.session.rollback()
        logger.warning(
            "Activity %s was taken over by another worker; %s dropped its try",
            activity_id,
            worker,
        )
    except Exception as error:
        db.session.rollback()
        _record_failure(activity_id, error)


def _confirm_still_held(activity_id: int, worker: str) -> None:
    """Raise TakenOver unless this worker still holds the activity.

    A worker slower than PROCESSING_LOCK_SECONDS is presumed dead and its activity
    is handed to another; when the slow one finishes it must not commit a second
    set of CRM writes. The row is locked until the commit (PostgreSQL), and SQLite's
    writer already holds the database, so the answer cannot change before then.
    """
    holder = db.session.scalar(
        sa.select(Activity.locked_by)
        .where(Activity.id == activity_id)
        .with_for_update()
        .execution_options(populate_existing=False)
    )
    if holder != worker:
        raise TakenOver(activity_id)


def process_all(worker: str, limit: int | None = None) -> int:
    """Process ready activities until none is left (or ``limit``); return how many."""
    done = 0
    while (limit is None or done < limit) and process_next(worker):
        done += 1
    return done


def _record_failure(activity_id: int, error: Exception) -> None:
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        return
    config = current_app.config
    transient = _is_transient(error)
    activity.last_error = f"{type(error).__name__}: {error}"[:2000]
    activity.locked_at = None
    activity.locked_by = None
    if transient and activity.attempts < int(config["PROCESSING_MAX_ATTEMPTS"]):
        wait = min(
            int(config["PROCESSING_RETRY_SECONDS"]) * 2 ** (activity.attempts - 1), 3600
        )
        activity.status = ActivityStatus.PENDING
        activity.available_at = utcnow() + timedelta(
            seconds=wait * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not secrets
        )
        logger.warning(
            "Activity %s failed (try %s), retrying in about %ss: %s",
            activity_id,
            activity.attempts,
            wait,
            activity.last_error,
        )
    else:
        activity.status = ActivityStatus.FAILED
        activity.processed_at = utcnow()
        logger.error(
            "Activity %s failed for good: %s", activity_id, activity.last_error
        )
    db.session.commit()


def _is_transient(error: Exception) -> bool:
    if isinstance(error, CrmError | MailError):
        return error.is_transient
    return True
