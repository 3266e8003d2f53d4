"""Fixtures for end-to-end tests: an SMTP server that keeps what it receives, and a real `pgbs serve`.

The server process runs on a free port of 127.0.0.1 against the test's
database (SQLite and PostgreSQL in turn, from `database_url`) and delivers
e-mail to `smtp_server`. Every wait is a bounded poll.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.processes import free_port

PUBLIC_BASE_URL = "http://frontend.test"
# How long a test waits for the server to start or an e-mail to arrive, in seconds.
STARTUP_TIMEOUT = 30.0
MAIL_TIMEOUT = 15.0


class MailStore:
    """The aiosmtpd handler: keeps every message it receives, for tests to wait on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._messages.append(message)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    async def wait_for(
        self, address: str, matches: Callable[[EmailMessage], bool] = lambda message: True, *, count: int = 1
    ) -> list[EmailMessage]:
        """Wait until `count` messages to `address` satisfy `matches`; return them, oldest first."""
        deadline = time.monotonic() + MAIL_TIMEOUT
        while True:
            found = [message for message in self.to(address) if matches(message)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                subjects = [message["Subject"] for message in self.to(address)]
                raise AssertionError(
                    f"{len(found)} of {count} expected e-mail(s) to {address} after {MAIL_TIMEOUT} s; got {subjects}"
                )
            await asyncio.sleep(0.05)


def text_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@dataclass
class SmtpServer:
    host: str
    port: int
    store: MailStore


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    store = MailStore()
    port = free_port()
    controller = Controller(store, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=port, store=store)
    finally:
        controller.stop()


@dataclass
class RunningServer:
    url: str  # the GraphQL endpoint
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


async def _wait_until_healthy(server: RunningServer) -> None:
    health = server.url.removesuffix("/graphql") + "/healthz"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"pgbs serve exited with {server.process.returncode}:\n{server.log()}")
            try:
                if (await http.get(health)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"pgbs serve did not answer {health} within {STARTUP_TIMEOUT} s:\n{server.log()}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def running_server(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A `pgbs serve` process on a free port, using the test database and `smtp_server`."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_TLS": "none",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "MAIL_POLL_SECONDS": "0.2",
        "MAIL_RETRY_SECONDS": "0.2",
        "BROKER_URL": "memory://",
        "LOG_LEVEL": "INFO",
    }
    pgbs = Path(sys.executable).parent / "pgbs"
    log_path = tmp_path / "pgbs-serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(pgbs), "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    server = RunningServer(url=f"http://127.0.0.1:{port}/graphql", process=process, log_path=log_path)
    try:
        await _wait_until_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
