"""The delivery worker against a real SMTP server: sending, retries with backoff, giving up, leases."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from domain.clock import Clock
from domain.services import Services
from mailer.delivery import LEASE, DeliveryWorker, MemorySender, SmtpSender
from persistence import outbox as outbox_table
from persistence.database import Database
from persistence.models import OutboxMessage
from pgbs.settings import Settings
from tests.factories import latest_token, outbox, register
from tests.smtp import SmtpRecorder

RETRY_SECONDS = 10


@pytest.fixture
def smtp_server() -> Iterator[SmtpRecorder]:
    server = SmtpRecorder()
    server.start()
    yield server
    server.stop()


def delivery_settings(settings: Settings, server: SmtpRecorder, **changes: object) -> Settings:
    return replace(
        settings,
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_tls="none",
        mail_retry_seconds=RETRY_SECONDS,
        **changes,
    )


def worker_for(services: Services, settings: Settings, database: Database | None = None) -> DeliveryWorker:
    return DeliveryWorker(
        database or services.database, SmtpSender(settings, timeout=5), settings, services.clock, asyncio.Event()
    )


async def queue_messages(services: Services, count: int = 1) -> list[int]:
    ids = []
    async with services.database.write() as session:
        for index in range(count):
            services.mail.queue(
                session,
                "verify_email",
                f"member{index}@example.org",
                member_id=None,
                values={"first_name": f"Member {index}", "link": f"http://frontend.test/x?token={index}", "valid_hours": 48},
            )
        await session.flush()
        result = await session.exec(select(OutboxMessage.id).order_by(OutboxMessage.id))
        ids = list(result.all())
    return ids


async def stored(services: Services, message_id: int) -> OutboxMessage:
    async with services.database.read() as session:
        row = await session.get(OutboxMessage, message_id)
    assert row is not None
    return row


async def test_delivery_sends_and_marks_sent(services, settings, smtp_server):
    [message_id] = await queue_messages(services)

    all_done = await worker_for(services, delivery_settings(settings, smtp_server)).deliver_due()

    assert all_done is True
    received = smtp_server.messages("member0@example.org")
    assert len(received) == 1
    assert received[0]["Subject"].startswith("Confirm your e-mail address")
    row = await stored(services, message_id)
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.locked_until is None


async def test_delivery_retries_with_backoff_until_server_is_back(services, settings, clock: Clock, smtp_server):
    smtp_server.stop()
    worker = worker_for(services, delivery_settings(settings, smtp_server))
    [message_id] = await queue_messages(services)

    await worker.deliver_due()
    first = await stored(services, message_id)
    assert first.sent_at is None
    assert first.attempts == 1
    assert first.last_error
    assert first.next_attempt_at - clock.now() > timedelta(seconds=RETRY_SECONDS - 2)

    await worker.deliver_due()
    assert (await stored(services, message_id)).attempts == 1, "retried before the backoff ran out"

    clock.advance(timedelta(seconds=RETRY_SECONDS))
    await worker.deliver_due()
    second = await stored(services, message_id)
    assert second.attempts == 2
    # The second wait is twice the first.
    assert second.next_attempt_at - clock.now() > timedelta(seconds=2 * RETRY_SECONDS - 2)

    smtp_server.start()
    clock.advance(timedelta(seconds=2 * RETRY_SECONDS))
    await worker.deliver_due()

    delivered = await stored(services, message_id)
    assert delivered.sent_at is not None
    assert delivered.attempts == 3
    assert len(smtp_server.messages("member0@example.org")) == 1


async def test_delivery_gives_up_after_max_attempts(services, settings, clock: Clock, smtp_server):
    smtp_server.stop()
    worker = worker_for(services, delivery_settings(settings, smtp_server, mail_max_attempts=2))
    [message_id] = await queue_messages(services)

    await worker.deliver_due()
    clock.advance(timedelta(seconds=RETRY_SECONDS))
    await worker.deliver_due()

    given_up = await stored(services, message_id)
    assert given_up.failed_at is not None
    assert given_up.attempts == 2

    smtp_server.start()
    clock.advance(timedelta(hours=2))
    await worker.deliver_due()
    assert (await stored(services, message_id)).sent_at is None
    assert smtp_server.messages() == []


async def test_two_workers_send_each_message_once(services, settings, smtp_server):
    ids = await queue_messages(services, count=12)
    delivery = delivery_settings(settings, smtp_server)
    # A second engine stands for a second process on the same database.
    other_database = Database(settings.database_url)
    try:
        first = worker_for(services, delivery)
        second = worker_for(services, delivery, database=other_database)
        await asyncio.gather(first.deliver_due(), second.deliver_due(), first.deliver_due())
    finally:
        await other_database.dispose()

    recipients = [str(message["To"]) for message in smtp_server.messages()]
    assert sorted(recipients) == sorted(f"member{index}@example.org" for index in range(12))
    for message_id in ids:
        row = await stored(services, message_id)
        assert row.sent_at is not None
        assert row.attempts == 1


async def test_lease_keeps_a_claimed_message_from_others(services, clock: Clock):
    [message_id] = await queue_messages(services)
    now = clock.now()

    async with services.database.write() as session:
        first = await outbox_table.claim_due(session, now, now + LEASE, 10)
    async with services.database.write() as session:
        second = await outbox_table.claim_due(session, now, now + LEASE, 10)
    later = now + LEASE + timedelta(seconds=1)
    async with services.database.write() as session:
        after_lease = await outbox_table.claim_due(session, later, later + LEASE, 10)

    assert [row.id for row in first] == [message_id]
    assert second == []
    assert [row.id for row in after_lease] == [message_id]


async def test_no_smtp_host_keeps_mail_unlogged(client, services, caplog):
    caplog.set_level(logging.INFO, logger="mailer")

    await register(client, "nosmtp@example.org")

    [row] = await outbox(services, "nosmtp@example.org")
    assert row.sent_at is None
    assert row.attempts == 0
    token = await latest_token(services, "nosmtp@example.org", "verify_email")
    notices = [record.getMessage() for record in caplog.records if "stays in the outbox" in record.getMessage()]
    assert notices == [f"no SMTP_HOST set: e-mail {row.id} (verify_email) to member {row.member_id} stays in the outbox"]
    assert token not in caplog.text
    assert "nosmtp@example.org" not in caplog.text


class FailingForOneAddress(MemorySender):
    """Sends like MemorySender, except that a bug-like error is raised for one recipient."""

    def __init__(self, broken_address: str) -> None:
        super().__init__()
        self.broken_address = broken_address

    async def send(self, message) -> None:
        if message["To"] == self.broken_address:
            raise RuntimeError("template produced an unusable header")
        await super().send(message)


async def test_unexpected_send_error_counts_as_failed_attempt(services, settings):
    broken_id, healthy_id = await queue_messages(services, count=2)
    sender = FailingForOneAddress("member0@example.org")
    worker = DeliveryWorker(services.database, sender, settings, services.clock, asyncio.Event())

    await worker.deliver_due()

    broken = await stored(services, broken_id)
    assert broken.sent_at is None
    assert broken.failed_at is None
    assert broken.last_error == "RuntimeError: template produced an unusable header"
    assert (await stored(services, healthy_id)).sent_at is not None
    assert [str(message["To"]) for message in sender.sent] == ["member1@example.org"]


async def test_worker_wakes_on_commit_before_poll_interval(services, settings):
    # With a one-hour poll interval, only the outbox's after-commit wake-up can explain a prompt delivery.
    slow_polling = replace(settings, mail_poll_seconds=3600)
    # As when SMTP_HOST is set: the outbox then wakes the worker after each commit.
    services.mail.delivery_enabled = True
    sender = MemorySender()
    worker = DeliveryWorker(services.database, sender, slow_polling, services.clock, services.mail.wake)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0)  # let the worker finish its first, empty round and start waiting
        await queue_messages(services)

        async with asyncio.timeout(10):
            while not sender.sent:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert str(sender.sent[0]["To"]) == "member0@example.org"
