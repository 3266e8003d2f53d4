"""Fixtures for end-to-end tests: a real SMTP server and a real `pgbs serve` process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.processes import free_port

REPOSITORY = Path(__file__).resolve().parents[3]
# Bound for a server to start or a message to arrive; both take well under a second when healthy.
STARTUP_TIMEOUT = 60
MAIL_TIMEOUT = 20


@dataclass
class SmtpServer:
    """Messages received by the test's SMTP server, in arrival order."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["X-Envelope-To"]]

    async def wait_for(self, predicate: Callable[[EmailMessage], bool]) -> EmailMessage:
        """Return the first message matching `predicate`, waiting up to MAIL_TIMEOUT seconds."""
        deadline = time.monotonic() + MAIL_TIMEOUT
        while time.monotonic() < deadline:
            for message in list(self.messages):
                if predicate(message):
                    return message
            await asyncio.sleep(0.05)
        subjects = [message["Subject"] for message in self.messages]
        raise AssertionError(f"no matching e-mail within {MAIL_TIMEOUT}s; received: {subjects}")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(host="127.0.0.1", port=free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()


@dataclass
class RunningServer:
    base_url: str
    ws_url: str
    database_url: str
    environment: dict[str, str]

    def run_command(self, *arguments: str) -> subprocess.CompletedProcess:
        """Run a `pgbs` command against the server's database."""
        return subprocess.run(
            [sys.executable, "-m", "pgbs.cli", *arguments],
            env=self.environment, cwd=REPOSITORY, capture_output=True, text=True, timeout=STARTUP_TIMEOUT,
        )


@pytest.fixture
def running_server(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[RunningServer]:
    """`pgbs serve` in a subprocess on a free port, on the test's database, sending mail to `smtp_server`."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_TLS": "none",
        "PUBLIC_BASE_URL": "http://frontend.test",
        "COORDINATOR_EMAILS": "campaign-office@pgbs.example",
        "BROKER_URL": "memory://",
        "LOG_LEVEL": "INFO",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pgbs.cli", "serve"], env=environment, cwd=REPOSITORY, stdout=log, stderr=log
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, base_url, log_path)
        yield RunningServer(
            base_url=base_url, ws_url=f"ws://127.0.0.1:{port}/graphql", database_url=database_url,
            environment=environment,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_healthy(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pgbs serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"pgbs serve was not healthy within {STARTUP_TIMEOUT}s:\n{log_path.read_text()}")
