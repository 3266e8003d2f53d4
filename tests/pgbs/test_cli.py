"""The `pgbs` command line, run as a real process against each test database."""

from __future__ import annotations

import subprocess

from sqlalchemy import text

from domain import accounts
from persistence.database import Database
from pgbs.demo import COORDINATOR, DEMO_MEMBERS, DEMO_PASSWORD
from schema import schema_sdl
from tests.conftest import count_rows
from tests.factories import outbox
from tests.processes import child_environment, pgbs_command

def run_pgbs(*arguments: str, database_url: str) -> subprocess.CompletedProcess:
    env = child_environment({"DATABASE_URL": database_url})
    return subprocess.run([pgbs_command(), *arguments], env=env, capture_output=True, text=True, timeout=120)


async def table_names(database_url: str) -> set[str]:
    database = Database(database_url)
    try:
        async with database.read() as session:
            if database.is_sqlite:
                rows = await session.exec(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            else:
                rows = await session.exec(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return {row[0] for row in rows}
    finally:
        await database.dispose()


async def test_migrate_creates_tables_once(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"

    first = run_pgbs("migrate", database_url=url)
    tables = await table_names(url)
    second = run_pgbs("migrate", database_url=url)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert {"member", "outbox_message", "alembic_version"} <= tables
    assert await table_names(url) == tables


async def test_migrate_is_idempotent_on_migrated_database(database_url, services):
    tables = await table_names(database_url)

    result = run_pgbs("migrate", database_url=database_url)

    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stderr
    assert await table_names(database_url) == tables
    assert await count_rows(services, "alembic_version") >= 1


async def register_member(services, email: str) -> None:
    await accounts.register(
        services, accounts.Registration(email=email, password="long enough secret", first_name="Cora", last_name="Ord")
    )


async def test_create_coordinator_flags_existing_member(database_url, services):
    await register_member(services, "cora@example.org")

    result = run_pgbs("create-coordinator", "Cora@Example.org", database_url=database_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cora@example.org is now a coordinator"
    async with services.database.read() as session:
        flagged = (await session.exec(text("SELECT is_coordinator FROM member WHERE email = 'cora@example.org'"))).one()
    assert bool(flagged[0]) is True


async def test_create_coordinator_rejects_unknown_address(database_url, services):
    await register_member(services, "cora@example.org")

    result = run_pgbs("create-coordinator", "nobody@example.org", database_url=database_url)

    assert result.returncode == 1
    assert "nobody@example.org" in result.stderr
    assert "register first" in result.stderr
    assert "Traceback" not in result.stderr
    async with services.database.read() as session:
        flagged = (await session.exec(text("SELECT count(*) FROM member WHERE is_coordinator"))).one()
    assert flagged[0] == 0


def test_create_coordinator_rejects_invalid_address(tmp_path):
    result = run_pgbs("create-coordinator", "not an address", database_url=f"sqlite:///{tmp_path}/unused.db")

    assert result.returncode == 1
    assert "not a valid e-mail address" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_schema_writes_running_schema_and_checks_it(tmp_path):
    output = tmp_path / "schema.graphql"
    url = f"sqlite:///{tmp_path}/unused.db"

    written = run_pgbs("export-schema", "--output", str(output), database_url=url)
    exported = output.read_text()
    current = run_pgbs("export-schema", "--check", "--output", str(output), database_url=url)
    output.write_text(output.read_text().replace("firstName", "givenName", 1))
    drifted = run_pgbs("export-schema", "--check", "--output", str(output), database_url=url)

    assert written.returncode == 0, written.stderr
    assert exported == schema_sdl()
    assert current.returncode == 0, current.stderr
    assert drifted.returncode == 1
    assert "differs from the running schema" in drifted.stderr
    assert "givenName" in output.read_text(), "--check must not rewrite the file"


async def test_seed_demo_if_empty_runs_once(database_url, services):
    first = run_pgbs("seed-demo", "--if-empty", database_url=database_url)
    members_after_first = await count_rows(services, "member")
    second = run_pgbs("seed-demo", "--if-empty", database_url=database_url)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert members_after_first == len(DEMO_MEMBERS) + 1
    assert await count_rows(services, "member") == members_after_first
    assert "demo data skipped" in second.stderr
    signed_in = await accounts.login(services, DEMO_MEMBERS[0][2], DEMO_PASSWORD)
    assert signed_in.member.is_coordinator is False
    coordinator = await accounts.login(services, COORDINATOR[2], DEMO_PASSWORD)
    assert coordinator.member.is_coordinator is True


async def test_outbox_lists_pending_messages_without_bodies(database_url, services):
    await register_member(services, "waiting@example.org")
    [message] = await outbox(services, "waiting@example.org")

    listed = run_pgbs("outbox", database_url=database_url)
    with_links = run_pgbs("outbox", "--show-links", database_url=database_url)

    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    columns = line.split("\t")
    assert columns[0] == str(message.id)
    assert columns[2:] == ["waiting@example.org", message.subject]
    assert "token=" not in listed.stdout
    assert "http://frontend.test/verify-email?token=" in with_links.stdout


async def test_outbox_reports_empty_outbox(database_url):
    result = run_pgbs("outbox", database_url=database_url)

    assert result.returncode == 0
    assert result.stdout.strip() == "The outbox has no pending e-mails."
