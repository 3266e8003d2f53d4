"""Transactions: concurrent writers, objects readable after commit, after-commit callbacks, disposal."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from sqlalchemy import event, text

from domain import accounts, profiles
from domain.vocabulary import OrganisationKind, StemTopic
from persistence.database import Database, after_commit
from persistence.models import Member, RateLimitCounter
from pgbs.app import create_app
from tests.conftest import count_rows

WRITERS = 50


def registration(index: int) -> accounts.Registration:
    return accounts.Registration(
        email=f"writer{index}@example.org", password="long enough secret", first_name="Writer", last_name=str(index)
    )


async def test_concurrent_registrations_all_succeed(services):
    results = await asyncio.gather(
        *(accounts.register(services, registration(index)) for index in range(WRITERS)), return_exceptions=True
    )

    failures = [result for result in results if isinstance(result, BaseException)]
    assert failures == []
    assert await count_rows(services, "member") == WRITERS
    assert await count_rows(services, "outbox_message") == WRITERS


async def test_concurrent_profile_updates_all_succeed(services):
    now = services.clock.now()
    async with services.database.write() as session:
        members = [
            Member(email=f"member{index}@example.org", first_name="M", last_name=str(index), created_at=now, updated_at=now)
            for index in range(WRITERS)
        ]
        session.add_all(members)
    changes = profiles.ProfileChanges(
        role="Teacher",
        subjects=[StemTopic.PHYSICS],
        organisation=profiles.OrganisationChanges(name="Lycée", kind=OrganisationKind.SCHOOL, country_code="FR"),
    )

    results = await asyncio.gather(
        *(profiles.update_profile(services, member.id, changes) for member in members), return_exceptions=True
    )

    failures = [result for result in results if isinstance(result, BaseException)]
    assert failures == []
    assert all(profiles.is_profile_complete(member) for member in results)
    assert await count_rows(services, "organisation") == WRITERS


async def test_sqlite_read_then_write_transactions_serialise(services):
    if not services.database.is_sqlite:
        pytest.skip("PostgreSQL serialises writers with row locks, not a database-wide write lock")
    now = services.clock.now()
    async with services.database.write() as session:
        session.add(RateLimitCounter(key="counter", window_start=now, count=0))

    async def increment() -> None:
        # Read, then write: without BEGIN IMMEDIATE two of these would deadlock
        # on upgrading their read locks, and SQLite would fail with "database is locked".
        async with services.database.write() as session:
            row = await session.get(RateLimitCounter, "counter")
            row.count += 1
            session.add(row)

    await asyncio.gather(*(increment() for _ in range(WRITERS)))

    async with services.database.read() as session:
        assert (await session.get(RateLimitCounter, "counter")).count == WRITERS


async def test_objects_stay_readable_after_commit(services):
    now = services.clock.now()
    async with services.database.write() as session:
        written = Member(email="kept@example.org", first_name="Kept", last_name="Row", created_at=now, updated_at=now)
        session.add(written)
    async with services.database.read() as session:
        loaded = await session.get(Member, written.id)

    # Both sessions are closed: reading an expired attribute here would need I/O and fail.
    assert written.id is not None
    assert written.email == "kept@example.org"
    assert loaded.first_name == "Kept"
    assert loaded.created_at == written.created_at
    assert loaded.subjects == []


async def test_after_commit_runs_only_after_commit(services):
    calls: list[str] = []

    async with services.database.write() as session:
        after_commit(session, lambda: calls.append("committed"))
        assert calls == []
    with pytest.raises(RuntimeError, match="rolled back"):
        async with services.database.write() as session:
            after_commit(session, lambda: calls.append("rolled back"))
            raise RuntimeError("rolled back")

    assert calls == ["committed"]


async def test_after_commit_needs_write_session(services):
    async with services.database.read() as session:
        with pytest.raises(RuntimeError, match="Database.write"):
            after_commit(session, lambda: None)


async def test_lifespan_disposes_engine(services):
    app = create_app(services=services)

    async with app.router.lifespan_context(app):
        await services.database.ping()
        pooled_while_running = services.database.engine.pool.checkedin()

    assert pooled_while_running >= 1
    assert services.database.engine.pool.checkedin() == 0


async def test_write_rolls_back_on_error(services):
    now = services.clock.now()
    with pytest.raises(ValueError):
        async with services.database.write() as session:
            session.add(Member(email="lost@example.org", first_name="L", last_name="R", created_at=now, updated_at=now))
            await session.flush()
            raise ValueError("stop")

    async with services.database.read() as session:
        result = await session.exec(text("SELECT count(*) FROM member"))
        assert result.one()[0] == 0


async def _statements_of(services, snapshot: bool) -> list[str]:
    """Run two counts in one read block and return the first word of every statement sent."""
    sent: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany):
        sent.append(statement.split()[0].upper())

    engine = services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with services.database.read(snapshot=snapshot) as session:
            for _ in range(2):
                assert (await session.exec(text("SELECT count(*) FROM member"))).scalar_one() == 0
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def _snapshot_statements(services) -> list[str]:
    # asyncpg starts PostgreSQL's transaction without a cursor, so no BEGIN is recorded there.
    return ["BEGIN", "SELECT", "SELECT"] if services.database.is_sqlite else ["SELECT", "SELECT"]


async def test_read_snapshot_begins_transaction(services):
    sent = await _statements_of(services, snapshot=True)

    assert sent == _snapshot_statements(services)


async def test_read_without_snapshot_skips_begin(services):
    sent = await _statements_of(services, snapshot=False)

    assert sent == ["SELECT", "SELECT"]
    # The pooled connection does not keep the option: the next snapshot read begins again.
    assert await _statements_of(services, snapshot=True) == _snapshot_statements(services)


async def test_json_columns_read_back_as_written(services):
    """JSON columns are parsed by orjson on read and written by SQLAlchemy's default serializer."""
    now = services.clock.now()
    subjects = ["PHYSICS", "Électronique", "数学", 'a "quoted" name']
    preferences = {"reminders": False, "digest": True}
    async with services.database.write() as session:
        member = Member(email="json@example.org", first_name="J", last_name="S", subjects=subjects,
                        email_preferences=preferences, created_at=now, updated_at=now)
        session.add(member)

    async with services.database.read() as session:
        stored = await session.get(Member, member.id)

    assert services.database.engine.dialect._json_deserializer is orjson.loads
    assert stored.subjects == subjects
    assert stored.email_preferences == preferences


async def _read_together(database, readers: int) -> None:
    """Hold `readers` read sessions open at once, each after one statement."""
    all_open = asyncio.Barrier(readers)

    async def read() -> None:
        async with database.read() as session:
            await session.exec(text("SELECT 1"))
            await all_open.wait()

    await asyncio.gather(*(read() for _ in range(readers)))


async def test_pool_reuses_connections_up_to_its_size(database_url):
    """Requests served at once up to the pool size reuse connections instead of opening new ones."""
    database = Database(database_url, pool_size=12)
    opened = []
    event.listen(database.engine.sync_engine, "connect", lambda *_: opened.append(1))
    try:
        await _read_together(database, 12)
        await _read_together(database, 12)
        assert len(opened) == 12
        assert database.engine.pool.checkedin() == 12

        # A burst beyond the pool opens more connections, and the pool keeps only its size of them.
        await _read_together(database, 20)
        assert len(opened) == 20
        assert database.engine.pool.checkedin() == 12
    finally:
        await database.dispose()

