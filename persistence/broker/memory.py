"""The in-process broker: delivers each payload to this process's listeners only."""

from __future__ import annotations

import logging
from collections import defaultdict

from persistence.broker import BrokerListener

logger = logging.getLogger(__name__)


class MemoryBroker:
    def __init__(self) -> None:
        self._listeners: dict[str, list[BrokerListener]] = defaultdict(list)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.clear()

    async def publish(self, channel: str, payload: str) -> None:
        for listener in list(self._listeners[channel]):
            try:
                await listener.on_message(payload)
            except Exception:
                logger.exception("listener on channel %s failed on payload %s", channel, payload)

    def add_listener(self, channel: str, listener: BrokerListener) -> None:
        self._listeners[channel].append(listener)
