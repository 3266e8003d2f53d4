"""The mapUpdates subscription over real WebSockets, against uvicorn running in the test's process.

Running the server in process lets the tests read the map feed's count of
open subscriptions, which must fall back to zero however a client leaves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import uvicorn
import websockets
from gql import Client
from gql.graphql_request import GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from pgbs import websocket as websocket_handlers
from domain.map_feed import MapFeed
from pgbs.app import MAX_SUBSCRIPTIONS_PER_CONNECTION, create_app
from pgbs.shared_subscriptions import SharedStreams
from tests.activity_factories import activity_input, connected_pair
from tests.processes import free_port
from tests.graphql_client import GraphQLClient

pytestmark = pytest.mark.e2e

WAIT = 20
SUBSCRIBE = "subscription { mapUpdates { sequence kind activity { title } } }"
CREATE = """
mutation Create($request: ID!, $input: ActivityInput!) {
  createActivity(contactRequestId: $request, input: $input) { activity { id } userErrors { code } }
}
"""


@dataclass
class LiveServer:
    http_url: str
    ws_url: str
    shared_streams: SharedStreams

    def open_subscriptions(self, feed: MapFeed) -> int:
        """Count open mapUpdates operations: a shared stream is one feed subscription for all its members."""
        return feed.subscription_count - self.shared_streams.stream_count + self.shared_streams.subscriber_count


@pytest.fixture
async def live_server(services) -> AsyncIterator[LiveServer]:
    port = free_port()
    app = create_app(services=services)
    endpoint = next(route.app for route in app.routes if hasattr(route.app, "shared_streams"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:
            await asyncio.sleep(0.02)
    yield LiveServer(
        http_url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}/graphql",
        shared_streams=endpoint.shared_streams,
    )
    server.should_exit = True
    async with asyncio.timeout(WAIT):
        await task


async def wait_until(condition, description: str) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.02)


async def open_transport_ws(url: str) -> websockets.ClientConnection:
    connection = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    return connection


async def open_legacy_ws(url: str) -> websockets.ClientConnection:
    connection = await websockets.connect(url, subprotocols=["graphql-ws"])
    await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    return connection


# For each WebSocket subprotocol: how to open a connection, and the message type that starts an operation.
PROTOCOLS = {
    "graphql-transport-ws": (open_transport_ws, "subscribe"),
    "graphql-ws": (open_legacy_ws, "start"),
}


async def plan_activity(server: LiveServer, services, title: str) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
        client = GraphQLClient(http)
        pair = await connected_pair(client, services, prefix=f"{len(title)}-{title[:3].lower()}-")
        data = await client.execute(
            CREATE, {"request": pair.request_id, "input": activity_input(title=title)}, token=pair.school.token
        )
        assert data["createActivity"]["userErrors"] == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_vanished_client_leaves_nothing_behind(live_server, services, protocol):
    feed = services.map_feed
    open_connection, start_type = PROTOCOLS[protocol]
    baseline_tasks = len(asyncio.all_tasks())
    connection = await open_connection(live_server.ws_url)
    for number in range(3):
        await connection.send(json.dumps({"id": str(number), "type": start_type, "payload": {"query": SUBSCRIBE}}))
    await wait_until(lambda: live_server.open_subscriptions(feed) == 3, "three subscriptions open")

    # Drop the TCP connection without a WebSocket close frame, as a client that loses its network does.
    connection.transport.abort()

    await wait_until(lambda: live_server.open_subscriptions(feed) == 0, "subscriptions released")
    await wait_until(lambda: len(asyncio.all_tasks()) <= baseline_tasks, "connection tasks finished")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriptions_per_connection_are_limited(live_server, services, protocol):
    feed = services.map_feed
    open_connection, start_type = PROTOCOLS[protocol]
    connection = await open_connection(live_server.ws_url)
    for number in range(MAX_SUBSCRIPTIONS_PER_CONNECTION + 1):
        await connection.send(json.dumps({"id": str(number), "type": start_type, "payload": {"query": SUBSCRIBE}}))

    async with asyncio.timeout(WAIT):
        rejection = json.loads(await connection.recv())
        while rejection["type"] == "ka":  # the legacy protocol's keep-alive
            rejection = json.loads(await connection.recv())

    assert rejection["type"] == "error"
    assert rejection["id"] == str(MAX_SUBSCRIPTIONS_PER_CONNECTION)
    assert "limit" in json.dumps(rejection["payload"]).lower()
    await wait_until(
        lambda: live_server.open_subscriptions(feed) == MAX_SUBSCRIPTIONS_PER_CONNECTION, "limit reached"
    )
    await connection.close()
    await wait_until(lambda: live_server.open_subscriptions(feed) == 0, "subscriptions released")


async def test_legacy_protocol_delivers_updates(live_server, services):
    transport = WebsocketsTransport(url=live_server.ws_url, subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL])
    client = Client(transport=transport, fetch_schema_from_transport=False)
    session = await client.connect_async()
    updates = session.subscribe(GraphQLRequest(SUBSCRIBE))
    first = asyncio.ensure_future(anext(updates))
    await wait_until(lambda: services.map_feed.subscription_count == 1, "legacy subscription open")

    await plan_activity(live_server, services, "Legacy watcher")

    async with asyncio.timeout(WAIT):
        update = await first
    assert update["mapUpdates"]["kind"] == "CREATED"
    assert update["mapUpdates"]["activity"]["title"] == "Legacy watcher"
    await updates.aclose()
    await client.close_async()
    await wait_until(lambda: services.map_feed.subscription_count == 0, "subscription released")


async def test_legacy_protocol_runs_nothing_before_connection_init(live_server, services):
    connection = await websockets.connect(live_server.ws_url, subprotocols=["graphql-ws"])
    await connection.send(json.dumps({"id": "1", "type": "start", "payload": {"query": SUBSCRIBE}}))

    async with asyncio.timeout(WAIT):
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await connection.recv()

    assert connection.close_code == 4401
    assert services.map_feed.subscription_count == 0


async def test_legacy_protocol_closes_without_connection_init(live_server, monkeypatch):
    monkeypatch.setattr(websocket_handlers, "CONNECTION_INIT_TIMEOUT", timedelta(seconds=0.3))
    connection = await websockets.connect(live_server.ws_url, subprotocols=["graphql-ws"])

    async with asyncio.timeout(WAIT):
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await connection.recv()

    assert connection.close_code == 4408


async def test_errors_inside_subscription_are_masked(live_server, services, monkeypatch):
    def broken_log(after_sequence, country_code):
        raise RuntimeError("SELECT secret FROM map_event")

    monkeypatch.setattr(services.map_feed, "read_log", broken_log)
    connection = await open_transport_ws(live_server.ws_url)
    document = "subscription { mapUpdates(afterSequence: 0) { sequence } }"
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))

    async with asyncio.timeout(WAIT):
        message = json.loads(await connection.recv())

    text = json.dumps(message)
    assert "secret" not in text
    assert "Internal server error." in text
    await connection.close()
    await wait_until(lambda: services.map_feed.subscription_count == 0, "subscription released")


async def test_unknown_country_rejected(live_server, services):
    connection = await open_transport_ws(live_server.ws_url)
    document = 'subscription { mapUpdates(countryCode: "XX") { sequence } }'
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))

    async with asyncio.timeout(WAIT):
        message = json.loads(await connection.recv())

    assert message["id"] == "1"
    assert "BAD_USER_INPUT" in json.dumps(message)
    assert "'XX'" in json.dumps(message)
    await connection.close()
    await wait_until(lambda: services.map_feed.subscription_count == 0, "no subscription left")
