"""The HTTP and WebSocket surface of the application: /graphql, GraphiQL, /healthz, error masking."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
import websockets
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import text

from pgbs.app import YOUNG_GENERATION_THRESHOLD, create_app
from pgbs.settings import Settings
from pgbs.web import DEFAULT_BUILD_DIR
from tests.conftest import count_rows
from tests.factories import verified_member

VIEWER = "query Viewer { viewer { email } }"
REQUEST_RESET = 'mutation { requestPasswordReset(email: "reader@example.org") }'
LOGIN = 'mutation { login(email: "reader@example.org", password: "whatever password") { token } }'


async def test_post_graphql_runs_query(client):
    body = await client.post(VIEWER)

    assert body == {"data": {"viewer": None}}


async def test_get_graphql_runs_query(client):
    response = await client.http.get("/graphql", params={"query": VIEWER})

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_get_graphql_rejects_mutation(client, services):
    await verified_member(client, services, "reader@example.org")
    messages_before = await count_rows(services, "outbox_message")

    response = await client.http.get("/graphql", params={"query": REQUEST_RESET})

    assert response.status_code == 405
    assert "Only queries run over GET" in response.text
    assert await count_rows(services, "outbox_message") == messages_before


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


async def test_post_graphql_uses_accepted_media_type(client):
    response = await client.http.post(
        "/graphql", json={"query": VIEWER}, headers={"accept": f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert response.json() == {"data": {"viewer": None}}


async def test_invalid_document_is_400_for_graphql_response_json(client):
    response = await client.http.post(
        "/graphql", json={"query": "{ viewer { shoeSize } }"}, headers={"accept": GRAPHQL_RESPONSE_JSON}
    )

    assert response.status_code == 400
    assert "shoeSize" in response.json()["errors"][0]["message"]


async def test_invalid_document_stays_200_for_plain_json(client, caplog):
    caplog.set_level(logging.INFO, logger="schema.extensions")

    response = await client.http.post("/graphql", json={"query": "{ viewer { shoeSize } }"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    logged = [record for record in caplog.records if record.name == "schema.extensions"]
    assert len(logged) == 1
    assert logged[0].levelno == logging.INFO
    assert "shoeSize" in logged[0].getMessage()
    assert logged[0].exc_info is None


async def test_graphiql_served_to_browser(client):
    response = await client.http.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})

    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()
    # Without `make web` the page is a 503 that says how to build it; tests/pgbs/test_web.py covers both cases.
    if (DEFAULT_BUILD_DIR / "graphiql" / "index.html").exists():
        assert response.status_code == 200
    else:
        assert response.status_code == 503
        assert "make web" in response.text


async def test_malformed_json_answered_with_400(client):
    response = await client.http.post(
        "/graphql", content=b'{"query": "{ viewer { id } }"', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert "JSON" in response.text


async def test_healthz_ok(client):
    response = await client.http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


UNREACHABLE_DATABASES = {
    "sqlite": "sqlite+aiosqlite:////nonexistent-directory/pgbs.db",
    # Port 1 on the loopback interface: nothing listens there, so the connection is refused.
    "postgresql": "postgresql+asyncpg://root@127.0.0.1:1/pgbs",
}


@pytest.fixture(params=sorted(UNREACHABLE_DATABASES))
async def unreachable_client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=UNREACHABLE_DATABASES[request.param]))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    # After a failed connect, aiosqlite's worker thread still reports to this event loop:
    # let it finish while the loop runs, or it fails later on a closed loop.
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 5)


async def test_healthz_503_when_database_unreachable(unreachable_client):
    response = await unreachable_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


def assert_masked(body: dict) -> str:
    """Check that a response carries one masked error and nothing internal; return its request id."""
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    raw = json.dumps(body).lower()
    for internal in ("traceback", "select", "insert", "member_hidden", "sqlalchemy", "no such", "relation", ".py"):
        assert internal not in raw, f"{internal!r} leaked into the response: {raw}"
    return error["extensions"]["requestId"]


async def test_unexpected_resolver_error_masked_and_logged(client, services, caplog):
    # A table the login query needs disappears: the database raises an error with SQL in it.
    async with services.database.write() as session:
        await session.exec(text("ALTER TABLE member RENAME TO member_hidden"))
    try:
        response = await client.http.post("/graphql", json={"query": LOGIN})
    finally:
        async with services.database.write() as session:
            await session.exec(text("ALTER TABLE member_hidden RENAME TO member"))

    assert response.status_code == 200
    request_id = assert_masked(response.json())
    logged = [record for record in caplog.records if request_id in record.getMessage()]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None


async def test_error_while_authenticating_masked_and_logged(unreachable_client, caplog):
    response = await unreachable_client.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": "Bearer some-token"}
    )

    assert response.status_code == 500
    request_id = assert_masked(response.json())
    logged = [record for record in caplog.records if request_id in record.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None


@pytest.fixture
async def ws_url(app) -> AsyncIterator[str]:
    """The WebSocket URL of a real uvicorn server running `app` in this event loop."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # The `app` fixture already ran the lifespan.
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=10)
    listener.close()


async def receive_json(connection: websockets.ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(connection.recv(), timeout=5))


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_websocket_acknowledges_anonymous_connection(ws_url, subprotocol):
    async with websockets.connect(ws_url, subprotocols=[subprotocol]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))

        assert connection.subprotocol == subprotocol
        assert await receive_json(connection) == {"type": "connection_ack"}


async def test_websocket_signs_in_with_authorization(ws_url, client, services):
    member = await verified_member(client, services, "socket@example.org")
    transport = WebsocketsTransport(
        url=ws_url, subprotocols=["graphql-transport-ws"], init_payload={"authorization": f"Bearer {member.token}"}
    )

    async with Client(transport=transport) as session:
        data = await session.execute(GraphQLRequest(VIEWER))

    assert data == {"viewer": {"email": "socket@example.org"}}


async def test_websocket_legacy_protocol_acknowledges_valid_token(ws_url, client, services):
    # The legacy graphql-ws protocol carries subscriptions only, so the ack is what can be observed here.
    member = await verified_member(client, services, "legacy@example.org")

    async with websockets.connect(ws_url, subprotocols=["graphql-ws"]) as connection:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {member.token}"}}
        await connection.send(json.dumps(init))

        assert await receive_json(connection) == {"type": "connection_ack"}


async def test_websocket_legacy_protocol_explains_query_rejection(ws_url):
    async with websockets.connect(ws_url, subprotocols=["graphql-ws"]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await receive_json(connection) == {"type": "connection_ack"}
        await connection.send(json.dumps({"type": "start", "id": "1", "payload": {"query": VIEWER}}))

        message = await receive_json(connection)
        while message["type"] == "ka":
            message = await receive_json(connection)

    assert message["type"] == "error"
    assert message["id"] == "1"
    assert message["payload"]["message"] == (
        "Queries are not allowed when using the legacy graphql-ws protocol. "
        "Send them over HTTP or the graphql-transport-ws protocol."
    )
    assert message["payload"]["extensions"]["code"] == "BAD_REQUEST"


async def test_websocket_rejects_invalid_token_transport_ws(ws_url):
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer wrong"}}))

        with pytest.raises(websockets.ConnectionClosed) as closed:
            await receive_json(connection)

    assert closed.value.rcvd.code == 4403


async def test_websocket_rejects_invalid_token_legacy_protocol(ws_url):
    async with websockets.connect(ws_url, subprotocols=["graphql-ws"]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer wrong"}}))

        message = await receive_json(connection)

    assert message["type"] == "connection_error"
    assert message["payload"]["code"] == "UNAUTHENTICATED"


async def test_lifespan_prepares_the_garbage_collector(services):
    app = create_app(services=services)
    thresholds = gc.get_threshold()

    async with app.router.lifespan_context(app):
        # The objects loaded at startup are out of the cyclic collector's generations.
        assert gc.get_freeze_count() > 100_000
        assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD

    assert gc.get_threshold() == thresholds
