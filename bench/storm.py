"""The join storm: thousands of distinct attendees join one session at once."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.forms import body_template
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
    database: Database, work: Path, port: int, attendees: int, *, workers: int
) -> StormResult:
    """Serve a fresh portal on ``database`` and have ``attendees`` join its webinar.

    With ``workers``, the web processes only record and that many ``flask worker``
    processes work the queue; without, each web process's background thread does.
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
        client = subprocess.Popen(
            [
                *(PYTHON, "-m", "bench.storm_client", "--port", str(port)),
                *("--path", path, "--count", str(attendees)),
                *("--concurrency", str(CONCURRENCY), "--body-file", str(body)),
                *("--tag", f"storm-{database.kind}", "--location", JOIN_URL),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        engine = sa.create_engine(database.url)
        outstanding_at: list[tuple[float, int]] = []
        while client.poll() is None:
            time.sleep(0.5)
        output, _ = client.communicate()
        result = json.loads(output.strip().splitlines()[-1])
        finished = _wait_for_queue(engine, result["joined"], outstanding_at)
        processed = finished - result["started_at"] if finished else None
        return _verify(engine, database, env, attendees, result, processed)
    finally:
        for server in servers:
            server.stop()


def _wait_for_queue(
    engine: sa.Engine, joined: int, trail: list[tuple[float, int]]
) -> float | None:
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
        trail.append((now, outstanding))
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
