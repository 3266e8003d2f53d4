"""Fixtures shared by the whole suite: databases, services, the ASGI app and a GraphQL client.

Tests that use `services` (or anything built on it) run once on SQLite and
once on PostgreSQL. PGBS_TEST_DATABASES=sqlite (or =postgresql) narrows that
for a quick local run; CI runs both. The PostgreSQL server is the one at
PGBS_TEST_POSTGRES_URL (default: the local server, trust auth, database
`test`); each run creates and drops its own database there, so parallel
runs do not meet.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import event, text

from domain.clock import Clock
from domain.passwords import PasswordHasher
from domain.services import Services
from persistence.migrate import upgrade
from pgbs.app import build_services, create_app
from pgbs.settings import Settings
from tests.graphql_client import GraphQLClient

POSTGRES_SERVER_URL = os.environ.get("PGBS_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
DATABASES = [name.strip() for name in os.environ.get("PGBS_TEST_DATABASES", "sqlite,postgresql").split(",")]


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per run; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database created and migrated for this run, dropped at its end."""
    name = f"pgbs_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES_SERVER_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = _with_database(POSTGRES_SERVER_URL.replace("postgresql://", "postgresql+asyncpg://", 1), name)
    upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_postgres(url: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        names = ", ".join(f'"{row["tablename"]}"' for row in tables)
        await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        await connection.execute("INSERT INTO map_sequence (id, last_sequence) VALUES (1, 0)")
    finally:
        await connection.close()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of each kind in turn."""
    if request.param == "sqlite":
        path = tmp_path / "pgbs.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
    elif request.param == "postgresql":
        url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate_postgres(url))
        yield url
    else:
        raise ValueError(f"PGBS_TEST_DATABASES lists unknown database {request.param!r}")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url="http://frontend.test",
        coordinator_emails=("campaign-office@pgbs.example",),
        # Every test client has the same address, 127.0.0.1; tests of these limits set their own.
        registrations_per_client_per_hour=10_000,
        password_resets_per_client_per_hour=10_000,
        login_failures_per_client=10_000,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def services(settings: Settings, clock: Clock) -> AsyncIterator[Services]:
    # Argon2 at its lowest cost: the suite hashes hundreds of passwords, and the cost is not under test.
    services = build_services(settings, clock=clock, passwords=PasswordHasher(rounds=1, memory_cost=1024))
    yield services
    await services.database.dispose()


@pytest.fixture
async def app(services: Services) -> AsyncIterator[object]:
    application = create_app(services=services)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)


async def count_rows(services: Services, table: str) -> int:
    async with services.database.read() as session:
        result = await session.exec(text(f"SELECT count(*) FROM {table}"))
        return result.one()[0]


@contextmanager
def counted_statements(services):
    """Collect the text of each SQL statement sent to the database inside the block."""
    statements: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    engine = services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
