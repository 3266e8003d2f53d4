"""The Redis broker: PUBLISH, and SUBSCRIBE on one dedicated connection, through redis.asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

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

# RedisError covers lost connections, timeouts and rejected commands such as a failed AUTH.
# Builtin TimeoutError, which asyncio.timeout() raises, is an OSError.
REDIS_ERRORS = (RedisError, OSError)


class RedisBroker:
    """Fans payloads out through Redis pub/sub; reconnects with backoff and resumes listeners after a drop."""

    def __init__(
        self,
        url: str,
        *,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 30.0,
        connect_timeout: float = 5.0,
        subscribe_timeout: float = 5.0,
        health_check_seconds: float = 15.0,
    ) -> None:
        self._url = url
        self._where = describe_url(url)
        self._connect_timeout = connect_timeout
        self._subscribe_timeout = subscribe_timeout
        self._health_check_seconds = health_check_seconds
        self._listeners = ListenerRegistry()
        self._backoff = Backoff(reconnect_initial, reconnect_max)
        self._publisher: Redis | None = None
        self._subscriber: Redis | None = None
        # The subscribed pub/sub connection; None while not started or disconnected.
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        # SUBSCRIBE commands sent on the current connection and not yet confirmed by Redis.
        self._confirmations: dict[str, asyncio.Future[bool]] = {}

    def _client(self, retries: int) -> Redis:
        return Redis.from_url(
            self._url,
            decode_responses=True,
            # CLIENT LIST shows this name unless the URL sets client_name itself.
            client_name="pgbs-broker",
            retry=Retry(NoBackoff(), retries),
            socket_connect_timeout=self._connect_timeout,
            # Bounds the replies to commands and to the connection handshake; the pub/sub
            # reads below pass their own timeouts.
            socket_timeout=self._connect_timeout,
        )

    async def start(self) -> None:
        if self._reader is not None:
            return
        # A publish on a pooled connection that Redis closed is retried once on a new connection.
        # The subscriber gets no retry, because this broker reconnects it itself.
        self._publisher = self._client(retries=1)
        self._subscriber = self._client(retries=0)
        try:
            pubsub, early_messages = await self._open()
        except REDIS_ERRORS as error:
            await self._close_clients()
            raise BrokerUnavailableError(f"cannot connect to the Redis broker at {self._where}: {error}") from error
        logger.info("broker connected to Redis at %s, channels: %s", self._where, self._listeners.channels())
        self._pubsub = pubsub
        for channel, payload in early_messages:
            await self._listeners.deliver(channel, payload)
        self._reader = asyncio.create_task(self._run(), name="redis-broker-reader")

    async def close(self) -> None:
        tasks = [task for task in (self._reader, *self._background) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._reader = None
        self._background.clear()
        await self._discard(self._pubsub)
        self._pubsub = None
        await self._close_clients()
        self._listeners.clear()

    async def publish(self, channel: str, payload: str) -> None:
        validate_channel(channel)
        validate_payload(payload)
        publisher = self._publisher
        if publisher is None:
            raise BrokerUnavailableError(
                f"cannot publish on channel {channel}: the Redis broker at {self._where} is not started"
            )
        try:
            await publisher.publish(channel, payload)
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            raise BrokerUnavailableError(
                f"publishing on channel {channel} failed: Redis at {self._where} is unreachable ({error})"
            ) from error
        except RedisError as error:
            raise BrokerError(f"publishing on channel {channel} failed on Redis at {self._where}: {error}") from error

    def add_listener(self, channel: str, listener: BrokerListener) -> None:
        validate_channel(channel)
        is_new_channel = self._listeners.add(channel, listener)
        pubsub = self._pubsub
        if pubsub is None:
            # start() or the reconnect subscribes every registered channel.
            return
        confirmation = self._expect_confirmation(channel) if is_new_channel else self._confirmations.get(channel)
        task = asyncio.create_task(
            self._activate(pubsub, channel, listener, is_new_channel, confirmation),
            name=f"redis-broker-subscribe-{channel}",
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def subscribe(self, channel: str, listener: BrokerListener) -> None:
        validate_channel(channel)
        is_new_channel = self._listeners.add(channel, listener)
        pubsub = self._pubsub
        if pubsub is None:
            return
        confirmation = self._expect_confirmation(channel) if is_new_channel else self._confirmations.get(channel)
        await self._subscribe_channel(pubsub, channel, is_new_channel, confirmation)

    async def _activate(
        self,
        pubsub: PubSub,
        channel: str,
        listener: BrokerListener,
        is_new_channel: bool,
        confirmation: asyncio.Future[bool] | None,
    ) -> None:
        """Subscribe for a listener added to a running broker, then resume it.

        Payloads published before Redis confirmed the subscription are missed,
        so the listener catches up as after a reconnect.
        """
        if await self._subscribe_channel(pubsub, channel, is_new_channel, confirmation):
            await self._listeners.resume_one(channel, listener)

    def _expect_confirmation(self, channel: str) -> asyncio.Future[bool]:
        confirmation = asyncio.get_running_loop().create_future()
        self._confirmations[channel] = confirmation
        return confirmation

    async def _subscribe_channel(
        self, pubsub: PubSub, channel: str, send: bool, confirmation: asyncio.Future[bool] | None
    ) -> bool:
        """Send SUBSCRIBE when `send`, and wait for Redis to confirm `channel` on `pubsub`.

        Returns False when the connection is lost first: then the reconnect
        subscribes every registered channel and resumes every listener.
        """
        if send:
            if pubsub is not self._pubsub:
                return False
            try:
                await pubsub.subscribe(channel)
            except REDIS_ERRORS as error:
                logger.info(
                    "subscribing channel %s waits for the reconnect to Redis at %s: %s", channel, self._where, error
                )
                return False
        if confirmation is None:
            # Confirmed earlier on this connection.
            return True
        try:
            async with asyncio.timeout(self._subscribe_timeout):
                return await asyncio.shield(confirmation)
        except TimeoutError:
            logger.warning(
                "Redis at %s did not confirm the subscription to channel %s within %.1f s",
                self._where,
                channel,
                self._subscribe_timeout,
            )
            return False

    async def _open(self) -> tuple[PubSub, list[tuple[str, str]]]:
        """Open a pub/sub connection with every registered channel subscribed and confirmed.

        Returns the connection and the messages that arrived while waiting for
        the confirmations, so that none of them is dropped.
        """
        assert self._subscriber is not None
        pubsub = self._subscriber.pubsub()
        early_messages: list[tuple[str, str]] = []
        try:
            await pubsub.connect()
            subscribed: set[str] = set()
            # Channels added during the wait are picked up by the next round.
            while missing := set(self._listeners.channels()) - subscribed:
                await pubsub.subscribe(*missing)
                async with asyncio.timeout(self._subscribe_timeout):
                    while missing:
                        message = await pubsub.get_message(timeout=None)
                        if message is None:
                            continue
                        if message["type"] == "subscribe":
                            missing.discard(message["channel"])
                            subscribed.add(message["channel"])
                        elif message["type"] == "message":
                            early_messages.append((message["channel"], message["data"]))
        except BaseException:
            await self._discard(pubsub)
            raise
        return pubsub, early_messages

    async def _run(self) -> None:
        """Read the pub/sub connection; after a drop, reconnect and resume every listener."""
        pubsub = self._pubsub
        while True:
            assert pubsub is not None
            try:
                await self._read(pubsub)
            except REDIS_ERRORS as error:
                logger.warning("broker lost its connection to Redis at %s: %s; reconnecting", self._where, error)
            except Exception:
                # An unexpected reply or a bug here must not end the listening for good.
                logger.exception("broker failed reading from Redis at %s; reconnecting", self._where)
            self._pubsub = None
            self._release_confirmations()
            await self._discard(pubsub)

            pubsub, early_messages = await self._reconnect()
            self._pubsub = pubsub
            await self._listeners.resume()
            for channel, payload in early_messages:
                await self._listeners.deliver(channel, payload)

    async def _read(self, pubsub: PubSub) -> None:
        """Deliver messages until the connection fails; an idle connection must reply to a PING."""
        awaiting_pong = False
        while True:
            message = await pubsub.get_message(timeout=self._health_check_seconds)
            if message is None:
                if awaiting_pong:
                    raise RedisTimeoutError(f"no reply to PING within {self._health_check_seconds} s")
                await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            if message["type"] == "message":
                await self._listeners.deliver(message["channel"], message["data"])
            elif message["type"] == "subscribe":
                confirmation = self._confirmations.pop(message["channel"], None)
                if confirmation is not None and not confirmation.done():
                    confirmation.set_result(True)

    async def _reconnect(self) -> tuple[PubSub, list[tuple[str, str]]]:
        """Open a new pub/sub connection, retrying with capped exponential backoff until it succeeds."""
        return await reopen(self._open, REDIS_ERRORS, self._backoff, "Redis", self._where)

    def _release_confirmations(self) -> None:
        """Wake the callers waiting for a subscription on a lost connection; the reconnect subscribes them."""
        for confirmation in self._confirmations.values():
            if not confirmation.done():
                confirmation.set_result(False)
        self._confirmations.clear()

    async def _discard(self, pubsub: PubSub | None) -> None:
        if pubsub is None:
            return
        with contextlib.suppress(*REDIS_ERRORS):
            await pubsub.aclose()

    async def _close_clients(self) -> None:
        for client in (self._publisher, self._subscriber):
            if client is not None:
                with contextlib.suppress(*REDIS_ERRORS):
                    await client.aclose()
        self._publisher = None
        self._subscriber = None
