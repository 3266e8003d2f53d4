"""Contact request rules under concurrency, on SQLite and PostgreSQL.

Each test starts the competing operations together with `asyncio.gather`, so
on PostgreSQL they run in overlapping transactions on separate connections,
and on SQLite they queue for the write lock.
"""

from __future__ import annotations

import asyncio

import pytest

from domain import contact_requests
from domain.errors import DomainError, ErrorCode
from persistence import contact_requests as request_table
from persistence import members as member_table
from persistence.models import Member
from schema.node import decode_global_id
from tests.conftest import count_rows
from tests.factories import TestMember, active_member, outbox


async def load_member(services, member: TestMember) -> Member:
    async with services.database.read() as session:
        return await member_table.get_member(session, decode_global_id(member.id, "User")[1])


@pytest.fixture
async def school_and_company(client, services) -> tuple[Member, Member]:
    school = await active_member(client, services, "teacher@school.example", kind="SCHOOL")
    company = await active_member(client, services, "engineer@company.example", kind="COMPANY")
    return await load_member(services, school), await load_member(services, company)


async def outcomes(*operations) -> tuple[list, list[DomainError]]:
    """Run the operations together; return the successful results and the domain errors."""
    results = await asyncio.gather(*operations, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, DomainError):
            raise result
    done = [result for result in results if not isinstance(result, BaseException)]
    failed = [result for result in results if isinstance(result, DomainError)]
    return done, failed


def hold_checks_until_both_done(monkeypatch, services) -> None:
    """On PostgreSQL, make two sends both pass the open-pair check before either inserts.

    This is the race the unique index exists for; without the barrier the first
    send often commits before the second starts. SQLite write transactions
    hold the database's write lock from their first statement, so there the
    second send cannot start its check until the first committed, and a
    barrier would only wait for the lock timeout.
    """
    if services.database.is_sqlite:
        return
    barrier = asyncio.Barrier(2)
    check = request_table.open_request_between

    async def check_then_wait(session, first_id, second_id):
        found = await check(session, first_id, second_id)
        await asyncio.wait_for(barrier.wait(), timeout=10)
        return found

    monkeypatch.setattr(request_table, "open_request_between", check_then_wait)


async def test_concurrent_accepts_leave_one_outcome(services, school_and_company):
    school, company = school_and_company
    request = await contact_requests.send(services, school, company.id, "Would you visit our class?")

    done, failed = await outcomes(
        contact_requests.accept(services, company, request.id, "Yes"),
        contact_requests.accept(services, company, request.id, "Yes, again"),
    )

    assert len(done) == 1
    assert [error.code for error in failed] == [ErrorCode.INVALID_STATUS]
    assert len(await outbox(services, school.email, "contact_request_accepted")) == 1


async def test_concurrent_accept_and_decline_leave_one_outcome(services, school_and_company):
    school, company = school_and_company
    request = await contact_requests.send(services, school, company.id, "Would you visit our class?")

    done, failed = await outcomes(
        contact_requests.accept(services, company, request.id, None),
        contact_requests.decline(services, company, request.id, None),
        contact_requests.accept(services, company, request.id, None),
    )

    assert len(done) == 1
    assert [error.code for error in failed] == [ErrorCode.INVALID_STATUS, ErrorCode.INVALID_STATUS]
    async with services.database.read() as session:
        stored = await request_table.get_request(session, request.id)
    assert stored.status == done[0].status
    answers = await outbox(services, school.email, "contact_request_accepted") + await outbox(
        services, school.email, "contact_request_declined"
    )
    assert len(answers) == 1


async def test_concurrent_accept_and_withdraw_leave_one_outcome(services, school_and_company):
    school, company = school_and_company
    request = await contact_requests.send(services, school, company.id, "Would you visit our class?")

    done, failed = await outcomes(
        contact_requests.accept(services, company, request.id, None),
        contact_requests.withdraw(services, school, request.id),
    )

    assert len(done) == 1
    assert [error.code for error in failed] == [ErrorCode.INVALID_STATUS]
    async with services.database.read() as session:
        assert (await request_table.get_request(session, request.id)).status == done[0].status


async def test_concurrent_sends_same_direction_leave_one_request(services, school_and_company, monkeypatch):
    school, company = school_and_company
    hold_checks_until_both_done(monkeypatch, services)

    done, failed = await outcomes(
        contact_requests.send(services, school, company.id, "First try"),
        contact_requests.send(services, school, company.id, "Second try"),
    )

    assert len(done) == 1
    assert [error.code for error in failed] == [ErrorCode.ALREADY_CONNECTED]
    assert await count_rows(services, "contact_request") == 1
    assert len(await outbox(services, company.email, "contact_request_received")) == 1


async def test_concurrent_sends_both_directions_leave_one_request(services, school_and_company, monkeypatch):
    school, company = school_and_company
    hold_checks_until_both_done(monkeypatch, services)

    done, failed = await outcomes(
        contact_requests.send(services, school, company.id, "From the school"),
        contact_requests.send(services, company, school.id, "From the company"),
    )

    assert len(done) == 1
    assert [error.code for error in failed] == [ErrorCode.ALREADY_CONNECTED]
    assert await count_rows(services, "contact_request") == 1
    received = await outbox(services, school.email, "contact_request_received") + await outbox(
        services, company.email, "contact_request_received"
    )
    assert len(received) == 1


async def test_index_rejects_send_that_passed_check(services, school_and_company, monkeypatch):
    """The pair check can pass in two overlapping transactions; the unique index must then reject one."""
    school, company = school_and_company
    await contact_requests.send(services, school, company.id, "First")

    async def nothing_open(session, first_id, second_id):
        return None

    monkeypatch.setattr(request_table, "open_request_between", nothing_open)

    with pytest.raises(DomainError) as raised:
        await contact_requests.send(services, company, school.id, "Second, past the check")

    assert raised.value.code is ErrorCode.ALREADY_CONNECTED
    assert raised.value.problems[0].field == ("recipientId",)
    assert await count_rows(services, "contact_request") == 1
    assert await outbox(services, school.email, "contact_request_received") == []


async def test_new_request_allowed_after_decline(services, school_and_company):
    school, company = school_and_company
    first = await contact_requests.send(services, school, company.id, "First")
    await contact_requests.decline(services, company, first.id, None)

    second = await contact_requests.send(services, company, school.id, "Let us try the other way")

    assert second.status == "PENDING"
    assert await count_rows(services, "contact_request") == 2
