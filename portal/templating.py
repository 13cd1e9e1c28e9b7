"""Helpers the templates use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask_login import current_user

from portal.services.links import embed_snippet, event_addresses
from portal.services.reports import in_zone
from portal.services.schedule import describe_schedule


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the admin area's navigation."""

    endpoint: str
    label: str
    #: Endpoints starting with this belong to the entry's section.
    section: str
    admin_only: bool = False

    def is_current(self, endpoint: str | None) -> bool:
        """Whether the page shown belongs to this entry."""
        return bool(endpoint) and str(endpoint).startswith(self.section)


#: The admin area's sections, in the order the navigation shows them.
ADMIN_NAVIGATION = (
    NavItem("admin.sessions", "Sessions", "admin.session"),
    NavItem("admin.rooms", "Rooms", "admin.room"),
    NavItem("admin.field_scopes", "Fields", "admin.field_scope", admin_only=True),
    NavItem("admin.action_scopes", "Actions", "admin.action_scope", admin_only=True),
    NavItem("admin.links", "Tracked links", "admin.link"),
    NavItem("admin.queue", "Queue", "admin.queue", admin_only=True),
    NavItem("admin.crm", "CRM", "admin.crm", admin_only=True),
    NavItem("admin.accounts", "Accounts", "admin.account", admin_only=True),
    NavItem("admin.settings", "Settings", "admin.setting", admin_only=True),
)


def admin_navigation() -> list[NavItem]:
    """The sections the signed-in account may open (and that exist)."""
    views = current_app.view_functions
    return [
        item
        for item in ADMIN_NAVIGATION
        if item.endpoint in views and (current_user.is_admin or not item.admin_only)
    ]


def has_endpoint(endpoint: str) -> bool:
    """Whether the application serves this endpoint (a page may link to it)."""
    return endpoint in current_app.view_functions


def register_template_helpers(app: Flask) -> None:
    """Make the portal's filters and globals available to every template."""
    app.jinja_env.filters["schedule"] = describe_schedule
    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.globals["event_addresses"] = event_addresses
    app.jinja_env.globals["admin_navigation"] = admin_navigation
    app.jinja_env.globals["embed_snippet"] = embed_snippet
    app.jinja_env.globals["has_endpoint"] = has_endpoint
