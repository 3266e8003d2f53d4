"""Live map updates within one process: one broker listener fanning events out to subscribers.

Writers publish only the sequence number of a committed map event. The feed
then reads every event above the last one it has seen from the log, once per
notification, and hands each to the in-process subscribers whose country
filter matches. A subscriber registers with the feed before it reads the
events it missed from the log, and skips what it has already delivered, so
the hand-over from log to live events has no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from persistence import map_log
from persistence.broker import Broker
from persistence.database import Database
from persistence.models import MapEvent

logger = logging.getLogger(__name__)

# Events read from the log per query.
PAGE_SIZE = 500
# Events waiting for one subscriber. A subscriber that falls further behind
# drops its queue and reads the log again from its last delivered event.
QUEUE_MAX = 1000


class MapSubscription:
    """One subscriber's queue of live events, restricted to one country or to none."""

    def __init__(self, country_code: str | None) -> None:
        self.country_code = country_code
        self.queue: asyncio.Queue[MapEvent | None] = asyncio.Queue(maxsize=QUEUE_MAX)
        self.overflowed = False

    def matches(self, event: MapEvent) -> bool:
        return self.country_code is None or event.country_code == self.country_code

    def offer(self, event: MapEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class MapFeed:
    """Implements `BrokerListener` on the map channel for every subscriber in this process."""

    def __init__(self, database: Database, broker: Broker) -> None:
        self.database = database
        self.broker = broker
        self._subscriptions: set[MapSubscription] = set()
        self._last_seen = 0
        self._lock = asyncio.Lock()
        self._running = False

    @property
    def subscription_count(self) -> int:
        """Subscriptions currently open in this process; a closed or vanished client leaves none."""
        return len(self._subscriptions)

    @property
    def last_seen(self) -> int:
        return self._last_seen

    async def start(self) -> None:
        """Listen on the broker; call after the broker started."""
        async with self.database.read() as session:
            self._last_seen = await map_log.last_sequence(session)
        self._running = True
        self.broker.add_listener(map_log.MAP_CHANNEL, self)
        logger.info("map feed started after sequence %d", self._last_seen)

    async def stop(self) -> None:
        """Stop delivering and end every open subscription."""
        self._running = False
        for subscription in list(self._subscriptions):
            # A None in the queue ends the subscriber's loop.
            with contextlib.suppress(asyncio.QueueFull):
                subscription.queue.put_nowait(None)
        logger.info("map feed stopped with %d open subscriptions", len(self._subscriptions))

    async def on_message(self, payload: str) -> None:
        try:
            sequence = int(payload)
        except ValueError:
            logger.warning("map feed ignored a payload that is not a sequence number: %.40r", payload)
            return
        if sequence <= self._last_seen:
            return
        await self.catch_up()

    async def on_resume(self) -> None:
        # Notifications sent while the broker connection was down are lost; the log is not.
        await self.catch_up()

    async def catch_up(self) -> None:
        """Read every event above the last one seen and hand it to the matching subscribers."""
        if not self._running:
            return
        async with self._lock:
            while True:
                async with self.database.read() as session:
                    events = await map_log.events_after(session, self._last_seen, limit=PAGE_SIZE)
                for event in events:
                    for subscription in list(self._subscriptions):
                        if subscription.matches(event):
                            subscription.offer(event)
                    self._last_seen = event.sequence
                if len(events) < PAGE_SIZE:
                    return

    async def read_log(self, after_sequence: int, country_code: str | None) -> AsyncIterator[MapEvent]:
        """Yield the stored events above `after_sequence`, in order, page by page."""
        position = after_sequence
        while True:
            async with self.database.read() as session:
                events = await map_log.events_after(session, position, country_code=country_code, limit=PAGE_SIZE)
            for event in events:
                yield event
                position = event.sequence
            if len(events) < PAGE_SIZE:
                return

    async def updates(self, country_code: str | None, after_sequence: int | None) -> AsyncIterator[MapEvent]:
        """Yield the events missed after `after_sequence` (when given), then live events, each once.

        The subscription is registered before the log is read, so an event
        committed meanwhile is either in the log read or in the queue, and the
        queue's copies at or below the last delivered sequence are skipped.
        """
        subscription = MapSubscription(country_code)
        self._subscriptions.add(subscription)
        try:
            delivered = self._last_seen if after_sequence is None else max(after_sequence, 0)
            async for event in self.read_log(delivered, country_code):
                yield event
                delivered = event.sequence

            while self._running:
                if subscription.overflowed:
                    subscription.overflowed = False
                    _empty(subscription.queue)
                    logger.info("map subscriber fell behind after sequence %d; reading the log again", delivered)
                    async for event in self.read_log(delivered, country_code):
                        yield event
                        delivered = event.sequence
                    continue
                event = await subscription.queue.get()
                if event is None:
                    return
                if event.sequence <= delivered:
                    continue
                yield event
                delivered = event.sequence
        finally:
            self._subscriptions.discard(subscription)


def _empty(queue: asyncio.Queue[MapEvent | None]) -> None:
    while not queue.empty():
        queue.get_nowait()
