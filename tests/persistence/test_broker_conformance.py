"""Behaviour every broker shares, run against memory://, Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from persistence.broker import MAX_PAYLOAD_BYTES, Broker, create_broker
from tests.persistence.broker_helpers import POSTGRES_URL, REDIS_URL, RecordingListener, unique_channel

BROKER_URLS = {"memory": "memory://", "redis": REDIS_URL, "postgres": POSTGRES_URL}


class FailingListener:
    async def on_message(self, payload: str) -> None:
        raise RuntimeError(f"listener failed on {payload}")

    async def on_resume(self) -> None:
        raise RuntimeError("listener failed to resume")


@pytest.fixture(params=list(BROKER_URLS))
async def new_broker(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Broker]]:
    """A factory of brokers of one kind; the fixture closes every broker it made."""
    brokers: list[Broker] = []

    def make() -> Broker:
        broker = create_broker(BROKER_URLS[request.param])
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        await broker.close()


async def test_publish_reaches_listener_in_order(new_broker):
    broker = new_broker()
    channel = unique_channel()
    listener = RecordingListener()
    broker.add_listener(channel, listener)
    await broker.start()

    for sequence in range(1, 6):
        await broker.publish(channel, f"activity:{sequence}")

    assert await listener.wait_for_payloads(5) == [f"activity:{sequence}" for sequence in range(1, 6)]


async def test_every_listener_of_channel_receives(new_broker):
    broker = new_broker()
    channel = unique_channel()
    first, second = RecordingListener(), RecordingListener()
    broker.add_listener(channel, first)
    broker.add_listener(channel, second)
    await broker.start()

    await broker.publish(channel, "7")

    assert await first.wait_for_payloads(1) == ["7"]
    assert await second.wait_for_payloads(1) == ["7"]


async def test_other_channel_is_not_delivered(new_broker):
    broker = new_broker()
    watched, other = unique_channel(), unique_channel()
    listener = RecordingListener()
    broker.add_listener(watched, listener)
    await broker.start()

    # Payloads from one publisher arrive in order, so once the marker is in,
    # the payload on the other channel would have arrived before it.
    await broker.publish(other, "not-for-you")
    await broker.publish(watched, "marker")

    assert await listener.wait_for_payloads(1) == ["marker"]


async def test_subscribe_after_start_receives(new_broker):
    broker = new_broker()
    await broker.start()
    channel = unique_channel()
    listener = RecordingListener()

    await broker.subscribe(channel, listener)
    await broker.publish(channel, "late")

    assert await listener.wait_for_payloads(1) == ["late"]


async def test_failing_listener_does_not_stop_others(new_broker):
    broker = new_broker()
    channel = unique_channel()
    listener = RecordingListener()
    broker.add_listener(channel, FailingListener())
    broker.add_listener(channel, listener)
    await broker.start()

    await broker.publish(channel, "1")
    await broker.publish(channel, "2")

    assert await listener.wait_for_payloads(2) == ["1", "2"]


async def test_longest_payload_is_delivered(new_broker):
    broker = new_broker()
    channel = unique_channel()
    listener = RecordingListener()
    broker.add_listener(channel, listener)
    await broker.start()
    longest = "é" * (MAX_PAYLOAD_BYTES // 2) + "x" * (MAX_PAYLOAD_BYTES % 2)

    await broker.publish(channel, longest)

    assert await listener.wait_for_payloads(1) == [longest]


async def test_too_long_payload_is_rejected(new_broker):
    broker = new_broker()
    channel = unique_channel()
    listener = RecordingListener()
    broker.add_listener(channel, listener)
    await broker.start()

    with pytest.raises(ValueError, match=f"8000 bytes is longer than the maximum of {MAX_PAYLOAD_BYTES} bytes"):
        await broker.publish(channel, "x" * 8000)
    with pytest.raises(ValueError, match="NUL character"):
        await broker.publish(channel, "a\x00b")
    await broker.publish(channel, "after")

    assert await listener.wait_for_payloads(1) == ["after"]


@pytest.mark.parametrize("channel", ["", "has space", 'quote"d', "x" * 64, "ünïcode"])
async def test_invalid_channel_is_rejected(new_broker, channel):
    broker = new_broker()
    await broker.start()

    with pytest.raises(ValueError, match="invalid broker channel"):
        await broker.publish(channel, "1")
    with pytest.raises(ValueError, match="invalid broker channel"):
        broker.add_listener(channel, RecordingListener())


async def test_close_leaves_no_task(new_broker):
    tasks_before = asyncio.all_tasks()
    broker = new_broker()
    broker.add_listener(unique_channel(), RecordingListener())
    await broker.start()
    broker.add_listener(unique_channel(), RecordingListener())

    await broker.close()

    assert asyncio.all_tasks() == tasks_before
