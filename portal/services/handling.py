"""What processing one activity does: send its email, match the person, act."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.crm import get_crm
from portal.extensions import db
from portal.models import Activity, ActivityKind, ActivityStatus, utcnow
from portal.models.activity import MAIL_QUEUE
from portal.services.action_sets import effective_action_set, site_settings
from portal.services.actions import ActionRun, apply_actions, log_outcome
from portal.services.attendance import has_joined
from portal.services.mail import compose_email, send_email
from portal.services.matching import MatchOptions, Submitted, match_person


def handle_activity(activity: Activity) -> ActivityStatus:
    """Work one claimed activity; return the status to record.

    An Email activity is worked twice: first in its person's mail queue, where the
    message is sent (a mail server that is down then holds back only the person's
    mail); then, as the record that the portal sent an email, in the person's queue
    with everything else, where the Email trigger's actions run. Between the two it
    is left PENDING.
    """
    if activity.kind is ActivityKind.EMAIL and activity.person_key.startswith(
        MAIL_QUEUE
    ):
        _send_activity_email(activity)
        return ActivityStatus.PENDING
    return _match_and_act(activity)


def _match_and_act(activity: Activity) -> ActivityStatus:
    """Match the person and run the trigger's actions."""
    crm = get_crm()
    settings = site_settings()
    registrant = activity.registrant
    _take_turn(registrant.email_key if registrant is not None else activity.person_key)
    run = ActionRun(
        crm=crm,
        activity=activity,
        action_set=effective_action_set(activity.event),
        influence=settings.campaign_influence,
        # Variables such as {!now} tell when it happened, not when it was worked.
        now=activity.occurred_at,
    )
    trace: dict[str, Any] = {"crm": crm.name}
    if activity.kind is ActivityKind.EMAIL:
        trace["email"] = {
            key: value
            for key, value in (activity.payload or {}).items()
            if key in ("message_id", "subject", "note")
        }

    status = ActivityStatus.DONE
    match = None
    # The CRM writes of the activity are made together when it is done (or none).
    with crm.activity_writes() as writes:
        # A leave that finds no visit open sends nothing to the CRM, so it must
        # not make a lead either; if its join comes later it is worked again then.
        if registrant is not None and not run.closes_nothing():
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
            if match.is_staff:
                status = ActivityStatus.SKIPPED
                run.note("matched a CRM user (staff): activity not logged in the CRM")
        apply_actions(run)

    # Records made in this batch are known by their CRM ids only now.
    run.notes = writes.resolve(run.notes)
    log_outcome(run)
    if registrant is not None and match is not None:
        person_id = writes.resolve(match.person.id)
        trace["match"] = writes.resolve(match.trace())
        activity.crm_person_type = registrant.crm_person_type = match.person.type.value
        activity.crm_person_id = registrant.crm_person_id = person_id
    trace["actions"] = run.notes
    activity.trace = trace
    activity.crm_task_id = writes.resolve(run.task_id)
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


def _send_activity_email(activity: Activity) -> None:
    """Send the message, once, and move the activity to its person's queue."""
    payload = dict(activity.payload or {})
    registrant = activity.registrant
    if registrant is None:
        payload["note"] = "no registrant to write to"
    elif not payload.get("message_id"):
        trigger = ActivityKind(payload.get("message", ActivityKind.REGISTER.value))
        attended = (
            has_joined(activity.event_id, registrant.id)
            if trigger is ActivityKind.SESSION_END
            else None
        )
        message = compose_email(trigger, registrant, attended=attended)
        if message is None:
            payload["note"] = f"no {trigger.value} message"
        else:
            payload.update(
                message_id=send_email(message), subject=str(message["Subject"])
            )
            # The Email trigger is about when the portal sent it.
            activity.occurred_at = utcnow()
    activity.payload = payload
    activity.person_key = activity.person_key.removeprefix(MAIL_QUEUE)
