"""The schema: migrations match the models, and the database's own guarantees."""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from portal.extensions import db
from portal.models import Activity, ActivityKind, Base, Event, Registrant
from tests.conftest import form_values, page
from tests.test_registration_pages import fill


def test_migrations_build_exactly_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_migrations_go_down_and_up_again(app: Flask) -> None:
    db.session.remove()

    downgrade(revision="base")
    assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
    upgrade()

    assert "registrants" in sa.inspect(db.engine).get_table_names()


def test_sqlite_runs_with_write_ahead_logging(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()

    assert (mode, foreign_keys) == ("wal", 1)


def test_concurrent_registrations_with_one_email_make_one_registrant(
    app: Flask, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    forms = [fill(form_values(page(app.test_client().get(url)))) for _ in range(4)]
    start = threading.Barrier(len(forms))
    statuses: list[int] = []

    def submit(data: dict[str, str]) -> None:
        with app.app_context():
            start.wait()
            statuses.append(app.test_client().post(url, data=data).status_code)
            db.session.remove()

    threads = [threading.Thread(target=submit, args=(data,)) for data in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [303] * len(forms)
    count = sa.select(sa.func.count())
    assert db.session.scalar(count.select_from(Registrant)) == 1
    registers = count.select_from(Activity).where(
        Activity.kind == ActivityKind.REGISTER
    )
    assert db.session.scalar(registers) == 1


def test_the_queue_migration_gives_existing_activities_a_person(app: Flask) -> None:
    db.session.remove()
    downgrade(revision="e1859ead66e6")
    with db.engine.begin() as connection:
        statements = [
            "INSERT INTO users (id, email, display_name, role, time_zone, is_active,"
            " created_at) VALUES (1, 'h@example.com', 'H', 'host', 'UTC', TRUE,"
            " '2026-01-01 00:00:00')",
            "INSERT INTO events (id, key, title, description, type, owner_id,"
            " time_zone, is_always_available, dial_in_number, participant_code,"
            " moderator_code, has_video, has_internet_audio, has_listen_only_audio,"
            " join_url, created_at) VALUES (1, 'k', 'T', '', 'webinar', 1, 'UTC',"
            " TRUE, '', '', '', TRUE, TRUE, FALSE, '', '2026-01-01 00:00:00')",
            "INSERT INTO registrants (id, event_id, token, email, email_key,"
            " first_name, last_name, answers, created_at) VALUES (1, 1, 't',"
            " 'Ada@example.com', 'ada@example.com', 'Ada', 'L', '[]',"
            " '2026-01-01 00:00:00')",
            "INSERT INTO activities (id, kind, status, event_id, registrant_id,"
            " occurred_at, created_at, payload, attempts) VALUES"
            " (1, 'register', 'pending', 1, 1, '2026-01-01 00:00:00',"
            " '2026-01-01 00:00:00', '{}', 0),"
            " (2, 'session_start', 'pending', 1, NULL, '2026-01-01 00:00:00',"
            " '2026-01-01 00:00:00', '{}', 0)",
        ]
        for statement in statements:
            connection.exec_driver_sql(statement)

    upgrade()

    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT person_key, available_at FROM activities ORDER BY id"
        ).all()
    assert [row[0] for row in rows] == ["ada@example.com", "event:1"]
    assert all(row[1] is not None for row in rows)
