"""The e-mail outbox table: messages are written with the change that causes them, and claimed for delivery.

Several processes may run delivery workers on one database. A worker claims
a message by setting a lease (`locked_until`) with a conditional UPDATE, which
works alike on SQLite and PostgreSQL. So each message is sent by one worker at
a time, and the lease of a worker that dies simply runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import OutboxMessage


def _due(now: datetime) -> list:
    return [
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
    ]


async def claim_due(session: AsyncSession, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to the caller and return them, oldest first."""
    candidates = await session.exec(
        select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id).limit(limit)
    )
    claimed: list[OutboxMessage] = []
    for message_id in candidates.all():
        result = await session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, *_due(now))
            .values(locked_until=lease_until, attempts=OutboxMessage.attempts + 1)
        )
        if result.rowcount == 1:
            message = await session.get(OutboxMessage, message_id, populate_existing=True)
            if message is not None:
                claimed.append(message)
    return claimed


async def mark_sent(session: AsyncSession, message_id: int, now: datetime) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(sent_at=now, locked_until=None, last_error=None)
    )


async def mark_retry(session: AsyncSession, message_id: int, next_attempt_at: datetime, error: str) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=next_attempt_at, locked_until=None, last_error=error[:1000])
    )


async def mark_failed(session: AsyncSession, message_id: int, now: datetime, error: str) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(failed_at=now, locked_until=None, last_error=error[:1000])
    )


async def messages_for(session: AsyncSession, member_id: int) -> Sequence[OutboxMessage]:
    result = await session.exec(
        select(OutboxMessage).where(OutboxMessage.member_id == member_id).order_by(OutboxMessage.id)
    )
    return result.all()


async def messages_to(session: AsyncSession, address: str) -> Sequence[OutboxMessage]:
    result = await session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
    )
    return result.all()


async def pending_messages(session: AsyncSession, limit: int) -> Sequence[OutboxMessage]:
    """Return up to `limit` messages neither sent nor given up, oldest first."""
    result = await session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return result.all()
