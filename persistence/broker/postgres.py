"""The PostgreSQL broker: LISTEN on one dedicated asyncpg connection, NOTIFY through `pg_notify`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import asyncpg

from persistence.broker import (
    BrokerError,
    BrokerListener,
    BrokerUnavailableError,
    describe_url,
    validate_channel,
    validate_payload,
)
from persistence.broker.listeners import Backoff, ListenerRegistry, reopen

logger = logging.getLogger(__name__)

CONNECTION_ERRORS = (
    OSError,  # refused or reset connections, and builtin TimeoutError
    asyncpg.InterfaceError,  # "connection is closed"
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.OperatorInterventionError,  # SQLSTATE class 57: terminated backend, shutdown
    # asyncpg 0.32 raises InternalClientError ("cannot switch to state 11; another operation (2)
    # is in progress") for a query sent while it still reads the error of a terminated backend.
    asyncpg.InternalClientError,
)
# Also a failed login, a missing database or too many connections: reasons to retry a connection.
SERVER_ERRORS = (*CONNECTION_ERRORS, asyncpg.PostgresError)


class PostgresBroker:
    """Fans payloads out through LISTEN/NOTIFY; reconnects with backoff and resumes listeners after a drop."""

    def __init__(
        self,
        url: str,
        *,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 30.0,
        connect_timeout: float = 5.0,
        health_check_seconds: float = 15.0,
    ) -> None:
        self._url = url
        self._where = describe_url(url)
        self._connect_timeout = connect_timeout
        self._health_check_seconds = health_check_seconds
        # pg_stat_activity shows the URL's application_name (default pgbs-broker) followed by the role.
        name = parse_qs(urlsplit(url).query).get("application_name", ["pgbs-broker"])[-1]
        self._listen_settings = {"application_name": f"{name} listen"}
        self._publish_settings = {"application_name": f"{name} publish"}
        self._listeners = ListenerRegistry()
        self._backoff = Backoff(reconnect_initial, reconnect_max)
        self._pool: asyncpg.Pool | None = None
        # The LISTEN connection; None while not started or disconnected.
        self._connection: asyncpg.Connection | None = None
        self._listening: set[str] = set()
        self._lost = asyncio.Event()
        # asyncpg runs one operation at a time on a connection: LISTEN and the health check take turns.
        self._connection_lock = asyncio.Lock()
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._tasks:
            return
        try:
            self._connection = await self._open()
            self._pool = await asyncpg.create_pool(
                self._url,
                min_size=1,
                max_size=4,
                timeout=self._connect_timeout,
                server_settings=self._publish_settings,
            )
        except SERVER_ERRORS as error:
            await self._close_connections()
            raise BrokerUnavailableError(
                f"cannot connect to the PostgreSQL broker at {self._where}: {error}"
            ) from error
        self._tasks = [
            asyncio.create_task(self._deliver_queued(), name="postgres-broker-delivery"),
            asyncio.create_task(self._supervise(), name="postgres-broker-supervisor"),
        ]
        logger.info("broker listening on PostgreSQL at %s, channels: %s", self._where, sorted(self._listening))

    async def close(self) -> None:
        tasks = [*self._tasks, *self._background]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._background.clear()
        await self._close_connections()
        self._listeners.clear()
        self._queue = asyncio.Queue()

    async def publish(self, channel: str, payload: str) -> None:
        validate_channel(channel)
        validate_payload(payload)
        pool = self._pool
        if pool is None:
            raise BrokerUnavailableError(
                f"cannot publish on channel {channel}: the PostgreSQL broker at {self._where} is not started"
            )
        # A pooled connection that the server closed fails once; the second try gets a new one.
        for attempt in (1, 2):
            try:
                await pool.execute("SELECT pg_notify($1, $2)", channel, payload, timeout=self._connect_timeout)
                return
            except CONNECTION_ERRORS as error:
                if attempt == 2:
                    raise BrokerUnavailableError(
                        f"publishing on channel {channel} failed: PostgreSQL at {self._where} is unreachable ({error})"
                    ) from error
            except asyncpg.PostgresError as error:
                raise BrokerError(
                    f"publishing on channel {channel} failed on PostgreSQL at {self._where}: {error}"
                ) from error

    def add_listener(self, channel: str, listener: BrokerListener) -> None:
        validate_channel(channel)
        self._listeners.add(channel, listener)
        if self._connection is None:
            # start() or the reconnect listens on every registered channel.
            return
        task = asyncio.create_task(self._activate(channel, listener), name=f"postgres-broker-listen-{channel}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def subscribe(self, channel: str, listener: BrokerListener) -> None:
        validate_channel(channel)
        self._listeners.add(channel, listener)
        await self._listen(channel)

    async def _activate(self, channel: str, listener: BrokerListener) -> None:
        """LISTEN for a listener added to a running broker, then resume it.

        Notifications sent before LISTEN took effect are missed, so the
        listener catches up as after a reconnect.
        """
        if await self._listen(channel):
            self._queue.put_nowait(functools.partial(self._listeners.resume_one, channel, listener))

    async def _listen(self, channel: str) -> bool:
        """Run LISTEN for `channel` on the current connection unless it runs already.

        Returns False while disconnected: then the reconnect listens on every
        registered channel and resumes every listener.
        """
        async with self._connection_lock:
            connection = self._connection
            if connection is None:
                return False
            if channel in self._listening:
                return True
            try:
                await connection.add_listener(channel, self._on_notification)
            except SERVER_ERRORS as error:
                logger.info("LISTEN on channel %s waits for the reconnect to %s: %s", channel, self._where, error)
                return False
            self._listening.add(channel)
            return True

    def _on_notification(self, connection: object, pid: int, channel: str, payload: str) -> None:
        # asyncpg calls this synchronously; the queue keeps notifications and resumes in order.
        self._queue.put_nowait(functools.partial(self._listeners.deliver, channel, payload))

    async def _open(self) -> asyncpg.Connection:
        """Open a LISTEN connection for every registered channel."""
        connection = await asyncpg.connect(
            self._url, timeout=self._connect_timeout, server_settings=self._listen_settings
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        listening: set[str] = set()
        try:
            # Channels added while LISTEN runs are picked up by the next round.
            while missing := set(self._listeners.channels()) - listening:
                for channel in sorted(missing):
                    await connection.add_listener(channel, self._on_notification)
                    listening.add(channel)
        except BaseException:
            connection.terminate()
            raise
        self._lost = lost
        self._listening = listening
        return connection

    async def _supervise(self) -> None:
        """Watch the LISTEN connection; after a drop, reconnect and queue a resume for every listener."""
        while True:
            reason = await self._watch()
            logger.warning("broker lost its connection to PostgreSQL at %s: %s; reconnecting", self._where, reason)
            async with self._connection_lock:
                lost_connection, self._connection = self._connection, None
                self._listening = set()
            if lost_connection is not None:
                lost_connection.terminate()

            # No await between the last registry check in _open() and this assignment, so a
            # channel added meanwhile is either listened by _open() or by _listen() afterwards.
            self._connection = await self._reconnect()
            self._queue.put_nowait(self._listeners.resume)

    async def _watch(self) -> str:
        """Return once the connection is lost: closed by the server, or failing a periodic `SELECT 1`."""
        while True:
            # asyncio.timeout() and not wait_for(): in Python 3.11, wait_for() can swallow the
            # cancellation from close() when the event is set at the same moment.
            try:
                async with asyncio.timeout(self._health_check_seconds):
                    await self._lost.wait()
                return "the connection was closed"
            except TimeoutError:
                pass
            try:
                async with self._connection_lock:
                    assert self._connection is not None
                    await self._connection.fetchval("SELECT 1", timeout=self._connect_timeout)
            except SERVER_ERRORS as error:
                return f"health check failed: {error!r}"

    async def _reconnect(self) -> asyncpg.Connection:
        """Open a new LISTEN connection, retrying with capped exponential backoff until it succeeds."""
        return await reopen(self._open, SERVER_ERRORS, self._backoff, "PostgreSQL", self._where)

    async def _deliver_queued(self) -> None:
        while True:
            call = await self._queue.get()
            await call()

    async def _close_connections(self) -> None:
        connection, self._connection = self._connection, None
        self._listening = set()
        if connection is not None:
            try:
                await connection.close(timeout=self._connect_timeout)
            except CONNECTION_ERRORS:
                connection.terminate()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await pool.close()
            except CONNECTION_ERRORS:
                pool.terminate()
