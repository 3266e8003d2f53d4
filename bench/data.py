"""The benchmark database: the demo campaign with many made-up members, generated once and cached.

The members come from `pgbs.demo` (fixed seed, `generate_members`, bulk index
writes through `search_index.refresh_members`), so every run measures the same
people. SQLite files are kept under bench/.cache/ and PostgreSQL databases are
named pgbs_bench_<count>; a later run finds them and skips the generation.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from pathlib import Path

import asyncpg
from sqlalchemy import text

from domain import accounts, follow_up
from persistence.migrate import upgrade
from pgbs import demo
from pgbs.app import build_services
from pgbs.settings import Settings

logger = logging.getLogger(__name__)

CACHE = Path(__file__).parent / ".cache"
# The local PostgreSQL server of the development machines, trust authentication.
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The demo school teacher searches companies in every benchmark.
VIEWER_EMAIL = demo.DEMO_MEMBERS[0][2]


def sqlite_url(member_count: int) -> str:
    return f"sqlite+aiosqlite:///{CACHE / f'members-{member_count}.db'}"


def postgres_url(member_count: int) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/pgbs_bench_{member_count}"


def database_url(engine: str, member_count: int) -> str:
    return sqlite_url(member_count) if engine == "sqlite" else postgres_url(member_count)


async def _ensure_postgres_database(name: str) -> bool:
    """Create the database `name` unless it exists; return whether it was created."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await connection.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await connection.close()


async def prepare(engine: str, member_count: int) -> str:
    """Return the URL of a migrated database holding the demo campaign with `member_count` made-up members.

    A database left by an earlier run is reused when its generation finished;
    a marker table written last distinguishes a complete one from an interrupted one.
    """
    url = database_url(engine, member_count)
    if engine == "sqlite":
        CACHE.mkdir(exist_ok=True)
        path = CACHE / f"members-{member_count}.db"
        if path.exists() and not await _is_complete(url):
            for leftover in CACHE.glob(f"members-{member_count}.db*"):
                leftover.unlink()
    else:
        await _ensure_postgres_database(f"pgbs_bench_{member_count}")

    if await _is_complete(url):
        # A database cached before a later migration is brought up to date,
        # with fresh planner statistics for the tables the migration changed.
        before = await _revision(url)
        await asyncio.to_thread(upgrade, url)
        if await _revision(url) != before:
            await _analyze(url)
        await _catch_up_follow_up(url)
        return url

    started = time.monotonic()
    await asyncio.to_thread(upgrade, url)
    await demo.seed(Settings(database_url=url), if_empty=True, member_count=member_count)
    await _catch_up_follow_up(url)
    await _mark_complete(url)
    logger.info("generated %s with %d members in %.0f s", engine, member_count, time.monotonic() - started)
    return url


async def _catch_up_follow_up(url: str) -> None:
    """Send the reminders and expire the requests that are due, as the running service would have done.

    Otherwise the first server started on the data does that work while it is
    being measured: thousands of the demo's requests are older than a week.
    """
    services = build_services(Settings(database_url=url))
    try:
        await follow_up.run_follow_up(services)
    finally:
        await services.database.dispose()


async def vacuum(url: str) -> None:
    """Vacuum a PostgreSQL database, as autovacuum would in service, so index-only scans skip the heap."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def _is_complete(url: str) -> bool:
    services = build_services(Settings(database_url=url))
    try:
        async with services.database.read() as session:
            found = await session.exec(
                text("SELECT count(*) FROM information_schema.tables WHERE table_name = 'bench_complete'")
                if not services.database.is_sqlite
                else text("SELECT count(*) FROM sqlite_master WHERE name = 'bench_complete'")
            )
            return found.scalar_one() > 0
    except Exception:
        return False
    finally:
        await services.database.dispose()


async def _mark_complete(url: str) -> None:
    services = build_services(Settings(database_url=url))
    try:
        async with services.database.write() as session:
            await session.exec(text("CREATE TABLE bench_complete (done INTEGER)"))
    finally:
        await services.database.dispose()
    await _analyze(url)


async def _analyze(url: str) -> None:
    """Give the planner fresh statistics, as a database in service would have."""
    if url.startswith("postgresql"):
        await vacuum(url)
        return
    services = build_services(Settings(database_url=url))
    try:
        async with services.database.write() as session:
            await session.exec(text("ANALYZE"))
    finally:
        await services.database.dispose()


async def _revision(url: str) -> str | None:
    services = build_services(Settings(database_url=url))
    try:
        async with services.database.read() as session:
            return (await session.exec(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    finally:
        await services.database.dispose()


async def viewer_token(url: str) -> str:
    """Sign the demo school teacher in and return a bearer token."""
    services = build_services(Settings(database_url=url))
    try:
        signed_in = await accounts.login(services, VIEWER_EMAIL, demo.DEMO_PASSWORD)
        return signed_in.token
    finally:
        await services.database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate (or find cached) benchmark databases.")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--members", type=int, default=100_000, help="made-up members to generate")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(asyncio.run(prepare(arguments.engine, arguments.members)))


if __name__ == "__main__":
    main()
