"""Helpers the templates use."""

from __future__ import annotations

from flask import Flask

from portal.services.links import event_addresses
from portal.services.schedule import describe_schedule


def register_template_helpers(app: Flask) -> None:
    """Make the portal's filters and globals available to every template."""
    app.jinja_env.filters["schedule"] = describe_schedule
    app.jinja_env.globals["event_addresses"] = event_addresses
