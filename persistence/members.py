"""Queries and writes for members, their organisations, activity profiles and tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import ActivityProfile, AuthToken, Member, Organisation


async def get_member(session: AsyncSession, member_id: int) -> Member | None:
    return await session.get(Member, member_id)


async def get_member_by_email(session: AsyncSession, email: str) -> Member | None:
    result = await session.exec(select(Member).where(Member.email == email))
    return result.first()


async def get_members(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, Member]:
    ids = list(set(member_ids))
    if not ids:
        return {}
    result = await session.exec(select(Member).where(Member.id.in_(ids)))
    return {member.id: member for member in result}


async def get_organisations(session: AsyncSession, organisation_ids: Iterable[int]) -> dict[int, Organisation]:
    ids = list(set(organisation_ids))
    if not ids:
        return {}
    result = await session.exec(select(Organisation).where(Organisation.id.in_(ids)))
    return {organisation.id: organisation for organisation in result}


async def get_activity_profiles(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, ActivityProfile]:
    ids = list(set(member_ids))
    if not ids:
        return {}
    result = await session.exec(select(ActivityProfile).where(ActivityProfile.member_id.in_(ids)))
    return {profile.member_id: profile for profile in result}


async def get_coordinators(session: AsyncSession) -> Sequence[Member]:
    result = await session.exec(
        select(Member).where(Member.is_coordinator.is_(True), Member.deleted_at.is_(None)).order_by(Member.id)
    )
    return result.all()


async def count_members(session: AsyncSession) -> int:
    result = await session.exec(select(func.count()).select_from(Member))
    return result.one()


async def add(session: AsyncSession, row: object) -> None:
    """Insert or update `row` and flush, so generated ids are set."""
    session.add(row)
    await session.flush()


async def find_token(session: AsyncSession, token_hash: str, purpose: str) -> AuthToken | None:
    result = await session.exec(
        select(AuthToken).where(AuthToken.token_hash == token_hash, AuthToken.purpose == purpose)
    )
    return result.first()


# Built once: every authenticated request runs it, and building the expression
# took about a quarter of the authentication's time in a profile (pyinstrument,
# the search page over HTTP on SQLite).
_TOKEN_WITH_MEMBER = (
    select(AuthToken, Member)
    .join(Member, Member.id == AuthToken.member_id)
    .where(AuthToken.token_hash == bindparam("token_hash"), AuthToken.purpose == bindparam("purpose"))
)


async def find_token_with_member(
    session: AsyncSession, token_hash: str, purpose: str
) -> tuple[AuthToken, Member] | None:
    """Return a token and its member, read by one statement, as every authenticated request does."""
    result = await session.exec(_TOKEN_WITH_MEMBER, params={"token_hash": token_hash, "purpose": purpose})
    return result.first()


async def use_token(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Mark a single-use token used; False when another request used it first."""
    result = await session.exec(
        update(AuthToken)
        .where(AuthToken.id == token_id, AuthToken.used_at.is_(None), AuthToken.expires_at > now)
        .values(used_at=now)
    )
    return result.rowcount == 1


async def expire_tokens(session: AsyncSession, member_id: int, purposes: Sequence[str], now: datetime) -> None:
    """End every unused token of `member_id` with one of `purposes`, such as all sessions."""
    await session.exec(
        update(AuthToken)
        .where(
            AuthToken.member_id == member_id,
            AuthToken.purpose.in_(purposes),
            AuthToken.used_at.is_(None),
            AuthToken.expires_at > now,
        )
        .values(expires_at=now)
    )
