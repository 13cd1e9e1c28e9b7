"""Databases and servers for the benchmarks: fresh databases, the portal with its
demo session, gunicorn with two workers, and ``flask worker`` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_SERVER = os.environ.get(
    "PORTAL_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET_KEY = "benchmark-secret-key-not-for-production"  # noqa: S105 - bench only
#: The gunicorn settings of the README's production line, for the portal and the
#: baseline alike; no access log for either.
GUNICORN = ("--workers", "2", "--worker-class", "gthread", "--threads", "8")


@dataclass(frozen=True, slots=True)
class Database:
    """A database made for one benchmark."""

    kind: str
    url: str

    @property
    def label(self) -> str:
        """How RESULTS.md names it."""
        return "SQLite" if self.kind == "sqlite" else "PostgreSQL"


def fresh_database(kind: str, name: str, work: Path) -> Database:
    """An empty database ``portal_bench_<name>`` (PostgreSQL) or a new file."""
    if kind == "sqlite":
        path = work / f"portal_bench_{name}.sqlite3"
        for leftover in work.glob(f"{path.name}*"):
            leftover.unlink()
        return Database(kind, f"sqlite:///{path}")
    database = f"portal_bench_{name}"
    admin = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        )
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    url = sa.engine.make_url(POSTGRES_SERVER).set(database=database)
    return Database(kind, url.render_as_string(hide_password=False))


def drop_database(database: Database) -> None:
    """Remove a benchmark's database once its numbers are taken."""
    if database.kind == "sqlite":
        path = Path(sa.engine.make_url(database.url).database or "")
        for leftover in path.parent.glob(f"{path.name}*"):
            leftover.unlink()
        return
    name = sa.engine.make_url(database.url).database
    admin = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def postgresql_version() -> str:
    """The PostgreSQL server's version."""
    engine = sa.create_engine(POSTGRES_SERVER)
    with engine.connect() as connection:
        version = str(connection.execute(sa.text("SHOW server_version")).scalar())
    engine.dispose()
    return version


def portal_settings(database: Database, work: Path, port: int) -> dict[str, str]:
    """The PORTAL_* environment of the portal's processes in a benchmark."""
    instance = work / f"instance-{database.kind}-{port}"
    instance.mkdir(parents=True, exist_ok=True)
    return {
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SECRET_KEY": SECRET_KEY,
        "PORTAL_DATABASE_URL": database.url,
        "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Every request comes from 127.0.0.1: the limits would measure themselves.
        "PORTAL_RATELIMIT_ENABLED": "false",
    }


@contextmanager
def portal_app(database: Database, work: Path) -> Iterator[Any]:
    """The portal application on ``database``, inside its application context."""
    from portal import create_app
    from portal.extensions import db

    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database.url,
            "PROCESSING": "worker",
            "LOG_LEVEL": "WARNING",
            "MAIL_DIR": str(work / "mail-setup"),
        }
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def prepare_portal(database: Database, work: Path) -> str:
    """Migrate, load the demo (a webinar with a campaign, the CRM's host and a
    customer, field updates on the defaults) and give the scheduled form ten
    fields, as the baseline has; return the webinar's key."""
    from portal.cli import ensure_site_defaults, migrate_to_head
    from portal.extensions import db
    from portal.models import FieldScope, User
    from portal.services.demo import ADMIN_EMAIL, load_demo
    from portal.services.field_editing import FieldValues, add_field

    with portal_app(database, work):
        migrate_to_head()
        ensure_site_defaults()
        summary = load_demo(datetime.now(UTC))
        admin = db.session.scalars(
            sa.select(User).where(User.email == ADMIN_EMAIL)
        ).one()
        for values in (
            FieldValues("Phone", contact_field="Phone", lead_field="Phone"),
            FieldValues(
                "Country", contact_field="MailingCountry", lead_field="Country"
            ),
            FieldValues(
                "Role",
                options_text="Engineering\nMarketing\nSales\nOther",
            ),
        ):
            add_field(FieldScope.SCHEDULED, values, admin)
        return str(summary.webinar.key)


@dataclass(slots=True)
class Server:
    """A process group the benchmark started, and where it logs."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def pids(self) -> list[int]:
        """The group's processes: gunicorn's master first, then its workers."""
        found = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            found += [int(pid) for pid in children.read_text().split()]
        return found

    def stop(self) -> None:
        """End the process group this benchmark started (by its id), and wait."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(name: str, command: list[str], env: dict[str, str], work: Path) -> Server:
    """Start ``command`` in a process group of its own, logging to ``work``."""
    log = work / f"{name}.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return Server(name, process, log)


def start_gunicorn(
    name: str, app: str, port: int, env: dict[str, str], work: Path
) -> Server:
    """gunicorn with the production settings on 127.0.0.1:``port``."""
    command = [
        *(PYTHON, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"),
        *GUNICORN,
        "--no-control-socket",
    ]
    return start(name, command, env, work)


def start_workers(count: int, env: dict[str, str], work: Path) -> list[Server]:
    """``flask --app portal worker`` processes."""
    command = [PYTHON, "-m", "flask", "--app", "portal", "worker"]
    return [start(f"worker-{number}", command, env, work) for number in range(count)]


def wait_until_serving(url: str, server: Server, timeout: float = 60) -> None:
    """Wait until ``url`` answers (any status below 500)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} stopped; see {server.log}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310
                if answer.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer {url} in {timeout} s")


def outstanding_count(engine: sa.Engine) -> int:
    """Activities not yet processed (pending, or held by a worker)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM activities "
                    "WHERE status IN ('pending', 'processing')"
                )
            ).scalar_one()
        )


def processed_count(engine: sa.Engine) -> int:
    """Activities processed so far (done, skipped or failed)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM activities "
                    "WHERE status NOT IN ('pending', 'processing')"
                )
            ).scalar_one()
        )


def drain_queue(engine: sa.Engine, timeout: float = 300) -> int:
    """Wait until the servers have processed every activity; return how many were
    outstanding when the wait began."""
    outstanding = first = outstanding_count(engine)
    deadline = time.monotonic() + timeout
    while outstanding and time.monotonic() < deadline:
        time.sleep(0.5)
        outstanding = outstanding_count(engine)
    return first
