"""bench/RESULTS.md: the machine, the numbers, the targets and what limits them."""

from __future__ import annotations

from pathlib import Path

from bench.machine import Machine
from bench.matching import TARGET_P99_MS, MatchingResult
from bench.pages import TARGET_GET, TARGET_POST, PagePair
from bench.profiling import Profile
from bench.storm import TARGET_P99_MS as STORM_TARGET_P99_MS
from bench.storm import TARGET_SECONDS, StormResult

#: The issue's targets for the storm and for matching.
STORM_SECONDS = TARGET_SECONDS
STORM_P99_MS = STORM_TARGET_P99_MS
MATCHING_P99_MS = TARGET_P99_MS


def verdict(is_met: bool) -> str:
    """How a target reads in the tables."""
    return "met" if is_met else "**missed**"


def write_results(
    path: Path,
    described: Machine,
    load: float,
    waited: float,
    seconds: float,
    pages: list[PagePair],
    storms: list[StormResult],
    matching: list[MatchingResult],
    *,
    smoke: bool,
) -> str:
    """Write the results file and return its text."""
    lines = ["# Benchmark results", ""]
    if smoke:
        lines += ["**Smoke sizes: these numbers say only that everything runs.**", ""]
    lines += [
        f"Measured {described.date} by `python3.11 dev.py bench` in {seconds:.0f} s.",
        "",
        "| machine | |",
        "| --- | --- |",
        f"| CPU | {described.cpu_model} |",
        f"| cores | {described.cpu_count} |",
        f"| memory | {described.memory_gib:.1f} GiB |",
        f"| OS | {described.os_name} |",
        f"| Python | {described.python} |",
        f"| SQLite | {described.sqlite} |",
        f"| PostgreSQL | {described.postgresql} |",
        f"| gunicorn | {described.gunicorn} (2 workers, gthread, 8 threads) |",
        f"| load generator | {described.wrk}; the storm's own asyncio client |",
        f"| load average at start | {load:.2f} (1 minute; waited {waited:.0f} s) |",
        "",
    ]
    if load >= 0.7:
        lines += [
            "The machine was not quiet when the run started (other work was "
            "running on its cores); the numbers are lower than an idle machine's.",
            "",
        ]
    if pages:
        lines += _pages(pages)
    if storms:
        lines += _storms(storms)
    if matching:
        lines += _matching(matching)
    text = "\n".join(lines).rstrip() + "\n"
    path.write_text(text)
    return text


def _pages(pages: list[PagePair]) -> list[str]:
    lines = [
        "## Pages",
        "",
        "The registration page of the demo webinar (ten fields) under gunicorn, "
        "next to the baseline (bare Flask, Jinja and SQLite: a ten-field form, one "
        "row per POST) measured just before it in the same run; wrk, a separate "
        "process, on loopback with 16 connections. A POST is a new person each "
        "time; processing runs in the web processes (the built-in CRM's default).",
        "",
        "| database | request | portal req/s | p50 ms | p99 ms | baseline req/s "
        "| baseline p50 / p99 ms | ratio | target | |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for pair in pages:
        target = TARGET_GET if pair.method == "GET" else TARGET_POST
        lines.append(
            f"| {pair.database} | {pair.method} | {pair.portal.per_second:.0f} "
            f"| {pair.portal.p50_ms:.1f} | {pair.portal.p99_ms:.1f} "
            f"| {pair.baseline.per_second:.0f} "
            f"| {pair.baseline.p50_ms:.1f} / {pair.baseline.p99_ms:.1f} "
            f"| {pair.ratio:.0%} | {target:.0%} | {verdict(pair.ratio >= target)} |"
        )
    lines.append("")
    problems = [
        f"{pair.database} {pair.method}: {pair.portal.unexpected} unexpected "
        f"answers, {pair.portal.errors} errors"
        for pair in pages
        if pair.portal.unexpected or pair.portal.errors
    ]
    lines += [
        "Every portal answer was the expected one (200 for a GET, 303 for a POST)."
        if not problems
        else "Unexpected answers: " + "; ".join(problems) + ".",
        "",
    ]
    for pair in pages:
        if pair.method == "POST":
            lines.append(
                f"{pair.database}: the POST run recorded {pair.portal.requests} "
                f"registrations; {pair.outstanding} were still queued when it "
                "ended and were all processed before the next measurement."
            )
    lines.append("")
    for pair in pages:
        if pair.profile is not None:
            lines += _profile(f"{pair.database} {pair.method}", pair.profile)
    return lines


def _profile(title: str, profile: Profile) -> list[str]:
    lines = [
        f"### Where the time goes: {title} (py-spy, {profile.samples} samples)",
        "",
        "| running in | share of samples |",
        "| --- | ---: |",
    ]
    lines += [f"| {place} | {share:.0%} |" for place, share in profile.own]
    lines += ["", "| the portal's function | on the stack |", "| --- | ---: |"]
    lines += [f"| `{place}` | {share:.0%} |" for place, share in profile.inclusive]
    lines.append("")
    return lines


def _storms(storms: list[StormResult]) -> list[str]:
    lines = [
        "## Join storm",
        "",
        "Distinct attendees join the demo webinar through its direct-join page "
        "(a GET of the page, then its form sent with the attendee's email), 32 at "
        "a time, from a separate process on loopback. *Processed* is the time "
        "from the first request until every activity was processed.",
        "",
        "| database | processing | attendees | requests done s | processed s "
        "| GET p99 ms | POST p50 / p99 ms | lost | duplicate leads | failures "
        "| target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for storm in storms:
        processed = storm.processed_seconds
        lines.append(
            f"| {storm.database} | {storm.processing} | {storm.attendees} "
            f"| {storm.requests_seconds:.1f} "
            f"| {'not done' if processed is None else f'{processed:.1f}'} "
            f"| {storm.client['get']['p99_ms']:.0f} "
            f"| {storm.client['post']['p50_ms']:.0f} / "
            f"{storm.client['post']['p99_ms']:.0f} "
            f"| {storm.lost} | {storm.duplicate_leads} | {storm.failures} "
            f"| {verdict(storm.is_met)} |"
        )
    lines += [
        "",
        f"Target: every activity processed within {STORM_SECONDS:.0f} s, p99 of "
        f"every request under {STORM_P99_MS:.0f} ms, nothing lost, duplicated or "
        "failed.",
        "",
    ]
    for storm in storms:
        lines.append(
            f"{storm.database}: {storm.joined} joins answered, "
            f"{storm.join_activities} join activities for "
            f"{storm.distinct_join_registrants} registrants, {storm.leads} leads "
            f"for {storm.distinct_lead_emails} emails; activities by status "
            f"{_statuses(storm.statuses)}."
        )
        if storm.sample_errors:
            lines.append(f"First errors: {'; '.join(storm.sample_errors)}")
    lines.append("")
    for storm in storms:
        if storm.profile is not None:
            lines += _profile(
                f"join storm on {storm.database} (a second storm of new attendees, "
                "web and worker processes together)",
                storm.profile,
            )
    return lines


def _statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(statuses.items()))


def _matching(results: list[MatchingResult]) -> list[str]:
    lines = [
        "## Matching at scale",
        "",
        "The built-in CRM loaded with contacts and leads (half each; one lead in "
        "ten shares a contact's email), then `portal.services.matching.identify` "
        "timed for existing and missing emails in random order, each in the "
        "application as a worker runs it (its three look-ups by email, the "
        "choice between the records found).",
        "",
        "| database | records | load s | look-ups | p50 ms | p99 ms "
        "| p99 existing / missing ms | indexes used | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for result in results:
        lines.append(
            f"| {result.database} | {result.records:,} | {result.load_seconds:.0f} "
            f"| {result.lookups:,} | {result.p50_ms:.2f} | {result.p99_ms:.2f} "
            f"| {result.existing_p99_ms:.2f} / {result.missing_p99_ms:.2f} "
            f"| {'yes' if result.uses_index else 'no'} "
            f"| {verdict(result.p99_ms < MATCHING_P99_MS)} |"
        )
    lines += [
        "",
        f"Target: p99 under {MATCHING_P99_MS:.0f} ms.",
        "",
        "Query plans:",
        "",
    ]
    for result in results:
        for name, plan in result.plans.items():
            lines.append(f"- {result.database}, {name}: `{plan}`")
    lines.append("")
    for result in results:
        if result.profile is not None:
            lines += _profile(f"identification on {result.database}", result.profile)
    return lines
