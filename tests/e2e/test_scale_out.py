"""Two `pgbs serve` processes sharing PostgreSQL and a broker: a change on one reaches a map subscriber on the other.

When the broker drops, the subscriber still receives every update exactly once:
the processes reconnect and catch up from the map event log.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from gql import Client
from gql.graphql_request import GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.serve_helpers import serve, wait_for_health  # noqa: F401  (serve is a fixture)
from tests.factories import active_member
from tests.graphql_client import GraphQLClient
from tests.persistence.broker_helpers import POSTGRES_URL, REDIS_URL, WAIT_SECONDS, RedisServer

# The brokers retry after 0.5 s, 1 s, 2 s, ...; a restart within a few seconds is back well before this.
RECONNECT_SECONDS = 30.0

pytestmark = [pytest.mark.e2e]

SEND_REQUEST = """
mutation Send($recipient: ID!, $message: String!) {
  sendContactRequest(recipientId: $recipient, message: $message) { contactRequest { id } userErrors { code } }
}
"""
ACCEPT_REQUEST = """
mutation Accept($id: ID!) {
  acceptContactRequest(id: $id) { contactRequest { id status } userErrors { code } }
}
"""
CREATE_ACTIVITY = """
mutation Create($request: ID!, $input: ActivityInput!) {
  createActivity(contactRequestId: $request, input: $input) { activity { id } userErrors { code field } }
}
"""
MAP_UPDATES = """
subscription Updates($after: Int) {
  mapUpdates(afterSequence: $after) { sequence kind activity { title } }
}
"""


def activity_input(title: str) -> dict:
    return {
        "title": title,
        "startsOn": "2027-03-15",
        "length": "SINGLE_LESSON",
        "format": "IN_PERSON",
        "stemTopics": ["PHYSICS"],
        "ageGroups": ["AGES_13_15"],
    }


async def create_activity(client: GraphQLClient, token: str, request_id: str, title: str) -> None:
    data = await client.execute(CREATE_ACTIVITY, {"request": request_id, "input": activity_input(title)}, token=token)
    assert data["createActivity"]["userErrors"] == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("broker_url", [REDIS_URL, POSTGRES_URL], ids=["redis", "postgres"])
async def test_map_update_reaches_other_instance(serve, services, broker_url):
    database_url = services.settings.database_url
    first, first_port = serve(broker_url, database_url=database_url)
    second, second_port = serve(broker_url, database_url=database_url)
    await wait_for_health(first, first_port)
    await wait_for_health(second, second_port)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{first_port}") as http:
        client = GraphQLClient(http)
        school = await active_member(client, services, "teacher@school.example", kind="SCHOOL")
        company = await active_member(client, services, "engineer@company.example", kind="COMPANY")
        sent = await client.execute(SEND_REQUEST, {"recipient": company.id, "message": "Visit us?"}, token=school.token)
        request_id = sent["sendContactRequest"]["contactRequest"]["id"]
        accepted = await client.execute(ACCEPT_REQUEST, {"id": request_id}, token=company.token)
        assert accepted["acceptContactRequest"]["contactRequest"]["status"] == "ACCEPTED"
        await create_activity(client, school.token, request_id, "Optics workshop")

        transport = WebsocketsTransport(url=f"ws://127.0.0.1:{second_port}/graphql")
        async with Client(transport=transport) as session:
            updates = session.subscribe(GraphQLRequest(MAP_UPDATES, variable_values={"after": 0}))
            async with asyncio.timeout(WAIT_SECONDS):
                # The first update is replayed from the event log, so the subscription is live after it.
                # The second is committed by the other process, so it can only arrive through the broker.
                replayed = await anext(updates)
                await create_activity(client, company.token, request_id, "Robotics day")
                live = await anext(updates)

    assert replayed["mapUpdates"]["activity"]["title"] == "Optics workshop"
    assert replayed["mapUpdates"]["kind"] == "CREATED"
    assert live["mapUpdates"]["activity"]["title"] == "Robotics day"
    assert live["mapUpdates"]["sequence"] > replayed["mapUpdates"]["sequence"]


async def wait_until_subscribed(broker_kind: str, name: str, expected: int) -> None:
    """Wait until `expected` listening broker connections named `name` are back after a drop."""

    async def count() -> int:
        if broker_kind == "redis":
            return -1  # checked by the caller through the Redis server itself
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            return await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", f"{name} listen"
            )
        finally:
            await connection.close()

    async with asyncio.timeout(RECONNECT_SECONDS):
        while await count() != expected:
            await asyncio.sleep(0.2)


async def wait_until_redis_subscribed(url: str, name: str, expected: int) -> None:
    async with asyncio.timeout(RECONNECT_SECONDS):
        while True:
            try:
                async with Redis.from_url(url) as redis:
                    clients = await redis.client_list()
            except RedisError:
                clients = []
            subscribed = [client for client in clients if client["name"] == name and client.get("sub", "0") != "0"]
            if len(subscribed) == expected:
                return
            await asyncio.sleep(0.2)


async def terminate_listeners(name: str) -> int:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        return await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            f"{name} listen",
        )
    finally:
        await connection.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("broker_kind", ["redis", "postgres"])
async def test_broker_drop_loses_and_repeats_nothing(serve, services, broker_kind, tmp_path):
    name = f"t{uuid.uuid4().hex[:12]}"
    redis_server = None
    if broker_kind == "redis":
        redis_server = RedisServer(tmp_path)
        redis_server.start()
        broker_url = f"{redis_server.url}?client_name={name}"
    else:
        broker_url = f"{POSTGRES_URL}?application_name={name}"
    database_url = services.settings.database_url
    try:
        writer, writer_port = serve(broker_url, database_url=database_url)
        reader, reader_port = serve(broker_url, database_url=database_url)
        await wait_for_health(writer, writer_port)
        await wait_for_health(reader, reader_port)

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{writer_port}") as http:
            client = GraphQLClient(http)
            school = await active_member(client, services, "teacher@school.example", kind="SCHOOL")
            company = await active_member(client, services, "engineer@company.example", kind="COMPANY")
            sent = await client.execute(SEND_REQUEST, {"recipient": company.id, "message": "Visit?"}, token=school.token)
            request_id = sent["sendContactRequest"]["contactRequest"]["id"]
            await client.execute(ACCEPT_REQUEST, {"id": request_id}, token=company.token)
            await create_activity(client, school.token, request_id, "Before 1")

            transport = WebsocketsTransport(url=f"ws://127.0.0.1:{reader_port}/graphql")
            received: list[dict] = []
            async with Client(transport=transport) as session:
                updates = session.subscribe(GraphQLRequest(MAP_UPDATES, variable_values={"after": 0}))
                async with asyncio.timeout(RECONNECT_SECONDS * 3):
                    received.append((await anext(updates))["mapUpdates"])
                    await create_activity(client, school.token, request_id, "Before 2")
                    received.append((await anext(updates))["mapUpdates"])

                    # The broker goes away while changes keep being committed on the writer.
                    if redis_server is not None:
                        redis_server.kill()
                    else:
                        assert await terminate_listeners(name) == 2
                    await create_activity(client, school.token, request_id, "During 1")
                    await create_activity(client, school.token, request_id, "During 2")

                    if redis_server is not None:
                        redis_server.start()
                        await wait_until_redis_subscribed(redis_server.url, name, expected=2)
                    else:
                        await wait_until_subscribed(broker_kind, name, expected=2)
                    await create_activity(client, school.token, request_id, "After")

                    while not received or received[-1]["activity"]["title"] != "After":
                        received.append((await anext(updates))["mapUpdates"])
    finally:
        if redis_server is not None:
            redis_server.kill()

    titles = [update["activity"]["title"] for update in received]
    sequences = [update["sequence"] for update in received]
    assert titles == ["Before 1", "Before 2", "During 1", "During 2", "After"]
    assert sequences == list(range(sequences[0], sequences[0] + 5))
