"""The command line: init-db, demo and create-admin."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask

from portal.extensions import db
from portal.models import Campaign, Event, EventType, FieldList, Role, RoomKind, User
from portal.services.accounts import check_password, user_by_email

ADDRESS = re.compile(r"^(?P<label>[^:]+):\s+(?P<url>http://portal\.test/\S+)$")


def test_init_db_reports_an_up_to_date_database(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FieldList)) == 3


def test_demo_prints_three_addresses_and_the_admin_login(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    addresses = [
        match.group("url")
        for line in result.output.splitlines()
        if (match := ADDRESS.match(line))
    ]
    webinar = db.session.scalars(
        sa.select(Event).where(Event.room_kind.is_(None))
    ).one()
    assert addresses == [
        f"http://portal.test/e/{webinar.key}/join",
        f"http://portal.test/e/{webinar.key}/register",
        f"http://portal.test/embed/{webinar.key}/register",
    ]
    email = re.search(r"Demo admin email:\s+(\S+)", result.output).group(1)
    password = re.search(r"Demo admin password:\s+(\S+)", result.output).group(1)
    admin = user_by_email(email)
    assert admin is not None
    assert admin.role is Role.ADMIN
    assert check_password(admin, password)
    host_email = re.search(r"Demo host email:\s+(\S+)", result.output).group(1)
    host = user_by_email(host_email)
    assert host is not None
    assert host.role is Role.HOST
    assert check_password(host, password)


def test_demo_builds_a_webinar_with_campaign_and_a_host_with_both_rooms(
    app: Flask,
) -> None:
    app.test_cli_runner().invoke(args=["demo"])

    host = user_by_email("host@example.com")
    assert host is not None
    assert host.role is Role.HOST
    events = db.session.scalars(sa.select(Event).where(Event.owner_id == host.id)).all()
    assert {event.room_kind for event in events} == {None, *RoomKind}
    webinar = next(event for event in events if event.room_kind is None)
    assert webinar.type is EventType.WEBINAR
    assert webinar.time_zone == "America/New_York"
    campaign = db.session.get(Campaign, int(webinar.campaign_id or 0))
    assert campaign is not None
    assert campaign.default_status == "Sent"
    assert all(room.join_url for room in events)


def test_demo_is_idempotent(app: Flask) -> None:
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])

    assert first.output == second.output
    counts = {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (User, Event, Campaign, FieldList)
    }
    # Three global lists and the webinar's own copy.
    assert counts == {"User": 2, "Event": 3, "Campaign": 1, "FieldList": 4}


def test_create_admin_asks_for_the_password_twice(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-admin", "Boss@Example.com"],
        input="a long enough password\na long enough password\n",
    )

    assert result.exit_code == 0, result.output
    admin = user_by_email("boss@example.com")
    assert admin is not None
    assert admin.role is Role.ADMIN
    assert check_password(admin, "a long enough password")


def test_create_admin_refuses_a_short_password_and_a_duplicate(app: Flask) -> None:
    runner = app.test_cli_runner()

    short = runner.invoke(args=["create-admin", "a@example.com", "--password", "short"])
    runner.invoke(args=["create-admin", "b@example.com", "--password", "x" * 12])
    duplicate = runner.invoke(
        args=["create-admin", "B@example.com", "--password", "y" * 12]
    )

    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    assert duplicate.exit_code == 1
    assert "exists already" in duplicate.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
