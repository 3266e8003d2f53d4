"""Abuse limits on sign-in, registration and password reset.

Sign-in: after LOGIN_FAILURES_PER_ADDRESS failures for one e-mail address,
or LOGIN_FAILURES_PER_CLIENT for one client address, within the window,
each further attempt must wait. The wait doubles with each failure up to
LOGIN_MAX_DELAY_SECONDS. A block always ends, so an attacker who fails on
purpose can delay a victim's sign-in by at most that long at a time, never
lock the account. Failures are counted for any address string, registered
or not, so a block reveals nothing about whether an address is registered.

Registration and password reset count requests per client address per
hour, and password reset also per e-mail address, so nobody can flood an
inbox with reset e-mails.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime, timedelta

from domain.errors import DomainError, ErrorCode
from domain.services import Services
from persistence.rate_limits import counter_key

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


def _rate_limited(retry_at: datetime, now: datetime, attempts: str) -> DomainError:
    seconds = max(1, math.ceil((retry_at - now).total_seconds()))
    return DomainError(ErrorCode.RATE_LIMITED, f"Too many {attempts}. Try again in {seconds} seconds.")


def _login_limits(services: Services, address: str, client: str | None) -> list[tuple[str, int]]:
    """Return each sign-in counter key with the failures it allows before attempts must wait."""
    settings = services.settings
    limits = [(counter_key("login-address", address), settings.login_failures_per_address)]
    if client is not None:
        limits.append((counter_key("login-client", client), settings.login_failures_per_client))
    return limits


async def check_login(services: Services, address: str, client: str | None) -> None:
    """Raise RATE_LIMITED while the address or the client is blocked after failed sign-ins.

    NOTE: attempts sent in parallel before the first block is stored all pass this check.
    Every failure among them is still counted.
    """
    now = services.clock.now()
    store = services.rate_limits
    for key, _limit in _login_limits(services, address, client):
        until = await store.blocked_until(key)
        if until is not None and until > now:
            raise _rate_limited(until, now, "failed sign-ins")


async def record_login_failure(services: Services, address: str, client: str | None) -> None:
    """Count a failed sign-in; block the address or client once its failures pass the limit."""
    settings = services.settings
    now = services.clock.now()
    window = timedelta(seconds=settings.login_window_seconds)
    for key, limit in _login_limits(services, address, client):
        counter = await services.rate_limits.increment(key, now, window)
        excess = counter.count - limit
        if excess < 0:
            continue
        delay = min(settings.login_delay_seconds * 2**min(excess, 30), settings.login_max_delay_seconds)
        await services.rate_limits.block(key, now + timedelta(seconds=delay), now)
        logger.info("sign-in blocked for %.1f seconds after %d failures (%s)", delay, counter.count, key)


async def record_login_success(services: Services, address: str) -> None:
    """Forget the address's failures. The client's stay, so signing in to one's own account
    does not reset a client that is guessing passwords of others."""
    await services.rate_limits.clear(counter_key("login-address", address))


async def prune_counters(services: Services) -> int:
    """Delete counters that no limit reads any more: their window has ended and no block is running."""
    now = services.clock.now()
    longest_window = max(timedelta(seconds=services.settings.login_window_seconds), HOUR)
    return await services.rate_limits.prune(now - longest_window, now)


async def run_pruning(services: Services, interval_seconds: float = 3600) -> None:
    """Prune counters every `interval_seconds` until cancelled; a failed pass is logged and retried."""
    while True:
        try:
            deleted = await prune_counters(services)
        except Exception:
            logger.exception("pruning rate-limit counters failed; retrying in %s seconds", interval_seconds)
        else:
            if deleted:
                logger.info("pruned %d rate-limit counters", deleted)
        await asyncio.sleep(interval_seconds)


async def count_registration(services: Services, client: str | None) -> None:
    """Count a registration from the client; raise RATE_LIMITED over the hourly limit."""
    if client is None:
        return
    now = services.clock.now()
    counter = await services.rate_limits.increment(counter_key("register-client", client), now, HOUR)
    if counter.count > services.settings.registrations_per_client_per_hour:
        raise _rate_limited(counter.window_start + HOUR, now, "registrations from this network")


async def count_password_reset(services: Services, address: str, client: str | None) -> bool:
    """Count a reset request; raise RATE_LIMITED over the client's hourly limit.

    Return False when the address has had its hourly number of requests. The
    caller then sends no e-mail and returns as usual, so the response does
    not depend on the address.
    """
    settings = services.settings
    now = services.clock.now()
    if client is not None:
        counter = await services.rate_limits.increment(counter_key("reset-client", client), now, HOUR)
        if counter.count > settings.password_resets_per_client_per_hour:
            raise _rate_limited(counter.window_start + HOUR, now, "password reset requests from this network")
    counter = await services.rate_limits.increment(counter_key("reset-address", address), now, HOUR)
    if counter.count > settings.password_resets_per_address_per_hour:
        logger.info("password reset e-mail skipped: hourly limit reached (%s)", counter_key("reset-address", address))
        return False
    return True
