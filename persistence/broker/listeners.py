"""Pieces shared by the brokers: the listener registry, the reconnect backoff and the reconnect loop."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from persistence.broker import BrokerListener

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ListenerRegistry:
    """The listeners of one broker, by channel; a failing listener is logged and does not stop the others."""

    def __init__(self) -> None:
        self._by_channel: dict[str, list[BrokerListener]] = defaultdict(list)

    def add(self, channel: str, listener: BrokerListener) -> bool:
        """Add `listener`; return True when `channel` had no listener before."""
        is_new = channel not in self._by_channel
        self._by_channel[channel].append(listener)
        return is_new

    def channels(self) -> list[str]:
        return list(self._by_channel)

    def clear(self) -> None:
        self._by_channel.clear()

    async def deliver(self, channel: str, payload: str) -> None:
        for listener in list(self._by_channel.get(channel, ())):
            try:
                await listener.on_message(payload)
            except Exception:
                logger.exception("listener %r on channel %s failed on payload %r", listener, channel, payload)

    async def resume(self) -> None:
        """Call `on_resume()` on every listener of every channel."""
        for channel, listeners in list(self._by_channel.items()):
            for listener in list(listeners):
                await self.resume_one(channel, listener)

    async def resume_one(self, channel: str, listener: BrokerListener) -> None:
        try:
            await listener.on_resume()
        except Exception:
            logger.exception("listener %r on channel %s failed to resume", listener, channel)


class Backoff:
    """Reconnect delays: doubling from `initial` up to `maximum` seconds, each scaled by a random 0.5–1.0.

    The random factor spreads the reconnects of many processes after a
    server restart, so they do not all arrive at the same instant.
    """

    def __init__(self, initial: float, maximum: float) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError(f"backoff needs 0 < initial <= maximum, got initial={initial}, maximum={maximum}")
        self.initial = initial
        self.maximum = maximum
        self.attempts = 0

    def next_delay(self) -> float:
        """Return the delay in seconds before the next attempt, and count the attempt."""
        ceiling = min(self.maximum, self.initial * 2**self.attempts)
        self.attempts += 1
        return ceiling * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempts = 0


async def reopen(
    open_connection: Callable[[], Awaitable[T]],
    errors: tuple[type[BaseException], ...],
    backoff: Backoff,
    server: str,
    where: str,
) -> T:
    """Call `open_connection` until it succeeds, sleeping `backoff`'s delays between tries, and log the outcome.

    `server` names the kind of server ("Redis") and `where` its log-safe address.
    """
    backoff.reset()
    loop = asyncio.get_running_loop()
    lost_at = loop.time()
    while True:
        await asyncio.sleep(backoff.next_delay())
        attempt = backoff.attempts
        try:
            opened = await open_connection()
        except errors as error:
            # The first attempts are all logged, then every tenth, so that a long outage stays readable.
            if attempt <= 3 or attempt % 10 == 0:
                logger.warning("reconnect attempt %d to %s at %s failed: %s", attempt, server, where, error)
            continue
        logger.info(
            "broker reconnected to %s at %s on attempt %d, %.1f s after the drop",
            server,
            where,
            attempt,
            loop.time() - lost_at,
        )
        return opened
