"""The chart of a session's registrations per day and lead source, drawn as SVG.

:func:`registrations_by_day` counts; :func:`chart_layout` turns the counts into
shapes in SVG user units, which ``admin/reports/chart.svg`` draws with presentation
attributes only (the Content-Security-Policy allows no inline styles).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Event, Registrant, utcnow
from portal.services.reports import lead_source

#: The chart shows at most this many days, the latest ones.
CHART_DAYS = 60
#: Lead sources with a colour of their own; the rest are drawn as one.
CHART_SOURCES = 7
NO_LEAD_SOURCE = "(none)"
OTHER_SOURCES = "Other sources"


@dataclass(frozen=True, slots=True)
class DayCount:
    """Registrations of one day (in the session's zone), by lead source."""

    day: date
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        """Registrations that day."""
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class RegistrationsByDay:
    """Registrations per day and lead source: what the chart and its table show."""

    #: Consecutive days, days without registrations included, oldest first.
    days: tuple[DayCount, ...]
    #: Legend order: the most frequent source first, "Other sources" last.
    sources: tuple[str, ...]
    #: Registrations made before the first day shown.
    earlier: int

    @property
    def total(self) -> int:
        """Registrations on the days shown."""
        return sum(day.total for day in self.days)


def registrations_by_day(event: Event, today: date | None = None) -> RegistrationsByDay:
    """Count the session's registrations per local day and lead source.

    The days run from the first registration to today, or to the session's last day
    once it is over, so that quiet days show as quiet.
    """
    zone = ZoneInfo(event.time_zone)
    today = today or utcnow().astimezone(zone).date()
    counts: Counter[tuple[date, str]] = Counter()
    for registered_at, answers in db.session.execute(
        sa.select(Registrant.registered_at, Registrant.answers).where(
            Registrant.event_id == event.id, Registrant.registered_at.is_not(None)
        )
    ):
        source = lead_source(answers) or NO_LEAD_SOURCE
        counts[(registered_at.astimezone(zone).date(), source)] += 1
    if not counts:
        return RegistrationsByDay(days=(), sources=(), earlier=0)

    first = min(day for day, _ in counts)
    last = max(day for day, _ in counts)
    if event.ends_at is not None:
        today = min(today, event.ends_at.astimezone(zone).date())
    last = max(last, today)
    start = max(first, last - timedelta(days=CHART_DAYS - 1))
    earlier = sum(number for (day, _), number in counts.items() if day < start)
    shown = {key: number for key, number in counts.items() if key[0] >= start}

    by_source: Counter[str] = Counter()
    for (_, source), number in shown.items():
        by_source[source] += number
    ranked = sorted(by_source, key=lambda source: (-by_source[source], source))
    kept = ranked if len(ranked) <= CHART_SOURCES + 1 else ranked[:CHART_SOURCES]
    sources = tuple(kept) + ((OTHER_SOURCES,) if len(kept) < len(ranked) else ())
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for (day, source), number in shown.items():
        per_day[day][source if source in kept else OTHER_SOURCES] += number
    days = tuple(
        DayCount(day, dict(per_day[day]))
        for day in (start + timedelta(days=n) for n in range((last - start).days + 1))
    )
    return RegistrationsByDay(days=days, sources=sources, earlier=earlier)


#: Colours of the lead sources, in legend order; readable on white.
PALETTE = (
    "#1f5fbf",
    "#d9730d",
    "#2e8540",
    "#8e44ad",
    "#c0392b",
    "#16808a",
    "#7f6a00",
    "#5b6475",
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One lead source's part of a day's bar."""

    source: str
    count: int
    color: str
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    """A day's stacked bar and its label."""

    day: date
    total: int
    x: float
    width: float
    segments: tuple[Segment, ...]
    #: The day under the bar, or "" where labels would crowd.
    label: str

    @property
    def center(self) -> float:
        """The middle of the bar, where its label goes."""
        return self.x + self.width / 2

    @property
    def description(self) -> str:
        """``5 Mar 2030: 3 registrations (Web 2, Partner 1)``."""
        parts = ", ".join(f"{s.source} {s.count}" for s in self.segments)
        noun = "registration" if self.total == 1 else "registrations"
        text = f"{self.day.day} {self.day:%b %Y}: {self.total} {noun}"
        return f"{text} ({parts})" if parts else text


@dataclass(frozen=True, slots=True)
class LegendEntry:
    """A lead source's colour swatch and name."""

    source: str
    color: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything the SVG template draws, in SVG user units."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: tuple[Bar, ...]
    #: (value, y) of each horizontal grid line.
    ticks: tuple[tuple[int, float], ...]
    legend: tuple[LegendEntry, ...]
    title: str


def chart_layout(data: RegistrationsByDay, title: str) -> Chart:
    """Lay out a stacked bar per day, a value axis and a legend."""
    width, left, right, top = 720, 48.0, 708.0, 16.0
    per_row = 4
    legend_rows = math.ceil(len(data.sources) / per_row)
    bottom = 236.0
    height = int(bottom + 30 + legend_rows * 22 + 8)
    colors = dict(zip(data.sources, PALETTE, strict=False))

    step = _tick_step(max((day.total for day in data.days), default=0))
    top_value = step * max(
        1, math.ceil(max((d.total for d in data.days), default=1) / step)
    )
    scale = (bottom - top) / top_value
    ticks = tuple(
        (value, bottom - value * scale) for value in range(0, top_value + 1, step)
    )

    slot = (right - left) / max(len(data.days), 1)
    label_every = math.ceil(len(data.days) / 12) or 1
    bars = []
    for index, day in enumerate(data.days):
        y = bottom
        segments = []
        for source in data.sources:
            count = day.counts.get(source, 0)
            if count:
                height_of = count * scale
                y -= height_of
                segments.append(Segment(source, count, colors[source], y, height_of))
        bars.append(
            Bar(
                day=day.day,
                total=day.total,
                x=left + index * slot + slot * 0.15,
                width=max(slot * 0.7, 1.0),
                segments=tuple(segments),
                label=(
                    f"{day.day.day} {day.day:%b}" if index % label_every == 0 else ""
                ),
            )
        )
    legend = tuple(
        LegendEntry(
            source,
            colors[source],
            left + (index % per_row) * 165,
            bottom + 30 + (index // per_row) * 22,
        )
        for index, source in enumerate(data.sources)
    )
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        bars=tuple(bars),
        ticks=ticks,
        legend=legend,
        title=title,
    )


def _tick_step(largest: int) -> int:
    """A step of 1, 2 or 5 times a power of ten giving at most five grid lines."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if largest <= step * 5:
                return step
        magnitude *= 10
