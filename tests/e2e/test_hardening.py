"""Request and abuse limits against a real uvicorn process, with the gql client library."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

LOGIN = gql(
    """
    mutation Login($email: String!, $password: String!) {
      login(email: $email, password: $password) { token userErrors { code } }
    }
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """A uvicorn process serving the app on a free port; yields its base URL."""
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOGIN_FAILURES_PER_CLIENT": "2",
        "LOGIN_FAILURES_PER_ADDRESS": "100",
        "MAX_BODY_BYTES": "50000",
        # Only the test itself, on 127.0.0.1, is a trusted proxy.
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    command = [sys.executable, "-m", "uvicorn", "pgbs.app:create_app", "--factory", "--port", str(port)]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if process.poll() is not None:
                raise AssertionError(f"uvicorn exited: {process.stderr.read().decode()}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            try:
                process.wait(timeout=0.1)  # returns early only if uvicorn exits
            except subprocess.TimeoutExpired:
                pass
        else:
            raise AssertionError("uvicorn did not answer /healthz within 10 seconds")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _login(base_url: str, forwarded_for: str, email: str) -> dict:
    transport = HTTPXAsyncTransport(url=f"{base_url}/graphql", headers={"x-forwarded-for": forwarded_for})
    async with Client(transport=transport) as session:
        request = GraphQLRequest(LOGIN, variable_values={"email": email, "password": "wrong password 1"})
        result = await session.execute(request)
    return result["login"]


async def test_client_limit_follows_trusted_forwarded_address(server):
    first = [await _login(server, "203.0.113.7", f"user{n}@example.org") for n in range(2)]
    blocked = await _login(server, "203.0.113.7", "user9@example.org")
    other = await _login(server, "203.0.113.8", "user9@example.org")

    assert [payload["userErrors"][0]["code"] for payload in first] == ["INVALID_CREDENTIALS"] * 2
    assert blocked["userErrors"][0]["code"] == "RATE_LIMITED"
    assert other["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_gql_client_sees_limit_codes(server):
    deep = gql("{ " + "node(id: \"x\") { " * 20 + "id" + " }" * 20 + " }")
    transport = HTTPXAsyncTransport(url=f"{server}/graphql")

    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(deep)

    assert raised.value.errors[0]["extensions"]["code"] == "QUERY_TOO_DEEP"


# The limit is 50,000 bytes: crossed in the middle of the body, or by its last chunk.
@pytest.mark.parametrize(("chunks", "chunk_size"), [(10, 10_000), (1, 60_000)])
async def test_chunked_body_over_limit_is_413(server, chunks, chunk_size):
    async def body():
        yield b'{"query": "{ viewer { id } }"'
        for _ in range(chunks - 1):
            yield b" " * chunk_size
        yield b" " * chunk_size + b"}"

    async with httpx.AsyncClient(base_url=server) as http:
        response = await http.post("/graphql", content=body(), headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
