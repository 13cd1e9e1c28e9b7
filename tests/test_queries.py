"""SQL statements per submission: a registration and a join cost the same whatever
the number of fields on the form.

What is counted: every statement the database driver is asked to run (SQLAlchemy's
``before_cursor_execute``, so BEGIN and COMMIT, which the driver does not send as
statements, are not counted), in a process that has already shown the form once,
as every web process has after its first visitor. The request and the processing of
the activity it records are counted apart: a request is what an attendee waits for;
processing runs later, in the background or in a worker.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import form_values, page
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from portal.extensions import db
from portal.models import Activity, ActivityStatus, Event, FieldScope, Role, User
from portal.services.field_editing import FieldValues, add_field
from portal.services.processing import process_all

#: The factory defaults have seven fields; this many more makes thirty.
EXTRA_FIELDS = 23


class StatementCounter:
    """The statements run on the database while counting."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.statements.append(str(args[2]))

    @property
    def count(self) -> int:
        """How many statements were run."""
        return len(self.statements)


@contextmanager
def counting() -> Iterator[StatementCounter]:
    """Count the statements run on the application's engine inside the block."""
    counter = StatementCounter()
    # Every engine: the visitor's requests run in an application of their own.
    sa.event.listen(Engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        sa.event.remove(Engine, "before_cursor_execute", counter)


def add_extra_fields(admin: User) -> None:
    """Make the scheduled sessions' form thirty fields long: text boxes, picklists
    and hidden fields, as a long marketing form has."""
    for number in range(1, EXTRA_FIELDS + 1):
        if number % 3 == 0:
            values = FieldValues(
                display_name=f"Question {number}",
                options_text="Yes\nNo\nMaybe = Unsure",
            )
        elif number % 3 == 1:
            values = FieldValues(display_name=f"Question {number}")
        else:
            values = FieldValues(
                display_name=f"Tracking {number}", is_hidden=True, default_value="x"
            )
        add_field(FieldScope.SCHEDULED, values, admin)


_attendees = itertools.count(1)


def attendee(values: dict[str, str]) -> dict[str, str]:
    """A sent form: the page's own values with a new attendee's answers."""
    number = next(_attendees)
    return {
        **values,
        "sf_FirstName": "Ada",
        "sf_LastName": f"Lovelace {number}",
        "sf_Email": f"ada{number}@example.com",
        "sf_Company": "Analytical Engines Ltd",
    }


def submission_costs(visitor: FlaskClient, event: Event) -> dict[str, int]:
    """Statements of each step of one registration and one join of ``event``."""
    costs: dict[str, int] = {}
    key = event.key
    for page_name in ("register", "join"):
        address = f"/e/{key}/{page_name}"
        # A first visitor warms the process up, as in production; then another.
        values = form_values(page(visitor.get(address)))
        sent = visitor.post(address, data=attendee(values))
        assert sent.status_code == 303
        process_all("test")

        with counting() as shown:
            values = form_values(page(visitor.get(address)))
        with counting() as recorded:
            sent = visitor.post(address, data=attendee(values))
        assert sent.status_code == 303
        # A fresh session, as the background thread and the worker start with.
        db.session.remove()
        with counting() as processed:
            assert process_all("test") >= 1

        costs[f"GET {page_name}"] = shown.count
        costs[f"POST {page_name}"] = recorded.count
        costs[f"processing {page_name}"] = processed.count
    failed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Activity)
        .where(Activity.status == ActivityStatus.FAILED)
    )
    assert failed == 0
    return costs


@pytest.fixture
def visitor(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of a web process of its own, whose requests only record: each
    request has its own database session, as in production, and the test processes
    the queue itself."""
    return make_app(PROCESSING="worker").test_client()


def test_statements_per_submission_do_not_grow_with_the_fields(
    visitor: FlaskClient,
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    admin_id = make_user(role=Role.ADMIN, email="admin@example.com").id
    short_form = make_event()
    with_seven = submission_costs(visitor, short_form)

    add_extra_fields(db.session.get_one(User, admin_id))
    long_form = make_event()
    long_key = long_form.key
    with_thirty = submission_costs(visitor, long_form)

    assert len(form_values(page(visitor.get(f"/e/{long_key}/register")))) == (
        # Thirty fields, the honeypot and the form token.
        30 + 2
    )
    assert with_thirty == with_seven
