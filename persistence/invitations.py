"""Queries and writes for invitations of people who are not yet members."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import Invitation


async def find_by_token_hash(session: AsyncSession, token_hash: str) -> Invitation | None:
    result = await session.exec(select(Invitation).where(Invitation.token_hash == token_hash))
    return result.first()
