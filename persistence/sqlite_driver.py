"""SQLAlchemy's aiosqlite dialect, with one round trip to the connection's thread per statement.

aiosqlite runs each sqlite3 call in a thread of its own per connection, and
every call is a round trip from the event loop to that thread and back.
SQLAlchemy's adapter (2.1) makes four per statement (open a cursor, execute,
fetch the rows, close the cursor) and one per rollback, including the two
rollbacks of a session that never began a transaction.

The cursor here runs a whole statement in one call in the connection's
thread: it opens a sqlite3 cursor, executes, reads the description, the row
count, the last row id and every row, and closes it. That is what the
adapter's default (not server-side) cursor does in four calls. A rollback
with no open transaction returns at once, as sqlite3's own does. Server-side
cursors keep SQLAlchemy's adapter. A search page took 0.6 to 0.9 ms less in
process (bench/search.py's data, 2-core AMD EPYC, same process, alternating).

NOTE: the classes below extend SQLAlchemy 2.1's adapter and call aiosqlite's
`Connection._execute` and `_conn`, which are not public. So pyproject.toml
pins SQLAlchemy to 2.1, and tests/persistence/test_sqlite_driver.py checks
the round trips.

The dialect is registered as `sqlite+pgbs_aiosqlite`; `persistence.database`
uses it for `sqlite+aiosqlite` URLs.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "pgbs_aiosqlite"

Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, row count, last row id


def _execute_in_thread(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """Execute one statement in the connection's thread and return everything the adapter reads from its cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class Cursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one round trip to the connection's thread."""

    __slots__ = ("_outcome",)

    def __init__(self, adapt_connection: Connection) -> None:
        # No aiosqlite cursor: each statement opens and closes a sqlite3 cursor in `_execute_in_thread`.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._outcome: Outcome = (None, [], -1, None)

    @property
    def description(self) -> Any:
        return self._outcome[0]

    @property
    def rowcount(self) -> int:
        return self._outcome[2]

    @property
    def lastrowid(self) -> int | None:
        return self._outcome[3]

    @property
    def arraysize(self) -> int:
        return 1  # sqlite3's default

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # every row is fetched at once

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:  # noqa: BLE001 - translated as the adapter translates it
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:  # noqa: BLE001 - translated as the adapter translates it
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        async with self._adapt_connection._execute_mutex:
            self._outcome = await connection._execute(_execute_in_thread, connection._conn, operation, parameters, many)
        self._rows = collections.deque(self._outcome[1])

    async def _async_soft_close(self) -> None:
        pass  # the sqlite3 cursor is closed already

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        raise NotImplementedError("sqlite3 returns one result set per statement")

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass  # sqlite3 ignores input sizes


class Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = Cursor

    def rollback(self) -> None:
        # sqlite3 itself does nothing without an open transaction; skipping the round trip is the same.
        if self._connection._connection is not None and not self._connection.in_transaction:
            return
        super().rollback()


class DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> Connection:
        adapted = super().connect(*arg, **kw)
        return Connection(self, adapted._connection)


class Dialect(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect with `Connection` and `Cursor`."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> DBAPI:
        return DBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "Dialect")
