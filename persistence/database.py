"""The async engine and the two kinds of transaction the service runs.

`Database.read()` opens a read-only unit of work; `Database.write()` opens one
that commits on success and rolls back on error. On SQLite a write
transaction starts with `BEGIN IMMEDIATE`, taking the write lock up front:
concurrent writers then wait (up to the busy timeout) instead of failing
with "database is locked" when a read lock would have to be upgraded.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence import sqlite_driver

logger = logging.getLogger(__name__)

# How long an SQLite writer waits for the write lock before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A search reads index rows scattered over the file, which SQLite's page cache
# of 2 MB per connection mostly rereads through a system call each. Reads
# through a memory map use the operating system's cache, shared by every
# connection, instead. The size bounds the mapped part of the file.
SQLITE_MMAP_BYTES = 1 << 30

# Connections each process keeps open, and as many again for a burst. A pool smaller than the
# requests served at once opened and closed a connection (on SQLite, a thread too) per request
# beyond it, which cost a fifth of the HTTP rate at 16 connections (BENCHMARKS.md).
DEFAULT_POOL_SIZE = 20

_IMMEDIATE = "pgbs_sqlite_immediate"
_NO_BEGIN = "pgbs_sqlite_no_begin"
AFTER_COMMIT = "pgbs_after_commit"

AfterCommit = Callable[[], Awaitable[None] | None]


class Database:
    """Owns the engine; hands out sessions whose objects stay readable after commit."""

    def __init__(self, url: str, *, pool_size: int | None = None, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = create_engine(url, pool_size=pool_size or DEFAULT_POOL_SIZE, echo=echo)
        # expire_on_commit=False: objects keep their loaded values after commit,
        # so nothing reads an expired attribute (which would need I/O) later.
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # Sessions for `read(snapshot=False)` on SQLite. Their engine view gives each connection the
        # no-BEGIN option, so a session needs no extra call to set it (25 µs less CPU, 2-core Intel Xeon).
        if self.is_sqlite:
            no_begin = self.engine.execution_options(**{_NO_BEGIN: True})
            self._autocommit_sessions = async_sessionmaker(no_begin, class_=AsyncSession, expire_on_commit=False)
        else:
            self._autocommit_sessions = self._sessions

    @asynccontextmanager
    async def read(self, *, snapshot: bool = True) -> AsyncIterator[AsyncSession]:
        """Open a read-only unit of work.

        With `snapshot=False`, SQLite runs each statement in a transaction of
        its own, so two statements of the block may see different commits.
        A block of one statement loses nothing and saves the BEGIN and the
        rollback at the end, each a round trip to aiosqlite's thread
        (`persistence.sqlite_driver`). PostgreSQL reads in one transaction
        either way.
        """
        sessions = self._sessions if snapshot else self._autocommit_sessions
        async with sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Open a transaction that commits when the block ends without an exception.

        Callbacks registered with `after_commit` run once the commit succeeded,
        never when it failed.
        """
        async with self._sessions() as session:
            session.info[AFTER_COMMIT] = []
            if self.is_sqlite:
                await session.connection(execution_options={_IMMEDIATE: True})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            for callback in session.info.pop(AFTER_COMMIT):
                try:
                    result = callback()
                    if result is not None:
                        await result
                except Exception:
                    # The change is committed; a failed notification must not undo
                    # the caller's success. Readers catch up from the stored state.
                    logger.exception("after-commit callback %r failed", callback)

    async def ping(self) -> None:
        async with self.read() as session:
            await session.exec(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` after the write transaction of `session` commits."""
    callbacks = session.info.get(AFTER_COMMIT)
    if callbacks is None:
        raise RuntimeError("after_commit needs a session opened by Database.write()")
    callbacks.append(callback)


def create_engine(url: str, *, pool_size: int = DEFAULT_POOL_SIZE, echo: bool = False) -> AsyncEngine:
    # JSON columns (lists of names, availability periods) are read far more
    # often than written: a search page reads about 170 values. orjson parses
    # each in about a sixth of the standard library's time; writes keep
    # SQLAlchemy's default serializer.
    options: dict[str, Any] = {
        "echo": echo,
        "json_deserializer": orjson.loads,
        "pool_size": pool_size,
        "max_overflow": pool_size,
    }
    if url.startswith("sqlite"):
        parsed = make_url(url)
        if parsed.drivername == "sqlite+aiosqlite":
            # The same driver, one round trip to its thread per statement (`persistence.sqlite_driver`).
            parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
        engine = create_async_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **options)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN instead of the driver,
        # which would always start a deferred transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(_NO_BEGIN):
            # The driver runs in autocommit mode (isolation_level None above), so
            # without BEGIN each statement is a transaction of its own.
            return
        if options.get(_IMMEDIATE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
