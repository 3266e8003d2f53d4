"""The map event log: the public campaign map's changes, numbered by a sequence that only grows.

A writer takes the next number with an UPDATE of the single `map_sequence`
row. That row stays locked until the writer's transaction ends, so on
PostgreSQL the next writer waits, and numbers become visible in the order
they were given out. A reader that has seen sequence N therefore never later
finds a committed event below N. On SQLite every write transaction holds the
database write lock, which serialises writers the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import MapEvent, MapSequence

# Broker channel on which the sequence number of each committed event is published.
MAP_CHANNEL = "map_events"


async def append(
    session: AsyncSession,
    *,
    kind: str,
    activity_id: int,
    country_code: str,
    payload: dict[str, Any],
    now: datetime,
) -> MapEvent:
    """Write the next event in the caller's transaction; call it last, as it locks the sequence row."""
    result = await session.exec(
        update(MapSequence)
        .where(MapSequence.id == 1)
        .values(last_sequence=MapSequence.last_sequence + 1)
        .returning(MapSequence.last_sequence)
    )
    sequence = result.scalar_one()
    event = MapEvent(
        sequence=sequence,
        kind=kind,
        activity_id=activity_id,
        country_code=country_code,
        payload=payload,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def events_after(
    session: AsyncSession, sequence: int, *, country_code: str | None = None, limit: int = 500
) -> list[MapEvent]:
    """Return up to `limit` events numbered above `sequence`, in order."""
    query = select(MapEvent).where(MapEvent.sequence > sequence)
    if country_code is not None:
        query = query.where(MapEvent.country_code == country_code)
    result = await session.exec(query.order_by(MapEvent.sequence).limit(limit))
    return list(result.all())


async def last_sequence(session: AsyncSession) -> int:
    """Return the number of the newest committed event, 0 when there is none."""
    result = await session.exec(select(func.coalesce(func.max(MapEvent.sequence), 0)))
    return int(result.one())
