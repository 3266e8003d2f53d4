"""Request limits through the ASGI app: depth, aliases, tokens, cost, variables, timeout, hidden schema."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
import strawberry
from graphql import build_schema, get_introspection_query, parse

from domain import accounts
from domain.passwords import PasswordHasher
from pgbs.app import build_services, create_app
from pgbs.http import GraphQLOverHTTP
from pgbs.settings import Settings
from schema import Schema, limits
from schema.extensions import HideSchemaInProduction, MaskUnexpectedErrors, RequestLimits
from tests.factories import PASSWORD, verified_member
from tests.graphql_client import GraphQLClient

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { ...Member } userErrors { field code message } }
}
fragment Member on User { id email firstName lastName isEmailVerified }
"""

PROFILE = """
query Profile($id: ID!) {
  me: viewer { ...Member activityProfile { countryCode stemTopics availability { from until } } }
  same: node(id: $id) { id ... on User { ...Member } }
  kind: __typename
}
fragment Member on User { id email firstName lastName isProfileComplete }
"""


def codes(body: dict) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


def nested_nodes(levels: int) -> str:
    """A query whose `node` fields nest `levels` deep; invalid, but limits are checked before validation."""
    inner = "id"
    for _ in range(levels - 1):
        inner = f'node(id: "x") {{ {inner} }}'
    return "{ " + inner + " }"


def nested_items(depth: int) -> str:
    """A valid catalogue query whose fields nest exactly `depth` levels deep, one item per page."""
    wrappers = ["items(first: 1)"] + [("nodes", "children(first: 1)")[i % 2] for i in range(depth - 2)]
    inner = "count" if wrappers[-1] != "nodes" else "id"
    for wrapper in reversed(wrappers):
        inner = f"{wrapper} {{ {inner} }}"
    return "{ " + inner + " }"


async def test_normal_query_passes_every_limit(client, services):
    member = await verified_member(client, services, "normal@example.org")

    login = await client.post(LOGIN, {"email": "normal@example.org", "password": PASSWORD})
    profile = await client.post(PROFILE, {"id": member.id}, token=member.token)

    assert "errors" not in login
    assert login["data"]["login"]["user"]["email"] == "normal@example.org"
    assert "errors" not in profile
    assert profile["data"]["me"]["id"] == member.id
    assert profile["data"]["same"]["email"] == "normal@example.org"


async def test_introspection_query_passes_limits_in_development(client):
    body = await client.post(get_introspection_query(descriptions=True))

    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_depth_over_limit_is_rejected(client, services):
    body = await client.post(nested_nodes(services.settings.max_query_depth + 1))

    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert "data" not in body


async def test_depth_beyond_parser_nesting_is_rejected(client):
    body = await client.post(nested_nodes(300))

    assert codes(body) == ["QUERY_TOO_DEEP"]


async def test_fragment_cycle_is_rejected_cleanly(client):
    body = await client.post("query { ...A } fragment A on Query { viewer { id } ...B } fragment B on Query { ...A }")

    messages = [error["message"] for error in body["errors"]]
    assert any("Cannot spread fragment" in message for message in messages), messages
    assert "INTERNAL_SERVER_ERROR" not in codes(body)


async def test_aliases_over_limit_are_rejected(client, services):
    limit = services.settings.max_aliases
    fields = " ".join(f"a{i}: __typename" for i in range(limit + 1))

    body = await client.post("{ " + fields + " }")

    assert codes(body) == ["TOO_MANY_ALIASES"]


async def test_aliases_count_through_fragment_spreads(client):
    fragment = "fragment Ten on Query { " + " ".join(f"a{i}: __typename" for i in range(10)) + " }"
    query = "query { " + " ".join("...Ten" for _ in range(500)) + " } " + fragment

    body = await client.post(query)

    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert "5000 aliases" in body["errors"][0]["message"]


async def test_fragment_chain_is_measured_without_blowup(client):
    # Each fragment spreads the next twice: 2**40 aliases if every spread were walked.
    chain = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)]
    query = "query { ...F0 } " + " ".join(chain) + " fragment F40 on Query { a: __typename }"

    body = await client.post(query)

    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert f"{2**40} aliases" in body["errors"][0]["message"]


async def test_tokens_over_limit_are_rejected(client, services):
    fields = " ".join("__typename" for _ in range(services.settings.max_tokens))

    body = await client.post("{ " + fields + " }")

    assert codes(body) == ["TOO_MANY_TOKENS"]


async def test_variables_too_deep_are_rejected(client, services):
    value: object = "leaf"
    for _ in range(services.settings.max_variables_depth):
        value = [value]

    body = await client.post("query($v: String) { viewer { id } }", {"v": value})

    assert codes(body) == ["VARIABLES_TOO_DEEP"]


async def test_json_body_nested_past_decoder_is_rejected(client):
    nested = b"[" * 100_000 + b"]" * 100_000
    body = b'{"query": "{ viewer { id } }", "variables": {"v": ' + nested + b"}}"

    response = await client.http.post("/graphql", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert codes(response.json()) == ["VARIABLES_TOO_DEEP"]


# A schema of its own, with connections to price and a field that never finishes.


@strawberry.type
class Item:
    id: int

    @strawberry.field
    def children(self, first: int | None = None) -> ItemConnection:
        return ItemConnection(nodes=[Item(id=self.id * 10 + n) for n in range(min(first or 2, 2))])


@strawberry.type
class ItemConnection:
    nodes: list[Item]

    @strawberry.field
    def count(self) -> int:
        return len(self.nodes)


@strawberry.type
class CatalogueQuery:
    @strawberry.field
    def items(self, first: int | None = None) -> ItemConnection:
        return ItemConnection(nodes=[Item(id=n) for n in range(min(first or 2, 2))])

    @strawberry.field
    async def never_finishes(self) -> int:
        await asyncio.Event().wait()
        return 0

    @strawberry.field
    def broken(self) -> int:
        raise RuntimeError("connection to server at 10.0.0.5 failed")


CATALOGUE = Schema(
    query=CatalogueQuery, extensions=[MaskUnexpectedErrors, RequestLimits, HideSchemaInProduction]
)


class CatalogueEndpoint(GraphQLOverHTTP):
    async def get_context(self, request, response=None):
        return SimpleNamespace(services=SimpleNamespace(settings=self.settings), viewer=None)


@pytest.fixture
async def catalogue() -> AsyncIterator[GraphQLClient]:
    settings = Settings(max_query_cost=1_000, execution_timeout_seconds=0.2)
    transport = httpx.ASGITransport(app=CatalogueEndpoint(CATALOGUE, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)


async def test_depth_at_limit_runs(catalogue):
    limit = Settings().max_query_depth

    at_limit = await catalogue.post(nested_items(limit))
    over_limit = await catalogue.post(nested_items(limit + 1))

    assert "errors" not in at_limit
    assert codes(over_limit) == ["QUERY_TOO_DEEP"]


async def test_cost_within_budget_runs(catalogue):
    # 20 (default page) + 20 * 20 nested = 420.
    body = await catalogue.post("{ items { nodes { children { nodes { id } } } } }")

    assert "errors" not in body
    assert body["data"]["items"]["nodes"][0]["children"]["nodes"] == [{"id": 0}, {"id": 1}]


async def test_cost_multiplies_through_nesting(catalogue):
    # 50 + 50 * 50 = 2,550, over the budget of 1,000.
    body = await catalogue.post("{ items(first: 50) { nodes { children(first: 50) { nodes { id } } } } }")

    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert "2550" in body["errors"][0]["message"]


async def test_cost_resolves_variables(catalogue):
    query = "query($n: Int) { items(first: $n) { nodes { children(first: $n) { nodes { id } } } } }"

    small = await catalogue.post(query, {"n": 10})
    large = await catalogue.post(query, {"n": 40})

    assert "errors" not in small
    assert codes(large) == ["QUERY_TOO_COSTLY"]


async def test_cost_counts_fragment_spreads(catalogue):
    query = "{ items(first: 30) { nodes { ...Kids } } } fragment Kids on Item { a: children { nodes { id } } }"

    body = await catalogue.post(query)

    # 30 + 30 * 20 = 630: within the budget; a second spread of the fragment doubles the inner part.
    assert "errors" not in body
    doubled = query.replace("{ ...Kids }", "{ ...Kids b: children { nodes { id } } }")
    assert codes(await catalogue.post(doubled)) == ["QUERY_TOO_COSTLY"]


async def test_execution_timeout_stops_operation(catalogue):
    body = await catalogue.post("{ neverFinishes }")

    assert codes(body) == ["TIMEOUT"]
    assert body["data"] is None


async def test_unexpected_error_is_masked_and_logged_once(catalogue, caplog):
    with caplog.at_level("INFO"):
        body = await catalogue.post("{ broken }")

    logged = [record for record in caplog.records if record.levelname == "ERROR"]
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "10.0.0.5" not in str(body)
    assert len(logged) == 1
    assert logged[0].exc_info is not None


@pytest.fixture
async def small_budget(settings: Settings, clock) -> AsyncIterator[GraphQLClient]:
    budget_settings = dataclasses.replace(settings, max_query_cost=150)
    services = build_services(budget_settings, clock=clock, passwords=PasswordHasher(rounds=1, memory_cost=1024))
    application = create_app(services=services)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http)
    await services.database.dispose()


async def test_cost_counts_service_connections(small_budget):
    within = "{ search(first: 100) { totalCount } contactRequests(first: 50) { totalCount } }"
    over = "{ a: search(first: 100) { totalCount } b: search { totalCount } contactRequests(first: 50) { totalCount } }"

    within_body = await small_budget.post(within)
    over_body = await small_budget.post(over)

    assert "QUERY_TOO_COSTLY" not in codes(within_body)
    assert codes(over_body) == ["QUERY_TOO_COSTLY"]
    assert "170" in over_body["errors"][0]["message"]


async def test_cached_document_still_checked_per_request(small_budget):
    # Parsed and validated documents are cached; the limits must still apply to every request.
    query = "query($n: Int) { a: search(first: $n) { totalCount } b: search(first: $n) { totalCount } }"

    within = await small_budget.post(query, {"n": 50})
    over = await small_budget.post(query, {"n": 100})
    within_again = await small_budget.post(query, {"n": 50})

    assert "QUERY_TOO_COSTLY" not in codes(within)
    assert codes(over) == ["QUERY_TOO_COSTLY"]
    assert "QUERY_TOO_COSTLY" not in codes(within_again)


async def test_repeated_oversized_document_rejected_each_time(client, services):
    fields = " ".join(f"a{i}: __typename" for i in range(services.settings.max_aliases + 1))

    first = await client.post("{ " + fields + " }")
    second = await client.post("{ " + fields + " }")

    assert codes(first) == ["TOO_MANY_ALIASES"]
    assert codes(second) == ["TOO_MANY_ALIASES"]


# Production: introspection and suggestions are for coordinators only.


@pytest.fixture
async def production(settings: Settings, clock) -> AsyncIterator[tuple[GraphQLClient, object]]:
    production_settings = dataclasses.replace(settings, environment="production")
    services = build_services(production_settings, clock=clock, passwords=PasswordHasher(rounds=1, memory_cost=1024))
    application = create_app(services=services)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http), services
    await services.database.dispose()


async def test_production_rejects_anonymous_introspection(production):
    client, _services = production

    body = await client.post("{ __schema { queryType { name } } }")
    typename = await client.post("{ __typename }")

    assert codes(body) == ["INTROSPECTION_DISABLED"]
    assert typename["data"] == {"__typename": "Query"}


async def test_production_allows_coordinator_introspection(production):
    client, services = production
    member = await verified_member(client, services, "coordinator@example.org")
    await accounts.create_coordinator(services, "coordinator@example.org")

    body = await client.post(get_introspection_query(), token=member.token)

    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_production_hides_field_suggestions(production, client):
    production_client, _services = production

    hidden = await production_client.post("{ viewer { emial } }")
    shown = await client.post("{ viewer { emial } }")

    assert "Did you mean" not in hidden["errors"][0]["message"]
    assert "Cannot query field 'emial'" in hidden["errors"][0]["message"]
    assert "Did you mean 'email'?" in shown["errors"][0]["message"]


async def test_rejected_request_logs_no_error(client, services, caplog):
    fields = " ".join("__typename" for _ in range(services.settings.max_tokens))

    with caplog.at_level("INFO"):
        await client.post("{ " + fields + " }")

    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    rejected = [record.getMessage() for record in caplog.records if "TOO_MANY_TOKENS" in record.getMessage()]
    assert errors == []
    assert len(rejected) == 1
    assert len(rejected[0]) < 300


CATALOGUE_SDL = """
type Query { items(first: Int, text: String): ItemConnection }
type ItemConnection { nodes: [Item] }
type Item { id: ID, children(first: Int): ItemConnection }
"""
PAGED = "query($n: Int, $text: String) { items(first: $n, text: $text) { nodes { children(first: 2) { nodes { id } } } } }"


@pytest.fixture
def counted_meters(monkeypatch) -> list[int]:
    """Count the documents `MeasureCache` walks, by wrapping `DocumentMeter`."""
    walked: list[int] = []

    class CountingMeter(limits.DocumentMeter):
        def __init__(self, *args, **kwargs) -> None:
            walked.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(limits, "DocumentMeter", CountingMeter)
    return walked


def test_measure_cache_reuses_measure_for_same_page_size(counted_meters):
    cache = limits.MeasureCache()
    schema, document = build_schema(CATALOGUE_SDL), parse(PAGED)

    first = cache.measure(schema, document, {"n": 10, "text": "robots"}, None)
    again = cache.measure(schema, document, {"n": 10, "text": "energy"}, None)

    # Other variables do not change the measure, so the second request is not walked again.
    assert again == first == limits.Measure(depth=5, aliases=0, cost=10 + 10 * 2)
    assert len(counted_meters) == 1


def test_measure_cache_measures_each_page_size(counted_meters):
    cache = limits.MeasureCache()
    schema, document = build_schema(CATALOGUE_SDL), parse(PAGED)

    small = cache.measure(schema, document, {"n": 10}, None)
    large = cache.measure(schema, document, {"n": 400}, None)
    default = cache.measure(schema, document, {"n": "ten"}, None)

    assert small.cost == 30
    assert large.cost == 1200
    assert default.cost == limits.DEFAULT_PAGE_SIZE * 3
    assert cache.measure(schema, document, {"n": 400}, None) == large
    assert len(counted_meters) == 3


def test_measure_cache_keeps_latest_documents(counted_meters):
    cache = limits.MeasureCache(documents=2)
    schema = build_schema(CATALOGUE_SDL)
    documents = [parse(PAGED), parse(PAGED), parse(PAGED)]

    for document in documents:
        cache.measure(schema, document, {"n": 5}, None)
    cache.measure(schema, documents[2], {"n": 5}, None)
    cache.measure(schema, documents[0], {"n": 5}, None)

    # The third document is still remembered; the first was dropped and is walked again.
    assert len(counted_meters) == 4
