#!/usr/bin/env python3
"""Set the portal up and run it, or test it, with nothing but Python 3.11.

    python3.11 dev.py demo   # virtual environment, dependencies, database, demo; serves
                             # the portal at http://127.0.0.1:5000
    python3.11 dev.py test   # test dependencies; ruff, mypy and the whole test suite
    python3.11 dev.py bench  # the benchmarks; writes bench/RESULTS.md

Only the standard library is used here, because this runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE_PATH") or ROOT / "instance")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="set up, load the demo and serve")
    demo.add_argument("--port", type=int, default=5000)
    demo.add_argument("--no-serve", action="store_true", help="set up only")
    commands.add_parser(
        "test",
        help="install test dependencies, run all checks; other arguments go to pytest",
    )
    commands.add_parser(
        "bench",
        help="install the benchmarks' tools and run them (writes bench/RESULTS.md); "
        "other arguments go to python -m bench (--smoke, --only storm ...)",
    )
    arguments, pytest_args = parser.parse_known_args()

    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by any python3
        sys.exit("The portal needs Python 3.11 or newer.")
    if arguments.command == "demo":
        if pytest_args:
            parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
        return run_demo(arguments.port, serve=not arguments.no_serve)
    if arguments.command == "bench":
        return run_bench(pytest_args)
    return run_tests(pytest_args)


def run_demo(port: int, *, serve: bool) -> int:
    """Set up the demo; then become the gunicorn that serves it (unless not serve)."""
    install("requirements.txt")
    # The printed addresses, links and calendar files must point at this server.
    ensure_instance_config(
        os.environ.get("PORTAL_PUBLIC_URL", f"http://127.0.0.1:{port}")
    )
    env = portal_env()
    flask = [str(PYTHON), "-m", "flask", "--app", "portal"]
    # The command prints its own failure (a setting that cannot work, say) as one line.
    status = subprocess.call([*flask, "demo"], cwd=ROOT, env=env)
    if status or not serve:
        return status
    print(
        f"\nServing the portal at http://127.0.0.1:{port} (Ctrl+C stops it).",
        flush=True,
    )
    # Threaded workers, so that idle browser connections cannot hold every worker;
    # no control socket, so that several demos on one machine do not share one.
    command = [
        *(str(PYTHON), "-m", "gunicorn", "wsgi:app"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "2"),
        *("--worker-class", "gthread", "--threads", "8"),
        *("--access-logfile", "-", "--no-control-socket"),
    ]
    # gunicorn takes this process's place, so that a SIGTERM or SIGINT sent to dev.py
    # (by a service manager, a script or kill) stops the server, not only a Ctrl+C
    # that the terminal sends to the whole process group.
    os.chdir(ROOT)
    os.execve(PYTHON, command, env)  # noqa: S606 - our own interpreter, no shell


def run_tests(pytest_args: list[str]) -> int:
    install("requirements-test.txt")
    env = portal_env()
    checks = [
        [str(PYTHON), "-m", "ruff", "format", "--check", "."],
        [str(PYTHON), "-m", "ruff", "check", "."],
        [str(PYTHON), "-m", "mypy"],
        [str(PYTHON), "-m", "pytest", *pytest_args],
    ]
    failed = [check for check in checks if subprocess.call(check, cwd=ROOT, env=env)]
    for check in failed:
        print(f"FAILED: {' '.join(check[2:])}", file=sys.stderr)
    return 1 if failed else 0


def run_bench(bench_args: list[str]) -> int:
    install("bench/requirements.txt")
    if not ensure_wrk():
        return 1
    return subprocess.call(
        [str(PYTHON), "-m", "bench", *bench_args], cwd=ROOT, env=portal_env()
    )


def ensure_wrk() -> bool:
    """wrk, the pages benchmark's load generator: Debian's package, installed with
    apt-get when missing and possible."""
    if shutil.which("wrk"):
        return True
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        print("Installing wrk (Debian package) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.call([apt, "update", "-qq"], env=env)
        subprocess.call([apt, "install", "-y", "-qq", "wrk"], env=env)
        if shutil.which("wrk"):
            return True
    print(
        "The benchmarks need wrk, the HTTP load generator: install it with "
        "`sudo apt-get install wrk` (Debian, Ubuntu) or `brew install wrk` (macOS), "
        "then run `python3.11 dev.py bench` again.",
        file=sys.stderr,
    )
    return False


def install(requirements: str) -> None:
    """Create .venv if needed and install the pinned requirements when they change."""
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / requirements, ROOT / "requirements.txt"]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()
    stamp = VENV / f".installed-{requirements.replace('/', '-')}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing {requirements} ...", flush=True)
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "-r", requirements])
    stamp.write_text(digest)


def ensure_instance_config(public_url: str) -> None:
    """Write instance/portal.toml with a random secret key once; keep its PUBLIC_URL
    pointing at the demo server, so that a worker's emails link to it too."""
    config = INSTANCE / "portal.toml"
    if not config.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "# This installation's settings; see README.md. Never commit this file.\n"
            f'SECRET_KEY = "{secrets.token_urlsafe(32)}"\n'
        )
        config.chmod(0o600)
        print(f"Wrote {config} with a new secret key.", flush=True)
    lines = [
        line
        for line in config.read_text().splitlines()
        if not line.startswith("PUBLIC_URL")
    ]
    lines.append(f'PUBLIC_URL = "{public_url}"')
    config.write_text("\n".join(lines) + "\n")


def portal_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.call(command, cwd=ROOT, env=env)
    if result:
        sys.exit(f"Command failed ({result}): {' '.join(command)}")


if __name__ == "__main__":
    sys.exit(main())
