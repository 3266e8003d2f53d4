"""Fixtures for end-to-end tests: a real SMTP server and `pgbs serve` in a child process.

    async def test_something(running_server, server_env, smtp_server):
        async with running_server(server_env) as server:
            ...  # server.url, server.graphql_url, server.ws_url, server.pid
            message = await smtp_server.wait_for("ana@example.org", subject="Confirm")

- `smtp_server`: a started `tests.smtp.SmtpRecorder`, stopped after the test.
- `server_env`: the environment for `pgbs serve`: DATABASE_URL of the test's
  database (SQLite and PostgreSQL in turn), SMTP_HOST/SMTP_PORT of
  `smtp_server`, and short mail poll and retry intervals. Copy and change it
  freely.
- `running_server(env)`: an async context manager that starts `pgbs serve`
  on a free port of 127.0.0.1 with `env`, waits for `/healthz`, and on exit
  stops the process by its PID (SIGTERM, then SIGKILL after 15 s).
  Settings not in `env` keep their defaults: of the parent's environment,
  only PATH, HOME, locale and temporary directory variables are passed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncContextManager

import httpx
import pytest

from tests.processes import child_environment, pgbs_command
from tests.smtp import HOST, SmtpRecorder, free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
PUBLIC_BASE_URL = "http://frontend.test"


@dataclass
class RunningServer:
    """A `pgbs serve` process whose /healthz returned 200."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/graphql"

    def log(self) -> str:
        """Return what the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")


async def _wait_until_healthy(process: subprocess.Popen, url: str, log_path: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"pgbs serve exited with status {process.returncode} before answering /healthz:\n"
                    + log_path.read_text(errors="replace")
                )
            with contextlib.suppress(httpx.TransportError):
                response = await http.get(f"{url}/healthz")
                if response.status_code == 200:
                    return
            if loop.time() >= deadline:
                raise AssertionError(
                    f"pgbs serve did not answer /healthz within {START_TIMEOUT} s:\n"
                    + log_path.read_text(errors="replace")
                )
            await asyncio.sleep(0.1)


async def _stop(process: subprocess.Popen) -> None:
    """Stop the process by its PID: SIGTERM for a graceful shutdown, SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_TIMEOUT
    while process.poll() is None:
        if loop.time() >= deadline:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
            raise AssertionError(f"pgbs serve (PID {process.pid}) did not stop within {STOP_TIMEOUT} s of SIGTERM")
        await asyncio.sleep(0.05)


@pytest.fixture
def smtp_server() -> Iterator[SmtpRecorder]:
    server = SmtpRecorder()
    server.start()
    yield server
    server.stop()


# Every test client comes from 127.0.0.1, so the per-client abuse limits would count them all as one client.
LOCAL_CLIENT_LIMITS = {
    "REGISTRATIONS_PER_CLIENT_PER_HOUR": "10000",
    "PASSWORD_RESETS_PER_CLIENT_PER_HOUR": "10000",
    "LOGIN_FAILURES_PER_CLIENT": "10000",
}


@pytest.fixture
def server_env(database_url: str, smtp_server: SmtpRecorder) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_TLS": "none",
        "MAIL_POLL_SECONDS": "0.2",
        "MAIL_RETRY_SECONDS": "0.2",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "LOG_LEVEL": "INFO",
        **LOCAL_CLIENT_LIMITS,
    }


@pytest.fixture
def running_server(tmp_path: Path) -> Callable[[dict[str, str]], AsyncContextManager[RunningServer]]:
    counter = iter(range(1000))

    @contextlib.asynccontextmanager
    async def start(env: dict[str, str]) -> AsyncIterator[RunningServer]:
        port = free_port()
        log_path = tmp_path / f"pgbs-serve-{next(counter)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [pgbs_command(), "serve"],
                env=child_environment({**env, "HOST": HOST, "PORT": str(port)}),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = RunningServer(process=process, port=port, log_path=log_path)
        try:
            await _wait_until_healthy(process, server.url, log_path)
            yield server
        except BaseException:
            # pytest shows captured output of a failed test: include the server's side of the story.
            print(f"--- output of pgbs serve (PID {process.pid}) ---\n{server.log()}")
            raise
        finally:
            await _stop(process)

    return start
