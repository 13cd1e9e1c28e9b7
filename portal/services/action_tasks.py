"""The task a trigger logs: Email, Register and Join create one, Leave updates the
Join task with the leave time and the duration over every visit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.crm.base import NewTask, Person
from portal.crm.fields import fit
from portal.extensions import db
from portal.models import Activity, ActivityKind, ActivityStatus, Event, TriggerAction
from portal.services.action_sets import TASK_TRIGGERS
from portal.services.attendance import all_visits
from portal.services.schedule import describe_schedule
from portal.services.variables import VariableContext

if TYPE_CHECKING:
    from portal.services.actions import ActionRun


def write_task(
    run: ActionRun,
    person: Person,
    settings: TriggerAction,
    extra: Mapping[str, Any],
    context: VariableContext,
) -> None:
    if not settings.has_task:
        return
    status = "Completed" if run.event.is_room else settings.task_status
    if run.trigger is ActivityKind.LEAVE:
        _update_join_task(run, status, extra, context)
        return
    if run.trigger not in TASK_TRIGGERS:
        return
    event = run.event
    task = NewTask(
        subject=fit(_task_subject(run), 255)[0],
        status=status,
        priority=settings.task_priority,
        who=person,
        campaign_id=event.campaign_id,
        event_id=event.id,
        owner_id=context.leader_id or None,
        activity_date=_local_date(event, run.activity.occurred_at),
        started_at=context.join_time,
        description=_task_description(run),
        extra=dict(extra),
    )
    run.task_id = run.crm.create_task(task)
    run.note(f"task {run.task_id} created ({status}, {settings.task_priority})")


def _update_join_task(
    run: ActionRun, status: str, extra: Mapping[str, Any], context: VariableContext
) -> None:
    join = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.event_id == run.activity.event_id,
            Activity.registrant_id == run.activity.registrant_id,
            Activity.kind == ActivityKind.JOIN,
            Activity.crm_task_id.is_not(None),
            Activity.status == ActivityStatus.DONE,
        )
        .order_by(Activity.id)
    ).first()
    if join is None or join.crm_task_id is None:
        run.note("no join task to update")
        return
    # Every visit recorded so far, in whatever order the signals came: the task
    # ends with the latest leave and holds the minutes of every visit.
    values: dict[str, Any] = {"Status": status, **extra}
    for name, value in _task_times(run, with_start=False).items():
        values.setdefault(name, value)
    run.crm.update_task(join.crm_task_id, values)
    run.task_id = join.crm_task_id
    run.note(f"join task {join.crm_task_id} updated ({status})")


def update_join_task_times(run: ActionRun, task_id: str) -> None:
    """Set the Join task's start, end and minutes from every visit recorded."""
    run.crm.update_task(task_id, _task_times(run, with_start=True))
    run.note(f"join task {task_id}: times updated from every visit")


def _task_times(run: ActionRun, *, with_start: bool) -> dict[str, Any]:
    """The Join task's times from every visit; the start only when it moved.

    The task starts when the join that made it happened (a join page click, say);
    only a join that arrives later but happened earlier moves it.
    """
    registrant_id = run.activity.registrant_id
    if registrant_id is None:
        return {}
    visits = all_visits(run.activity.event_id, registrant_id)
    times: dict[str, Any] = {}
    if with_start and visits.first_start is not None:
        times["Start_Time__c"] = visits.first_start
    if visits.last_end is not None:
        times["End_Time__c"] = visits.last_end
        times["Duration_Minutes__c"] = round(visits.seconds / 60)
    return times


def _task_subject(run: ActionRun) -> str:
    title = run.event.title
    if run.trigger is ActivityKind.REGISTER:
        return f"Registered: {title}"
    if run.trigger is ActivityKind.JOIN:
        return f"Attended: {title}"
    subject = (run.activity.payload or {}).get("subject") or title
    return f"Email: {subject}"


def _task_description(run: ActionRun) -> str:
    event = run.event
    lines = [f"Session: {event.title}", f"When: {describe_schedule(event)}"]
    registrant = run.activity.registrant
    if registrant is not None:
        source = registrant.answer("Lead Source")
        if source:
            lines.append(f"Lead source: {source}")
    if run.trigger is ActivityKind.JOIN:
        origin = (run.activity.payload or {}).get("source", "")
        lines.append(
            "Joined through the portal's join page"
            if origin == "join_page"
            else "Joined (reported by the meeting platform)"
        )
    return "\n".join(lines)


def _local_date(event: Event, moment: datetime) -> date:
    """The day ``moment`` falls on in the session's time zone."""
    return moment.astimezone(ZoneInfo(event.time_zone)).date()
