"""What machine the benchmarks ran on, and whether anyone else is using it."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

#: Above this 1-minute load average the machine counts as busy before a run.
IDLE_LOAD = 0.7


@dataclass(frozen=True, slots=True)
class Machine:
    """The machine's description, as RESULTS.md shows it."""

    cpu_model: str
    cpu_count: int
    memory_gib: float
    os_name: str
    python: str
    sqlite: str
    postgresql: str
    gunicorn: str
    wrk: str
    date: str


def describe(postgresql_version: str) -> Machine:
    """Read the CPU, memory, OS and versions of what the benchmarks use."""
    return Machine(
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        os_name=_os_name(),
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        postgresql=postgresql_version,
        gunicorn=_gunicorn_version(),
        wrk=_first_line(["wrk", "--version"]),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def load_average() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def wait_until_idle(
    budget_seconds: float, log: Callable[[str], None]
) -> tuple[float, float]:
    """Wait (up to ``budget_seconds``) for the 1-minute load to fall below
    :data:`IDLE_LOAD`; return the load when measuring starts and the seconds
    waited."""
    started = time.monotonic()
    while load_average() >= IDLE_LOAD:
        waited = time.monotonic() - started
        if waited >= budget_seconds:
            log(
                f"  machine still busy after {waited:.0f} s "
                f"(load {load_average():.2f}); measuring anyway"
            )
            break
        log(f"  load {load_average():.2f}: waiting for the machine to be idle ...")
        time.sleep(20)
    return load_average(), time.monotonic() - started


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _os_name() -> str:
    release = Path("/etc/os-release")
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
                return f"{name}, Linux {platform.release()}"
    return platform.platform()


def _gunicorn_version() -> str:
    from importlib.metadata import version

    return version("gunicorn")


def _first_line(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    return (
        (result.stdout or result.stderr).splitlines()[0]
        if (result.stdout or result.stderr)
        else "?"
    )
