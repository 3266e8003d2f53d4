"""Delivery of outbox messages: senders, and the background worker that retries with backoff."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from domain.clock import Clock
from pgbs.settings import Settings
from persistence import outbox as outbox_table
from persistence.database import Database
from persistence.models import OutboxMessage

logger = logging.getLogger(__name__)

# How long a worker holds a claimed message; a worker that dies frees it after this.
# NOTE: a worker that dies after the SMTP server accepted a message but before
# marking it sent leaves it to be sent again: delivery is at least once.
LEASE = timedelta(minutes=2)
# One send is abandoned after this long, well inside LEASE, so that no other
# worker claims the message again while this one may still be sending it.
SEND_TIMEOUT_SECONDS = 60.0
LONGEST_RETRY = timedelta(hours=1)
# Messages tried per round before the worker checks for new work again.
BATCH_SIZE = 20


class DeliveryError(Exception):
    """Raised by a sender when a message could not be handed to the mail server; it is retried."""


class Sender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


def build_email(row: OutboxMessage, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = f"<outbox-{row.id}@pgbs>"
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


class SmtpSender:
    """Sends through an SMTP server, one connection per message."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        if settings.smtp_host is None:
            raise ValueError("SmtpSender needs SMTP_HOST")
        self.settings = settings
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        tls = settings.smtp_tls
        port = settings.smtp_port or DEFAULT_PORTS[tls]
        # None lets aiosmtplib upgrade when the server offers STARTTLS ("auto").
        start_tls = {"starttls": True, "tls": False, "none": False}.get(tls)
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=tls == "tls",
                start_tls=start_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from error


# The standard SMTP port of each SMTP_TLS mode, used when SMTP_PORT is unset.
DEFAULT_PORTS = {"tls": 465, "starttls": 587, "auto": 25, "none": 25}


class MemorySender:
    """Keeps sent messages in a list; for tests and for running without a mail server."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def retry_delay(attempts: int, first: timedelta) -> timedelta:
    """Return the wait before the next try after `attempts` failed tries: `first`, doubling, at most an hour."""
    return min(first * (2 ** min(attempts - 1, 20)), LONGEST_RETRY)


class DeliveryWorker:
    """Delivers due outbox messages until stopped; woken early by the outbox after a commit."""

    def __init__(
        self,
        database: Database,
        sender: Sender,
        settings: Settings,
        clock: Clock,
        wake: asyncio.Event,
    ) -> None:
        self.database = database
        self.sender = sender
        self.settings = settings
        self.clock = clock
        self.wake = wake

    async def run(self) -> None:
        logger.info("mail delivery worker started")
        try:
            while True:
                try:
                    delivered_all = await self.deliver_due()
                except Exception:
                    # A database fault must not end delivery for good: log it and try again.
                    logger.exception("mail delivery round failed; retrying in %s s", self.settings.mail_poll_seconds)
                    delivered_all = True
                if delivered_all:
                    try:
                        await asyncio.wait_for(self.wake.wait(), timeout=self.settings.mail_poll_seconds)
                    except TimeoutError:
                        pass
                    self.wake.clear()
        finally:
            logger.info("mail delivery worker stopped")

    async def deliver_due(self) -> bool:
        """Try due messages once each, up to BATCH_SIZE; True when none is left due.

        Messages are claimed one at a time, so each lease starts just before
        its own send and a slow message never lets the lease of a later one run out.
        """
        for _ in range(BATCH_SIZE):
            now = self.clock.now()
            async with self.database.write() as session:
                claimed = await outbox_table.claim_due(session, now, now + LEASE, 1)
            if not claimed:
                return True
            await self._deliver(claimed[0])
        return False

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            await asyncio.wait_for(
                self.sender.send(build_email(row, self.settings.mail_from)), timeout=SEND_TIMEOUT_SECONDS
            )
        except DeliveryError as error:
            await self._record_failure(row, str(error))
            return
        except TimeoutError:
            await self._record_failure(row, f"no answer from the mail server within {SEND_TIMEOUT_SECONDS:.0f} s")
            return
        except Exception as error:
            # A bug in building or sending this message must not stop the others:
            # it is counted as a failed attempt like any other.
            logger.exception("e-mail %s (%s) could not be sent because of an unexpected error", row.id, row.template)
            await self._record_failure(row, f"{type(error).__name__}: {error}")
            return
        async with self.database.write() as session:
            await outbox_table.mark_sent(session, row.id, self.clock.now())
        logger.info("e-mail %s (%s) delivered after %d attempt(s)", row.id, row.template, row.attempts)

    async def _record_failure(self, row: OutboxMessage, error: str) -> None:
        now = self.clock.now()
        async with self.database.write() as session:
            if row.attempts >= self.settings.mail_max_attempts:
                await outbox_table.mark_failed(session, row.id, now, error)
                logger.error("e-mail %s (%s) given up after %d attempts: %s", row.id, row.template, row.attempts, error)
                return
            delay = retry_delay(row.attempts, timedelta(seconds=self.settings.mail_retry_seconds))
            await outbox_table.mark_retry(session, row.id, now + delay, error)
        logger.warning(
            "e-mail %s (%s) not delivered (attempt %d), retrying in %d s: %s",
            row.id,
            row.template,
            row.attempts,
            delay.total_seconds(),
            error,
        )
