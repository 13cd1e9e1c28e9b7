"""The join storm: thousands of distinct attendees join one session at once."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.forms import body_template
from bench.profiling import Profile, start_recording, summarise
from bench.servers import (
    PYTHON,
    ROOT,
    Database,
    Server,
    portal_settings,
    prepare_portal,
    start_gunicorn,
    start_workers,
    wait_until_serving,
)

#: Attendees joining at any moment: twice the two workers' sixteen threads, so
#: that the server always has the next request waiting.
CONCURRENCY = 32
#: How long to wait for the queue to empty after the last join, at most.
DRAIN_LIMIT_SECONDS = 600
JOIN_URL = "https://meet.example.com/j/8265551234"
#: The issue's target.
TARGET_SECONDS = 60.0
TARGET_P99_MS = 500.0
#: Attendees of the second, profiled storm after a missed target.
PROFILED_ATTENDEES = 2000


@dataclass(frozen=True, slots=True)
class StormResult:
    """What the storm did and what the database holds afterwards."""

    database: str
    processing: str
    attendees: int
    joined: int
    requests_seconds: float
    processed_seconds: float | None
    client: dict[str, Any]
    registrants: int
    join_activities: int
    distinct_join_registrants: int
    statuses: dict[str, int]
    leads: int
    distinct_lead_emails: int
    sample_errors: list[str]
    profile: Profile | None = None

    @property
    def worst_p99_ms(self) -> float:
        """The p99 of the slower request: the page's GET or the join's POST."""
        return max(
            float(self.client["get"]["p99_ms"]), float(self.client["post"]["p99_ms"])
        )

    @property
    def is_met(self) -> bool:
        """Whether the issue's target is met: all processed within a minute, p99
        under half a second, nothing lost, duplicated or failed."""
        return (
            self.processed_seconds is not None
            and self.processed_seconds <= TARGET_SECONDS
            and self.worst_p99_ms < TARGET_P99_MS
            and not (self.lost or self.duplicate_leads or self.failures)
        )

    @property
    def lost(self) -> int:
        """Joins answered 303 without a join activity recorded for them."""
        return max(0, self.joined - self.join_activities)

    @property
    def duplicate_leads(self) -> int:
        """Leads beyond one per attendee email."""
        return self.leads - self.distinct_lead_emails

    @property
    def failures(self) -> int:
        """Answers that were not a join, requests that failed, failed activities."""
        return (
            int(self.client["failures"])
            + self.statuses.get("failed", 0)
            + (self.attendees - self.joined - int(self.client["failures"]))
        )


def run_storm(
    database: Database,
    work: Path,
    port: int,
    attendees: int,
    *,
    workers: int,
    profile_seconds: float = 0,
) -> StormResult:
    """Serve a fresh portal on ``database`` and have ``attendees`` join its webinar.

    With ``workers``, the web processes only record and that many ``flask worker``
    processes work the queue; without, each web process's background thread does.
    When the target is missed, a second storm of new attendees runs under py-spy.
    """
    key = prepare_portal(database, work)
    env = portal_settings(database, work, port)
    env["PORTAL_PROCESSING"] = "worker" if workers else "background"
    servers: list[Server] = [
        start_gunicorn(f"storm-{database.kind}", "wsgi:app", port, env, work)
    ]
    servers += start_workers(workers, env, work)
    path = f"/e/{key}/join"
    try:
        wait_until_serving(f"http://127.0.0.1:{port}{path}", servers[0])
        body = work / f"storm-body-{database.kind}.txt"
        body.write_text(body_template(f"http://127.0.0.1:{port}{path}") + "\n")
        result = _run_client(port, path, attendees, body, f"storm-{database.kind}")
        engine = sa.create_engine(database.url)
        finished = _wait_for_queue(engine, result["joined"])
        processed = finished - result["started_at"] if finished else None
        outcome = _verify(engine, database, env, attendees, result, processed)
        if profile_seconds and not outcome.is_met:
            profiled = min(PROFILED_ATTENDEES, attendees)
            profile = _profiled_storm(
                servers, work, port, (path, profiled), body, profile_seconds
            )
            outcome = replace(outcome, profile=profile)
            _wait_for_queue(engine, 0)
        engine.dispose()
        return outcome
    finally:
        for server in servers:
            server.stop()


def _run_client(
    port: int, path: str, attendees: int, body: Path, tag: str
) -> dict[str, Any]:
    """The load generator, as a process of its own; what it printed."""
    client = subprocess.run(
        [
            *(PYTHON, "-m", "bench.storm_client", "--port", str(port)),
            *("--path", path, "--count", str(attendees)),
            *("--concurrency", str(CONCURRENCY), "--body-file", str(body)),
            *("--tag", tag, "--location", JOIN_URL),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    printed: dict[str, Any] = json.loads(client.stdout.strip().splitlines()[-1])
    return printed


def _profiled_storm(
    servers: list[Server],
    work: Path,
    port: int,
    page: tuple[str, int],
    body: Path,
    seconds: float,
) -> Profile | None:
    """New attendees join while py-spy samples the web and worker processes."""
    raws = [work / f"profile-storm-{server.name}.txt" for server in servers]
    recorders = [
        start_recording(
            server.process.pid, seconds, raw, subprocesses=server is servers[0]
        )
        for server, raw in zip(servers, raws, strict=True)
    ]
    if any(recorder is None for recorder in recorders):
        return None
    path, attendees = page
    _run_client(port, path, attendees, body, "storm-profiled")
    for recorder in recorders:
        if recorder is not None:
            recorder.wait(timeout=seconds + 60)
    merged = work / "profile-storm.txt"
    merged.write_text("".join(raw.read_text() for raw in raws if raw.exists()))
    return summarise(merged)


def _wait_for_queue(engine: sa.Engine, joined: int) -> float | None:
    """Wall-clock time at which every activity was processed, or None."""
    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            outstanding, joins = connection.execute(
                sa.text(
                    "SELECT count(*) FILTER (WHERE status IN "
                    "('pending', 'processing')), "
                    "count(*) FILTER (WHERE kind = 'join') FROM activities"
                )
            ).one()
        now = time.time()
        if outstanding == 0 and joins >= joined:
            return now
        time.sleep(0.2)
    return None


def _verify(
    engine: sa.Engine,
    database: Database,
    env: dict[str, str],
    attendees: int,
    client: dict[str, Any],
    processed: float | None,
) -> StormResult:
    """Count what the database holds after the storm."""
    with engine.connect() as connection:
        registrants = connection.execute(
            sa.text("SELECT count(*) FROM registrants WHERE email LIKE 'bench-%'")
        ).scalar_one()
        joins, distinct_joins = connection.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT registrant_id) FROM activities "
                "WHERE kind = 'join'"
            )
        ).one()
        statuses: dict[str, int] = dict(
            connection.execute(
                sa.text("SELECT status, count(*) FROM activities GROUP BY status")
            ).all()
        )
        leads, distinct_leads = connection.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT email) FROM crm_leads "
                "WHERE email LIKE 'bench-%'"
            )
        ).one()
        errors = [
            str(row[0])
            for row in connection.execute(
                sa.text(
                    "SELECT last_error FROM activities WHERE last_error IS NOT NULL "
                    "LIMIT 5"
                )
            )
        ]
    engine.dispose()
    return StormResult(
        database=database.label,
        processing=(
            "two `flask worker` processes"
            if env["PORTAL_PROCESSING"] == "worker"
            else "the web processes' background threads"
        ),
        attendees=attendees,
        joined=int(client["joined"]),
        requests_seconds=float(client["seconds"]),
        processed_seconds=processed,
        client=client,
        registrants=int(registrants),
        join_activities=int(joins),
        distinct_join_registrants=int(distinct_joins),
        statuses={str(name): int(count) for name, count in statuses.items()},
        leads=int(leads),
        distinct_lead_emails=int(distinct_leads),
        sample_errors=errors,
    )
