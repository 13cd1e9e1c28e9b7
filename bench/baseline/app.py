"""The baseline: a bare Flask + Jinja + SQLite app with a ten-field form.

It does what the portal's registration page does at its very least: render a form
of ten fields (with a hidden token, so that the load generator treats both apps
alike), and on a POST insert the ten values as one row and answer with a redirect.
No validation, no signing, no ORM: the cost of the framework, the template engine
and one SQLite write, under the same gunicorn settings as the portal.

    BASELINE_DATABASE=/tmp/baseline.sqlite3 gunicorn bench.baseline.app:app
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from typing import Any

from flask import Flask, g, redirect, render_template, request
from werkzeug.wrappers import Response

FIELDS: tuple[tuple[str, str], ...] = (
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("email", "Email"),
    ("company", "Company"),
    ("title", "Title"),
    ("industry", "Industry"),
    ("phone", "Phone"),
    ("country", "Country"),
    ("job_role", "Job Role"),
    ("lead_source", "Lead Source"),
)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS registrations (id INTEGER PRIMARY KEY, "
    + ", ".join(f"{name} TEXT NOT NULL" for name, _ in FIELDS)
    + ")"
)

INSERT = (
    "INSERT INTO registrations ("  # noqa: S608 - the names are the constants above
    + ", ".join(name for name, _ in FIELDS)
    + ") VALUES ("
    + ", ".join("?" for _ in FIELDS)
    + ")"
)

app = Flask(__name__)


def database() -> sqlite3.Connection:
    """This request's connection, in WAL mode as the portal's SQLite is."""
    if "db" not in g:
        connection = sqlite3.connect(os.environ["BASELINE_DATABASE"], timeout=10)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        g.db = connection
    opened: sqlite3.Connection = g.db
    return opened


@app.teardown_appcontext
def close_database(error: BaseException | None) -> None:
    """Close the request's connection."""
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


@app.route("/register", methods=["GET", "POST"])
def register() -> Any:
    """Show the form, or store what it sent and redirect."""
    if request.method == "POST":
        values = [request.form.get(name, "") for name, _ in FIELDS]
        connection = database()
        connection.execute(INSERT, values)
        connection.commit()
        return redirect("/registered", 303)
    return render_template("form.html", fields=FIELDS, token=secrets.token_urlsafe(32))


@app.get("/registered")
def registered() -> Response | str:
    """Where a POST leads."""
    return "Thank you."


def create_schema(path: str) -> None:
    """Create the table (run once before the server starts)."""
    connection = sqlite3.connect(path)
    connection.execute(SCHEMA)
    connection.commit()
    connection.close()


if __name__ == "__main__":
    create_schema(os.environ["BASELINE_DATABASE"])
