"""Queries and writes for contact requests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import ContactRequest

OPEN_PAIR_INDEX = "uq_contact_request_open_pair"


def is_open_pair_conflict(error: IntegrityError) -> bool:
    """Tell whether `error` is a violation of the one-open-request-per-pair index.

    asyncpg names the violated index in `constraint_name` on the driver's own
    exception, which SQLAlchemy keeps as the cause of `error.orig`. SQLite
    names only the columns: "UNIQUE constraint failed: contact_request.pair_low_id, ...".
    """
    cause: BaseException | None = error.orig
    while cause is not None:
        if getattr(cause, "constraint_name", None) == OPEN_PAIR_INDEX:
            return True
        cause = cause.__cause__
    message = str(error.orig)
    return "UNIQUE constraint failed: contact_request.pair_low_id, contact_request.pair_high_id" in message


async def exchanges_with(
    session: AsyncSession, viewer_id: int, owner_ids: Iterable[int]
) -> dict[int, tuple[bool, bool]]:
    """For each owner, return (owner sent the viewer a request, owner accepted one from the viewer)."""
    ids = list(set(owner_ids))
    if not ids:
        return {}
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
    return exchanges_from(viewer_id, ids, result)


def exchanges_from(viewer_id: int, owner_ids: Iterable[int], rows: Iterable[Any]) -> dict[int, tuple[bool, bool]]:
    """Return `exchanges_with`'s answer computed from rows with sender_id, recipient_id and status.

    `rows` may hold more requests than that rule reads (any status, either
    direction), as `requests_between` returns.
    """
    found: dict[int, tuple[bool, bool]] = {owner_id: (False, False) for owner_id in owner_ids}
    for row in rows:
        if row.recipient_id == viewer_id and row.sender_id in found:
            sent, accepted = found[row.sender_id]
            found[row.sender_id] = (True, accepted)
        elif row.sender_id == viewer_id and row.status == "ACCEPTED" and row.recipient_id in found:
            sent, accepted = found[row.recipient_id]
            found[row.recipient_id] = (sent, True)
    return found


def exchange_conditions(viewer_id: int | ColumnElement, owner_id: ColumnElement) -> tuple[ColumnElement, ColumnElement]:
    """Return `exchanges_with`'s two results as conditions on a column of owner ids, for one statement per page."""
    sent = exists().where(ContactRequest.sender_id == owner_id, ContactRequest.recipient_id == viewer_id)
    accepted = exists().where(
        ContactRequest.sender_id == viewer_id,
        ContactRequest.recipient_id == owner_id,
        ContactRequest.status == "ACCEPTED",
    )
    return sent, accepted


def latest_request_id(viewer_id: int | ColumnElement, other_id: ColumnElement) -> ColumnElement:
    """Return the id of the latest request between the viewer and a column of member ids, either direction, or null."""
    return (
        select(func.max(ContactRequest.id))
        .where(
            or_(
                and_(ContactRequest.sender_id == viewer_id, ContactRequest.recipient_id == other_id),
                and_(ContactRequest.sender_id == other_id, ContactRequest.recipient_id == viewer_id),
            )
        )
        .scalar_subquery()
    )


async def get_request(session: AsyncSession, request_id: int) -> ContactRequest | None:
    return await session.get(ContactRequest, request_id)


async def get_requests(session: AsyncSession, request_ids: Iterable[int]) -> dict[int, ContactRequest]:
    ids = list(set(request_ids))
    if not ids:
        return {}
    result = await session.exec(select(ContactRequest).where(ContactRequest.id.in_(ids)))
    return {row.id: row for row in result}


async def open_request_between(session: AsyncSession, first_id: int, second_id: int) -> ContactRequest | None:
    """Return the pending or accepted request of the pair, in either direction, if any."""
    low, high = sorted((first_id, second_id))
    result = await session.exec(
        select(ContactRequest).where(
            ContactRequest.pair_low_id == low,
            ContactRequest.pair_high_id == high,
            ContactRequest.status.in_(("PENDING", "ACCEPTED")),
        )
    )
    return result.first()


async def latest_with(session: AsyncSession, viewer_id: int, other_ids: Iterable[int]) -> dict[int, ContactRequest]:
    """For each other member, the most recent request between them and the viewer, either direction."""
    return latest_from(viewer_id, await requests_between(session, viewer_id, other_ids))


async def requests_between(session: AsyncSession, viewer_id: int, other_ids: Iterable[int]) -> list[ContactRequest]:
    """Return every request between the viewer and any of the other members, either direction, oldest first."""
    ids = list(set(other_ids))
    if not ids:
        return []
    result = await session.exec(
        select(ContactRequest)
        .where(
            or_(
                and_(ContactRequest.sender_id == viewer_id, ContactRequest.recipient_id.in_(ids)),
                and_(ContactRequest.recipient_id == viewer_id, ContactRequest.sender_id.in_(ids)),
            )
        )
        .order_by(ContactRequest.id)
    )
    return list(result)


def latest_from(viewer_id: int, rows: Iterable[ContactRequest]) -> dict[int, ContactRequest]:
    """Return, for each other member, the last of `rows` (ordered by id) between them and the viewer."""
    latest: dict[int, ContactRequest] = {}
    for row in rows:
        other = row.recipient_id if row.sender_id == viewer_id else row.sender_id
        latest[other] = row  # ordered by id, so the last one wins
    return latest


async def change_status(
    session: AsyncSession, request_id: int, from_status: str, **values: object
) -> bool:
    """Set new values only if the request still has `from_status`; False when another change came first."""
    result = await session.exec(
        update(ContactRequest)
        .where(ContactRequest.id == request_id, ContactRequest.status == from_status)
        .values(**values)
    )
    return result.rowcount == 1


async def list_for_member(
    session: AsyncSession,
    member_id: int,
    *,
    direction: str | None,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[ContactRequest], int]:
    """Return a page of the member's requests, newest first, and the total count of the selection."""
    conditions = []
    if direction == "SENT":
        conditions.append(ContactRequest.sender_id == member_id)
    elif direction == "RECEIVED":
        conditions.append(ContactRequest.recipient_id == member_id)
    else:
        conditions.append(or_(ContactRequest.sender_id == member_id, ContactRequest.recipient_id == member_id))
    if status is not None:
        conditions.append(ContactRequest.status == status)

    total = (await session.exec(select(func.count()).select_from(ContactRequest).where(*conditions))).one()
    query = select(ContactRequest).where(*conditions)
    if before_id is not None:
        query = query.where(ContactRequest.id < before_id)
    rows = (await session.exec(query.order_by(ContactRequest.id.desc()).limit(limit))).all()
    return list(rows), total
