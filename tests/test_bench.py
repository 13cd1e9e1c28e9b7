"""The benchmarks' code paths at smoke sizes: everything accepted is kept, nothing is
duplicated, nothing fails. Timings are never asserted; ``python3.11 dev.py bench``
measures them.

Each test serves the portal (and the pages test the baseline too) under gunicorn on
a port of 127.0.0.1 between 5800 and 5899, on the test's own database.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.matching import run_matching
from bench.pages import run_pages
from bench.servers import Database
from bench.storm import run_storm


@pytest.fixture
def bench_database(database_url: str) -> Database:
    """The test's empty database, as the benchmarks name one."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    return Database(kind, database_url)


def free_port() -> int:
    """A port between 5800 and 5899 that nobody listens on."""
    for port in range(5850, 5900):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port between 5850 and 5899")


def outstanding_and_failed(database: Database) -> tuple[int, int]:
    """Activities still waiting, and activities that failed."""
    engine = sa.create_engine(database.url)
    with engine.connect() as connection:
        waiting, failed = connection.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE status IN ('pending', 'processing')), "
                "count(*) FILTER (WHERE status = 'failed') FROM activities"
            )
        ).one()
    engine.dispose()
    return int(waiting), int(failed)


def test_a_small_join_storm_loses_and_duplicates_nothing(
    bench_database: Database, tmp_path: Path
) -> None:
    workers = 0 if bench_database.kind == "sqlite" else 2

    result = run_storm(bench_database, tmp_path, free_port(), 20, workers=workers)

    assert result.client["first_failures"] == []
    assert result.joined == 20
    assert result.processed_seconds is not None
    assert result.join_activities == result.distinct_join_registrants == 20
    assert result.lost == 0
    assert result.leads == result.distinct_lead_emails == 20
    assert result.duplicate_leads == 0
    assert result.failures == 0
    assert result.sample_errors == []


def test_the_pages_benchmark_gets_only_the_expected_answers(
    bench_database: Database, tmp_path: Path
) -> None:
    if shutil.which("wrk") is None:
        message = "wrk is not installed (Debian package wrk)"
        if os.environ.get("PORTAL_TEST_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)

    pairs = run_pages(
        [bench_database],
        tmp_path,
        free_port(),
        free_port() + 1,
        seconds=1,
        profile_seconds=0,
        warm_seconds=0,
        request_limit=40,
    )

    assert [pair.method for pair in pairs] == ["GET", "POST"]
    for pair in pairs:
        for result in (pair.portal, pair.baseline):
            assert result.requests > 0
            assert (result.unexpected_statuses, result.errors) == ("", 0)
    assert outstanding_and_failed(bench_database) == (0, 0)


def test_matching_at_scale_finds_every_existing_person(
    bench_database: Database, tmp_path: Path
) -> None:
    result = run_matching(bench_database, tmp_path, records=1_000, lookups=200)

    # Half the look-ups are of emails the CRM holds, half of emails it does not.
    assert result.lookups == 200
    assert result.found == 100
    assert result.uses_index
