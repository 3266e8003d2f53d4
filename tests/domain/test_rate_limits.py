"""Pruning of rate-limit counters that no limit reads any more."""

from __future__ import annotations

from datetime import timedelta

from domain import rate_limits
from tests.conftest import count_rows


async def test_prune_counters_after_longest_window(services, clock):
    await rate_limits.count_registration(services, "192.0.2.1")
    await rate_limits.record_login_failure(services, "someone@example.org", "192.0.2.1")

    clock.advance(timedelta(minutes=59))
    early = await rate_limits.prune_counters(services)
    clock.advance(timedelta(minutes=2))
    late = await rate_limits.prune_counters(services)

    assert early == 0
    assert late == 3
    assert await count_rows(services, "rate_limit_counter") == 0
