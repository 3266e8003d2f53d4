"""Request and abuse limit settings read from the environment."""

from __future__ import annotations

import pytest

from pgbs.settings import Settings, SettingsError


def test_limits_read_from_environment():
    settings = Settings.from_environ(
        {
            "MAX_BODY_BYTES": "200000",
            "MAX_QUERY_DEPTH": "8",
            "MAX_ALIASES": "5",
            "MAX_TOKENS": "500",
            "MAX_QUERY_COST": "300",
            "MAX_VARIABLES_DEPTH": "4",
            "EXECUTION_TIMEOUT_SECONDS": "2.5",
            "LOGIN_FAILURES_PER_ADDRESS": "3",
            "LOGIN_FAILURES_PER_CLIENT": "9",
            "LOGIN_DELAY_SECONDS": "0.5",
            "LOGIN_MAX_DELAY_SECONDS": "30",
            "LOGIN_WINDOW_SECONDS": "600",
            "PASSWORD_RESETS_PER_CLIENT_PER_HOUR": "4",
            "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR": "2",
            "REGISTRATIONS_PER_CLIENT_PER_HOUR": "6",
        }
    )

    assert settings.max_body_bytes == 200_000
    assert settings.max_query_depth == 8
    assert settings.max_aliases == 5
    assert settings.max_tokens == 500
    assert settings.max_query_cost == 300
    assert settings.max_variables_depth == 4
    assert settings.execution_timeout_seconds == 2.5
    assert settings.login_failures_per_address == 3
    assert settings.login_failures_per_client == 9
    assert settings.login_delay_seconds == 0.5
    assert settings.login_max_delay_seconds == 30
    assert settings.login_window_seconds == 600
    assert settings.password_resets_per_client_per_hour == 4
    assert settings.password_resets_per_address_per_hour == 2
    assert settings.registrations_per_client_per_hour == 6


def test_limits_default_when_unset():
    assert Settings.from_environ({}) == Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAX_QUERY_DEPTH", "1"), ("MAX_TOKENS", "ten"), ("EXECUTION_TIMEOUT_SECONDS", "0"), ("MAX_BODY_BYTES", "10")],
)
def test_invalid_limit_names_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_environ({name: value})
