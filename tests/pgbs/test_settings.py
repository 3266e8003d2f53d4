"""Settings from the environment: documented defaults, and invalid values that stop `pgbs` early."""

from __future__ import annotations

import subprocess

import pytest

from pgbs.settings import Settings, SettingsError
from tests.processes import child_environment, pgbs_command

# The settings table of the operator documentation: variable, attribute, default.
DOCUMENTED_DEFAULTS = [
    ("DATABASE_URL", "database_url", "sqlite+aiosqlite:///./pgbs.db"),
    # Unset: the database layer's default of 20.
    ("DATABASE_POOL_SIZE", "database_pool_size", None),
    ("BROKER_URL", "broker_url", "memory://"),
    ("HOST", "host", "127.0.0.1"),
    ("PORT", "port", 8000),
    ("SMTP_HOST", "smtp_host", None),
    ("SMTP_PORT", "smtp_port", None),
    ("SMTP_USERNAME", "smtp_username", None),
    ("SMTP_PASSWORD", "smtp_password", None),
    ("SMTP_TLS", "smtp_tls", "auto"),
    ("MAIL_FROM", "mail_from", "PGBS <no-reply@localhost>"),
    ("PUBLIC_BASE_URL", "public_base_url", "http://127.0.0.1:8000"),
    ("COORDINATOR_EMAILS", "coordinator_emails", ()),
    ("WEBSOCKET_COMPRESSION", "websocket_compression", False),
]


@pytest.mark.parametrize(("variable", "attribute", "default"), DOCUMENTED_DEFAULTS)
def test_setting_default(variable, attribute, default):
    assert getattr(Settings.from_environ({}), attribute) == default


@pytest.mark.parametrize(("variable", "attribute", "default"), DOCUMENTED_DEFAULTS)
def test_setting_blank_means_default(variable, attribute, default):
    assert getattr(Settings.from_environ({variable: "  "}), attribute) == default


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("ON", True), ("1", True), ("no", False), ("0", False)])
def test_websocket_compression_reads_a_flag(value, expected):
    assert Settings.from_environ({"WEBSOCKET_COMPRESSION": value}).websocket_compression is expected


def test_settings_read_every_documented_variable():
    environ = {
        "DATABASE_URL": "postgres://pgbs@db.internal/pgbs",
        "DATABASE_POOL_SIZE": "40",
        "BROKER_URL": "redis://127.0.0.1:6379/0",
        "HOST": "0.0.0.0",
        "PORT": "9000",
        "SMTP_HOST": "smtp.example.org",
        "SMTP_PORT": "2525",
        "SMTP_USERNAME": "mailer",
        "SMTP_PASSWORD": "s3cret",
        "SMTP_TLS": "STARTTLS",
        "MAIL_FROM": "Campaign <campaign@example.org>",
        "PUBLIC_BASE_URL": "https://pgbs.example.org/",
        "COORDINATOR_EMAILS": "Office@Example.org, second@example.org,",
    }

    settings = Settings.from_environ(environ)

    assert settings.database_url == "postgresql+asyncpg://pgbs@db.internal/pgbs"
    assert settings.database_pool_size == 40
    assert settings.broker_url == "redis://127.0.0.1:6379/0"
    assert settings.host == "0.0.0.0"
    assert settings.port == 9000
    assert settings.smtp_host == "smtp.example.org"
    assert settings.smtp_port == 2525
    assert settings.smtp_username == "mailer"
    assert settings.smtp_password == "s3cret"
    assert settings.smtp_tls == "starttls"
    assert settings.mail_from == "Campaign <campaign@example.org>"
    assert settings.public_base_url == "https://pgbs.example.org"
    assert settings.coordinator_emails == ("office@example.org", "second@example.org")


def test_settings_mail_timing():
    settings = Settings.from_environ({"MAIL_POLL_SECONDS": "0.2", "MAIL_RETRY_SECONDS": "1.5", "MAIL_MAX_ATTEMPTS": "3"})

    assert settings.mail_poll_seconds == 0.2
    assert settings.mail_retry_seconds == 1.5
    assert settings.mail_max_attempts == 3


INVALID_VALUES = [
    ("PORT", "eighty"),
    ("PORT", "70000"),
    ("SMTP_PORT", "0"),
    ("DATABASE_POOL_SIZE", "0"),
    ("DATABASE_URL", "mysql://pgbs:hunter2@127.0.0.1/pgbs"),
    ("BROKER_URL", "amqp://127.0.0.1"),
    ("SMTP_TLS", "sometimes"),
    ("MAIL_FROM", "nobody"),
    ("PUBLIC_BASE_URL", "ftp://pgbs.example.org"),
    ("COORDINATOR_EMAILS", "office@example.org, not-an-address"),
    ("MAIL_POLL_SECONDS", "soon"),
    ("MAIL_MAX_ATTEMPTS", "0"),
    ("LOG_LEVEL", "LOUD"),
    ("WEBSOCKET_COMPRESSION", "sometimes"),
]


@pytest.mark.parametrize(("variable", "value"), INVALID_VALUES)
def test_invalid_setting_raises_naming_variable(variable, value):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_environ({variable: value})


def run_pgbs(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [pgbs_command(), *arguments], env=child_environment(env), capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("variable", "value"), [("PORT", "eighty"), ("SMTP_TLS", "sometimes"), ("MAIL_FROM", "nobody")])
def test_pgbs_stops_with_exit_2_on_invalid_setting(variable, value, tmp_path):
    result = run_pgbs("serve", env={variable: value, "DATABASE_URL": f"sqlite:///{tmp_path}/never.db"})

    assert result.returncode == 2
    assert variable in result.stderr
    assert repr(value) in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "never.db").exists()


def test_pgbs_hides_database_password_in_error(tmp_path):
    result = run_pgbs("migrate", env={"DATABASE_URL": "mysql://pgbs:hunter2@127.0.0.1/pgbs"})

    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "hunter2" not in result.stderr
