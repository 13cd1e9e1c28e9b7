"""The actions a trigger runs in the CRM: task, campaign member, field updates,
feed post, email, campaign influence.

Person triggers (Email, Register, Join, Leave, and Session Start or End for one
registrant) act on the person matching found. Session Start and Session End arrive
once for the whole session: they post on the campaign's feed and fan out into one
activity per registrant, each processed in that person's turn.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from portal.crm.base import Crm, Person, PersonType
from portal.crm.fields import FEED_BODY_LENGTH, fit
from portal.extensions import db
from portal.models import (
    ActionSet,
    Activity,
    ActivityKind,
    Event,
    FieldUpdateRule,
    InfluenceMode,
    Registrant,
    RuleObject,
    TriggerAction,
)
from portal.models.activity import mail_queue_key
from portal.services.action_sets import TASK_TRIGGERS
from portal.services.action_tasks import update_join_task_times, write_task
from portal.services.attendance import (
    AttendanceFacts,
    has_joined,
    is_earliest_join,
    join_that_ran,
    leave_facts,
    was_in_before,
)
from portal.services.campaign_status import member_status
from portal.services.late_signals import (
    close_open_visits,
    mark_awaiting_join,
    requeue_leaves_awaiting,
)
from portal.services.variables import VariableContext, evaluate

logger = logging.getLogger(__name__)

PERSON_OBJECTS = {
    PersonType.CONTACT: RuleObject.CONTACT,
    PersonType.LEAD: RuleObject.LEAD,
}
SESSION_TRIGGERS = (ActivityKind.SESSION_START, ActivityKind.SESSION_END)


@dataclass(slots=True)
class ActionRun:
    """One activity's actions: what they act on, and the notes they leave."""

    crm: Crm
    activity: Activity
    action_set: ActionSet
    influence: InfluenceMode
    now: datetime
    person: Person | None = None
    notes: list[str] = field(default_factory=list)
    task_id: str | None = None
    _closes_nothing: bool | None = field(default=None, init=False, repr=False)

    def closes_nothing(self) -> bool:
        """Whether the activity is a leave that finds no visit open; worked out
        once, as matching and the actions both ask."""
        if self._closes_nothing is None:
            self._closes_nothing = self.trigger is ActivityKind.LEAVE and not (
                was_in_before(self.activity)
            )
        return self._closes_nothing

    @property
    def event(self) -> Event:
        """The session the activity belongs to."""
        return self.activity.event

    @property
    def trigger(self) -> ActivityKind:
        """The trigger: the activity's kind."""
        return self.activity.kind

    @property
    def settings(self) -> TriggerAction | None:
        """The trigger's settings in the session's action set."""
        return self.action_set.for_trigger(self.trigger)

    def note(self, text: str) -> None:
        """Add a line to the activity's trace."""
        self.notes.append(text)


def apply_actions(run: ActionRun) -> None:
    """Run the trigger's actions for the person ``run`` found (or for the session)."""
    if run.activity.registrant is None:
        _apply_session_actions(run)
        return
    if run.trigger is ActivityKind.JOIN:
        for leave in requeue_leaves_awaiting(run.activity):
            run.note(f"leave {leave.id}, which arrived before this join, queued again")
    person = run.person
    settings = run.settings
    if settings is None:
        run.note("no actions are set for this trigger")
        return
    if run.trigger is ActivityKind.JOIN:
        first = join_that_ran(run.activity)
        if first is not None:
            # One Join task per person and session, whatever order the joins
            # arrive in; each Leave updates it.
            run.note(f"joined again: the Join actions ran for activity {first.id}")
            if is_earliest_join(run.activity) and first.crm_task_id:
                # It happened before the join that made the task: the task starts
                # at this one now.
                update_join_task_times(run, first.crm_task_id)
            return
    if run.closes_nothing():
        run.note(
            "no visit was open at this leave: nothing is sent to the CRM, unless "
            "a join at or before it comes later"
        )
        mark_awaiting_join(run.activity)
        return
    if person is not None and person.type is not PersonType.USER:
        context = _variable_context(run, person)
        member_values, rules = _evaluated_rules(run, context)
        _update_campaign_member(run, person, settings, member_values)
        write_task(run, person, settings, rules.get(RuleObject.TASK, {}), context)
        _update_person(run, person, rules)
        _post_to_feed(run, person, settings, has_rules=bool(member_values or rules))
        _credit_campaign(run, person)
    _queue_email(run, settings)


def has_actions(run: ActionRun, settings: TriggerAction) -> bool:
    """Whether the trigger does anything on this session besides a feed post."""
    has_task = settings.has_task and run.trigger in (*TASK_TRIGGERS, ActivityKind.LEAVE)
    statuses = [settings.campaign_status]
    if run.trigger is ActivityKind.SESSION_END:
        statuses += [settings.no_show_status, settings.short_stay_status]
    has_status = any(statuses) and bool(run.event.campaign_id)
    return (
        has_task
        or has_status
        or settings.sends_email
        or bool(run.action_set.rules_for(run.trigger))
    )


def _apply_session_actions(run: ActionRun) -> None:
    """A session's own Start or End: campaign feed post and one activity per person."""
    event = run.event
    settings = run.settings
    if (
        settings is not None
        and settings.posts_to_feed
        and event.campaign_id
        and has_actions(run, settings)
    ):
        verb = "started" if run.trigger is ActivityKind.SESSION_START else "ended"
        post_id = run.crm.post_to_feed(
            "campaign", event.campaign_id, _fitted_body(f"{event.title} {verb}.")
        )
        run.note(f"feed post {post_id} on campaign {event.campaign_id}")
    registrants = db.session.scalars(
        sa.select(Registrant)
        .where(Registrant.event_id == event.id)
        .order_by(Registrant.id)
    ).all()
    # A visit still open ends with the session: a leave at the end's time, queued
    # before the person's own Session End.
    closed = (
        close_open_visits(run.activity, registrants)
        if run.trigger is ActivityKind.SESSION_END
        else 0
    )
    for registrant in registrants:
        db.session.add(
            Activity(
                kind=run.trigger,
                event=event,
                registrant=registrant,
                person_key=registrant.email_key,
                occurred_at=run.activity.occurred_at,
                payload={"session_activity": run.activity.id},
                dedupe_key=f"{run.trigger.value}:{run.activity.id}:{registrant.id}",
            )
        )
    run.note(f"{len(registrants)} registrants queued for their own actions")
    if closed:
        run.note(f"{closed} visits still open closed at the end's time")


def _variable_context(run: ActionRun, person: Person) -> VariableContext:
    event = run.event
    leader = run.crm.find_user(event.owner.email)
    facts: AttendanceFacts | None = None
    join_time = None
    if run.trigger is ActivityKind.LEAVE:
        facts = leave_facts(run.activity)
        join_time = facts.join_time
    elif run.trigger is ActivityKind.JOIN:
        join_time = run.activity.occurred_at
    return VariableContext(
        now=run.now,
        host_time_zone=event.owner.time_zone,
        user_id=person.id,
        leader_id=leader.id if leader is not None else "",
        event_id=event.key,
        join_time=join_time,
        leave_time=facts.leave_time if facts else None,
        attendee_count=facts.attendee_count if facts else None,
        duration_seconds=facts.duration_seconds if facts else None,
        score_percent=facts.score_percent if facts else None,
        score_points=facts.score_points if facts else None,
    )


def _evaluated_rules(
    run: ActionRun, context: VariableContext
) -> tuple[dict[str, Any], dict[RuleObject, dict[str, Any]]]:
    """The trigger's rules evaluated: campaign member values, the rest by object."""
    values: dict[RuleObject, dict[str, Any]] = {}
    for rule in run.action_set.rules_for(run.trigger):
        value = _evaluate_rule(run, rule, context)
        if value is not _SKIP:
            values.setdefault(rule.target, {})[rule.field] = value
    return values.pop(RuleObject.CAMPAIGN_MEMBER, {}), values


_SKIP = object()


def _evaluate_rule(
    run: ActionRun, rule: FieldUpdateRule, context: VariableContext
) -> Any:
    spec = run.crm.fields(rule.target).get(rule.field)
    if spec is None:
        run.note(f"rule skipped: {rule.target.label} has no field {rule.field}")
        return _SKIP
    evaluated = evaluate(rule.value, spec, context)
    if evaluated.missing:
        names = ", ".join(f"{{!{name}}}" for name in evaluated.missing)
        run.note(f"rule skipped: {rule.target.label}.{rule.field} needs {names}")
        return _SKIP
    if evaluated.was_cut:
        run.note(f"{rule.target.label}.{rule.field} cut to {spec.length} characters")
    return evaluated.value


def _update_campaign_member(
    run: ActionRun,
    person: Person,
    settings: TriggerAction,
    values: Mapping[str, Any],
) -> None:
    campaign_id = run.event.campaign_id
    if not campaign_id:
        if values:
            run.note("campaign member rules skipped: the session has no campaign")
        return
    status = member_status(run.activity, settings, run.note)
    result = run.crm.upsert_campaign_member(campaign_id, person, status, values)
    if result.kept_instead_of:
        run.note(
            f"campaign member {result.id}: kept {result.status}, not "
            f"{result.kept_instead_of} (a response is never taken back)"
        )
    elif result.is_new:
        run.note(f"campaign member {result.id}: {result.status} (new)")
    elif result.is_changed:
        run.note(f"campaign member {result.id}: {result.status} (updated)")
    else:
        run.note(f"campaign member {result.id}: {result.status} (unchanged)")


def _update_person(
    run: ActionRun, person: Person, rules: Mapping[RuleObject, Mapping[str, Any]]
) -> None:
    own = PERSON_OBJECTS[person.type]
    for target in (RuleObject.CONTACT, RuleObject.LEAD):
        values = rules.get(target)
        if not values:
            continue
        if target is not own:
            run.note(f"{target.label} rules skipped: the person is a {own.label}")
            continue
        run.crm.update_record(target, person.id, values)
        run.note(f"{target.label} {person.id} updated: {', '.join(sorted(values))}")


def _post_to_feed(
    run: ActionRun, person: Person, settings: TriggerAction, *, has_rules: bool
) -> None:
    if not settings.posts_to_feed:
        return
    if not (has_rules or has_actions(run, settings)):
        run.note("no feed post: the trigger has no other actions on this session")
        return
    body = _fitted_body(_feed_message(run, person))
    post_id = run.crm.post_to_feed(person.type.value, person.id, body)
    run.note(f"feed post {post_id}")


def _credit_campaign(run: ActionRun, person: Person) -> None:
    campaign_id = run.event.campaign_id
    if (
        run.influence is InfluenceMode.NONE
        or person.type is not PersonType.CONTACT
        or not person.account_id
        or not campaign_id
    ):
        return
    for opportunity in run.crm.open_opportunities(person.account_id):
        make_primary = run.influence is InfluenceMode.CURRENT or (
            opportunity.primary_campaign_id is None
        )
        if campaign_id in opportunity.campaign_ids and (
            not make_primary or opportunity.primary_campaign_id == campaign_id
        ):
            continue
        run.crm.credit_campaign(opportunity.id, campaign_id, make_primary=make_primary)
        role = "primary campaign" if make_primary else "influence"
        run.note(f"opportunity {opportunity.id}: campaign credited ({role})")


def _queue_email(run: ActionRun, settings: TriggerAction) -> None:
    registrant = run.activity.registrant
    if not settings.sends_email or registrant is None:
        return
    if run.trigger is ActivityKind.EMAIL:
        return
    if run.trigger is ActivityKind.SESSION_START and has_joined(
        run.event.id, registrant.id
    ):
        run.note("no starting-now email: already joined")
        return
    db.session.add(
        Activity(
            kind=ActivityKind.EMAIL,
            event=run.event,
            registrant=registrant,
            person_key=mail_queue_key(registrant.email_key),
            occurred_at=run.now,
            payload={"message": run.trigger.value, "cause": run.activity.id},
            dedupe_key=f"email:{run.activity.id}",
        )
    )
    run.note(f"{run.trigger.value.replace('_', ' ')} email queued")


def _feed_message(run: ActionRun, person: Person) -> str:
    name = f"{person.first_name} {person.last_name}".strip() or person.email
    title = run.event.title
    return {
        ActivityKind.REGISTER: f"{name} registered for {title}.",
        ActivityKind.JOIN: f"{name} joined {title}.",
        ActivityKind.LEAVE: f"{name} left {title}.",
        ActivityKind.EMAIL: f"{name} was sent an email about {title}.",
        ActivityKind.SESSION_START: f"{title} started.",
        ActivityKind.SESSION_END: f"{title} ended.",
    }[run.trigger]


def _fitted_body(text: str) -> str:
    return fit(text, FEED_BODY_LENGTH)[0]


def log_outcome(run: ActionRun) -> None:
    """One INFO line naming the activity and what its actions did."""
    logger.info(
        "Ran %s actions for activity %s: %s",
        run.trigger.value,
        run.activity.id,
        "; ".join(run.notes) or "nothing to do",
    )
