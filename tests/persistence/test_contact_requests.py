"""The one-open-request-per-pair index and how its violation is recognised on each driver."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from persistence import contact_requests as request_table
from persistence import members as member_table
from persistence.models import ContactRequest, Member

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


async def add_members(services) -> tuple[int, int]:
    async with services.database.write() as session:
        members = [
            Member(email=f"{name}@example.org", first_name=name, last_name="Test", created_at=NOW, updated_at=NOW)
            for name in ("low", "high")
        ]
        for member in members:
            await member_table.add(session, member)
    return members[0].id, members[1].id


def request(sender: int, recipient: int, status: str = "PENDING") -> ContactRequest:
    low, high = sorted((sender, recipient))
    return ContactRequest(
        sender_id=sender,
        recipient_id=recipient,
        pair_low_id=low,
        pair_high_id=high,
        status=status,
        message="Hello",
        created_at=NOW,
    )


async def test_second_open_request_is_conflict(services):
    low, high = await add_members(services)
    async with services.database.write() as session:
        await member_table.add(session, request(low, high))

    with pytest.raises(IntegrityError) as raised:
        async with services.database.write() as session:
            await member_table.add(session, request(high, low, status="ACCEPTED"))

    assert request_table.is_open_pair_conflict(raised.value)


async def test_closed_requests_do_not_count_as_open(services):
    low, high = await add_members(services)

    async with services.database.write() as session:
        for status in ("DECLINED", "WITHDRAWN", "EXPIRED", "PENDING"):
            await member_table.add(session, request(low, high, status=status))

    async with services.database.read() as session:
        assert (await request_table.open_request_between(session, high, low)).status == "PENDING"


async def test_other_integrity_error_is_not_open_pair_conflict(services):
    await add_members(services)

    with pytest.raises(IntegrityError) as raised:
        async with services.database.write() as session:
            await member_table.add(
                session, Member(email="low@example.org", first_name="Twin", last_name="Test", created_at=NOW, updated_at=NOW)
            )

    assert not request_table.is_open_pair_conflict(raised.value)
