"""Queries and writes for contact requests."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import ContactRequest


async def exchanges_with(
    session: AsyncSession, viewer_id: int, owner_ids: Iterable[int]
) -> dict[int, tuple[bool, bool]]:
    """For each owner, return (owner sent the viewer a request, owner accepted one from the viewer)."""
    ids = list(set(owner_ids))
    found: dict[int, tuple[bool, bool]] = {owner_id: (False, False) for owner_id in ids}
    if not ids:
        return found
    result = await session.exec(
        select(ContactRequest.sender_id, ContactRequest.recipient_id, ContactRequest.status).where(
            or_(
                and_(ContactRequest.sender_id.in_(ids), ContactRequest.recipient_id == viewer_id),
                and_(
                    ContactRequest.sender_id == viewer_id,
                    ContactRequest.recipient_id.in_(ids),
                    ContactRequest.status == "ACCEPTED",
                ),
            )
        )
    )
    for sender_id, recipient_id, _status in result:
        if recipient_id == viewer_id:
            sent, accepted = found[sender_id]
            found[sender_id] = (True, accepted)
        else:
            sent, accepted = found[recipient_id]
            found[recipient_id] = (sent, True)
    return found
