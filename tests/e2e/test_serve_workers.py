"""`pgbs serve --workers N`: rejected with memory://, served by N processes with a shared broker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from tests.persistence.broker_helpers import POSTGRES_URL, REDIS_URL, free_port

pytestmark = pytest.mark.e2e

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def pgbs_command() -> str:
    return str(Path(sys.executable).parent / "pgbs")


def serve_environment(tmp_path: Path, broker_url: str) -> dict[str, str]:
    """The environment of a `pgbs serve` child: PATH and the settings of this test, nothing inherited."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pgbs.db'}",
        "BROKER_URL": broker_url,
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start `pgbs serve --workers N` children; each is stopped by its PID after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(broker_url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        log = open(tmp_path / f"serve-{port}.log", "wb")
        process = subprocess.Popen(
            [pgbs_command(), "serve", "--port", str(port), "--workers", str(workers)],
            env=serve_environment(tmp_path, broker_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        started.append(process)
        return process, port

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)


async def wait_until(condition, description: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not await condition():
        assert time.monotonic() < deadline, f"timed out after {START_TIMEOUT} s waiting for {description}"
        await asyncio.sleep(0.2)


async def wait_for_health(process: subprocess.Popen[bytes], port: int) -> None:
    async def healthy() -> bool:
        assert process.poll() is None, f"pgbs serve exited with status {process.returncode}"
        try:
            async with httpx.AsyncClient() as http:
                response = await http.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        except httpx.TransportError:
            return False
        return response.status_code == 200

    await wait_until(healthy, f"/healthz on port {port}")


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
