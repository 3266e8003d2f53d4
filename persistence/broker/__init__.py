"""Fan-out of short notices between the processes of one campaign.

A broker carries small text payloads (ids and sequence numbers, never whole
rows) on named channels. `memory://` delivers within one process; other URLs
reach every process connected to the same Redis or PostgreSQL server.

A broker never stores a payload: one published while a process is
disconnected is lost for that process, which is why listeners get
`on_resume()` after a reconnect and catch up from a durable log.
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import urlsplit

# PostgreSQL's NOTIFY rejects payloads of 8000 bytes or more. Every broker
# applies the same limit, so a payload accepted by one is accepted by all.
MAX_PAYLOAD_BYTES = 7999
# Channel names are PostgreSQL identifiers, which are at most 63 bytes long.
MAX_CHANNEL_BYTES = 63
_CHANNEL_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")


class BrokerError(Exception):
    """Raised when a broker cannot carry out a request."""


class BrokerUnavailableError(BrokerError):
    """Raised by `publish` when the broker is not connected to its server (not started, closed or down)."""


class BrokerListener(Protocol):
    async def on_message(self, payload: str) -> None:
        """Handle one payload published on the channel."""

    async def on_resume(self) -> None:
        """Catch up, because payloads may have been missed.

        A Redis or PostgreSQL broker calls this on every listener after it
        restores a lost connection, and once on a listener given to
        `add_listener()` while running, when that listener starts receiving.
        """


class Broker(Protocol):
    async def start(self) -> None:
        """Connect and subscribe the channels of the listeners added so far; raise BrokerError when unreachable."""

    async def close(self) -> None:
        """Stop listening and close every connection; no background task is left running."""

    async def publish(self, channel: str, payload: str) -> None:
        """Send `payload` to the listeners of `channel` in every connected process, this one included."""

    def add_listener(self, channel: str, listener: BrokerListener) -> None:
        """Add `listener`; on a running broker the channel is subscribed in the background."""

    async def subscribe(self, channel: str, listener: BrokerListener) -> None:
        """Add `listener` and return once payloads published on `channel` reach it.

        While the broker is disconnected it returns at once, and the listener
        gets `on_resume()` after the reconnect.
        """


def validate_channel(channel: str) -> None:
    """Raise ValueError unless `channel` is a name every broker accepts."""
    if not isinstance(channel, str) or not _CHANNEL_PATTERN.fullmatch(channel):
        raise ValueError(
            f"invalid broker channel {channel!r}: use letters, digits and the characters _ . : - only"
        )
    if len(channel.encode()) > MAX_CHANNEL_BYTES:
        raise ValueError(f"invalid broker channel {channel!r}: longer than {MAX_CHANNEL_BYTES} bytes")


def validate_payload(payload: str) -> None:
    """Raise ValueError unless `payload` is a text every broker can carry."""
    if not isinstance(payload, str):
        raise ValueError(f"broker payload must be a str, got {type(payload).__name__}")
    size = len(payload.encode())
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(
            f"broker payload of {size} bytes is longer than the maximum of {MAX_PAYLOAD_BYTES} bytes; "
            "publish ids and sequence numbers, not rows"
        )
    if "\x00" in payload:
        raise ValueError("broker payload contains a NUL character, which PostgreSQL text cannot store")


def describe_url(url: str) -> str:
    """Return `scheme://host:port` of `url` for log lines, without user name or password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{host}:{parts.port}" if parts.port else f"{parts.scheme}://{host}"


def create_broker(url: str) -> Broker:
    """Return the broker for `url` (the BROKER_URL setting), not yet started."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from persistence.broker.memory import MemoryBroker

        return MemoryBroker()
    if scheme in ("redis", "rediss"):
        from persistence.broker.redis import RedisBroker

        return RedisBroker(url)
    if scheme in ("postgres", "postgresql"):
        from persistence.broker.postgres import PostgresBroker

        return PostgresBroker(url)
    raise ValueError(
        f"BROKER_URL scheme {scheme!r} is not supported; use memory://, redis://, rediss:// or postgres://"
    )
