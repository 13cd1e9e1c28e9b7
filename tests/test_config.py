"""Settings: defaults, the instance file, PORTAL_* variables, refusal to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import create_app
from portal.errors import ConfigurationError


def test_missing_secret_key_stops_the_app_with_a_clear_message() -> None:
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        create_app()


def test_debug_runs_without_a_secret_key() -> None:
    app = create_app({"DEBUG": True})

    assert app.config["SECRET_KEY"]


def test_instance_file_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "portal.toml").write_text(
        'SECRET_KEY = "from-the-instance-file"\nPUBLIC_URL = "https://file.example"\n'
    )
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://env.example/")

    app = create_app()

    assert app.config["SECRET_KEY"] == "from-the-instance-file"
    assert app.config["PUBLIC_URL"] == "https://env.example"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{instance / 'portal.sqlite3'}"
    )


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_database_url_gets_the_psycopg_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, used: str
) -> None:
    monkeypatch.setenv("PORTAL_SECRET_KEY", "a-secret-key-long-enough")
    monkeypatch.setenv("PORTAL_DATABASE_URL", given)

    app = create_app()

    assert app.config["SQLALCHEMY_DATABASE_URI"] == used


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SECRET_KEY": "short"}, "at least 16"),
        ({"SECRET_KEY": "long-enough-secret-key", "PUBLIC_URL": "portal"}, "http"),
        (
            {"SECRET_KEY": "long-enough-secret-key", "ATTENDANCE_SECRET": "guessable"},
            "ATTENDANCE_SECRET must be at least 16",
        ),
    ],
)
def test_unusable_settings_are_refused(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app(settings)


@pytest.mark.parametrize(
    ("variable", "text", "setting", "value"),
    [
        ("PORTAL_SMTP_PASSWORD", "1e5", "SMTP_PASSWORD", "1e5"),
        ("PORTAL_SMTP_PASSWORD", "true", "SMTP_PASSWORD", "true"),
        ("PORTAL_SMTP_PORT", "2525", "SMTP_PORT", 2525),
        ("PORTAL_SMTP_STARTTLS", "false", "SMTP_STARTTLS", False),
        ("PORTAL_SMTP_SSL", "YES", "SMTP_SSL", True),
        ("PORTAL_PROCESSING_POLL_SECONDS", "0.5", "PROCESSING_POLL_SECONDS", 0.5),
        ("PORTAL_SESSION_COOKIE_SECURE", "1", "SESSION_COOKIE_SECURE", True),
        ("PORTAL_SOMETHING_NEW", "[1, 2]", "SOMETHING_NEW", "[1, 2]"),
        ("PORTAL_TRUSTED_PROXIES", "2", "TRUSTED_PROXIES", 2),
        ("PORTAL_RATELIMIT_ENABLED", "false", "RATELIMIT_ENABLED", False),
        (
            "PORTAL_RATELIMIT_STORAGE_URI",
            "redis://127.0.0.1:6379",
            "RATELIMIT_STORAGE_URI",
            "redis://127.0.0.1:6379",
        ),
        ("PORTAL_HSTS_MAX_AGE", "0", "HSTS_MAX_AGE", 0),
    ],
)
def test_environment_values_take_the_type_of_their_setting(
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    text: str,
    setting: str,
    value: object,
) -> None:
    monkeypatch.setenv("PORTAL_SECRET_KEY", "a-secret-key-long-enough")
    monkeypatch.setenv(variable, text)

    app = create_app()

    assert app.config[setting] == value


@pytest.mark.parametrize(
    ("variable", "text", "message"),
    [
        ("PORTAL_SMTP_PORT", "twenty-five", "whole number"),
        ("PORTAL_SMTP_SSL", "maybe", "true or false"),
        ("PORTAL_PROCESSING", "sometimes", "PROCESSING must be one of"),
        ("PORTAL_TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must be 0 or more"),
        ("PORTAL_RATELIMIT_PUBLIC_FORMS", "lots", "RATELIMIT_PUBLIC_FORMS must be"),
        ("PORTAL_RATELIMIT_SIGN_IN", "many", "RATELIMIT_SIGN_IN must be"),
    ],
)
def test_environment_values_that_cannot_work_stop_the_app(
    monkeypatch: pytest.MonkeyPatch, variable: str, text: str, message: str
) -> None:
    monkeypatch.setenv("PORTAL_SECRET_KEY", "a-secret-key-long-enough")
    monkeypatch.setenv(variable, text)

    with pytest.raises(ConfigurationError, match=message):
        create_app()
