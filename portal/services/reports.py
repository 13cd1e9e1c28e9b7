"""Registrants and attendance of a session: the table and the CSV export.

A page of the table costs a fixed number of queries whatever its size: the page of
registrants, every join and leave of those registrants, and the latest activity of
each. Times are given in the session's own time zone.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    Event,
    FixedField,
    Registrant,
)
from portal.models.field import param_key_for
from portal.services.attendance import JOIN_PAGE, Signal, guest_count, pair_visits
from portal.services.fields import effective_fields

#: Registrants on one page of the table.
PAGE_SIZE = 50
#: Put before a cell a spreadsheet would run as a formula: a zero width space. It is
#: invisible, so Excel, LibreOffice and Google Sheets all show the text as typed, and
#: the cell no longer starts with a formula character. The usual leading apostrophe
#: is hidden by Excel but kept, and shown, by LibreOffice's CSV import.
FORMULA_GUARD = "\u200b"
#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a
#: formula (tab and carriage return because some importers trim them first), with
#: their full-width forms, which some Asian locales read the same way.
FORMULA_STARTS = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)
#: Excel keeps at most this many characters in a cell.
CELL_LIMIT = 32_000
_IDENTITY_FIELDS = (FixedField.FIRST_NAME, FixedField.LAST_NAME, FixedField.EMAIL)
_LEAD_SOURCE_KEY = param_key_for("Lead Source")
_SIGNALS = (ActivityKind.JOIN, ActivityKind.LEAVE)


@dataclass(frozen=True, slots=True)
class RegistrantRow:
    """One registrant of a session as the table and the export show them."""

    registrant_id: int
    first_name: str
    last_name: str
    email: str
    #: The CRM record processing matched: ``user``, ``contact`` or ``lead``.
    crm_person_type: str | None
    crm_person_id: str | None
    lead_source: str
    #: None for someone who joined without registering.
    registered_at: datetime | None
    first_joined_at: datetime | None
    last_left_at: datetime | None
    #: Seconds over every completed visit; None for someone who never joined.
    attended_seconds: int | None
    #: Whether the latest signal is a join with no leave after it.
    is_in_session: bool
    latest_activity: Activity | None
    answers: Sequence[Mapping[str, Any]]

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def minutes_attended(self) -> int | None:
        """Whole minutes attended, rounded as ``{!durationMins}`` rounds them."""
        if self.attended_seconds is None:
            return None
        return round(self.attended_seconds / 60)


@dataclass(frozen=True, slots=True)
class RegistrantTotals:
    """How many people a session has: known, registered, and who joined."""

    registrants: int
    registered: int
    attended: int
    #: Attendees the meeting platform could not tie to a registrant (no email).
    guests: int = 0


@dataclass(frozen=True, slots=True)
class RegistrantReport:
    """One page of a session's registrants."""

    event: Event
    rows: list[RegistrantRow]
    pagination: Pagination
    totals: RegistrantTotals
    search: str


def registrant_report(
    event: Event, *, page: int = 1, search: str = "", per_page: int = PAGE_SIZE
) -> RegistrantReport:
    """A page of the session's registrants, newest first, optionally searched."""
    query = sa.select(Registrant).where(Registrant.event_id == event.id)
    search = search.strip()
    if search:
        query = query.where(_matches(search))
    pagination = db.paginate(
        query.order_by(Registrant.id.desc()),
        page=max(page, 1),
        per_page=per_page,
        error_out=False,
    )
    registrants: list[Registrant] = list(pagination.items)
    return RegistrantReport(
        event=event,
        rows=_rows(event, registrants, whole_event=False),
        pagination=pagination,
        totals=registrant_totals(event),
        search=search,
    )


def registrant_totals(event: Event) -> RegistrantTotals:
    """Counts of the session's registrants, registrations and attendees."""
    known, registered = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(Registrant.registered_at)).where(
            Registrant.event_id == event.id
        )
    ).one()
    attended = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Activity.registrant_id))).where(
            Activity.event_id == event.id, Activity.kind == ActivityKind.JOIN
        )
    )
    return RegistrantTotals(
        known or 0, registered or 0, attended or 0, guests=guest_count(event.id)
    )


def _matches(search: str) -> sa.ColumnElement[bool]:
    """Registrants whose email or name contains ``search``, without regard to case."""
    wanted = search.lower()
    full_name = sa.func.lower(Registrant.first_name + " " + Registrant.last_name)
    return sa.or_(
        Registrant.email_key.contains(wanted, autoescape=True),
        full_name.contains(wanted, autoescape=True),
    )


def _rows(
    event: Event, registrants: Sequence[Registrant], *, whole_event: bool
) -> list[RegistrantRow]:
    """Rows for ``registrants`` with two more queries, whatever their number.

    ``whole_event`` reads the activities by session rather than by a list of ids,
    which suits an export of every registrant.
    """
    if not registrants:
        return []
    of_these = [Activity.event_id == event.id]
    if not whole_event:
        of_these.append(Activity.registrant_id.in_([r.id for r in registrants]))

    signals: dict[int | None, list[Signal]] = defaultdict(list)
    for registrant_id, kind, occurred_at, source in db.session.execute(
        sa.select(
            Activity.registrant_id,
            Activity.kind,
            Activity.occurred_at,
            Activity.payload["source"].as_string(),
        )
        .where(*of_these, Activity.kind.in_(_SIGNALS))
        .order_by(Activity.occurred_at, Activity.id)
    ):
        signals[registrant_id].append(Signal(kind, occurred_at, source == JOIN_PAGE))

    newest = (
        sa.select(sa.func.max(Activity.id))
        .where(*of_these, Activity.registrant_id.is_not(None))
        .group_by(Activity.registrant_id)
    )
    latest = {
        activity.registrant_id: activity
        for activity in db.session.scalars(
            sa.select(Activity).where(Activity.id.in_(newest))
        )
    }

    zone = ZoneInfo(event.time_zone)
    return [
        _row(
            registrant, signals.get(registrant.id, []), latest.get(registrant.id), zone
        )
        for registrant in registrants
    ]


def _row(
    registrant: Registrant,
    signals: Sequence[Signal],
    latest: Activity | None,
    zone: ZoneInfo,
) -> RegistrantRow:
    joins = [signal.at for signal in signals if signal.kind is ActivityKind.JOIN]
    leaves = [signal.at for signal in signals if signal.kind is ActivityKind.LEAVE]
    visits = pair_visits(signals)
    return RegistrantRow(
        registrant_id=registrant.id,
        first_name=registrant.first_name,
        last_name=registrant.last_name,
        email=registrant.email,
        crm_person_type=registrant.crm_person_type,
        crm_person_id=registrant.crm_person_id,
        lead_source=lead_source(registrant.answers),
        registered_at=_local(registrant.registered_at, zone),
        first_joined_at=_local(min(joins, default=None), zone),
        last_left_at=_local(max(leaves, default=None), zone),
        attended_seconds=visits.seconds if visits.has_joined else None,
        is_in_session=visits.open_since is not None,
        latest_activity=latest,
        answers=registrant.answers or [],
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return in_zone(moment, zone) if moment is not None else None


def in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` in ``zone``; one too near year 1 or 9999 for that stays in UTC.

    The portal refuses such times now, but a page must still show one stored before.
    """
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment


def attended_seconds(
    signals: Iterable[Signal | tuple[ActivityKind, datetime]],
) -> int | None:
    """Seconds over every visit that has ended; None when the person never joined.

    The pairing of :func:`portal.services.attendance.pair_visits`, the one a Leave's
    durations come from, applied to signals already loaded, oldest first.
    """
    visits = pair_visits(Signal(*signal) for signal in signals)
    return visits.seconds if visits.has_joined else None


def lead_source(answers: Iterable[Mapping[str, Any]]) -> str:
    """The "Lead Source" answer, else the answer written to a LeadSource field."""
    answers = list(answers or [])
    for answer in answers:
        if param_key_for(str(answer.get("field", ""))) == _LEAD_SOURCE_KEY:
            return str(answer.get("value", ""))
    for answer in answers:
        if "LeadSource" in (answer.get("contact_field"), answer.get("lead_field")):
            return str(answer.get("value", ""))
    return ""


def trace_summary(trace: Mapping[str, Any] | None) -> list[str]:
    """An activity's trace as short sentences: the match, then each action."""
    if not trace:
        return []
    lines: list[str] = []
    match = trace.get("match")
    if isinstance(match, Mapping):
        chosen = match.get("chosen") or {}
        record = f"{chosen.get('type', '?')} {chosen.get('id', '?')}"
        verb = "Created" if match.get("created") else "Matched"
        lines.append(f"{verb} {record}: {match.get('rule', '')}".rstrip(": "))
        if match.get("filled"):
            lines.append("Filled " + ", ".join(map(str, match["filled"])))
        lines.extend(str(note) for note in match.get("cut") or [])
    email = trace.get("email")
    if isinstance(email, Mapping):
        lines.append(
            "Email " + str(email.get("subject") or email.get("note") or "sent")
        )
    lines.extend(str(note) for note in trace.get("actions") or [])
    return lines


def trace_json(trace: Mapping[str, Any] | None) -> str:
    """The whole trace, indented, for those who want every detail."""
    return json.dumps(trace or {}, indent=2, ensure_ascii=False, default=str)


# The CSV export.


def export_filename(event: Event, today: date) -> str:
    """``registrants-quarterly-product-webinar-2030-01-14.csv``: ASCII only."""
    words = "".join(
        character if character.isascii() and character.isalnum() else " "
        for character in event.title.lower()
    ).split()
    slug = "-".join(words)[:60].strip("-") or f"session-{event.id}"
    return f"registrants-{slug}-{today.isoformat()}.csv"


def registrants_csv(event: Event) -> bytes:
    """Every registrant of the session as CSV a spreadsheet opens cleanly.

    UTF-8 with a byte-order mark (so that Excel reads the accents), every field
    quoted (LibreOffice's import also splits on semicolons and tabs unless a field
    is quoted), CRLF line ends, and cells that would run as a formula made inert.
    """
    registrants = list(
        db.session.scalars(
            sa.select(Registrant)
            .where(Registrant.event_id == event.id)
            .order_by(Registrant.id)
        )
    )
    rows = _rows(event, registrants, whole_event=True)
    answer_columns = _answer_columns(event, rows)
    zone = event.time_zone

    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(
        [
            "First name",
            "Last name",
            "Email",
            "CRM record type",
            "CRM record id",
            "Lead source",
            f"Registered at ({zone})",
            f"First joined at ({zone})",
            f"Last left at ({zone})",
            "Minutes attended",
            "Latest activity",
            "Processing status",
            "Last error",
            "Trace",
            *answer_columns,
        ]
    )
    for row in rows:
        latest = row.latest_activity
        answers = {
            str(answer.get("field", "")): answer.get("value", "")
            for answer in row.answers
        }
        cells = [
            row.first_name,
            row.last_name,
            row.email,
            row.crm_person_type or "",
            row.crm_person_id or "",
            row.lead_source,
            _csv_time(row.registered_at),
            _csv_time(row.first_joined_at),
            _csv_time(row.last_left_at),
            "" if row.minutes_attended is None else str(row.minutes_attended),
            latest.kind.value if latest else "",
            latest.status.value if latest else "",
            (latest.last_error or "") if latest else "",
            "; ".join(trace_summary(latest.trace)) if latest else "",
            *(str(answers.get(column, "")) for column in answer_columns),
        ]
        writer.writerow([inert_cell(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _answer_columns(event: Event, rows: Sequence[RegistrantRow]) -> list[str]:
    """Answer columns: the form's fields in order, then any other field answered.

    Name and email have columns of their own, and so does the lead source.
    """
    specs = effective_fields(event)
    skipped = {spec.display_name for spec in specs if spec.fixed in _IDENTITY_FIELDS}
    columns = [spec.display_name for spec in specs]
    for row in rows:
        for answer in row.answers:
            name = str(answer.get("field", ""))
            if name and name not in columns:
                columns.append(name)
    return [
        column
        for column in columns
        if column not in skipped and param_key_for(column) != _LEAD_SOURCE_KEY
    ]


def _csv_time(moment: datetime | None) -> str:
    """A local time spreadsheets read as a date and time; the zone is in the header."""
    if moment is None:
        return ""
    # isoformat, unlike strftime's %Y, writes every year with four digits.
    return moment.replace(tzinfo=None, microsecond=0).isoformat(sep=" ")


def inert_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it but will not run it as a formula."""
    value = value[:CELL_LIMIT]
    if value.startswith(FORMULA_STARTS):
        return FORMULA_GUARD + value
    return value


def registrant_activities(registrant: Registrant) -> list[Activity]:
    """Everything recorded for one registrant, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Activity)
            .where(Activity.registrant_id == registrant.id)
            .order_by(Activity.occurred_at, Activity.id)
        )
    )
