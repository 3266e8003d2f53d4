"""The in-process broker: delivers each payload to this process's listeners only."""

from __future__ import annotations

from persistence.broker import BrokerListener, validate_channel, validate_payload
from persistence.broker.listeners import ListenerRegistry


class MemoryBroker:
    """Delivers payloads within one process; it needs no `start()` and never disconnects."""

    def __init__(self) -> None:
        self._listeners = ListenerRegistry()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.clear()

    async def publish(self, channel: str, payload: str) -> None:
        validate_channel(channel)
        validate_payload(payload)
        await self._listeners.deliver(channel, payload)

    def add_listener(self, channel: str, listener: BrokerListener) -> None:
        validate_channel(channel)
        self._listeners.add(channel, listener)

    async def subscribe(self, channel: str, listener: BrokerListener) -> None:
        self.add_listener(channel, listener)
