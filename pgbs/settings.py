"""Service settings read from the environment.

Every setting has a default that runs the service on one machine; an invalid
value raises `SettingsError` naming the variable, so start-up stops early.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email


class SettingsError(ValueError):
    """Raised when an environment variable contains a value the service cannot use."""


SMTP_TLS_MODES = ("auto", "starttls", "tls", "none")
ENVIRONMENTS = ("development", "production")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./pgbs.db"
    # None: the database layer's default (persistence.database.DEFAULT_POOL_SIZE).
    database_pool_size: int | None = None
    broker_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None
    # auto: STARTTLS when the server offers it; starttls: required; tls: implicit TLS.
    smtp_tls: str = "auto"
    mail_from: str = "PGBS <no-reply@localhost>"
    public_base_url: str = "http://127.0.0.1:8000"
    coordinator_emails: tuple[str, ...] = ()
    environment: str = "development"
    log_level: str = "INFO"
    # permessage-deflate on WebSockets. Off by default: a map update is a few
    # hundred bytes, and compressing it once per subscriber costs the server
    # more time and memory than it saves on the wire (BENCHMARKS.md).
    websocket_compression: bool = False
    # The front-end build served under /static; None means web/dist in the repository.
    web_build_dir: str | None = None

    # Lifetimes, in hours.
    session_ttl_hours: int = 24 * 30
    verification_ttl_hours: int = 48
    reset_ttl_hours: int = 1
    invitation_ttl_days: int = 30

    # Invitations: per member per day, and one per address per this many days.
    invitations_per_day: int = 20
    invitation_repeat_days: int = 30

    # Follow-up of pending contact requests, in days.
    request_reminder_days: int = 7
    request_expiry_days: int = 30
    # Seconds between two passes of the follow-up job (reminders, expiry, e-mail purge).
    follow_up_interval_seconds: float = 300.0

    # Outbox delivery: seconds between polls, and attempts before a message is given up.
    mail_poll_seconds: float = 5.0
    # The first retry waits this long; each further one twice as long, up to one hour.
    mail_retry_seconds: float = 15.0
    mail_max_attempts: int = 12

    # Limits of one GraphQL request. A request over a limit is rejected before it runs.
    max_body_bytes: int = 1_000_000
    # graphql-core 3.3's get_introspection_query() nests fields 15 levels deep; a lower limit rejects it.
    max_query_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 2_000
    # Connection fields cost their `first` (DEFAULT_PAGE_COST when absent), multiplied through nesting.
    max_query_cost: int = 10_000
    max_variables_depth: int = 10
    execution_timeout_seconds: float = 10.0

    # Abuse limits per client address (the ASGI scope's client; see README) and per e-mail address.
    # Failed sign-ins allowed before each further attempt waits, and the delays in seconds:
    # the first wait is login_delay_seconds, each further failure doubles it up to login_max_delay_seconds.
    login_failures_per_address: int = 5
    login_failures_per_client: int = 20
    login_delay_seconds: float = 1.0
    login_max_delay_seconds: float = 300.0
    # Counters of failed sign-ins start over after this many seconds without a new window.
    login_window_seconds: int = 3600
    password_resets_per_client_per_hour: int = 10
    password_resets_per_address_per_hour: int = 3
    registrations_per_client_per_hour: int = 10

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default: `os.environ`), validating each value."""
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        defaults = cls()
        return cls(
            database_url=reader.database_url("DATABASE_URL", defaults.database_url),
            database_pool_size=reader.optional_integer("DATABASE_POOL_SIZE", minimum=1, maximum=1_000),
            broker_url=reader.broker_url("BROKER_URL", defaults.broker_url),
            host=reader.text("HOST", defaults.host),
            port=reader.integer("PORT", defaults.port, minimum=1, maximum=65535),
            smtp_host=reader.optional_text("SMTP_HOST"),
            smtp_port=reader.optional_integer("SMTP_PORT", minimum=1, maximum=65535),
            smtp_username=reader.optional_text("SMTP_USERNAME"),
            smtp_password=reader.optional_text("SMTP_PASSWORD"),
            smtp_tls=reader.choice("SMTP_TLS", defaults.smtp_tls, SMTP_TLS_MODES),
            mail_from=reader.mail_from("MAIL_FROM", defaults.mail_from),
            public_base_url=reader.base_url("PUBLIC_BASE_URL", defaults.public_base_url),
            coordinator_emails=reader.email_list("COORDINATOR_EMAILS"),
            environment=reader.choice("ENVIRONMENT", defaults.environment, ENVIRONMENTS),
            log_level=reader.choice(
                "LOG_LEVEL", defaults.log_level, ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True
            ),
            websocket_compression=reader.boolean("WEBSOCKET_COMPRESSION", defaults.websocket_compression),
            web_build_dir=reader.optional_text("WEB_BUILD_DIR"),
            session_ttl_hours=reader.integer("SESSION_TTL_HOURS", defaults.session_ttl_hours, minimum=1),
            verification_ttl_hours=reader.integer(
                "VERIFICATION_TTL_HOURS", defaults.verification_ttl_hours, minimum=1
            ),
            reset_ttl_hours=reader.integer("RESET_TTL_HOURS", defaults.reset_ttl_hours, minimum=1),
            invitation_ttl_days=reader.integer("INVITATION_TTL_DAYS", defaults.invitation_ttl_days, minimum=1),
            invitations_per_day=reader.integer("INVITATIONS_PER_DAY", defaults.invitations_per_day, minimum=0),
            invitation_repeat_days=reader.integer(
                "INVITATION_REPEAT_DAYS", defaults.invitation_repeat_days, minimum=0
            ),
            request_reminder_days=reader.integer(
                "REQUEST_REMINDER_DAYS", defaults.request_reminder_days, minimum=1
            ),
            request_expiry_days=reader.integer("REQUEST_EXPIRY_DAYS", defaults.request_expiry_days, minimum=1),
            follow_up_interval_seconds=reader.number(
                "FOLLOW_UP_INTERVAL_SECONDS", defaults.follow_up_interval_seconds, minimum=0.05
            ),
            mail_poll_seconds=reader.number("MAIL_POLL_SECONDS", defaults.mail_poll_seconds, minimum=0.05),
            mail_retry_seconds=reader.number("MAIL_RETRY_SECONDS", defaults.mail_retry_seconds, minimum=0.05),
            mail_max_attempts=reader.integer("MAIL_MAX_ATTEMPTS", defaults.mail_max_attempts, minimum=1),
            max_body_bytes=reader.integer("MAX_BODY_BYTES", defaults.max_body_bytes, minimum=1_000),
            max_query_depth=reader.integer("MAX_QUERY_DEPTH", defaults.max_query_depth, minimum=2),
            max_aliases=reader.integer("MAX_ALIASES", defaults.max_aliases, minimum=0),
            max_tokens=reader.integer("MAX_TOKENS", defaults.max_tokens, minimum=100),
            max_query_cost=reader.integer("MAX_QUERY_COST", defaults.max_query_cost, minimum=1),
            max_variables_depth=reader.integer("MAX_VARIABLES_DEPTH", defaults.max_variables_depth, minimum=1),
            execution_timeout_seconds=reader.number(
                "EXECUTION_TIMEOUT_SECONDS", defaults.execution_timeout_seconds, minimum=0.01
            ),
            login_failures_per_address=reader.integer(
                "LOGIN_FAILURES_PER_ADDRESS", defaults.login_failures_per_address, minimum=1
            ),
            login_failures_per_client=reader.integer(
                "LOGIN_FAILURES_PER_CLIENT", defaults.login_failures_per_client, minimum=1
            ),
            login_delay_seconds=reader.number("LOGIN_DELAY_SECONDS", defaults.login_delay_seconds, minimum=0.01),
            login_max_delay_seconds=reader.number(
                "LOGIN_MAX_DELAY_SECONDS", defaults.login_max_delay_seconds, minimum=0.01
            ),
            login_window_seconds=reader.integer("LOGIN_WINDOW_SECONDS", defaults.login_window_seconds, minimum=1),
            password_resets_per_client_per_hour=reader.integer(
                "PASSWORD_RESETS_PER_CLIENT_PER_HOUR", defaults.password_resets_per_client_per_hour, minimum=1
            ),
            password_resets_per_address_per_hour=reader.integer(
                "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR", defaults.password_resets_per_address_per_hour, minimum=1
            ),
            registrations_per_client_per_hour=reader.integer(
                "REGISTRATIONS_PER_CLIENT_PER_HOUR", defaults.registrations_per_client_per_hour, minimum=1
            ),
        )


@dataclass
class _Reader:
    env: Mapping[str, str]

    def _raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def optional_text(self, name: str) -> str | None:
        return self._raw(name)

    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.optional_integer(name, minimum=minimum, maximum=maximum)
        return default if value is None else value

    def optional_integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
        raw = self._raw(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        _check_range(name, value, minimum, maximum)
        return value

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        _check_range(name, value, minimum, None)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "1", "yes", "on"):
            return True
        if raw.lower() in ("false", "0", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw.lower()
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return value

    def database_url(self, name: str, default: str) -> str:
        raw = self._raw(name) or default
        scheme = raw.split("://", 1)[0] if "://" in raw else ""
        # Plain PostgreSQL URLs are accepted and pointed at the asyncpg driver.
        if scheme in ("postgres", "postgresql"):
            return "postgresql+asyncpg://" + raw.split("://", 1)[1]
        if scheme in ("postgresql+asyncpg", "sqlite+aiosqlite"):
            return raw
        if scheme == "sqlite":
            return "sqlite+aiosqlite://" + raw.split("://", 1)[1]
        raise SettingsError(
            f"{name} must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL, got {_redact(raw)!r}"
        )

    def broker_url(self, name: str, default: str) -> str:
        raw = self._raw(name) or default
        scheme = urlsplit(raw).scheme
        if scheme not in ("memory", "redis", "rediss", "postgres", "postgresql"):
            raise SettingsError(
                f"{name} must start with memory://, redis://, rediss:// or postgres://, got {_redact(raw)!r}"
            )
        return raw

    def base_url(self, name: str, default: str) -> str:
        raw = self._raw(name) or default
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{name} must be an http:// or https:// URL, got {raw!r}")
        return raw.rstrip("/")

    def mail_from(self, name: str, default: str) -> str:
        raw = self._raw(name) or default
        _display_name, address = parseaddr(raw)
        if "@" not in address:
            raise SettingsError(f"{name} must be an address such as 'PGBS <no-reply@example.org>', got {raw!r}")
        return raw

    def email_list(self, name: str) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is None:
            return ()
        addresses = []
        for item in raw.split(","):
            item = item.strip()
            if not item:
                continue
            try:
                addresses.append(validate_email(item, check_deliverability=False).normalized.lower())
            except EmailNotValidError as error:
                raise SettingsError(f"{name} contains an invalid address {item!r}: {error}") from None
        return tuple(addresses)


def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, got {value}")


def _redact(url: str) -> str:
    """Hide the password of a URL so that an error message never shows it."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
