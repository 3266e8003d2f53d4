"""Queries and writes behind members' data rights: export, erasure, follow-up of requests, calendar feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import (
    Activity,
    ActivityProfile,
    AuthToken,
    ContactRequest,
    Invitation,
    Member,
    OutboxMessage,
)

PENDING = "PENDING"
EXPIRED = "EXPIRED"


async def requests_of(session: AsyncSession, member_id: int) -> Sequence[ContactRequest]:
    """Return every contact request the member sent or received, oldest first."""
    result = await session.exec(
        select(ContactRequest)
        .where(or_(ContactRequest.sender_id == member_id, ContactRequest.recipient_id == member_id))
        .order_by(ContactRequest.id)
    )
    return result.all()


async def activities_of_requests(session: AsyncSession, request_ids: Iterable[int]) -> Sequence[Activity]:
    ids = list(set(request_ids))
    if not ids:
        return []
    result = await session.exec(
        select(Activity).where(Activity.contact_request_id.in_(ids)).order_by(Activity.starts_on, Activity.id)
    )
    return result.all()


async def invitations_sent_by(session: AsyncSession, member_id: int) -> Sequence[Invitation]:
    result = await session.exec(select(Invitation).where(Invitation.inviter_id == member_id).order_by(Invitation.id))
    return result.all()


async def messages_to_member(session: AsyncSession, member_id: int, address: str | None) -> Sequence[OutboxMessage]:
    """E-mails queued for the member, found by member id and, for older ones, by address."""
    condition = OutboxMessage.member_id == member_id
    if address is not None:
        condition = or_(condition, OutboxMessage.to_address == address)
    result = await session.exec(select(OutboxMessage).where(condition).order_by(OutboxMessage.id))
    return result.all()


async def tokens_of(session: AsyncSession, member_id: int) -> Sequence[AuthToken]:
    result = await session.exec(select(AuthToken).where(AuthToken.member_id == member_id).order_by(AuthToken.id))
    return result.all()


async def count_pending_received(session: AsyncSession, member_id: int) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(ContactRequest)
        .where(ContactRequest.recipient_id == member_id, ContactRequest.status == PENDING)
    )
    return result.one()


# Erasure.


async def delete_member_rows(session: AsyncSession, member_id: int, address: str | None) -> None:
    """Delete the member's tokens, activity profile, sent invitations and every e-mail addressed to them."""
    await session.exec(delete(AuthToken).where(AuthToken.member_id == member_id))
    await session.exec(delete(ActivityProfile).where(ActivityProfile.member_id == member_id))
    await session.exec(delete(Invitation).where(Invitation.inviter_id == member_id))
    condition = OutboxMessage.member_id == member_id
    if address is not None:
        condition = or_(condition, OutboxMessage.to_address == address)
    await session.exec(delete(OutboxMessage).where(condition))


async def anonymise_accepted_invitations(session: AsyncSession, member_id: int, placeholder: str) -> None:
    """Remove the member's names and address from invitations that other members sent to them."""
    await session.exec(
        update(Invitation)
        .where(Invitation.accepted_by_id == member_id)
        .values(first_name=placeholder, last_name="", email="", message=None)
    )


async def messages_to_members(session: AsyncSession, member_ids: Iterable[int]) -> Sequence[OutboxMessage]:
    ids = list(set(member_ids))
    if not ids:
        return []
    result = await session.exec(select(OutboxMessage).where(OutboxMessage.member_id.in_(ids)))
    return result.all()


async def finished_messages_of_erased_members(session: AsyncSession, created_before: datetime) -> Sequence[int]:
    """Ids of e-mails to erased members that were delivered, given up, or queued before `created_before`."""
    result = await session.exec(
        select(OutboxMessage.id)
        .join(Member, Member.id == OutboxMessage.member_id)
        .where(
            Member.deleted_at.is_not(None),
            or_(
                OutboxMessage.sent_at.is_not(None),
                OutboxMessage.failed_at.is_not(None),
                OutboxMessage.created_at < created_before,
            ),
        )
    )
    return result.all()


async def delete_messages(session: AsyncSession, message_ids: Sequence[int]) -> None:
    if message_ids:
        await session.exec(delete(OutboxMessage).where(OutboxMessage.id.in_(list(message_ids))))


# Follow-up of pending requests.


async def pending_created_before(
    session: AsyncSession, moment: datetime, *, not_reminded: bool = False, limit: int = 200
) -> Sequence[ContactRequest]:
    query = select(ContactRequest).where(ContactRequest.status == PENDING, ContactRequest.created_at <= moment)
    if not_reminded:
        query = query.where(ContactRequest.reminded_at.is_(None))
    result = await session.exec(query.order_by(ContactRequest.id).limit(limit))
    return result.all()


async def mark_reminded(session: AsyncSession, request_ids: Sequence[int], now: datetime) -> set[int]:
    """Record the reminder of each request unless another pass did it first or it is no longer pending.

    Returns the ids of the requests marked, by one statement whatever their number.
    """
    result = await session.exec(
        update(ContactRequest)
        .where(
            ContactRequest.id.in_(request_ids),
            ContactRequest.status == PENDING,
            ContactRequest.reminded_at.is_(None),
        )
        .values(reminded_at=now)
        .returning(ContactRequest.id)
    )
    return set(result.scalars().all())


async def expire_pending(session: AsyncSession, request_ids: Sequence[int]) -> set[int]:
    """Expire each request that is still pending; return the ids of those expired, by one statement."""
    result = await session.exec(
        update(ContactRequest)
        .where(ContactRequest.id.in_(request_ids), ContactRequest.status == PENDING)
        .values(status=EXPIRED)
        .returning(ContactRequest.id)
    )
    return set(result.scalars().all())


# Calendar feeds.


async def get_member_by_calendar_token(session: AsyncSession, token: str) -> Member | None:
    result = await session.exec(select(Member).where(Member.calendar_token == token, Member.deleted_at.is_(None)))
    return result.first()


async def set_calendar_token(session: AsyncSession, member_id: int, token: str, *, only_if_missing: bool) -> bool:
    statement = update(Member).where(Member.id == member_id, Member.deleted_at.is_(None))
    if only_if_missing:
        statement = statement.where(Member.calendar_token.is_(None))
    result = await session.exec(statement.values(calendar_token=token))
    return result.rowcount == 1
