"""The webinar and event registration portal."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import click
from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from portal.config import check_config, load_config
from portal.errors import ConfigurationError
from portal.extensions import csrf, db, login_manager, migrate

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, error pages."""
    try:
        return _build_app(config)
    except ConfigurationError as error:
        if click.get_current_context(silent=True) is None:
            raise
        # On the command line (flask --app portal ...) the message is the whole
        # answer: click prints it alone on stderr and exits with status 1.
        raise click.ClickException(str(error)) from None


def _build_app(config: dict[str, Any] | None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    load_config(app, config)
    check_config(app)
    _configure_logging(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    csrf.init_app(app)

    from portal.blueprints import admin, api, auth, embed, public
    from portal.cli import register_commands
    from portal.rate_limits import init_rate_limits, trust_proxies
    from portal.security import add_security_headers
    from portal.services.runners import start_background_processing
    from portal.templating import register_template_helpers

    # Public forms carry a signed, cookie-free token of their own (forms.tokens).
    csrf.exempt(public.bp)
    csrf.exempt(embed.bp)
    # The attendance API is signed with a shared secret; it has no cookies to abuse.
    csrf.exempt(api.bp)
    trust_proxies(app)
    init_rate_limits(app, public=[public.bp, embed.bp], sign_in=auth.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    register_commands(app)
    app.after_request(add_security_headers)
    app.before_request(start_background_processing)
    register_template_helpers(app)
    _register_error_pages(app)
    return app


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """Write-ahead logging and enforced foreign keys on every SQLite connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _configure_logging(app: Flask) -> None:
    """INFO lines from the portal reach stderr unless logging is already set up."""
    logger = logging.getLogger("portal")
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        logger.addHandler(handler)


def _register_error_pages(app: Flask) -> None:
    from portal.blueprints.api import api_error, is_api_request

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        if error.code is None or error.code < 400:
            return error.get_response()
        if is_api_request():
            code = _API_ERROR_CODES.get(error.code, "bad_request")
            message = error.description or str(error)
            if error.code == 413:
                # Werkzeug's wording speaks of a "data value" and a "capacity limit".
                limit = int(app.config["MAX_CONTENT_LENGTH"]) // 1024
                message = f"The body is larger than {limit} KB."
            return api_error(error.code, code, message)
        page = render_template(
            [f"errors/{error.code}.html", "errors/generic.html"],
            error=error,
            layout=_error_layout(),
            is_staff_page=_is_staff_page(),
        )
        return page, error.code

    @app.errorhandler(CSRFError)
    def expired_form(error: CSRFError) -> tuple[str, int]:
        page = render_template(
            "errors/expired_form.html", error=error, layout=_error_layout()
        )
        return page, 400

    @app.errorhandler(500)
    def server_error(error: Exception) -> Response | tuple[str, int]:
        db.session.rollback()
        if is_api_request():
            return api_error(500, "server_error", "The portal failed; try again.")
        return render_template("errors/500.html", layout=_error_layout()), 500


#: The ``error`` code of the API's answers, by HTTP status.
_API_ERROR_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    503: "not_configured",
}


def _error_layout() -> str:
    """Error pages keep the layout of their page: the frame's bare one inside the
    embeddable form, the admin area's on staff pages (without the attendee footer),
    the site's elsewhere."""
    if request.path.startswith("/embed/"):
        return "embed/base.html"
    if _is_staff_page():
        return "admin/base.html" if current_user.is_authenticated else "auth/base.html"
    return "base.html"


def _is_staff_page() -> bool:
    """Whether the request is for the sign-in or the admin area."""
    return request.blueprint in ("auth", "admin") or request.path.startswith("/admin/")
