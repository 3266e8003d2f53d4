"""End to end: a real server, real WebSocket clients watching the campaign map, a real SMTP server.

One client plans, edits, closes and deletes activities over HTTP while two
`gql` clients watch `mapUpdates` over graphql-transport-ws. The second watcher
disconnects after its first update and reconnects with `afterSequence`; it
must then receive exactly the updates it missed, followed by live ones.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from gql import Client
from gql.graphql_request import GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.activity_factories import activity_input, connected_pair
from tests.factories import active_member
from tests.graphql_client import GraphQLClient

pytestmark = pytest.mark.e2e

# Bound for each expected update; a healthy server delivers within milliseconds.
UPDATE_TIMEOUT = 20

MAP_UPDATES = """
subscription Watch($country: String, $after: Int) {
  mapUpdates(countryCode: $country, afterSequence: $after) {
    sequence kind at
    activity { id title status schoolName companyName location { city countryCode latitude longitude } }
  }
}
"""
CREATE = """
mutation Create($request: ID!, $input: ActivityInput!) {
  createActivity(contactRequestId: $request, input: $input) { activity { id } userErrors { code field } }
}
"""
EDIT = """
mutation Edit($id: ID!, $input: ActivityInput!) {
  editActivity(id: $id, input: $input) { activity { id title } userErrors { code field } }
}
"""
CLOSE = """
mutation Close($id: ID!, $reached: Int, $summary: String) {
  closeActivity(id: $id, studentsReached: $reached, summary: $summary) { activity { status } userErrors { code } }
}
"""
DELETE = """
mutation Delete($id: ID!) { deleteActivity(id: $id) { deletedId userErrors { code } } }
"""
MAP = """
{ campaignMap(countryCode: "FR") { id title status schoolName location { latitude longitude } } }
"""


class Watcher:
    """A `gql` client collecting map updates in the background."""

    def __init__(self, ws_url: str, variables: dict) -> None:
        transport = WebsocketsTransport(url=ws_url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
        self.client = Client(transport=transport, fetch_schema_from_transport=False)
        self.variables = variables
        self.updates: asyncio.Queue[dict] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        session = await self.client.connect_async()
        request = GraphQLRequest(MAP_UPDATES, variable_values=self.variables)

        async def collect() -> None:
            async for result in session.subscribe(request):
                await self.updates.put(result["mapUpdates"])

        self.task = asyncio.create_task(collect())

    async def take(self, count: int) -> list[dict]:
        received = []
        async with asyncio.timeout(UPDATE_TIMEOUT):
            while len(received) < count:
                received.append(await self.updates.get())
        return received

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close_async()


async def mutate(client: GraphQLClient, document: str, variables: dict, token: str) -> dict:
    data = await client.execute(document, variables, token=token)
    payload = next(iter(data.values()))
    assert payload["userErrors"] == [], payload
    return payload


async def test_campaign_map_live_and_replayed(running_server, smtp_server, services):
    async with httpx.AsyncClient(base_url=running_server.base_url, timeout=30) as http:
        client = GraphQLClient(http)
        pair = await connected_pair(client, services)
        coordinator = await active_member(client, services, "coordinator@pgbs.example", kind="COMPANY")
        promoted = running_server.run_command("create-coordinator", coordinator.email)
        assert promoted.returncode == 0, promoted.stderr

        france = Watcher(running_server.ws_url, {"country": "FR", "after": 0})
        everywhere = Watcher(running_server.ws_url, {"after": 0})
        await france.start()
        await everywhere.start()

        lyon = (await mutate(client, CREATE, {"request": pair.request_id, "input": activity_input()}, pair.school.token))[
            "activity"
        ]["id"]
        first_seen = (await everywhere.take(1))[0]
        await everywhere.stop()

        await mutate(
            client, EDIT, {"id": lyon, "input": activity_input(title="Robots and sensors")}, pair.company.token
        )
        turin_input = activity_input(title="Solar cars", location={"city": "Torino", "countryCode": "IT"})
        turin = (await mutate(client, CREATE, {"request": pair.request_id, "input": turin_input}, pair.company.token))[
            "activity"
        ]["id"]
        await mutate(client, CLOSE, {"id": lyon, "reached": 26, "summary": "Every group built a robot arm."},
                     pair.school.token)
        await mutate(client, DELETE, {"id": turin}, pair.school.token)

        seen_in_france = await france.take(3)
        assert [(update["kind"], update["activity"]["title"]) for update in seen_in_france] == [
            ("CREATED", "Robots in the physics lab"),
            ("UPDATED", "Robots and sensors"),
            ("CLOSED", "Robots and sensors"),
        ]
        assert seen_in_france[2]["activity"]["status"] == "CLOSED"
        assert seen_in_france[0]["activity"]["schoolName"] == "Lycée Jean Moulin"
        assert seen_in_france[0]["activity"]["location"]["latitude"] == 45.75

        returning = Watcher(running_server.ws_url, {"after": first_seen["sequence"]})
        await returning.start()
        missed = await returning.take(4)
        assert [(update["kind"], update["activity"]["id"]) for update in missed] == [
            ("UPDATED", lyon),
            ("CREATED", turin),
            ("CLOSED", lyon),
            ("DELETED", turin),
        ]
        sequences = [first_seen["sequence"]] + [update["sequence"] for update in missed]
        assert sequences == list(range(sequences[0], sequences[0] + 5))

        live = (await mutate(client, CREATE, {"request": pair.request_id, "input": activity_input(title="Live")},
                             pair.school.token))["activity"]["id"]
        after_reconnect = await returning.take(1)
        assert after_reconnect[0]["kind"] == "CREATED"
        assert after_reconnect[0]["activity"]["id"] == live
        assert after_reconnect[0]["sequence"] == sequences[-1] + 1
        assert returning.updates.empty()
        assert (await france.take(1))[0]["activity"]["id"] == live
        await returning.stop()
        await france.stop()

        for address in (coordinator.email, "campaign-office@pgbs.example"):
            mail = await smtp_server.wait_for(
                lambda message, to=address: to in message["X-Envelope-To"]
                and message["Subject"] == "Activity carried out: Robots and sensors"
            )
            body = mail.get_body(preferencelist=("plain",)).get_content()
            assert "Students reached: 26" in body
            assert "Every group built a robot arm." in body
            assert "Lycée Jean Moulin" in body

        public_map = (await GraphQLClient(http).execute(MAP))["campaignMap"]
        assert [(item["id"], item["status"]) for item in public_map] == [(lyon, "CLOSED"), (live, "PLANNED")]
