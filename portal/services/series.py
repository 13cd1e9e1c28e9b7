"""Recurring series: their dates, their occurrences and changes to both.

A series repeats its first occurrence's wall-clock time, so a weekly 10:00 stays 10:00
across a daylight-saving change. Each occurrence is a session of its own (its own key
and addresses) that uses the series' field list and actions until someone changes it.
Changing the dates moves occurrences in place and never deletes one that someone
registered for or joined.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    Event,
    EventSeries,
    FieldScope,
    Frequency,
    Registrant,
    User,
)
from portal.services.action_sets import copy_action_set, global_action_set
from portal.services.events import new_event_key
from portal.services.fields import copy_list, global_list
from portal.services.schedule import describe_schedule
from portal.services.sessions import (
    SessionInput,
    checked_attributes,
    choose_owner,
    has_attendance_records,
    missing_campaign_statuses,
    password_after,
    schedule_in_utc,
    typed_times,
)
from portal.services.wall_clock import (
    LATEST_DAY,
    ClockIssue,
    check_schedulable_day,
    day_text,
    is_schedulable_day,
    resolve_local_time,
)

logger = logging.getLogger(__name__)

#: A series never has more occurrences than this.
MAX_OCCURRENCES = 200
#: The longest step between occurrences: 99 days, weeks or months.
MAX_INTERVAL = 99


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How a series repeats: every ``interval`` days, weeks or months, ended by a
    count of occurrences or a last date (inclusive)."""

    frequency: Frequency
    interval: int = 1
    count: int | None = None
    until: date | None = None


@dataclass(slots=True)
class SeriesSaved:
    """A saved series and what the person saving it should know."""

    series: EventSeries
    notices: list[str] = field(default_factory=list)


# Recurrence


def occurrence_dates(first: date, recurrence: Recurrence) -> list[date]:
    """The dates of a series' occurrences, the first included.

    Monthly series keep the first date's day of the month; in a month without that
    day (the 31st in April, the 30th in February) the occurrence falls on the
    month's last day, and the next month goes back to the original day.
    """
    if not 1 <= recurrence.interval <= MAX_INTERVAL:
        raise ValidationFailed(
            f"Repeat every 1 to {MAX_INTERVAL} days, weeks or months.", "interval"
        )
    if recurrence.count is not None and not 1 <= recurrence.count <= MAX_OCCURRENCES:
        raise ValidationFailed(
            f"A series has from 1 to {MAX_OCCURRENCES} sessions.", "count"
        )
    if recurrence.count is None and recurrence.until is None:
        raise ValidationFailed(
            "Say how many sessions the series has, or its last date.", "count"
        )
    check_schedulable_day(first, "starts_at")
    if recurrence.until is not None:
        check_schedulable_day(recurrence.until, "until")
        if recurrence.until < first:
            raise ValidationFailed(
                "The last date cannot be before the first session.", "until"
            )
    limit = recurrence.count if recurrence.count is not None else MAX_OCCURRENCES + 1
    dates: list[date] = []
    for index in range(limit):
        day = _nth_date(first, recurrence, index)
        if recurrence.until is not None and day > recurrence.until:
            return dates
        if not is_schedulable_day(day):
            raise ValidationFailed(
                f"The series would run past {day_text(LATEST_DAY)}, the last day "
                "a session can take place on. Choose fewer sessions or a shorter "
                "step.",
                "count",
            )
        dates.append(day)
    if len(dates) > MAX_OCCURRENCES:
        raise ValidationFailed(
            f"Ending on {day_text(recurrence.until or first)} makes more than "
            f"{MAX_OCCURRENCES} sessions, the most a series can have. Choose an "
            "earlier last date or a longer step.",
            "until",
        )
    return dates


def _nth_date(first: date, recurrence: Recurrence, index: int) -> date:
    steps = index * recurrence.interval
    if recurrence.frequency is Frequency.DAILY:
        return first + timedelta(days=steps)
    if recurrence.frequency is Frequency.WEEKLY:
        return first + timedelta(weeks=steps)
    months = first.month - 1 + steps
    year, month = first.year + months // 12, months % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def series_times(
    data: SessionInput, recurrence: Recurrence, notices: list[str]
) -> list[tuple[datetime, datetime]]:
    """Each occurrence's start and end in UTC, at the first one's wall-clock times.

    An occurrence whose wall-clock start the clocks skip moves on by the jump (and
    the host is told); one the clocks show twice starts the first time.
    """
    if data.is_always_available:
        raise ValidationFailed(
            "A repeating session needs a start and an end; untick "
            "“Always available” or choose “Does not repeat”.",
            "is_always_available",
        )
    first_start, first_end = schedule_in_utc(data, notices)
    start_wall, end_wall = typed_times(data)
    length = end_wall - start_wall
    times = [(first_start, first_end)]
    for day in occurrence_dates(start_wall.date(), recurrence)[1:]:
        wall = datetime.combine(day, start_wall.time())
        starts_at, issue = resolve_local_time(wall, data.time_zone)
        ends_at, _ = resolve_local_time(wall + length, data.time_zone)
        if ends_at <= starts_at:
            ends_at = starts_at + length
        if issue is ClockIssue.SKIPPED:
            shown = starts_at.astimezone(ZoneInfo(data.time_zone))
            notices.append(
                f"On {day_text(day)} the session starts at {shown:%H:%M}, because "
                f"the clocks skip {wall:%H:%M} that night in {data.time_zone}."
            )
        times.append((starts_at, ends_at))
    return times


# Series


def can_manage_series(user: User, series: EventSeries) -> bool:
    """Whether the user may see and change this series."""
    return user.is_admin or series.owner_id == user.id


def create_series(
    actor: User, data: SessionInput, recurrence: Recurrence
) -> SeriesSaved:
    """Create a recurring series: one session per occurrence, each with its own key
    and addresses, all using the series' copies of the field list and actions."""
    values = checked_attributes(data)
    owner = choose_owner(actor, data.owner_id, None)
    notices: list[str] = []
    times = series_times(data, recurrence, notices)
    password = password_after(None, data.join_password, data.remove_password)

    series = EventSeries(
        owner=owner,
        frequency=recurrence.frequency,
        interval=recurrence.interval,
        occurrence_count=recurrence.count,
        until_date=None if recurrence.count is not None else recurrence.until,
        field_list=copy_list(global_list(FieldScope.SCHEDULED)),
        action_set=copy_action_set(global_action_set(FieldScope.SCHEDULED)),
    )
    db.session.add(series)
    for starts_at, ends_at in times:
        _add_occurrence(series, values, data.time_zone, password, starts_at, ends_at)
    db.session.commit()
    logger.info(
        "%s created series %s (%s occurrences) for %s",
        actor.email,
        series.id,
        len(times),
        owner.email,
    )
    return SeriesSaved(
        series, notices + missing_campaign_statuses(series.occurrences[0])
    )


def update_series(
    actor: User, series: EventSeries, data: SessionInput, recurrence: Recurrence
) -> SeriesSaved:
    """Change a series: its shared details, its host and its dates.

    A detail changed here is set on every occurrence that stays in the series; a
    detail left as it was keeps each occurrence's own value. New dates move the
    occurrences in place, in order; occurrences beyond the new end are deleted,
    unless someone registered for or joined them: those are kept as sessions of
    their own, outside the series, with the title and details they had.
    """
    occurrences = ordered_occurrences(series)
    template = occurrences[0] if occurrences else None
    values = checked_attributes(data, current_type=template.type if template else None)
    owner = choose_owner(actor, data.owner_id, series.owner)
    notices: list[str] = []
    is_rescheduled = template is None or _schedule_changed(
        template, series, data, recurrence
    )
    times = series_times(data, recurrence, notices) if is_rescheduled else []

    changed = {
        name: value
        for name, value in values.items()
        if template is None or getattr(template, name) != value
    }
    # Occurrences past the new end leave the series (or go) as they were.
    staying = occurrences[: len(times)] if is_rescheduled else occurrences
    for occurrence in staying:
        for name, value in changed.items():
            setattr(occurrence, name, value)
        occurrence.owner = owner
        if data.join_password.strip() or data.remove_password:
            occurrence.join_password = password_after(
                None, data.join_password, data.remove_password
            )
    series.owner = owner
    if is_rescheduled:
        notices += _reschedule(actor, series, occurrences, times, data, values)
        series.frequency = recurrence.frequency
        series.interval = recurrence.interval
        series.occurrence_count = recurrence.count
        series.until_date = None if recurrence.count is not None else recurrence.until
    db.session.commit()
    logger.info("%s changed series %s", actor.email, series.id)
    first = first_occurrence(series)
    warnings = missing_campaign_statuses(first) if first else []
    return SeriesSaved(series, notices + warnings)


def ordered_occurrences(series: EventSeries) -> list[Event]:
    """The series' occurrences, earliest first."""
    return sorted(series.occurrences, key=_start_key)


def first_occurrence(series: EventSeries) -> Event | None:
    """The series' earliest occurrence: the one its form starts from."""
    occurrences = ordered_occurrences(series)
    return occurrences[0] if occurrences else None


def occurrence_registrants(series: EventSeries) -> dict[int, int]:
    """How many registrants each occurrence of the series has, by event id."""
    rows = db.session.execute(
        sa.select(Registrant.event_id, sa.func.count(Registrant.id))
        .join(Event, Event.id == Registrant.event_id)
        .where(Event.series_id == series.id)
        .group_by(Registrant.event_id)
    )
    return {event_id: count for event_id, count in rows}


def _start_key(event: Event) -> tuple[datetime, int]:
    return (event.starts_at or datetime.max.replace(tzinfo=UTC), event.id or 0)


def _schedule_changed(
    template: Event, series: EventSeries, data: SessionInput, recurrence: Recurrence
) -> bool:
    """Whether the form asks for other dates than the series has."""
    if template.starts_at is None or template.ends_at is None:
        return True
    zone = ZoneInfo(template.time_zone)
    current = (
        template.time_zone,
        template.starts_at.astimezone(zone).replace(tzinfo=None),
        template.ends_at.astimezone(zone).replace(tzinfo=None),
        series.frequency,
        series.interval,
        series.occurrence_count,
        series.until_date,
    )
    wanted = (
        data.time_zone,
        data.starts_local,
        data.ends_local,
        recurrence.frequency,
        recurrence.interval,
        recurrence.count,
        None if recurrence.count is not None else recurrence.until,
    )
    return current != wanted or data.is_always_available


def _reschedule(
    actor: User,
    series: EventSeries,
    occurrences: list[Event],
    times: list[tuple[datetime, datetime]],
    data: SessionInput,
    values: dict[str, Any],
) -> list[str]:
    """Move occurrences to the new dates by position, add or remove the rest."""
    notices: list[str] = []
    for occurrence, (starts_at, ends_at) in zip(occurrences, times, strict=False):
        occurrence.time_zone = data.time_zone
        occurrence.is_always_available = False
        occurrence.starts_at, occurrence.ends_at = starts_at, ends_at
    template = occurrences[0] if occurrences else None
    password = (
        template.join_password
        if template
        else password_after(None, data.join_password, data.remove_password)
    )
    for starts_at, ends_at in times[len(occurrences) :]:
        shared = {
            name: getattr(template, name) if template else value
            for name, value in values.items()
        }
        _add_occurrence(series, shared, data.time_zone, password, starts_at, ends_at)

    kept: list[Event] = []
    for occurrence in occurrences[len(times) :]:
        if has_attendance_records(occurrence):
            _detach(actor, occurrence, series)
            kept.append(occurrence)
        else:
            _delete_occurrence(actor, occurrence)
    if kept:
        names = "; ".join(describe_schedule(event) for event in kept)
        notices.append(
            f"Kept {len(kept)} session{'s' if len(kept) > 1 else ''} that people "
            f"registered for or joined, now outside the series: {names}."
        )
    return notices


def _add_occurrence(
    series: EventSeries,
    values: dict[str, Any],
    time_zone: str,
    password: str | None,
    starts_at: datetime,
    ends_at: datetime,
) -> Event:
    """A new occurrence; it has no field list or actions of its own."""
    event = Event(
        key=new_event_key(),
        owner=series.owner,
        series=series,
        time_zone=time_zone,
        starts_at=starts_at,
        ends_at=ends_at,
        is_always_available=False,
        join_password=password,
        **values,
    )
    db.session.add(event)
    return event


def _detach(actor: User, occurrence: Event, series: EventSeries) -> None:
    """Take an occurrence out of its series, keeping the fields and actions it used."""
    if occurrence.field_list is None and series.field_list is not None:
        occurrence.field_list = copy_list(series.field_list)
    if occurrence.action_set is None and series.action_set is not None:
        occurrence.action_set = copy_action_set(series.action_set)
    occurrence.series = None
    logger.info(
        "%s moved occurrence %s out of series %s (people registered or joined)",
        actor.email,
        occurrence.id,
        series.id,
    )


def _delete_occurrence(actor: User, occurrence: Event) -> None:
    """Delete an occurrence nobody registered for, with its own copies."""
    own_list, own_actions = occurrence.field_list, occurrence.action_set
    occurrence.series = None
    db.session.delete(occurrence)
    if own_list is not None:
        db.session.delete(own_list)
    if own_actions is not None:
        db.session.delete(own_actions)
    logger.info(
        "%s deleted occurrence %s, no longer in its series", actor.email, occurrence.id
    )
