"""The Redis broker across instances and processes, and through a Redis restart."""

from __future__ import annotations

import asyncio
import logging
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from persistence.broker import BrokerUnavailableError, create_broker
from persistence.broker.redis import RedisBroker
from tests.persistence.broker_helpers import (
    REDIS_URL,
    WAIT_SECONDS,
    FreezableProxy,
    RecordingListener,
    RedisServer,
    unique_channel,
    wait_for_log,
)
from tests.processes import free_port


@pytest.fixture
async def new_broker() -> AsyncIterator[Callable[..., RedisBroker]]:
    brokers: list[RedisBroker] = []

    def make(url: str = REDIS_URL, **options: float) -> RedisBroker:
        broker = RedisBroker(url, **options)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        await broker.close()


@pytest.fixture
def redis_server(tmp_path: Path) -> RedisServer:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


def test_create_broker_returns_redis_broker():
    assert isinstance(create_broker("redis://127.0.0.1:6379/0"), RedisBroker)
    assert isinstance(create_broker("rediss://127.0.0.1:6380/0"), RedisBroker)


async def test_instances_see_each_other(new_broker):
    channel = unique_channel()
    first, second = new_broker(), new_broker()
    first_listener, second_listener = RecordingListener(), RecordingListener()
    first.add_listener(channel, first_listener)
    second.add_listener(channel, second_listener)
    await first.start()
    await second.start()

    await first.publish(channel, "from-first")
    await second.publish(channel, "from-second")

    assert await first_listener.wait_for_payloads(2) == ["from-first", "from-second"]
    assert await second_listener.wait_for_payloads(2) == ["from-first", "from-second"]


async def test_instances_keep_channels_apart(new_broker):
    watched, other = unique_channel(), unique_channel()
    subscriber, publisher = new_broker(), new_broker()
    listener = RecordingListener()
    subscriber.add_listener(watched, listener)
    await subscriber.start()
    await publisher.start()

    await publisher.publish(other, "not-for-you")
    await publisher.publish(watched, "marker")

    assert await listener.wait_for_payloads(1) == ["marker"]


async def test_listener_added_while_running(new_broker):
    channel = unique_channel()
    subscriber, publisher = new_broker(), new_broker()
    await subscriber.start()
    await publisher.start()
    background, awaited = RecordingListener(), RecordingListener()

    subscriber.add_listener(channel, background)
    # subscribe() on the same channel returns once the pending SUBSCRIBE is confirmed.
    await subscriber.subscribe(channel, awaited)
    await publisher.publish(channel, "1")

    assert await background.wait_for_payloads(1) == ["1"]
    assert await awaited.wait_for_payloads(1) == ["1"]


async def test_listener_added_while_running_is_resumed(new_broker):
    channel = unique_channel()
    subscriber, publisher = new_broker(), new_broker()
    await subscriber.start()
    await publisher.start()
    listener = RecordingListener()

    subscriber.add_listener(channel, listener)
    await listener.wait_for_resumes(1)
    await publisher.publish(channel, "1")

    assert await listener.wait_for_payloads(1) == ["1"]
    assert listener.resumes == 1


async def test_start_with_unreachable_server_fails(new_broker):
    url = f"redis://127.0.0.1:{free_port()}/0"
    broker = new_broker(url, connect_timeout=2.0)

    with pytest.raises(BrokerUnavailableError, match=f"cannot connect to the Redis broker at redis://127.0.0.1:"):
        await broker.start()


async def test_publish_before_start_fails(new_broker):
    broker = new_broker()

    with pytest.raises(BrokerUnavailableError, match="is not started"):
        await broker.publish(unique_channel(), "1")


async def test_reconnects_after_server_restart(new_broker, redis_server, caplog):
    caplog.set_level(logging.INFO, logger="persistence.broker")
    channel = unique_channel()
    subscriber = new_broker(redis_server.url, reconnect_initial=0.05, reconnect_max=0.2)
    publisher = new_broker(redis_server.url)
    listener = RecordingListener()
    subscriber.add_listener(channel, listener)
    await subscriber.start()
    await publisher.start()
    await publisher.publish(channel, "before")
    assert await listener.wait_for_payloads(1) == ["before"]

    redis_server.kill()
    with pytest.raises(BrokerUnavailableError, match=f"publishing on channel {channel} failed"):
        await publisher.publish(channel, "while-down")
    redis_server.start()
    await listener.wait_for_resumes(1)
    await publisher.publish(channel, "after")

    assert await listener.wait_for_payloads(2) == ["before", "after"]
    assert listener.resumes == 1
    messages = [record.getMessage() for record in caplog.records]
    assert any("lost its connection to Redis" in message for message in messages)
    assert any("reconnected to Redis" in message for message in messages)


async def test_listener_added_while_down_is_subscribed(new_broker, redis_server):
    channel = unique_channel()
    subscriber = new_broker(redis_server.url, reconnect_initial=0.05, reconnect_max=0.2)
    publisher = new_broker(redis_server.url)
    resumed = RecordingListener()
    subscriber.add_listener(unique_channel(), resumed)
    await subscriber.start()
    await publisher.start()

    redis_server.kill()
    late = RecordingListener()
    await subscriber.subscribe(channel, late)
    redis_server.start()
    await resumed.wait_for_resumes(1)
    await late.wait_for_resumes(1)
    await publisher.publish(channel, "after")

    assert await late.wait_for_payloads(1) == ["after"]


async def test_health_check_notices_silent_connection(new_broker, redis_server, caplog):
    """A connection that stops carrying data without closing is found by the PING on an idle connection."""
    caplog.set_level(logging.INFO, logger="persistence.broker")
    proxy = FreezableProxy("127.0.0.1", redis_server.port)
    await proxy.start()
    channel = unique_channel()
    subscriber = new_broker(
        f"redis://127.0.0.1:{proxy.port}/0",
        reconnect_initial=0.05,
        reconnect_max=0.2,
        health_check_seconds=0.2,
        connect_timeout=0.5,
    )
    publisher = new_broker(redis_server.url)
    listener = RecordingListener()
    subscriber.add_listener(channel, listener)
    try:
        await subscriber.start()
        await publisher.start()

        proxy.freeze()
        await wait_for_log(caplog, "no reply to PING")
        proxy.thaw()
        await listener.wait_for_resumes(1)
        await publisher.publish(channel, "after")

        assert await listener.wait_for_payloads(1) == ["after"]
    finally:
        await subscriber.close()
        await proxy.close()


async def test_close_while_reconnecting(new_broker, redis_server):
    broker = new_broker(redis_server.url, reconnect_initial=0.05, reconnect_max=0.2)
    tasks_before = asyncio.all_tasks()
    broker.add_listener(unique_channel(), RecordingListener())
    await broker.start()

    redis_server.kill()
    await broker.close()

    assert asyncio.all_tasks() == tasks_before
    with pytest.raises(BrokerUnavailableError, match="is not started"):
        await broker.publish(unique_channel(), "1")


PUBLISHER_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from persistence.broker import create_broker

    async def main(url, channel, payload):
        broker = create_broker(url)
        await broker.start()
        try:
            await broker.publish(channel, payload)
        finally:
            await broker.close()

    asyncio.run(main(*sys.argv[1:4]))
    """
)


async def run_publisher_process(url: str, channel: str, payload: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PUBLISHER_SCRIPT, url, channel, payload, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
    assert process.returncode == 0, stderr.decode()


async def test_other_process_publication_arrives(new_broker):
    channel = unique_channel()
    subscriber = new_broker()
    listener = RecordingListener()
    subscriber.add_listener(channel, listener)
    await subscriber.start()

    await run_publisher_process(REDIS_URL, channel, "map:42")

    assert await listener.wait_for_payloads(1) == ["map:42"]
