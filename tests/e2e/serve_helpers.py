"""`pgbs serve` child processes for the end-to-end tests of several processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import LOCAL_CLIENT_LIMITS
from tests.processes import free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def pgbs_command() -> str:
    return str(Path(sys.executable).parent / "pgbs")


def serve_environment(tmp_path: Path, broker_url: str, database_url: str | None = None) -> dict[str, str]:
    """The environment of a `pgbs serve` child: PATH and the settings of this test, nothing inherited."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp_path / 'pgbs.db'}",
        "BROKER_URL": broker_url,
        "LOG_LEVEL": "INFO",
        # With a Redis broker the abuse counters live in that Redis and outlast the test run,
        # and every test client is 127.0.0.1, so the per-client limits are lifted here.
        **LOCAL_CLIENT_LIMITS,
    }


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], int]]]:
    """Start `pgbs serve --workers N` children on free ports; each is stopped by its PID after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        broker_url: str, workers: int = 1, database_url: str | None = None, settings: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        environment = {**serve_environment(tmp_path, broker_url, database_url), **(settings or {})}
        # The service reads the map event log at start-up, so its database must be migrated first.
        subprocess.run([pgbs_command(), "migrate"], env=environment, check=True, capture_output=True, timeout=120)
        with open(tmp_path / f"serve-{port}.log", "wb") as log:
            process = subprocess.Popen(
                [pgbs_command(), "serve", "--port", str(port), "--workers", str(workers)],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
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


async def wait_until(condition: Callable[[], Awaitable[bool]], description: str) -> None:
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
