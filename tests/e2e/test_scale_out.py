"""Two `pgbs serve` processes sharing PostgreSQL and a broker: a change on one reaches a map subscriber on the other."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from gql import Client
from gql.graphql_request import GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.serve_helpers import serve, wait_for_health  # noqa: F401  (serve is a fixture)
from tests.factories import active_member
from tests.graphql_client import GraphQLClient
from tests.persistence.broker_helpers import POSTGRES_URL, REDIS_URL, WAIT_SECONDS

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
