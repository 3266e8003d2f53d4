"""Queries and writes for invitations of people who are not yet members."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import Invitation, Member


async def find_by_token_hash(session: AsyncSession, token_hash: str) -> Invitation | None:
    result = await session.exec(select(Invitation).where(Invitation.token_hash == token_hash))
    return result.first()


async def get_invitations(session: AsyncSession, invitation_ids: Iterable[int]) -> dict[int, Invitation]:
    ids = list(set(invitation_ids))
    if not ids:
        return {}
    result = await session.exec(select(Invitation).where(Invitation.id.in_(ids)))
    return {row.id: row for row in result}


async def lock_inviter(session: AsyncSession, inviter_id: int) -> None:
    """Lock the inviter's member row until the transaction ends, so their invitations are counted one at a time.

    PostgreSQL takes a row lock; SQLite ignores FOR UPDATE, but a write
    transaction there already holds the database's write lock.
    """
    await session.exec(select(Member.id).where(Member.id == inviter_id).with_for_update())


async def count_sent_by(session: AsyncSession, inviter_id: int, since: datetime) -> int:
    result = await session.exec(
        select(func.count()).select_from(Invitation).where(
            Invitation.inviter_id == inviter_id, Invitation.created_at > since
        )
    )
    return result.one()


async def count_to_address(
    session: AsyncSession, email: str, since: datetime, *, inviter_id: int | None = None, sent_only: bool = False
) -> int:
    """Count invitations to `email` created after `since`, optionally of one inviter or only e-mailed ones."""
    query = select(func.count()).select_from(Invitation).where(Invitation.email == email, Invitation.created_at > since)
    if inviter_id is not None:
        query = query.where(Invitation.inviter_id == inviter_id)
    if sent_only:
        query = query.where(Invitation.sent.is_(True))
    return (await session.exec(query)).one()


async def mark_accepted(session: AsyncSession, invitation_id: int, member_id: int, now: datetime) -> bool:
    """Record the member who registered with the invitation; False when it was used or expired first."""
    result = await session.exec(
        update(Invitation)
        .where(
            Invitation.id == invitation_id,
            Invitation.accepted_by_id.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_by_id=member_id)
    )
    return result.rowcount == 1
