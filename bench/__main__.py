"""Run the benchmarks and write bench/RESULTS.md.

    python -m bench                     # all three, full size, on SQLite and PostgreSQL
    python -m bench --only storm        # one of pages, storm, matching
    python -m bench --smoke             # small sizes, to see that everything runs

``python3.11 dev.py bench`` installs what is needed and runs this.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import machine
from bench.matching import MatchingResult, run_matching
from bench.pages import PagePair, run_pages
from bench.results import write_results
from bench.servers import drop_database, fresh_database, postgresql_version
from bench.storm import StormResult, run_storm

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BENCHMARKS = ("pages", "storm", "matching")
#: Ports of the benchmark's servers (the project's benchmarks use 5800-5899).
PORTAL_PORT = 5810
BASELINE_PORT = 5811
STORM_PORT = 5812


@dataclass(frozen=True, slots=True)
class Size:
    """How big each benchmark is."""

    page_seconds: float
    profile_seconds: float
    attendees: int
    records: int
    lookups: int


FULL = Size(
    page_seconds=15,
    profile_seconds=10,
    attendees=10_000,
    records=1_000_000,
    lookups=4_000,
)
SMOKE = Size(
    page_seconds=2, profile_seconds=2, attendees=200, records=10_000, lookups=400
)


@dataclass(slots=True)
class Outcome:
    """Everything measured in one run."""

    pages: list[PagePair]
    storms: list[StormResult]
    matching: list[MatchingResult]


def main() -> int:
    """Read the options, wait for a quiet machine, run, write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BENCHMARKS, action="append")
    parser.add_argument("--smoke", action="store_true", help="small sizes")
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=600,
        help="seconds to wait for the load average to fall (0: do not wait)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    chosen = arguments.only or list(BENCHMARKS)
    kinds = [kind.strip() for kind in arguments.databases.split(",") if kind.strip()]
    size = SMOKE if arguments.smoke else FULL

    pg_version = postgresql_version() if "postgresql" in kinds else "not used"
    described = machine.describe(pg_version)
    load, waited = machine.wait_until_idle(arguments.wait, say)
    say(f"Load average {load:.2f} at start (waited {waited:.0f} s)")
    started = time.monotonic()
    outcome = Outcome([], [], [])
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        work = Path(folder)
        if "pages" in chosen:
            say("Pages: GET and POST of the registration page next to the baseline")
            databases = [fresh_database(kind, "pages", work) for kind in kinds]
            outcome.pages = run_pages(
                databases,
                work,
                PORTAL_PORT,
                BASELINE_PORT,
                size.page_seconds,
                size.profile_seconds,
            )
            for database in databases:
                drop_database(database)
        if "storm" in chosen:
            for kind in kinds:
                say(f"Join storm on {kind}: {size.attendees} attendees")
                database = fresh_database(kind, "storm", work)
                outcome.storms.append(
                    run_storm(
                        database,
                        work,
                        STORM_PORT,
                        size.attendees,
                        workers=0 if kind == "sqlite" else 2,
                        profile_seconds=size.profile_seconds,
                    )
                )
                drop_database(database)
        if "matching" in chosen:
            for kind in kinds:
                say(f"Matching on {kind}: {size.records} records")
                database = fresh_database(kind, "matching", work)
                outcome.matching.append(
                    run_matching(
                        database,
                        work,
                        size.records,
                        size.lookups,
                        size.profile_seconds,
                    )
                )
                drop_database(database)
    seconds = time.monotonic() - started
    text = write_results(
        arguments.output,
        described,
        load,
        waited,
        seconds,
        outcome.pages,
        outcome.storms,
        outcome.matching,
        smoke=arguments.smoke,
    )
    print(text)
    say(f"Wrote {arguments.output} in {seconds:.0f} s")
    return 0


def say(message: str) -> None:
    """Progress on standard error, so that the results stand alone on stdout."""
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
