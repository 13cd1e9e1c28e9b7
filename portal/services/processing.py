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
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, after_this_request, current_app, has_request_context
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased
from werkzeug.wrappers import Response

from portal.crm import get_crm
from portal.crm.base import CrmError
from portal.extensions import db
from portal.models import Activity, ActivityKind, ActivityStatus, utcnow
from portal.services.action_sets import effective_action_set, site_settings
from portal.services.actions import ActionRun, apply_actions, log_outcome
from portal.services.attendance import has_joined
from portal.services.mail import MailError, compose_email, send_email
from portal.services.matching import MatchOptions, Submitted, match_person

logger = logging.getLogger(__name__)

#: How many activities one request processes after it answers, at most.
INLINE_LIMIT = 20
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
        activity.status = _process(activity)
        _confirm_still_held(activity_id, worker)
        activity.processed_at = utcnow()
        activity.locked_at = None
        activity.locked_by = None
        activity.last_error = None
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


def process_after_request(activities: Iterable[Activity]) -> None:
    """Process these activities (and what they lead to) once the answer is sent.

    With the built-in CRM nothing else needs to run: the request that recorded an
    activity processes it, after the attendee already has their answer. Outside a
    request (the command line) it happens at once.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["PROCESS_INLINE"]:
        return
    person_keys = sorted({activity.person_key for activity in activities})
    if not person_keys:
        return

    def work() -> None:
        with app.app_context():
            _process_inline(person_keys)

    if has_request_context():

        @after_this_request
        def schedule(response: Response) -> Response:
            response.call_on_close(work)
            return response

    else:
        work()


def _process_inline(person_keys: list[str]) -> None:
    """These people's activities, then one from anyone's backlog and what follows it."""
    worker = worker_name()
    try:
        _process_people(worker, person_keys)
        # One more from anyone's backlog, so that retries progress without a worker.
        activity_id = claim_next(worker)
        activity = db.session.get(Activity, activity_id) if activity_id else None
        if activity is None:
            return
        person_key = activity.person_key
        process_claimed(activity.id, worker)
        # Then the rest of that person's queue: whoever held one of a person's
        # activities turned the others away meanwhile, so it must look again.
        _process_people(worker, [person_key])
    except Exception:
        logger.exception("Processing after a request failed; the activities wait")
        db.session.rollback()
    finally:
        db.session.remove()


def _process_people(worker: str, person_keys: list[str]) -> None:
    """Process these people's ready activities, up to :data:`INLINE_LIMIT`."""
    done = 0
    while done < INLINE_LIMIT and process_next(worker, person_keys=person_keys):
        done += 1


def run_worker(
    stop: threading.Event, *, poll_seconds: float = 1.0, exit_when_idle: bool = False
) -> int:
    """Process the queue until ``stop`` is set (or it is empty, if asked)."""
    worker = worker_name()
    logger.info("Worker %s started", worker)
    done = 0
    while not stop.is_set():
        try:
            busy = process_next(worker)
        except OperationalError:
            logger.exception("The database is unreachable; trying again shortly")
            db.session.rollback()
            busy = False
        except Exception:
            # A worker outlives any one problem; the activity it concerned waits.
            logger.exception("Claiming an activity failed; trying again shortly")
            db.session.rollback()
            busy = False
        if busy:
            done += 1
            continue
        if exit_when_idle:
            break
        stop.wait(poll_seconds)
    logger.info("Worker %s stopped after %s activities", worker, done)
    return done


def _process(activity: Activity) -> ActivityStatus:
    """Match the person and run the actions; return the status to record."""
    crm = get_crm()
    settings = site_settings()
    now = utcnow()
    registrant = activity.registrant
    run = ActionRun(
        crm=crm,
        activity=activity,
        action_set=effective_action_set(activity.event),
        influence=settings.campaign_influence,
        now=now,
    )
    trace: dict[str, Any] = {"crm": crm.name}
    if activity.kind is ActivityKind.EMAIL:
        trace["email"] = _send_activity_email(activity)
    # Only now: sending the email commits, which would give the turn away.
    _take_turn(activity.person_key)

    status = ActivityStatus.DONE
    if registrant is not None:
        answers = (activity.payload or {}).get("answers") or registrant.answers
        match = match_person(
            crm,
            Submitted(
                email=registrant.email_key,
                first_name=registrant.first_name,
                last_name=registrant.last_name,
                answers=answers,
            ),
            MatchOptions(
                ignore_crm_users=settings.ignore_crm_users,
                preferred_account_id=settings.preferred_account_id,
            ),
        )
        run.person = match.person
        trace["match"] = match.trace()
        activity.crm_person_type = registrant.crm_person_type = match.person.type.value
        activity.crm_person_id = registrant.crm_person_id = match.person.id
        if match.is_staff:
            status = ActivityStatus.SKIPPED
            run.note("matched a CRM user (staff): activity not logged in the CRM")

    apply_actions(run)
    log_outcome(run)
    trace["actions"] = run.notes
    activity.trace = trace
    activity.crm_task_id = run.task_id
    return status


def _take_turn(person_key: str) -> None:
    """Wait until no other transaction works for this person (PostgreSQL only).

    The lock is released when the transaction ends. SQLite needs none: its claims and
    its writes run one transaction at a time, so ids are committed in order.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    key = sa.func.hashtextextended(person_key, 0)
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _send_activity_email(activity: Activity) -> dict[str, str]:
    """Send the email an Email activity stands for, once, and say what was sent."""
    payload = dict(activity.payload or {})
    if payload.get("message_id"):
        return {"message_id": payload["message_id"], "note": "sent on an earlier try"}
    registrant = activity.registrant
    if registrant is None:
        return {"note": "no registrant to write to"}
    trigger = ActivityKind(payload.get("message", ActivityKind.REGISTER.value))
    attended = (
        has_joined(activity.event_id, registrant.id)
        if trigger is ActivityKind.SESSION_END
        else None
    )
    message = compose_email(trigger, registrant, attended=attended)
    if message is None:
        return {"note": f"no {trigger.value} message"}
    message_id = send_email(message)
    payload.update(message_id=message_id, subject=str(message["Subject"]))
    activity.payload = payload
    # Recorded at once, so that a retry of the CRM part never sends it twice.
    db.session.commit()
    return {"message_id": message_id, "subject": payload["subject"]}


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
