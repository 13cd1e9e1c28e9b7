"""Commands run as ``flask --app portal <command>``."""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask
from flask_migrate import upgrade

from portal.crm.commands import crm_group
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Role, utcnow
from portal.services.accounts import create_user
from portal.services.action_sets import ensure_global_action_sets, site_settings
from portal.services.demo import load_demo
from portal.services.fields import ensure_global_lists
from portal.services.runners import run_worker
from portal.services.schedule import describe_schedule


def register_commands(app: Flask) -> None:
    """Attach the portal's commands to ``app``."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(crm_group)
    app.cli.add_command(worker_command)


def migrate_to_head() -> None:
    """Bring the database schema to the newest migration and seed the defaults."""
    upgrade()
    ensure_site_defaults()


def ensure_site_defaults() -> None:
    """The global field lists, default actions and settings a site starts with."""
    ensure_global_lists()
    ensure_global_action_sets()
    site_settings()
    db.session.commit()


@click.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the database to the newest schema."""
    migrate_to_head()
    click.echo("The database is up to date.")


@click.command("demo")
def demo_command() -> None:
    """Load the demo data (safe to repeat) and print where to find it."""
    migrate_to_head()
    summary = load_demo(utcnow())
    addresses = summary.addresses
    click.echo(f"Demo session: {summary.webinar.title}")
    click.echo(f"  {describe_schedule(summary.webinar)}")
    click.echo(f"Direct join page:          {addresses.join}")
    click.echo(f"Hosted registration page:  {addresses.register}")
    click.echo(f"Embeddable form:           {addresses.embed}")
    click.echo(f"Demo admin email:          {summary.admin_email}")
    click.echo(f"Demo admin password:       {summary.admin_password}")
    click.echo(f"Demo host email:           {summary.host_email} (same password)")


@click.command("create-admin")
@click.argument("email")
@click.option(
    "--name", "display_name", default="", help="Name shown in the admin area."
)
@click.password_option(help="Asked for when not given (at least 12 characters).")
def create_admin_command(email: str, display_name: str, password: str) -> None:
    """Create an admin account that signs in with EMAIL."""
    try:
        user = create_user(
            email,
            role=Role.ADMIN,
            display_name=display_name or email.split("@")[0],
            password=password,
        )
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created admin {user.email}.")


@click.command("worker")
@click.option("--once", is_flag=True, help="Process what is ready, then exit.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks.")
def worker_command(once: bool, poll: float) -> None:
    """Process the activity queue until stopped (Ctrl+C or SIGTERM)."""
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    try:
        done = run_worker(stop, poll_seconds=poll, exit_when_idle=once)
    except KeyboardInterrupt:
        stop.set()
        return
    click.echo(
        f"Worked on {done} activities (an email counts twice: sent, then logged)."
    )
