"""Settings: defaults here, then ``instance/portal.toml``, then ``PORTAL_*`` variables.

Every setting is declared once in :data:`DEFAULTS`. The instance file and the
environment use the same names (``SECRET_KEY`` in the file is ``PORTAL_SECRET_KEY`` in
the environment). :func:`load_config` is the only place that reads them, and
:func:`check_config` refuses to start with settings that cannot work.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from portal.errors import ConfigurationError

INSTANCE_FILE = "portal.toml"

DEFAULTS: dict[str, Any] = {
    # Signs public form tokens and the admin session cookie. Required outside debug.
    "SECRET_KEY": None,
    # SQLAlchemy address; empty means SQLite in instance/portal.sqlite3.
    "DATABASE_URL": "",
    # Absolute address the portal is reached at, for links printed by the command line
    # and written into emails and calendar files.
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # How long a public form stays valid after it was shown, in seconds.
    "FORM_TOKEN_MAX_AGE": 24 * 60 * 60,
    # Largest request body accepted, in bytes; larger ones get 413.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # The staff session: a signed cookie, unreadable by scripts, sent on top-level
    # navigation from other sites (Lax) so that links into the admin area work, and
    # only over HTTPS when PUBLIC_URL is HTTPS (None: decided from PUBLIC_URL).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,
    "PERMANENT_SESSION_LIFETIME": 12 * 60 * 60,
    # Cookies of Flask-Login's "remember me", were it ever used: like the session's.
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": None,
    # Seconds a browser keeps to HTTPS after a page served over HTTPS (0: no HSTS).
    "HSTS_MAX_AGE": 365 * 24 * 60 * 60,
    # Proxies in front of the portal whose X-Forwarded-For and X-Forwarded-Proto are
    # believed (0: none; the client is the address that connected).
    "TRUSTED_PROXIES": 0,
    # Rate limits on the public forms' POSTs, per client address (Flask-Limiter's
    # notation), and where the counts are kept: in each process's memory, or
    # redis://host:6379 to share them between processes and servers.
    "RATELIMIT_ENABLED": True,
    # A whole office behind one address may register or join at a webinar's start,
    # so the public forms allow two a second; guessing passwords needs far fewer.
    "RATELIMIT_PUBLIC_FORMS": "120 per minute; 2000 per hour",
    "RATELIMIT_SIGN_IN": "10 per minute; 50 per hour",
    "RATELIMIT_STORAGE_URI": "memory://",
    # How long an admin form stays valid, in seconds.
    "WTF_CSRF_TIME_LIMIT": 12 * 60 * 60,
    # The CRM activities are sent to: "builtin" (the portal's own tables) or
    # "salesforce" (an org, through its REST API; see the SALESFORCE_* settings).
    "CRM": "builtin",
    # When activities are worked: "background" (a thread in each web process, woken by
    # every request that records one), "after_response" (in the request's own thread
    # once its answer is sent) or "worker" (only by `flask --app portal worker`).
    # None: "background" with the built-in CRM, "worker" otherwise.
    "PROCESSING": None,
    # How often the background thread looks at the queue unasked (retries come due).
    "PROCESSING_POLL_SECONDS": 5.0,
    # Tries before an activity is marked failed, and the first retry's wait in
    # seconds (doubled on each retry, at most an hour).
    "PROCESSING_MAX_ATTEMPTS": 12,
    "PROCESSING_RETRY_SECONDS": 30,
    # A worker that holds an activity longer than this is presumed dead.
    "PROCESSING_LOCK_SECONDS": 300,
    # Outgoing email. Without SMTP_HOST, messages are written to MAIL_DIR instead
    # (instance/mail by default), one .eml file each.
    "MAIL_FROM": "Portal <no-reply@portal.invalid>",
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": True,
    "SMTP_SSL": False,
    "SMTP_TIMEOUT": 20,
    "MAIL_DIR": "",
    # The Salesforce org, with CRM = "salesforce". Sign-in is OAuth only: the JWT
    # bearer flow (consumer key, username and the private key of the connected app's
    # certificate) or the client credentials flow (consumer key and secret, with a
    # My Domain such as "acme.my"). DOMAIN is "login", "test" (a sandbox) or the
    # org's My Domain without ".salesforce.com".
    "SALESFORCE_DOMAIN": "login",
    "SALESFORCE_CONSUMER_KEY": "",
    "SALESFORCE_USERNAME": "",
    "SALESFORCE_PRIVATE_KEY_FILE": "",
    "SALESFORCE_CONSUMER_SECRET": "",
    "SALESFORCE_API_VERSION": "62.0",
    # Seconds to wait for one answer from Salesforce.
    "SALESFORCE_TIMEOUT": 30,
    # Work for Salesforce stops before this share (percent) of the org's daily API
    # requests is used, and starts again when usage has fallen below it; the usage
    # is read again from the org's limits this often (seconds) while work waits.
    "SALESFORCE_API_BUDGET_PERCENT": 80,
    "SALESFORCE_LIMITS_CHECK_SECONDS": 300,
    # How long the org's fields, task statuses, campaigns and hosts are remembered.
    "SALESFORCE_CACHE_SECONDS": 600,
    # A custom campaign influence model: with its id, campaign influence also writes
    # CampaignInfluence records; without, it only sets the primary campaign source.
    "SALESFORCE_INFLUENCE_MODEL_ID": "",
    # The secret the meeting platform signs attendance events with (POST
    # /api/v1/attendance). Empty: the attendance API is off.
    "ATTENDANCE_SECRET": "",
    # The Secret Token of the Zoom app whose webhooks come to /api/v1/zoom/webhook.
    # Empty: the Zoom webhook is off.
    "ZOOM_SECRET_TOKEN": "",
}

CRM_CHOICES = ("builtin", "salesforce")
PROCESSING_MODES = ("background", "after_response", "worker")


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from the defaults, the instance file, the environment."""
    app.config.update(DEFAULTS)
    app.config.from_file(
        os.path.join(app.instance_path, INSTANCE_FILE),
        load=tomllib.load,
        text=False,
        silent=True,
    )
    app.config.update(_from_environment(os.environ))
    if overrides:
        app.config.update(overrides)

    database_url = app.config["DATABASE_URL"] or _default_sqlite_url(app)
    app.config["DATABASE_URL"] = _with_driver(database_url)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    if app.config["PROCESSING"] is None:
        app.config["PROCESSING"] = (
            "background" if app.config["CRM"] == "builtin" else "worker"
        )
    if not app.config["MAIL_DIR"]:
        app.config["MAIL_DIR"] = os.path.join(app.instance_path, "mail")


def check_config(app: Flask) -> None:
    """Stop with a clear message when a setting cannot work."""
    if not app.config.get("SECRET_KEY"):
        if app.debug or app.testing:
            app.config["SECRET_KEY"] = "insecure-debug-only-secret"  # noqa: S105
        else:
            raise ConfigurationError(
                'No secret key is set. Put SECRET_KEY = "..." in '
                f"{Path(app.instance_path) / INSTANCE_FILE} or set PORTAL_SECRET_KEY "
                '(for example to the output of: python3 -c "import secrets; '
                'print(secrets.token_urlsafe(32))")'
            )
    if len(str(app.config["SECRET_KEY"])) < 16 and not (app.debug or app.testing):
        raise ConfigurationError("SECRET_KEY must be at least 16 characters long.")
    if app.config["PROCESSING"] not in PROCESSING_MODES:
        raise ConfigurationError(
            f"PROCESSING must be one of {', '.join(PROCESSING_MODES)}, "
            f"not {app.config['PROCESSING']!r}."
        )
    if app.config["CRM"] not in CRM_CHOICES:
        raise ConfigurationError(
            f"CRM must be one of {', '.join(CRM_CHOICES)}, not {app.config['CRM']!r}."
        )
    if app.config["CRM"] == "salesforce":
        check_salesforce_config(app.config)
    attendance_secret = str(app.config["ATTENDANCE_SECRET"] or "")
    if attendance_secret and len(attendance_secret) < 16:
        raise ConfigurationError(
            "ATTENDANCE_SECRET must be at least 16 characters long (for example "
            'the output of: python3 -c "import secrets; print(secrets.token_hex(32))")'
        )
    public_url = str(app.config["PUBLIC_URL"])
    if not public_url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"PUBLIC_URL must start with http:// or https://, not {public_url!r}."
        )
    app.config["PUBLIC_URL"] = public_url.rstrip("/")
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config[name] is None:
            app.config[name] = public_url.startswith("https://")
    if int(app.config["TRUSTED_PROXIES"]) < 0:
        raise ConfigurationError("TRUSTED_PROXIES must be 0 or more.")


def check_salesforce_config(config: Mapping[str, Any]) -> None:
    """Stop with a clear message when the Salesforce settings cannot sign in."""
    missing = "is not set: it is needed with CRM = salesforce"
    if not config["SALESFORCE_CONSUMER_KEY"]:
        raise ConfigurationError(
            f"SALESFORCE_CONSUMER_KEY {missing} (the connected app's consumer key)."
        )
    domain = str(config["SALESFORCE_DOMAIN"])
    if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", domain):
        raise ConfigurationError(
            'SALESFORCE_DOMAIN must be "login", "test" or a My Domain such as '
            f'"acme.my", not {domain!r}.'
        )
    key_file = str(config["SALESFORCE_PRIVATE_KEY_FILE"])
    if key_file or config["SALESFORCE_USERNAME"]:
        if not (key_file and config["SALESFORCE_USERNAME"]):
            raise ConfigurationError(
                "The JWT bearer sign-in needs both SALESFORCE_USERNAME and "
                "SALESFORCE_PRIVATE_KEY_FILE."
            )
        _check_private_key(key_file)
    elif not config["SALESFORCE_CONSUMER_SECRET"]:
        raise ConfigurationError(
            "Set SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY_FILE (JWT bearer) "
            "or SALESFORCE_CONSUMER_SECRET (client credentials) to sign in to "
            "Salesforce."
        )
    elif domain in ("login", "test"):
        raise ConfigurationError(
            "The client credentials sign-in needs the org's My Domain in "
            'SALESFORCE_DOMAIN (such as "acme.my"), not "login" or "test".'
        )
    if not re.fullmatch(r"\d{2,3}\.0", str(config["SALESFORCE_API_VERSION"])):
        raise ConfigurationError(
            "SALESFORCE_API_VERSION must be a version such as 62.0, not "
            f"{config['SALESFORCE_API_VERSION']!r}."
        )
    budget = config["SALESFORCE_API_BUDGET_PERCENT"]
    if not isinstance(budget, int) or not 1 <= budget <= 100:
        raise ConfigurationError(
            f"SALESFORCE_API_BUDGET_PERCENT must be from 1 to 100, not {budget!r}."
        )
    for name in ("SALESFORCE_TIMEOUT", "SALESFORCE_LIMITS_CHECK_SECONDS"):
        if not isinstance(config[name], int) or config[name] < 1:
            raise ConfigurationError(f"{name} must be a whole number of seconds.")


def _check_private_key(key_file: str) -> None:
    """The JWT bearer sign-in signs with this file: it must hold a PEM private key."""
    try:
        with open(key_file, "rb") as stream:
            pem = stream.read()
    except OSError as error:
        raise ConfigurationError(
            f"SALESFORCE_PRIVATE_KEY_FILE {key_file!r} cannot be read "
            f"({error.strerror})."
        ) from error
    try:
        load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ConfigurationError(
            f"SALESFORCE_PRIVATE_KEY_FILE {key_file!r} could not be read as a PEM "
            "private key without a passphrase (the file openssl writes with -keyout "
            "... -nodes, starting with -----BEGIN PRIVATE KEY-----)."
        ) from error


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """``PORTAL_*`` variables, each read as the type of its default.

    A password such as ``1e5`` stays the text it is; ``true``/``false``/``1``/``0``
    switch booleans; numbers are numbers. Settings without a default are text.
    """
    settings: dict[str, Any] = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS:
            continue
        key = name.removeprefix(ENV_PREFIX)
        settings[key] = _typed(key, text)
    return settings


ENV_PREFIX = "PORTAL_"
#: Variables that steer the portal's tooling, not its settings.
_NOT_SETTINGS = {"PORTAL_INSTANCE_PATH", "PORTAL_TEST_DATABASE_URL"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _typed(key: str, text: str) -> Any:
    default = DEFAULTS.get(key)
    if isinstance(default, bool) or key in _SWITCHES:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigurationError(
            f"{ENV_PREFIX}{key} must be true or false, not {text!r}."
        )
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError as error:
            raise ConfigurationError(
                f"{ENV_PREFIX}{key} must be a whole number, not {text!r}."
            ) from error
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError as error:
            raise ConfigurationError(
                f"{ENV_PREFIX}{key} must be a number, not {text!r}."
            ) from error
    return text


#: Switches whose default is None ("decide for me") but which are set as booleans.
_SWITCHES = {"SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"}


def _default_sqlite_url(app: Flask) -> str:
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "portal.sqlite3")


#: The databases the portal runs on, by the scheme of their address.
_DATABASE_SCHEMES = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}
_DATABASE_FORMS = (
    "SQLite (sqlite:////absolute/path/portal.sqlite3) or PostgreSQL "
    "(postgresql://user:password@host:5432/database)"
)


def _with_driver(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` addresses; refuse other databases."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    try:
        scheme = make_url(url).drivername
    except ArgumentError as error:
        raise ConfigurationError(
            "DATABASE_URL is not a database address; the portal runs on "
            f"{_DATABASE_FORMS}."
        ) from error
    if scheme not in _DATABASE_SCHEMES:
        raise ConfigurationError(
            f"DATABASE_URL names a {scheme} database; the portal runs on "
            f"{_DATABASE_FORMS}."
        )
    return url
