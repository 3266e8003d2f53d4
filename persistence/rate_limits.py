"""Counters for rate limits, in the database or in Redis, behind one small interface.

A counter belongs to a key: an action and a hashed subject, such as failed
sign-ins of one client address. It counts within a fixed window that starts
with the first count, and the next count after the window ends starts a new one.
A key can also be blocked until a given time. Callers pass `now`, so both
stores follow the service's clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import case, delete, literal, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from persistence.database import Database
from persistence.models import RateLimitCounter, UTCDateTime


@dataclass(frozen=True)
class Counter:
    """The state of one key after a count: the count within the current window and any block."""

    count: int
    window_start: datetime
    blocked_until: datetime | None = None


def counter_key(action: str, subject: str) -> str:
    """Build a key from an action and a subject; the subject is hashed, so no address is stored in clear."""
    return f"{action}:{hashlib.sha256(subject.encode()).hexdigest()[:40]}"


class RateLimitStore(Protocol):
    async def increment(self, key: str, now: datetime, window: timedelta) -> Counter:
        """Add one to the key's count, starting a new window at `now` when the current one has ended."""

    async def blocked_until(self, key: str) -> datetime | None:
        """Return the time until which the key is blocked, or None."""

    async def block(self, key: str, until: datetime, now: datetime) -> None:
        """Block the key until `until`; a key that has no count is left alone."""

    async def clear(self, key: str) -> None:
        """Forget the key's count and block."""

    async def prune(self, window_ended_before: datetime, now: datetime) -> int:
        """Delete counters whose window started before `window_ended_before` and that are not blocked at `now`."""

    async def close(self) -> None: ...


class DatabaseRateLimitStore:
    """Counters in the `rate_limit_counter` table; one upsert per count, atomic on SQLite and PostgreSQL."""


    def __init__(self, database: Database) -> None:
        self.database = database

    async def increment(self, key: str, now: datetime, window: timedelta) -> Counter:
        table = RateLimitCounter.__table__
        insert = sqlite.insert if self.database.is_sqlite else postgresql.insert
        window_ended = table.c.window_start <= literal(now - window, UTCDateTime())
        statement = (
            insert(table)
            .values(key=key, window_start=now, count=1, blocked_until=None)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "count": case((window_ended, 1), else_=table.c.count + 1),
                    "window_start": case((window_ended, literal(now, UTCDateTime())), else_=table.c.window_start),
                },
            )
            .returning(table.c.count, table.c.window_start, table.c.blocked_until)
        )
        async with self.database.write() as session:
            row = (await session.exec(statement)).one()
        return Counter(count=row.count, window_start=row.window_start, blocked_until=row.blocked_until)

    async def blocked_until(self, key: str) -> datetime | None:
        async with self.database.read() as session:
            result = await session.exec(select(RateLimitCounter.blocked_until).where(RateLimitCounter.key == key))
            return result.one_or_none()

    async def block(self, key: str, until: datetime, now: datetime) -> None:
        async with self.database.write() as session:
            await session.exec(
                update(RateLimitCounter).where(RateLimitCounter.key == key).values(blocked_until=until)
            )

    async def clear(self, key: str) -> None:
        async with self.database.write() as session:
            await session.exec(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    async def prune(self, window_ended_before: datetime, now: datetime) -> int:
        statement = delete(RateLimitCounter).where(
            RateLimitCounter.window_start < window_ended_before,
            or_(RateLimitCounter.blocked_until.is_(None), RateLimitCounter.blocked_until <= now),
        )
        async with self.database.write() as session:
            result = await session.exec(statement)
        return result.rowcount

    async def close(self) -> None:
        return None


# KEYS[1]: the hash of one key. ARGV: now and the window length, in milliseconds.
# The hash lives until its window has ended and any block has passed. Expiry
# is set relative to now, because the service's clock may differ from Redis's.
_INCREMENT = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local start = tonumber(redis.call('HGET', KEYS[1], 'window_start'))
local count
if start == nil or start + window <= now then
  start = now
  count = 1
  redis.call('HSET', KEYS[1], 'window_start', now, 'count', 1)
else
  count = redis.call('HINCRBY', KEYS[1], 'count', 1)
end
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until'))
redis.call('PEXPIRE', KEYS[1], math.max(start + window, blocked or 0) - now + 1)
return {count, start, blocked or false}
"""

# ARGV: the end of the block and now, in milliseconds. A key without a count is left alone.
_BLOCK = """
local ends = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'blocked_until', ends)
if redis.call('PTTL', KEYS[1]) < ends - now then
  redis.call('PEXPIRE', KEYS[1], ends - now + 1)
end
return 1
"""


class RedisRateLimitStore:
    """Counters in Redis hashes under `prefix`, updated by Lua scripts so each count is atomic."""

    def __init__(self, url: str, *, prefix: str = "pgbs:rate-limit:") -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.prefix = prefix
        self._increment = self.redis.register_script(_INCREMENT)
        self._block = self.redis.register_script(_BLOCK)

    async def increment(self, key: str, now: datetime, window: timedelta) -> Counter:
        milliseconds = _milliseconds(now)
        count, start, blocked = await self._increment(
            keys=[self.prefix + key], args=[milliseconds, int(window.total_seconds() * 1000)]
        )
        return Counter(
            count=int(count),
            window_start=_from_milliseconds(int(start)),
            blocked_until=_from_milliseconds(int(blocked)) if blocked else None,
        )

    async def blocked_until(self, key: str) -> datetime | None:
        value = await self.redis.hget(self.prefix + key, "blocked_until")
        return _from_milliseconds(int(value)) if value is not None else None

    async def block(self, key: str, until: datetime, now: datetime) -> None:
        await self._block(keys=[self.prefix + key], args=[_milliseconds(until), _milliseconds(now)])

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def prune(self, window_ended_before: datetime, now: datetime) -> int:
        # Redis deletes each hash itself once its window and block have passed.
        return 0

    async def close(self) -> None:
        await self.redis.aclose()


def _milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_milliseconds(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def create_rate_limit_store(broker_url: str, database: Database) -> RateLimitStore:
    """Return the Redis store when BROKER_URL is a Redis URL, else the database store."""
    if broker_url.startswith(("redis://", "rediss://")):
        return RedisRateLimitStore(broker_url)
    return DatabaseRateLimitStore(database)
