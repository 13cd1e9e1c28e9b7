"""Fixtures: an application on a fresh database, a client, and object factories.

Every database test runs on SQLite, and on PostgreSQL too when
``PORTAL_TEST_DATABASE_URL`` names a server (CI sets it). Each database is migrated
once per run; each test then gets it empty: a copy of the migrated SQLite file, or the
PostgreSQL database with every table truncated.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from fakeorg.contract import BACKENDS, ContractOrg, open_org
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

from portal import create_app
from portal.cli import ensure_site_defaults, migrate_to_head
from portal.extensions import db
from portal.models import Event, EventType, Role, User
from portal.services.accounts import create_user
from portal.services.events import EventDetails, create_event
from portal.services.signatures import portal_signature, zoom_signature

# Property tests reuse the test's application for every example (the database fills
# up as it would in use), and are never timed.
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# CI: a thousand examples on each database, from a fresh clone with nothing to replay.
settings.register_profile(
    "ci", parent=settings.get_profile("dev"), max_examples=1000, database=None
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
TEST_SECRET = "test-secret-key-that-is-long-enough"


def base_config(database_url: str) -> dict[str, Any]:
    """Settings every test application starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "http://portal.test",
        # The work a request leads to is done when its answer has been read.
        "PROCESSING": "after_response",
        # Tests send many forms from one address; the limits have tests of their own
        # (make_app(RATELIMIT_ENABLED=True)).
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture(autouse=True)
def _isolated_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the developer's instance/ folder and PORTAL_* settings."""
    for name in list(os.environ):
        if name.startswith("PORTAL_") and not name.startswith("PORTAL_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture(scope="session", params=DATABASES)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(kind, url) of a database migrated to head, once per test run."""
    kind = request.param
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("template") / "portal.sqlite3"
        url = f"sqlite:///{path}"
    else:
        url = _fresh_postgres_database(POSTGRES_URL)

    app = create_app(base_config(url))
    with app.app_context():
        migrate_to_head()
        db.engine.dispose()
    return kind, url


@pytest.fixture
def database_url(migrated_database: tuple[str, str], tmp_path: Path) -> str:
    """The address of an empty, migrated database for one test."""
    kind, url = migrated_database
    if kind == "sqlite":
        template = Path(make_url(url).database or "")
        copy = tmp_path / "portal.sqlite3"
        shutil.copyfile(template, copy)
        return f"sqlite:///{copy}"
    _truncate_all(url)
    return url


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Settings a test module adds to the base ones (the contract: its backend)."""
    return {}


@pytest.fixture
def app(database_url: str, app_settings: dict[str, Any]) -> Iterator[Flask]:
    """The application on a fresh database, inside an application context."""
    application = create_app({**base_config(database_url), **app_settings})
    with application.app_context():
        ensure_site_defaults()
        yield application
        processor = application.extensions.get("portal.processor")
        if processor is not None:
            processor.stop()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The CRM backend a contract test runs on: each in turn."""
    return str(request.param)


@pytest.fixture
def org(app: Flask, backend: str) -> Iterator[ContractOrg]:
    """The CRM of the backend under test, to put records in and read them back.

    A contract module also overrides ``app_settings`` with
    ``backend_settings(backend)``, so that the portal feeds that backend.
    """
    yield from open_org(backend)


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Another application on the test's database, with settings changed:
    ``make_app(TRUSTED_PROXIES=1)``. Use it through its client; the test's own
    application context stays the one of ``app``."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        application = create_app({**base_config(database_url), **overrides})
        application.test_client_class = BufferedClient
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


class BufferedClient(FlaskClient):
    """A test client that reads each answer whole and closes it, as a server does.

    Closing runs the work a view left for after its answer (processing activities).
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        # The test's application context stays pushed across requests, so they would
        # share one ``g``; in production each request starts with its own.
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``."""
    app.test_client_class = BufferedClient
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a staff account: ``make_user(role=Role.HOST, email=...)``."""
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.HOST, email: str | None = None, **extra: Any) -> User:
        number = next(counter)
        user = create_user(
            email or f"person{number}@example.com",
            role=role,
            display_name=extra.pop("display_name", f"Person {number}"),
            password=extra.pop("password", "correct horse battery"),
            **extra,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_event(make_user: Callable[..., User]) -> Callable[..., Event]:
    """Create a session: ``make_event(title=..., join_password=...)``.

    By default a webinar in New York, a week from now, with a join address.
    """

    def make(owner: User | None = None, **overrides: Any) -> Event:
        starts_at = overrides.pop(
            "starts_at",
            datetime.now(UTC).replace(microsecond=0) + timedelta(days=7),
        )
        default_end = starts_at + timedelta(hours=1) if starts_at else None
        details = EventDetails(
            title=overrides.pop("title", "Quarterly Product Webinar"),
            type=overrides.pop("type", EventType.WEBINAR),
            time_zone=overrides.pop("time_zone", "America/New_York"),
            starts_at=starts_at,
            ends_at=overrides.pop("ends_at", default_end),
            join_url=overrides.pop("join_url", "https://meet.example.com/j/123"),
            **overrides,
        )
        event = create_event(owner or make_user(), details)
        db.session.commit()
        return event

    return make


def page(response: Any) -> BeautifulSoup:
    """A response's HTML, parsed."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def form_values(soup: BeautifulSoup) -> dict[str, str]:
    """What a browser would send for the first form on a page, as it stands."""
    form = soup.find("form")
    assert form is not None
    values: dict[str, str] = {}
    for element in form.find_all(["input", "select"]):
        name = element.get("name")
        if not name:
            continue
        if element.name == "select":
            chosen = element.find("option", selected=True) or element.find("option")
            values[name] = chosen.get("value", "") if chosen else ""
        else:
            values[name] = element.get("value", "")
    return values


def filled_form(soup: BeautifulSoup, selector: str) -> dict[str, str]:
    """What a browser would send for the form ``selector`` finds, as it stands.

    Unlike :func:`form_values`, a checkbox is sent only when it is ticked.
    """
    form = soup.select_one(selector)
    assert form is not None, f"no {selector} on the page"
    values: dict[str, str] = {}
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name:
            continue
        if element.name == "select":
            chosen = element.find("option", selected=True) or element.find("option")
            values[name] = chosen.get("value", "") if chosen else ""
        elif element.name == "textarea":
            values[name] = element.get_text()
        elif element.get("type") == "checkbox":
            if element.has_attr("checked"):
                values[name] = element.get("value", "y")
        else:
            values[name] = element.get("value", "")
    return values


def _fresh_postgres_database(server_url: str) -> str:
    """Drop and recreate the test database named in ``server_url``."""
    url = make_url(server_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = url.database or "portal_test"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        name = f"{name}_{worker}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            quoted = ", ".join(f'"{table}"' for table in tables)
            connection.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


def sign_in(
    client: FlaskClient, email: str, password: str = "correct horse battery"
) -> Any:
    """Sign in through the sign-in page, as a browser would; return the answer."""
    values = form_values(page(client.get("/sign-in")))
    return client.post(
        "/sign-in", data={**values, "email": email, "password": password}
    )


def csrf_token(client: FlaskClient, address: str) -> str:
    """The admin form token a page carries (any page with a form will do)."""
    token = page(client.get(address)).find("input", attrs={"name": "csrf_token"})
    assert token is not None, f"no form token on {address}"
    return str(token["value"])


@pytest.fixture
def admin_client(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    """A client signed in as an admin."""
    admin = make_user(role=Role.ADMIN, email="admin@example.com")
    assert sign_in(client, admin.email).status_code == 302
    return client


@pytest.fixture
def host_client(app: Flask, make_user: Callable[..., User]) -> tuple[FlaskClient, User]:
    """A second client, signed in as a host; with the host."""
    host = make_user(role=Role.HOST, email="host@example.com")
    app.test_client_class = BufferedClient
    client = app.test_client()
    assert sign_in(client, host.email).status_code == 302
    return client, host


ATTENDANCE_SECRET = "attendance-secret-for-the-tests"
ZOOM_SECRET_TOKEN = "zoom-secret-token-for-tests"


@pytest.fixture
def webhooks(app: Flask) -> Flask:
    """The application with both webhook secrets set."""
    app.config["ATTENDANCE_SECRET"] = ATTENDANCE_SECRET
    app.config["ZOOM_SECRET_TOKEN"] = ZOOM_SECRET_TOKEN
    return app


def _raw(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def post_attendance(
    client: FlaskClient,
    body: Any,
    *,
    timestamp: int | None = None,
    secret: str = ATTENDANCE_SECRET,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a body to the attendance API, signed as a sender would sign it."""
    raw = _raw(body)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signed = {
        "X-Portal-Timestamp": stamp,
        "X-Portal-Signature": portal_signature(secret, stamp, raw),
        "Content-Type": "application/json",
    }
    return client.post("/api/v1/attendance", data=raw, headers=headers or signed)


def post_zoom(
    client: FlaskClient,
    body: Any,
    *,
    timestamp: int | None = None,
    secret: str = ZOOM_SECRET_TOKEN,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a body to the Zoom webhook, signed as Zoom signs it."""
    raw = _raw(body)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signed = {
        "x-zm-request-timestamp": stamp,
        "x-zm-signature": zoom_signature(secret, stamp, raw),
        "Content-Type": "application/json",
    }
    return client.post("/api/v1/zoom/webhook", data=raw, headers=headers or signed)
