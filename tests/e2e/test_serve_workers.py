"""`pgbs serve --workers N`: rejected with memory://, served by N processes with a shared broker."""

from __future__ import annotations

import subprocess
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest
import websockets
from redis.asyncio import Redis

from tests.e2e.serve_helpers import (
    START_TIMEOUT,
    pgbs_command,
    serve,  # noqa: F401  (fixture)
    serve_environment,
    wait_for_health,
    wait_until,
)
from tests.persistence.broker_helpers import POSTGRES_URL, REDIS_URL, free_port

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("setting", "negotiated"), [(None, None), ("true", "permessage-deflate")])
async def test_websocket_compression_follows_its_setting(serve, setting, negotiated):
    settings = {"WEBSOCKET_COMPRESSION": setting} if setting else {}
    process, port = serve("memory://", settings=settings)
    await wait_for_health(process, port)

    # The client offers permessage-deflate, as browsers do. The server accepts it only when the setting is on.
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"], open_timeout=START_TIMEOUT
    ) as socket:
        extensions = socket.response.headers.get("Sec-WebSocket-Extensions")

    assert (extensions or "").split(";")[0] == (negotiated or "")


def test_workers_with_memory_broker_are_rejected(tmp_path):
    result = subprocess.run(
        [pgbs_command(), "serve", "--port", str(free_port()), "--workers", "2"],
        env=serve_environment(tmp_path, "memory://"),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )

    assert result.returncode == 2
    assert "--workers above 1 needs a shared broker, but BROKER_URL is memory://" in result.stderr
    assert "BROKER_URL=redis://" in result.stderr


async def test_workers_share_postgres_broker(serve):
    name = f"t{uuid.uuid4().hex}"
    separator = "&" if urlsplit(POSTGRES_URL).query else "?"
    process, port = serve(f"{POSTGRES_URL}{separator}application_name={name}", workers=2)

    await wait_for_health(process, port)

    async def every_worker_listens() -> bool:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            count = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", f"{name} listen"
            )
        finally:
            await connection.close()
        return count == 2

    await wait_until(every_worker_listens, "two PostgreSQL broker connections, one per worker")


async def test_workers_share_redis_broker(serve):
    name = f"t{uuid.uuid4().hex}"
    separator = "&" if urlsplit(REDIS_URL).query else "?"
    process, port = serve(f"{REDIS_URL}{separator}client_name={name}", workers=2)

    await wait_for_health(process, port)

    async def every_worker_subscribes() -> bool:
        async with Redis.from_url(REDIS_URL) as redis:
            clients = await redis.client_list()
        return sum(1 for client in clients if client["name"] == name) == 2

    await wait_until(every_worker_subscribes, "two Redis broker connections, one per worker")


def test_unreachable_broker_stops_start(tmp_path):
    broker_url = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [pgbs_command(), "serve", "--port", str(free_port())],
        env=serve_environment(tmp_path, broker_url),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )

    assert result.returncode != 0
    assert "cannot connect to the Redis broker at redis://127.0.0.1:" in result.stderr
