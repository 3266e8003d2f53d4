"""End-to-end fixtures: a real SMTP server (aiosmtpd) and a `pgbs serve` process on a free local port."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.processes import free_port

# Upper bounds of the waits below, in seconds; they are never slept through when the condition is met.
SERVER_START_TIMEOUT = 30.0
MAIL_TIMEOUT = 15.0
POLL_INTERVAL = 0.05


@dataclass
class Mailbox:
    """Collects every message the SMTP server accepts."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for message in self.messages if address in message["X-Envelope-To"]]

    def wait_for(self, address: str, subject_part: str, timeout: float = MAIL_TIMEOUT) -> Message:
        """Return the first message to `address` whose subject contains `subject_part`; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.to(address):
                if subject_part in message["Subject"]:
                    return message
            time.sleep(POLL_INTERVAL)
        subjects = [message["Subject"] for message in self.to(address)]
        raise AssertionError(f"no e-mail to {address} with {subject_part!r} in the subject within {timeout} s: {subjects}")


def text_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_content()
    raise AssertionError(f"e-mail {message['Subject']!r} has no text part")


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@dataclass
class RunningServer:
    base_url: str
    database_url: str
    mailbox: Mailbox
    process: subprocess.Popen

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"


@pytest.fixture
def running_server(database_url: str, smtp_server, tmp_path: Path) -> Iterator[RunningServer]:
    """`pgbs serve` on a free port with the test database, delivering mail to `smtp_server`."""
    controller, mailbox = smtp_server
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(controller.port),
        "SMTP_TLS": "none",
        "PUBLIC_BASE_URL": "http://frontend.test",
        "MAIL_POLL_SECONDS": "0.1",
        "FOLLOW_UP_INTERVAL_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("pgbs")), "serve"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_healthy(base_url, process, tmp_path / "server.log")
        yield RunningServer(base_url=base_url, database_url=database_url, mailbox=mailbox, process=process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def _wait_until_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pgbs serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"pgbs serve did not answer within {SERVER_START_TIMEOUT} s:\n{log_path.read_text()}")
