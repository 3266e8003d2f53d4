"""`pgbs seed-demo`: made-up members that search finds, contact requests in every status."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text

from pgbs import cli, demo
from tests.conftest import count_rows

LOGIN = """
mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }
"""
SEARCH = """
query Search($filter: SearchFilter) {
  search(filter: $filter, first: 100) {
    totalCount
    edges { node { firstName lastName organisation { name kind countryCode city } activityProfile { countryCode } } }
  }
}
"""
# Small enough to keep the test quick; `pgbs seed-demo` writes 2,000.
MEMBERS = 150


async def demo_token(client, email: str) -> str:
    data = await client.execute(LOGIN, {"email": email, "password": demo.DEMO_PASSWORD})
    return data["login"]["token"]


async def test_seed_demo_members_are_searchable(client, services, settings):
    await demo.seed(settings, if_empty=False, member_count=MEMBERS)
    token = await demo_token(client, "claire.moreau@school.example")

    everyone = (await client.execute(SEARCH, token=token))["search"]
    named = (await client.execute(SEARCH, {"filter": {"text": "rheinwerk"}}, token=token))["search"]
    german = (await client.execute(SEARCH, {"filter": {"countryCodes": ["DE"]}}, token=token))["search"]
    first_name, last_name, city = await first_made_up_company(services)
    made_up = (await client.execute(SEARCH, {"filter": {"text": f"{first_name} {last_name} {city}"}}, token=token))[
        "search"
    ]

    assert everyone["totalCount"] > 20
    assert {edge["node"]["organisation"]["kind"] for edge in everyone["edges"]} == {"COMPANY"}
    assert [edge["node"]["lastName"] for edge in named["edges"]] == ["Becker"]
    assert german["totalCount"] >= 1
    for edge in german["edges"]:
        countries = {edge["node"]["organisation"]["countryCode"], (edge["node"]["activityProfile"] or {}).get("countryCode")}
        assert "DE" in countries
    assert (first_name, last_name) in [(edge["node"]["firstName"], edge["node"]["lastName"]) for edge in made_up["edges"]]


async def first_made_up_company(services) -> tuple[str, str, str]:
    """Return the names and city of the first listed made-up company member."""
    async with services.database.read() as session:
        result = await session.exec(
            text(
                "SELECT member.first_name, member.last_name, organisation.city FROM member "
                "JOIN organisation ON organisation.id = member.organisation_id "
                "WHERE organisation.kind = 'COMPANY' AND member.email LIKE '%.demo.example' "
                "AND member.email_verified_at IS NOT NULL AND member.search_visible ORDER BY member.id LIMIT 1"
            )
        )
        return tuple(result.one())


async def test_seed_demo_requests_in_every_status(services, settings):
    await demo.seed(settings, if_empty=False, member_count=MEMBERS)

    async with services.database.read() as session:
        result = await session.exec(text("SELECT status, count(*), min(length(message)) FROM contact_request GROUP BY status"))
        by_status = {status: (count, shortest) for status, count, shortest in result}

    assert set(by_status) == {"PENDING", "ACCEPTED", "DECLINED", "WITHDRAWN", "EXPIRED"}
    assert all(shortest > 0 for _count, shortest in by_status.values())


async def test_seed_demo_if_empty_keeps_existing_data(services, settings):
    await demo.seed(settings, if_empty=False, member_count=MEMBERS)
    members = await count_rows(services, "member")
    requests = await count_rows(services, "contact_request")

    await demo.seed(settings, if_empty=True, member_count=MEMBERS)
    await demo.seed(settings, if_empty=False, member_count=MEMBERS)

    assert await count_rows(services, "member") == members
    assert await count_rows(services, "contact_request") == requests
    assert members == MEMBERS + len(demo.DEMO_MEMBERS) + 1  # and the coordinator


def test_seed_demo_is_deterministic():
    now = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)

    first = demo.generate_members(300, "hash", now)
    second = demo.generate_members(300, "hash", now)

    def rows(campaign):
        return [
            (member.email, member.role, tuple(member.subjects), organisation.name, organisation.city,
             profile.availability if profile else None, profile.languages if profile else None)
            for member, organisation, profile in zip(campaign.members, campaign.organisations, campaign.profiles)
        ]

    assert rows(first) == rows(second)
    assert len({member.email for member in first.members}) == 300
    assert len({organisation.country_code for organisation in first.organisations}) >= 20


def test_seed_demo_command_if_empty(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)

    assert cli.main(["seed-demo", "--members", "30"]) == 0
    assert cli.main(["seed-demo", "--if-empty", "--members", "30"]) == 0

    async def members() -> int:
        from persistence.database import Database

        database = Database(database_url)
        try:
            async with database.read() as session:
                return (await session.exec(text("SELECT count(*) FROM member"))).one()[0]
        finally:
            await database.dispose()

    assert asyncio.run(members()) == 30 + len(demo.DEMO_MEMBERS) + 1
