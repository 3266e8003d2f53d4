"""Fan-out of short notices between the processes of one campaign.

A broker carries small text payloads (ids and sequence numbers, never whole
rows) on named channels. `memory://` delivers within one process; other URLs
reach every process connected to the same Redis or PostgreSQL server.
"""

from __future__ import annotations

from typing import Protocol


class BrokerListener(Protocol):
    async def on_message(self, payload: str) -> None:
        """Handle one payload published on the channel."""

    async def on_resume(self) -> None:
        """Handle a restored connection: payloads published meanwhile may be lost, so catch up."""


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, payload: str) -> None: ...

    def add_listener(self, channel: str, listener: BrokerListener) -> None: ...


def create_broker(url: str) -> Broker:
    """Return the broker for `url` (the BROKER_URL setting), not yet started."""
    scheme = url.split("://", 1)[0]
    if scheme == "memory":
        from persistence.broker.memory import MemoryBroker

        return MemoryBroker()
    # TODO: redis:// and postgres:// brokers; until they exist such a URL is rejected here.
    raise ValueError(f"BROKER_URL scheme {scheme!r} is not supported yet; use memory://")
