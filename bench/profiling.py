"""Sampling profiles of the servers under load, with py-spy, and their summary."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: Frames named like ``function (path/to/module.py:line)`` in py-spy's raw output.
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<path>[^:()]+)(?::\d+)?\)$")


@dataclass(frozen=True, slots=True)
class Profile:
    """Where the sampled time went: the share of samples in which each place was on
    the stack (inclusive) and at its top (self)."""

    samples: int
    inclusive: list[tuple[str, float]]
    own: list[tuple[str, float]]
    raw_file: Path


def start_recording(
    pid: int, seconds: float, output: Path, *, subprocesses: bool = True
) -> subprocess.Popen[bytes] | None:
    """Start py-spy on ``pid`` (and its child processes) for ``seconds``; None
    when py-spy is not installed."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        return None
    return subprocess.Popen(
        [
            *(py_spy, "record", "--pid", str(pid)),
            *(["--subprocesses"] if subprocesses else []),
            *("--duration", str(max(1, round(seconds))), "--rate", "200"),
            *("--format", "raw", "--output", str(output), "--nonblocking", "--gil"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarise(raw_file: Path, top: int = 12) -> Profile | None:
    """Where the samples of a py-spy raw (collapsed) file were spent.

    ``own`` groups each sample by the library of the frame on top of the stack (the
    portal's templates count as rendering, with Jinja); ``inclusive`` lists the
    portal's own functions by the share of samples they were on the stack for.
    """
    if not raw_file.exists():
        return None
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        parsed = (_frame(text) for text in stack.split(";"))
        frames = [frame for frame in parsed if frame is not None]
        if not frames:
            continue
        for place in {_portal_function(*frame) for frame in frames} - {""}:
            inclusive[place] += count
        own[_library(frames[-1][1])] += count
    if not samples:
        return None
    return Profile(
        samples=samples,
        inclusive=[
            (place, count / samples) for place, count in inclusive.most_common(top)
        ],
        own=[(place, count / samples) for place, count in own.most_common(top)],
        raw_file=raw_file,
    )


def _frame(text: str) -> tuple[str, str] | None:
    match = _FRAME.match(text.strip())
    if match is None:
        return None
    return match["function"], match["path"]


def _portal_function(function: str, path: str) -> str:
    # py-spy names a module by its path below its sys.path entry: portal/...
    if not path.startswith("portal/") or path.endswith(".html"):
        return ""
    return path.removesuffix(".py").replace("/", ".") + f".{function}"


#: Libraries named in the summary; anything else by its top-level module.
_LIBRARIES = {
    "sqlalchemy": "SQLAlchemy",
    "jinja2": "Jinja (rendering)",
    "markupsafe": "Jinja (rendering)",
    "wtforms": "WTForms",
    "flask_wtf": "WTForms",
    "werkzeug": "Werkzeug",
    "flask": "Flask",
    "flask_login": "Flask",
    "flask_limiter": "Flask",
    "psycopg": "psycopg (PostgreSQL driver)",
    "gunicorn": "gunicorn",
    "itsdangerous": "itsdangerous (signing)",
    "email_validator": "email-validator",
    "dns": "email-validator",
    "threading": "Python threads (waiting for work or a lock)",
    "selectors": "gunicorn",
    "socket": "sockets",
}


def _library(path: str) -> str:
    if path.endswith(".html"):
        return "Jinja (rendering)"
    top = path.split("/", 1)[0].removesuffix(".py")
    if top == "portal":
        return "the portal's own code"
    return _LIBRARIES.get(top, f"other: {top}")
