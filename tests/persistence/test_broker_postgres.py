"""The PostgreSQL broker across instances and processes, and after its backend is terminated."""

from __future__ import annotations

import asyncio
import logging
import uuid
from urllib.parse import urlsplit
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from persistence.broker import BrokerUnavailableError, create_broker
from persistence.broker.postgres import PostgresBroker
from tests.persistence.broker_helpers import (
    POSTGRES_URL,
    FreezableProxy,
    RecordingListener,
    unique_channel,
    wait_for_log,
)
from tests.processes import free_port
from tests.persistence.test_broker_redis import run_publisher_process


def with_application_name(url: str, name: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}application_name={name}"


@pytest.fixture
async def new_broker() -> AsyncIterator[Callable[..., PostgresBroker]]:
    brokers: list[PostgresBroker] = []

    def make(url: str = POSTGRES_URL, **options: float) -> PostgresBroker:
        broker = PostgresBroker(url, **options)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        await broker.close()


async def terminate_backends(application_name: str) -> int:
    """Terminate the server processes of connections named `application_name`; return how many."""
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = $1) AS terminated",
            application_name,
        )
    finally:
        await connection.close()


def test_create_broker_returns_postgres_broker():
    assert isinstance(create_broker("postgres://127.0.0.1:5432/test"), PostgresBroker)
    assert isinstance(create_broker("postgresql://127.0.0.1:5432/test"), PostgresBroker)


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
    broker = new_broker(f"postgres://root@127.0.0.1:{free_port()}/test", connect_timeout=2.0)

    with pytest.raises(BrokerUnavailableError, match="cannot connect to the PostgreSQL broker at postgres://127.0.0.1:"):
        await broker.start()


async def test_start_with_missing_database_fails(new_broker):
    url = urlsplit(POSTGRES_URL)._replace(path=f"/missing_{uuid.uuid4().hex}").geturl()
    broker = new_broker(url)

    with pytest.raises(BrokerUnavailableError, match="cannot connect to the PostgreSQL broker at .*does not exist"):
        await broker.start()


async def test_publish_before_start_fails(new_broker):
    broker = new_broker()

    with pytest.raises(BrokerUnavailableError, match="is not started"):
        await broker.publish(unique_channel(), "1")


async def test_connections_are_named(new_broker):
    name = f"t{uuid.uuid4().hex}"
    broker = new_broker(with_application_name(POSTGRES_URL, name))
    broker.add_listener(unique_channel(), RecordingListener())
    await broker.start()

    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        names = await connection.fetch(
            "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE $1 ORDER BY 1", f"{name} %"
        )
    finally:
        await connection.close()

    assert [row["application_name"] for row in names] == [f"{name} listen", f"{name} publish"]


async def test_reconnects_after_backend_terminated(new_broker, caplog):
    caplog.set_level(logging.INFO, logger="persistence.broker")
    name = f"t{uuid.uuid4().hex}"
    channel = unique_channel()
    subscriber = new_broker(with_application_name(POSTGRES_URL, name), reconnect_initial=0.05, reconnect_max=0.2)
    publisher = new_broker()
    listener = RecordingListener()
    subscriber.add_listener(channel, listener)
    await subscriber.start()
    await publisher.start()
    await publisher.publish(channel, "before")
    assert await listener.wait_for_payloads(1) == ["before"]

    assert await terminate_backends(f"{name} listen") == 1
    await listener.wait_for_resumes(1)
    await publisher.publish(channel, "after")

    assert await listener.wait_for_payloads(2) == ["before", "after"]
    assert listener.resumes == 1
    messages = [record.getMessage() for record in caplog.records]
    assert any("lost its connection to PostgreSQL" in message for message in messages)
    assert any("reconnected to PostgreSQL" in message for message in messages)


async def test_publish_survives_terminated_publishing_backend(new_broker):
    name = f"t{uuid.uuid4().hex}"
    channel = unique_channel()
    subscriber = new_broker()
    publisher = new_broker(with_application_name(POSTGRES_URL, name))
    listener = RecordingListener()
    subscriber.add_listener(channel, listener)
    await subscriber.start()
    await publisher.start()

    assert await terminate_backends(f"{name} publish") == 1
    await publisher.publish(channel, "after")

    assert await listener.wait_for_payloads(1) == ["after"]


async def test_health_check_notices_silent_connection(new_broker, caplog):
    """A connection that stops carrying data without closing is found by the periodic SELECT 1."""
    caplog.set_level(logging.INFO, logger="persistence.broker")
    parts = urlsplit(POSTGRES_URL)
    proxy = FreezableProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    user_info = parts.netloc.rpartition("@")[0]
    proxied_url = parts._replace(netloc=f"{user_info}@127.0.0.1:{proxy.port}" if user_info else f"127.0.0.1:{proxy.port}")
    channel = unique_channel()
    subscriber = new_broker(
        proxied_url.geturl(), reconnect_initial=0.05, reconnect_max=0.2, health_check_seconds=0.2, connect_timeout=0.5
    )
    publisher = new_broker()
    listener = RecordingListener()
    subscriber.add_listener(channel, listener)
    try:
        await subscriber.start()
        await publisher.start()

        proxy.freeze()
        await wait_for_log(caplog, "health check failed")
        proxy.thaw()
        await listener.wait_for_resumes(1)
        await publisher.publish(channel, "after")

        assert await listener.wait_for_payloads(1) == ["after"]
    finally:
        await subscriber.close()
        await proxy.close()


async def test_other_process_publication_arrives(new_broker):
    channel = unique_channel()
    subscriber = new_broker()
    listener = RecordingListener()
    subscriber.add_listener(channel, listener)
    await subscriber.start()

    await run_publisher_process(POSTGRES_URL, channel, "map:42")

    assert await listener.wait_for_payloads(1) == ["map:42"]


async def test_close_leaves_no_task_after_drop(new_broker):
    name = f"t{uuid.uuid4().hex}"
    broker = new_broker(with_application_name(POSTGRES_URL, name), reconnect_initial=5.0, reconnect_max=5.0)
    tasks_before = asyncio.all_tasks()
    broker.add_listener(unique_channel(), RecordingListener())
    await broker.start()

    assert await terminate_backends(f"{name} listen") == 1
    await broker.close()

    assert asyncio.all_tasks() == tasks_before
    with pytest.raises(BrokerUnavailableError, match="is not started"):
        await broker.publish(unique_channel(), "1")
