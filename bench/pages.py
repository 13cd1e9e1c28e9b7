"""Requests per second and latency of a page under wrk, a separate process."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench.forms import body_template, fetch_tokens
from bench.profiling import Profile, start_recording, summarise
from bench.servers import (
    Database,
    Server,
    drain_queue,
    portal_settings,
    prepare_portal,
    processed_count,
    start_gunicorn,
    wait_until_serving,
)

LUA = Path(__file__).resolve().parent / "wrk" / "load.lua"
#: Open connections: the two workers' sixteen threads, each kept busy.
CONNECTIONS = 16
#: Form tokens fetched before a POST run (used in turn; a token names a
#: submission, and a new email with the same token is a new registration).
TOKEN_POOL = 200
#: The issue's targets: the portal's share of the baseline's requests per second.
TARGET_GET = 0.60
TARGET_POST = 0.40


@dataclass(frozen=True, slots=True)
class PageResult:
    """One wrk run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    unexpected: int
    errors: int
    #: The first unexpected statuses, as wrk saw them.
    unexpected_statuses: str = ""

    @property
    def per_second(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(arguments: list[str], url: str, seconds: float) -> PageResult:
    """Run wrk with the benchmark's Lua script; read the line its done() prints."""
    command = [
        *("wrk", "--threads", "1", "--connections", str(CONNECTIONS)),
        *("--duration", f"{max(1, round(seconds))}s", "--timeout", "10s"),
        *("--script", str(LUA), url, "--", *arguments),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(text for text in reversed(output.splitlines()) if text.startswith("{"))
    data = json.loads(line)
    errors = sum(data["errors"].values())
    return PageResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        unexpected=data["unexpected"],
        errors=errors,
        unexpected_statuses=data["unexpected_statuses"].strip(),
    )


def measure_get(url: str, seconds: float, limit: int = 0) -> PageResult:
    """GETs of a page; every answer should be a 200."""
    return run_wrk(["get", "200", str(limit)], url, seconds)


def measure_post(
    url: str, seconds: float, work: Path, tag: str, limit: int = 0
) -> PageResult:
    """POSTs of the page's form, each a new person; every answer should be a 303.

    The tokens are fetched with GETs before the run, the same way for the portal
    and the baseline, so that the run times POSTs only.
    """
    tokens = work / f"tokens-{tag}.txt"
    count = max(10, min(TOKEN_POOL, round(seconds * 20)))
    tokens.write_text("\n".join(fetch_tokens(url, count)) + "\n")
    body = work / f"body-{tag}.txt"
    body.write_text(body_template(url) + "\n")
    arguments = ["post", "303", str(limit), str(tokens), str(body), tag]
    return run_wrk(arguments, url, seconds)


@dataclass(frozen=True, slots=True)
class PagePair:
    """The portal's numbers for one page and method next to the baseline's."""

    database: str
    method: str
    portal: PageResult
    baseline: PageResult
    processed: int
    outstanding: int
    profile: Profile | None = None

    @property
    def ratio(self) -> float:
        """The portal's requests per second over the baseline's."""
        if not self.baseline.per_second:
            return 0.0
        return self.portal.per_second / self.baseline.per_second


def start_baseline(work: Path, port: int) -> Server:
    """The baseline app under gunicorn with the portal's settings."""
    from bench.baseline.app import create_schema

    path = work / "baseline.sqlite3"
    for leftover in work.glob("baseline.sqlite3*"):
        leftover.unlink()
    env = {"BASELINE_DATABASE": str(path)}
    create_schema(str(path))
    server = start_gunicorn("baseline", "bench.baseline.app:app", port, env, work)
    wait_until_serving(f"http://127.0.0.1:{port}/register", server)
    return server


def run_pages(
    databases: list[Database],
    work: Path,
    port: int,
    baseline_port: int,
    seconds: float,
    profile_seconds: float,
    warm_seconds: float = 2,
    request_limit: int = 0,
) -> list[PagePair]:
    """GET and POST of the registration page on each database, each measurement
    next to one of the baseline's; a missed target is measured once more under
    py-spy. ``request_limit`` ends each run after that many answers (0: none).
    """
    pairs = []
    baseline = start_baseline(work, baseline_port)
    baseline_url = f"http://127.0.0.1:{baseline_port}/register"
    try:
        for database in databases:
            durations = (warm_seconds, seconds, profile_seconds)
            pairs += _pages_on(
                database, work, port, baseline_url, durations, request_limit
            )
    finally:
        baseline.stop()
    return pairs


def _pages_on(
    database: Database,
    work: Path,
    port: int,
    baseline_url: str,
    durations: tuple[float, float, float],
    request_limit: int,
) -> list[PagePair]:
    warm_seconds, seconds, profile_seconds = durations
    key = prepare_portal(database, work)
    env = portal_settings(database, work, port)
    server = start_gunicorn(f"pages-{database.kind}", "wsgi:app", port, env, work)
    url = f"http://127.0.0.1:{port}/e/{key}/register"
    engine = sa.create_engine(database.url)
    pairs = []
    try:
        wait_until_serving(url, server)
        for method, target in (("GET", TARGET_GET), ("POST", TARGET_POST)):
            tag = f"{database.kind}-{method.lower()}"
            measure = _measurer(method, work, tag, request_limit)

            # A short run of each first: connections, caches and the JIT of
            # nothing; the first requests of a process are not its speed.
            if warm_seconds:
                measure(baseline_url, "warm", warm_seconds)
                measure(url, "warm", warm_seconds)
            drain_queue(engine)
            baseline = measure(baseline_url, "baseline", seconds)
            before = processed_count(engine)
            portal = measure(url, "portal", seconds)
            outstanding = drain_queue(engine)
            pair = PagePair(
                database=database.label,
                method=method,
                portal=portal,
                baseline=baseline,
                processed=processed_count(engine) - before,
                outstanding=outstanding,
            )
            if pair.ratio < target and profile_seconds:
                pair = _profiled(
                    pair,
                    server,
                    url,
                    work / f"profile-{tag}.txt",
                    profile_seconds,
                    measure,
                )
                drain_queue(engine)
            pairs.append(pair)
    finally:
        server.stop()
        engine.dispose()
    return pairs


def _measurer(
    method: str, work: Path, tag: str, limit: int
) -> Callable[[str, str, float], PageResult]:
    """A function measuring GETs or POSTs of an address for some seconds."""

    def measure(address: str, label: str, length: float) -> PageResult:
        if method == "GET":
            return measure_get(address, length, limit)
        return measure_post(address, length, work, f"{tag}-{label}", limit)

    return measure


def _profiled(
    pair: PagePair,
    server: Server,
    url: str,
    raw: Path,
    seconds: float,
    measure: Callable[[str, str, float], PageResult],
) -> PagePair:
    """The same load again with py-spy sampling the server's workers."""
    recorder = start_recording(server.process.pid, seconds, raw)
    if recorder is None:
        return pair
    measure(url, "profiled", seconds)
    recorder.wait(timeout=seconds + 60)
    return PagePair(
        database=pair.database,
        method=pair.method,
        portal=pair.portal,
        baseline=pair.baseline,
        processed=pair.processed,
        outstanding=pair.outstanding,
        profile=summarise(raw),
    )
