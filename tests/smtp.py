"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every message it receives.

    server = SmtpRecorder()          # picks a free port; not listening yet
    server.start()                   # listening on server.port
    message = await server.wait_for("ana@example.org", subject="Confirm")
    server.stop()                    # start() again later reuses the same port

The server runs in aiosmtpd's own thread, so it keeps accepting messages while
a test awaits something else.
"""

from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.processes import free_port

HOST = "127.0.0.1"


def text_body(message: EmailMessage) -> str:
    """Return the plain-text part of a received message, with SMTP's CRLF line ends turned into LF."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"message {message['Subject']!r} has no text/plain part"
    return part.get_content().replace("\r\n", "\n")


class _Handler:
    def __init__(self, recorder: SmtpRecorder) -> None:
        self.recorder = recorder

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.recorder._record(list(envelope.rcpt_tos), message)
        return "250 Message accepted for delivery"


class SmtpRecorder:
    """An aiosmtpd server that stores each received message with its envelope recipients."""

    def __init__(self, port: int | None = None) -> None:
        self.host = HOST
        self.port = port or free_port()
        self._messages: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=10)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _record(self, recipients: list[str], message: EmailMessage) -> None:
        with self._lock:
            self._messages.append((recipients, message))

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        """Return the messages received so far, oldest first; only those to `to` when given."""
        with self._lock:
            found = list(self._messages)
        return [message for recipients, message in found if to is None or to.lower() in map(str.lower, recipients)]

    async def wait_for(
        self, to: str, *, subject: str | None = None, count: int = 1, timeout: float = 15.0
    ) -> EmailMessage:
        """Wait until `count` messages to `to` (whose subject contains `subject`) arrived; return the last.

        Raises AssertionError after `timeout` seconds, listing what did arrive.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            matching = [
                message for message in self.messages(to) if subject is None or subject in str(message["Subject"])
            ]
            if len(matching) >= count:
                return matching[count - 1]
            if asyncio.get_running_loop().time() >= deadline:
                received = [(str(message["To"]), str(message["Subject"])) for message in self.messages()]
                raise AssertionError(
                    f"expected {count} message(s) to {to} with subject containing {subject!r} "
                    f"within {timeout} s; received: {received}"
                )
            await asyncio.sleep(0.05)
