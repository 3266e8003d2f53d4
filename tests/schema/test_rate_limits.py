"""Abuse limits through the API: sign-in delays, registrations and password reset requests."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from domain.passwords import PasswordHasher
from pgbs.app import build_services, create_app
from persistence.rate_limits import RedisRateLimitStore
from tests.conftest import count_rows
from tests.factories import PASSWORD, outbox, register, verified_member
from tests.graphql_client import GraphQLClient

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token userErrors { field code message } }
}
"""
REQUEST_RESET = "mutation Reset($email: String!) { requestPasswordReset(email: $email) }"
WRONG = "wrong password 123"


@dataclasses.dataclass
class Limited:
    app: object
    services: object

    @contextlib.asynccontextmanager
    async def client(self, address: str = "198.51.100.1") -> AsyncIterator[GraphQLClient]:
        """A client whose requests come from `address`, as the ASGI scope reports it."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http)


async def _limited(settings, clock, store=None) -> AsyncIterator[Limited]:
    limited = dataclasses.replace(
        settings,
        login_failures_per_address=3,
        login_failures_per_client=5,
        login_delay_seconds=2,
        login_max_delay_seconds=60,
        registrations_per_client_per_hour=2,
        password_resets_per_client_per_hour=3,
        password_resets_per_address_per_hour=2,
    )
    services = build_services(limited, clock=clock, passwords=PasswordHasher(rounds=1, memory_cost=1024))
    if store is not None:
        services.rate_limits = store
    application = create_app(services=services)
    async with application.router.lifespan_context(application):
        yield Limited(application, services)
    await services.database.dispose()


@pytest.fixture
async def limited(settings, clock) -> AsyncIterator[Limited]:
    async for value in _limited(settings, clock):
        yield value


async def login(client: GraphQLClient, email: str, password: str) -> dict:
    return (await client.execute(LOGIN, {"email": email, "password": password}))["login"]


def error_codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def retry_seconds(payload: dict) -> int:
    match = re.search(r"Try again in (\d+) seconds", payload["userErrors"][0]["message"])
    assert match, payload
    return int(match.group(1))


async def test_login_waits_after_failures_per_address(limited, clock):
    async with limited.client() as client:
        await verified_member(client, limited.services, "victim@example.org")
        failures = [await login(client, "victim@example.org", WRONG) for _ in range(3)]

        blocked = await login(client, "victim@example.org", PASSWORD)
        clock.advance(timedelta(seconds=2))
        allowed = await login(client, "victim@example.org", PASSWORD)

    assert [error_codes(payload) for payload in failures] == [["INVALID_CREDENTIALS"]] * 3
    assert error_codes(blocked) == ["RATE_LIMITED"]
    assert blocked["token"] is None
    assert retry_seconds(blocked) == 2
    assert allowed["userErrors"] == []
    assert allowed["token"]


async def test_login_delay_doubles_up_to_maximum(limited, clock):
    delays = []
    async with limited.client() as client:
        await verified_member(client, limited.services, "victim@example.org")
        for _ in range(3):
            await login(client, "victim@example.org", WRONG)
        for _ in range(6):
            blocked = await login(client, "victim@example.org", WRONG)
            delays.append(retry_seconds(blocked))
            clock.advance(timedelta(seconds=delays[-1]))
            assert error_codes(await login(client, "victim@example.org", WRONG)) == ["INVALID_CREDENTIALS"]

        # No permanent lockout: once the longest delay has passed, the owner signs in.
        clock.advance(timedelta(seconds=60))
        owner = await login(client, "victim@example.org", PASSWORD)

    assert delays == [2, 4, 8, 16, 32, 60]
    assert owner["userErrors"] == []


async def test_login_limit_same_for_unknown_address(limited):
    async with limited.client() as client:
        await verified_member(client, limited.services, "known@example.org")
        known = [error_codes(await login(client, "known@example.org", WRONG)) for _ in range(5)]
    async with limited.client("198.51.100.2") as client:
        unknown = [error_codes(await login(client, "nobody@example.org", WRONG)) for _ in range(5)]

    assert known == unknown
    assert known[-1] == ["RATE_LIMITED"]


async def test_login_success_clears_address_failures(limited):
    async with limited.client() as client:
        await verified_member(client, limited.services, "member@example.org")
        for _ in range(2):
            await login(client, "member@example.org", WRONG)
        assert (await login(client, "member@example.org", PASSWORD))["token"]
        for _ in range(2):
            await login(client, "member@example.org", WRONG)

        payload = await login(client, "member@example.org", PASSWORD)

    assert payload["userErrors"] == []


async def test_login_limit_per_client_address(limited):
    async with limited.client("203.0.113.9") as guesser:
        failures = [await login(guesser, f"user{n}@example.org", WRONG) for n in range(5)]
        blocked = await login(guesser, "user99@example.org", WRONG)
    async with limited.client("203.0.113.10") as neighbour:
        other_client = await login(neighbour, "user99@example.org", WRONG)

    assert all(error_codes(payload) == ["INVALID_CREDENTIALS"] for payload in failures)
    assert error_codes(blocked) == ["RATE_LIMITED"]
    assert error_codes(other_client) == ["INVALID_CREDENTIALS"]


async def test_registration_limited_per_client(limited):
    async with limited.client("203.0.113.20") as client:
        first = await register(client, "one@example.org")
        second = await register(client, "two@example.org")
        third = await register(client, "three@example.org")
    async with limited.client("203.0.113.21") as other:
        elsewhere = await register(other, "four@example.org")

    assert first["userErrors"] == []
    assert second["userErrors"] == []
    assert [error["code"] for error in third["userErrors"]] == ["RATE_LIMITED"]
    assert third["userErrors"][0]["field"] is None
    assert elsewhere["userErrors"] == []
    assert await count_rows(limited.services, "member") == 3
    assert await outbox(limited.services, "three@example.org") == []


async def test_registration_limit_ignores_invalid_input(limited):
    async with limited.client("203.0.113.22") as client:
        for _ in range(3):
            invalid = await register(client, "not-an-address")
            assert [error["code"] for error in invalid["userErrors"]] == ["INVALID"]

        valid = await register(client, "valid@example.org")

    assert valid["userErrors"] == []


async def test_password_reset_limited_per_client(limited):
    async with limited.client("203.0.113.30") as client:
        answers = [await client.post(REQUEST_RESET, {"email": f"r{n}@example.org"}) for n in range(3)]
        limited_answer = await client.post(REQUEST_RESET, {"email": "r9@example.org"})
    async with limited.client("203.0.113.31") as other:
        elsewhere = await other.post(REQUEST_RESET, {"email": "r9@example.org"})

    assert [answer["data"] for answer in answers] == [{"requestPasswordReset": True}] * 3
    assert limited_answer["data"] is None
    assert [error["extensions"]["code"] for error in limited_answer["errors"]] == ["RATE_LIMITED"]
    assert elsewhere["data"] == {"requestPasswordReset": True}


async def test_password_reset_per_address_sends_no_more_mail(limited):
    async with limited.client() as client:
        await verified_member(client, limited.services, "owner@example.org")
    answers = []
    for n in range(4):
        async with limited.client(f"203.0.113.{40 + n}") as client:
            answers.append(await client.post(REQUEST_RESET, {"email": "owner@example.org"}))
            answers.append(await client.post(REQUEST_RESET, {"email": "stranger@example.org"}))

    assert all(answer == {"data": {"requestPasswordReset": True}} for answer in answers)
    assert len(await outbox(limited.services, "owner@example.org", "reset_password")) == 2


async def test_rate_limits_work_with_redis_store(settings, clock):
    store = RedisRateLimitStore("redis://127.0.0.1:6379/0", prefix=f"pgbs-test:{uuid.uuid4().hex}:")
    async for redis_limited in _limited(settings, clock, store):
        async with redis_limited.client() as client:
            await verified_member(client, redis_limited.services, "redis@example.org")
            for _ in range(3):
                await login(client, "redis@example.org", WRONG)

            blocked = await login(client, "redis@example.org", PASSWORD)
            clock.advance(timedelta(seconds=2))
            allowed = await login(client, "redis@example.org", PASSWORD)

        keys = [key async for key in store.redis.scan_iter(match=store.prefix + "*")]
        assert keys
        await store.redis.delete(*keys)

    assert error_codes(blocked) == ["RATE_LIMITED"]
    assert allowed["token"]
