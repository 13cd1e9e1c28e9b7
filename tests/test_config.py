"""Settings: defaults, the instance file, PORTAL_* variables, refusal to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import cli as flask_cli

from portal import create_app
from portal.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x", "names a mysql database; the portal runs on SQLite"),
        ("not a url", "not a database address; the portal runs on SQLite"),
    ],
)
def test_a_database_the_portal_cannot_use_is_named_with_the_supported_ones(
    url: str, message: str
) -> None:
    settings = {"SECRET_KEY": "long-enough-secret-key", "DATABASE_URL": url}

    with pytest.raises(ConfigurationError, match=message) as refusal:
        create_app(settings)

    assert "postgresql://user:password@host:5432/database" in str(refusal.value)


def test_a_private_key_file_that_is_no_pem_key_is_named(tmp_path: Path) -> None:
    key_file = tmp_path / "portal.key"
    key_file.write_text("not a key\n")
    settings = {
        "SECRET_KEY": "long-enough-secret-key",
        "CRM": "salesforce",
        "SALESFORCE_CONSUMER_KEY": "3MVG9-key",
        "SALESFORCE_USERNAME": "integration@acme.example",
        "SALESFORCE_PRIVATE_KEY_FILE": str(key_file),
    }

    with pytest.raises(
        ConfigurationError,
        match=r"SALESFORCE_PRIVATE_KEY_FILE .* could not be read as a PEM private key",
    ):
        create_app(settings)


BAD_ENVIRONMENTS = [
    ({"PORTAL_CRM": "salesforce"}, "SALESFORCE_CONSUMER_KEY is not set"),
    ({"PORTAL_CRM": "salesforc"}, "CRM must be one of builtin, salesforce"),
    (
        {
            "PORTAL_CRM": "salesforce",
            "PORTAL_SALESFORCE_CONSUMER_KEY": "3MVG9-key",
            "PORTAL_SALESFORCE_CONSUMER_SECRET": "secret",
            "PORTAL_SALESFORCE_DOMAIN": "https://acme.my.salesforce.com",
        },
        "SALESFORCE_DOMAIN must be",
    ),
    (
        {
            "PORTAL_CRM": "salesforce",
            "PORTAL_SALESFORCE_CONSUMER_KEY": "3MVG9-key",
            "PORTAL_SALESFORCE_CONSUMER_SECRET": "secret",
            "PORTAL_SALESFORCE_DOMAIN": "acme.my",
            "PORTAL_SALESFORCE_API_VERSION": "abc",
        },
        "SALESFORCE_API_VERSION must be",
    ),
    ({"PORTAL_MAX_CONTENT_LENGTH": "abc"}, "must be a whole number"),
    ({"PORTAL_DATABASE_URL": "mysql://x"}, "the portal runs on SQLite"),
    ({"PORTAL_RATELIMIT_SIGN_IN": "many"}, "RATELIMIT_SIGN_IN must be"),
]


@pytest.mark.parametrize("command", [["crm", "check"], ["init-db"], ["routes"]])
@pytest.mark.parametrize(("environment", "message"), BAD_ENVIRONMENTS)
def test_the_command_line_prints_a_bad_setting_as_one_line(
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    environment: dict[str, str],
    message: str,
) -> None:
    monkeypatch.setenv("PORTAL_SECRET_KEY", "a-secret-key-long-enough")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    result = CliRunner().invoke(flask_cli, ["--app", "portal", *command])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_gunicorn_stops_on_a_bad_setting_with_its_message_last(
    tmp_path: Path,
) -> None:
    environment = {
        **os.environ,
        "PORTAL_SECRET_KEY": "a-secret-key-long-enough",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_CRM": "salesforc",
    }
    command = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:5921"]
    command += ["--no-control-socket", "--workers", "1"]

    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [*command, "wsgi:app"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    message = "The portal cannot start: CRM must be one of builtin, salesforce"
    portal_lines = [line for line in result.stderr.splitlines() if "portal" in line]
    assert portal_lines[-1].startswith(message)
