"""The SQLite dialect that runs each statement in one round trip to aiosqlite's thread."""

from __future__ import annotations

import aiosqlite
import pytest
from sqlalchemy import exc, text

from persistence import sqlite_driver


@pytest.fixture
def sqlite_services(services):
    if not services.database.is_sqlite:
        pytest.skip("the dialect serves SQLite only")
    return services


@pytest.fixture
def round_trips(monkeypatch) -> list[str]:
    """Record the name of each function that aiosqlite runs in a connection's thread."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self, fn, *args, **kwargs):
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return calls


async def test_engine_uses_dialect(sqlite_services):
    assert isinstance(sqlite_services.database.engine.dialect, sqlite_driver.Dialect)


async def test_read_is_one_round_trip(sqlite_services, round_trips):
    async with sqlite_services.database.read(snapshot=False) as session:
        await session.connection()
        round_trips.clear()
        rows = (await session.exec(text("SELECT 1 AS one, 'two' AS two"))).all()

    assert rows == [(1, "two")]
    # The statement, and no rollback: the session began no transaction.
    assert round_trips == ["_execute_in_thread"]


async def test_snapshot_read_rolls_back(sqlite_services, round_trips):
    # The pool's connection is opened and set up first, so only the read below is counted.
    await sqlite_services.database.ping()
    round_trips.clear()

    async with sqlite_services.database.read() as session:
        await session.exec(text("SELECT 1"))

    # BEGIN, the statement and the rollback that ends the transaction.
    assert round_trips.count("_execute_in_thread") == 2
    assert [name for name in round_trips if name != "_execute_in_thread"] == ["rollback"]


async def test_row_count_and_last_row_id(sqlite_services):
    async with sqlite_services.database.write() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("CREATE TABLE driver_probe (id INTEGER PRIMARY KEY, word TEXT)")
        inserted = await connection.exec_driver_sql("INSERT INTO driver_probe (word) VALUES ('a')")
        many = await connection.exec_driver_sql(
            "INSERT INTO driver_probe (word) VALUES (?)", [("b",), ("c",), ("d",)]
        )
        updated = await connection.exec_driver_sql("UPDATE driver_probe SET word = 'z' WHERE id > 1")

    assert inserted.lastrowid == 1
    assert many.rowcount == 3
    assert updated.rowcount == 3
    async with sqlite_services.database.read() as session:
        rows = (await session.exec(text("SELECT id, word FROM driver_probe ORDER BY id"))).all()
    assert rows == [(1, "a"), (2, "z"), (3, "z"), (4, "z")]


async def test_failed_write_rolls_back(sqlite_services):
    async with sqlite_services.database.write() as session:
        await session.exec(text("CREATE TABLE driver_probe (id INTEGER PRIMARY KEY, word TEXT UNIQUE)"))
        await session.exec(text("INSERT INTO driver_probe (word) VALUES ('kept')"))

    with pytest.raises(exc.IntegrityError, match="UNIQUE constraint failed"):
        async with sqlite_services.database.write() as session:
            await session.exec(text("INSERT INTO driver_probe (word) VALUES ('lost')"))
            await session.exec(text("INSERT INTO driver_probe (word) VALUES ('kept')"))

    async with sqlite_services.database.read() as session:
        words = (await session.exec(text("SELECT word FROM driver_probe"))).all()
    assert words == [("kept",)]


async def test_syntax_error_leaves_connection_usable(sqlite_services):
    async with sqlite_services.database.read(snapshot=False) as session:
        with pytest.raises(exc.OperationalError, match="syntax error"):
            await session.exec(text("SELEKT 1"))
        await session.rollback()
        assert (await session.exec(text("SELECT 2"))).one() == (2,)
