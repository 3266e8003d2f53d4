"""Both rate-limit counter stores against the same expectations: the database (SQLite, PostgreSQL) and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from persistence.rate_limits import (
    DatabaseRateLimitStore,
    RateLimitStore,
    RedisRateLimitStore,
    counter_key,
    create_rate_limit_store,
)
from tests.conftest import count_rows

REDIS_URL = "redis://127.0.0.1:6379/0"
WINDOW = timedelta(minutes=10)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["database", "redis"])
async def store(request: pytest.FixtureRequest, services) -> AsyncIterator[RateLimitStore]:
    if request.param == "database":
        yield DatabaseRateLimitStore(services.database)
        return
    prefix = f"pgbs-test:{uuid.uuid4().hex}:"
    redis_store = RedisRateLimitStore(REDIS_URL, prefix=prefix)
    yield redis_store
    keys = [key async for key in redis_store.redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis_store.redis.delete(*keys)
    await redis_store.close()


async def test_increment_counts_within_window(store):
    first = await store.increment("login:a", START, WINDOW)
    second = await store.increment("login:a", START + timedelta(minutes=5), WINDOW)
    other = await store.increment("login:b", START, WINDOW)

    assert first.count == 1
    assert second.count == 2
    assert second.window_start == START
    assert other.count == 1


async def test_increment_starts_new_window_after_end(store):
    await store.increment("login:a", START, WINDOW)
    await store.increment("login:a", START, WINDOW)

    later = START + WINDOW
    counter = await store.increment("login:a", later, WINDOW)

    assert counter.count == 1
    assert counter.window_start == later


async def test_block_and_clear(store):
    await store.increment("login:a", START, WINDOW)
    assert await store.blocked_until("login:a") is None

    until = START + timedelta(seconds=30)
    await store.block("login:a", until, START)
    counter = await store.increment("login:a", START + timedelta(seconds=1), WINDOW)

    assert await store.blocked_until("login:a") == until
    assert counter.blocked_until == until
    await store.clear("login:a")
    assert await store.blocked_until("login:a") is None
    assert (await store.increment("login:a", START, WINDOW)).count == 1


async def test_concurrent_increments_each_count_once(store):
    counters = await asyncio.gather(*(store.increment("register:c", START, WINDOW) for _ in range(20)))

    assert sorted(counter.count for counter in counters) == list(range(1, 21))


async def test_redis_key_expires_after_window_and_block():
    store = RedisRateLimitStore(REDIS_URL, prefix=f"pgbs-test:{uuid.uuid4().hex}:")
    try:
        now = datetime.now(UTC)
        await store.increment("k", now, timedelta(seconds=60))
        await store.block("k", now + timedelta(seconds=600), now)

        remaining_ms = await store.redis.pttl(store.prefix + "k")

        assert 60_000 < remaining_ms <= 600_001
        await store.clear("k")
    finally:
        await store.close()


def test_counter_key_hashes_subject():
    key = counter_key("login-address", "someone@example.org")

    assert key.startswith("login-address:")
    assert "someone" not in key
    assert len(key) <= 200
    assert key == counter_key("login-address", "someone@example.org")


async def test_store_follows_broker_url(services):
    redis_store = create_rate_limit_store(REDIS_URL, services.database)
    database_store = create_rate_limit_store("memory://", services.database)
    try:
        assert isinstance(redis_store, RedisRateLimitStore)
        assert isinstance(database_store, DatabaseRateLimitStore)
    finally:
        await redis_store.close()


async def test_redis_store_is_reachable():
    redis = Redis.from_url(REDIS_URL)
    try:
        assert await redis.ping()
    finally:
        await redis.aclose()


async def test_prune_keeps_live_and_blocked_counters(store):
    await store.increment("old", START, WINDOW)
    await store.increment("old-blocked", START, WINDOW)
    await store.block("old-blocked", START + timedelta(hours=2), START)
    await store.increment("recent", START + timedelta(minutes=55), WINDOW)

    now = START + timedelta(hours=1)
    await store.prune(now - WINDOW, now)

    assert (await store.increment("old", now, WINDOW)).count == 1
    assert await store.blocked_until("old-blocked") == START + timedelta(hours=2)
    assert (await store.increment("recent", now, WINDOW)).count == 2


async def test_database_prune_deletes_rows(services):
    store = DatabaseRateLimitStore(services.database)
    await store.increment("old", START, WINDOW)
    await store.increment("recent", START + timedelta(minutes=55), WINDOW)

    now = START + timedelta(hours=1)
    deleted = await store.prune(now - WINDOW, now)

    assert deleted == 1
    assert await count_rows(services, "rate_limit_counter") == 1
