"""Faults against a real `pgbs serve`: many writers at once, a database outage, clients that vanish.

A subscriber that drops its connection mid-subscription is covered by
tests/e2e/campaign_map/test_map_websocket.py::test_vanished_client_leaves_nothing_behind,
which aborts the TCP connection of a live server and waits for
`MapFeed.subscription_count` to return to zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from domain.passwords import PasswordHasher
from pgbs.app import build_services
from pgbs.settings import Settings
from tests.conftest import DATABASES, count_rows
from tests.e2e.conftest import LOCAL_CLIENT_LIMITS, PUBLIC_BASE_URL
from tests.factories import PASSWORD, REGISTER, UPDATE_PROFILE, VERIFY, latest_token
from tests.smtp import HOST, free_port

WRITERS = 50
# Bound for the server to notice an outage or a recovery; both take about a second.
CONDITION_TIMEOUT = 30.0

SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) { contactRequest { id } userErrors { code message } }
}
"""
CAMPAIGN_MAP = "query { campaignMap { id } }"


def served_env(database_url: str) -> dict[str, str]:
    """Settings of a server without SMTP: e-mail stays in the outbox, where the test reads the links."""
    return {
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "LOG_LEVEL": "INFO",
        # Fifty Argon2 hashes queue for two cores; this test is about database locks, not the execution timeout.
        "EXECUTION_TIMEOUT_SECONDS": "120",
        **LOCAL_CLIENT_LIMITS,
    }


async def post(http: httpx.AsyncClient, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    """POST a document; fail on a status above 499, an unexpected body, or an SQLite lock message."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code < 500, response.text
    assert "locked" not in response.text.lower(), response.text
    return response.json()


def no_errors(body: dict, operation: str) -> dict:
    assert "errors" not in body, f"{operation}: {body}"
    payload = body["data"][operation]
    assert payload["userErrors"] == [], f"{operation}: {payload['userErrors']}"
    return payload


async def wait_for(condition, description: str) -> None:
    """Wait for an async condition to hold, up to CONDITION_TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONDITION_TIMEOUT
    while not await condition():
        assert loop.time() < deadline, f"timed out after {CONDITION_TIMEOUT} s waiting for {description}"
        await asyncio.sleep(0.2)


async def test_fifty_concurrent_writers_on_sqlite(running_server, sqlite_template, tmp_path: Path):
    path = tmp_path / "writers.db"
    path.write_bytes(sqlite_template.read_bytes())
    database_url = f"sqlite+aiosqlite:///{path}"
    services = build_services(Settings(database_url=database_url), passwords=PasswordHasher(rounds=1, memory_cost=1024))
    emails = [f"writer{number}@{'school' if number % 2 == 0 else 'company'}.example" for number in range(WRITERS)]

    async with running_server(served_env(database_url)) as server:
        limits = httpx.Limits(max_connections=WRITERS)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            # Each phase sends WRITERS write requests at once.
            registered = await asyncio.gather(*(
                post(http, REGISTER, {"input": {
                    "email": email, "password": PASSWORD, "firstName": "Writer", "lastName": str(number),
                }})
                for number, email in enumerate(emails)
            ))
            for body in registered:
                no_errors(body, "register")

            links = [await latest_token(services, email, "verify_email") for email in emails]
            verified = await asyncio.gather(*(post(http, VERIFY, {"token": link}) for link in links))
            members = [no_errors(body, "verifyEmail") for body in verified]
            tokens = [member["token"] for member in members]
            ids = [member["user"]["id"] for member in members]

            profiles = await asyncio.gather(*(
                post(http, UPDATE_PROFILE, {"input": {
                    "role": f"Role {number}",
                    "subjects": ["PHYSICS"],
                    "organisation": {
                        "name": f"Organisation {number}",
                        "kind": "SCHOOL" if number % 2 == 0 else "COMPANY",
                        "countryCode": "FR",
                        "city": "Lyon",
                    },
                }}, token=tokens[number])
                for number in range(WRITERS)
            ))
            for body in profiles:
                assert no_errors(body, "updateProfile")["user"]["isProfileComplete"] is True

            # Every member writes to the next one, who is on the other side; every pair is distinct.
            sends = await asyncio.gather(*(
                post(http, SEND, {"to": ids[(number + 1) % WRITERS], "message": f"Hello from {number}"},
                     token=tokens[number])
                for number in range(WRITERS)
            ))
            sent = [no_errors(body, "sendContactRequest") for body in sends]

    try:
        assert await count_rows(services, "member") == WRITERS
        assert await count_rows(services, "member WHERE email_verified_at IS NOT NULL") == WRITERS
        assert await count_rows(services, "organisation") == WRITERS
        assert await count_rows(services, "contact_request") == len({payload["contactRequest"]["id"] for payload in sent})
        assert await count_rows(services, "contact_request") == WRITERS
        for number in (0, 17, WRITERS - 1):
            assert await count_rows(services, f"organisation WHERE name = 'Organisation {number}'") == 1
            assert await count_rows(services, f"contact_request WHERE message = 'Hello from {number}'") == 1
    finally:
        await services.database.dispose()
    assert "database is locked" not in server.log()
    assert "Traceback" not in server.log()


class TcpProxy:
    """A TCP proxy on 127.0.0.1 that the test stops and starts, to cut a server off from its database."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, self.port)

    async def stop(self) -> None:
        """Stop listening and cut every open connection, as a database host that goes away does."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, upstream_writer}
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


@contextlib.asynccontextmanager
async def proxy_to(host: str, port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(host, port)
    await proxy.start()
    try:
        yield proxy
    finally:
        if proxy._server is not None:
            await proxy.stop()


@pytest.mark.skipif("postgresql" not in DATABASES, reason="PGBS_TEST_DATABASES leaves out PostgreSQL")
async def test_postgres_outage_fails_cleanly_and_recovers(running_server, postgres_database):
    url = httpx.URL(postgres_database.replace("postgresql+asyncpg://", "http://", 1))

    async with proxy_to(url.host, url.port or 5432) as proxy:
        proxied = postgres_database.replace(f"@{url.host}:{url.port or 5432}/", f"@{HOST}:{proxy.port}/", 1)
        assert proxied != postgres_database
        async with running_server(served_env(proxied)) as server, httpx.AsyncClient(
            base_url=server.url, timeout=30
        ) as http:
            assert "errors" not in await post(http, CAMPAIGN_MAP)

            await proxy.stop()

            async def unhealthy() -> bool:
                return (await http.get("/healthz")).status_code == 503

            await wait_for(unhealthy, "/healthz to report the database unreachable")
            response = await http.post("/graphql", json={"query": CAMPAIGN_MAP})
            assert response.status_code in (200, 500), response.text
            errors = response.json()["errors"]
            assert [error["message"] for error in errors] == ["Internal server error."]
            assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            assert errors[0]["extensions"]["requestId"]
            for hidden in ("asyncpg", "Connection", "refused", "Traceback", "SELECT", "5432", str(proxy.port)):
                assert hidden not in response.text, response.text
            assert server.process.poll() is None

            await proxy.start()

            async def healthy() -> bool:
                return (await http.get("/healthz")).status_code == 200

            await wait_for(healthy, "/healthz to report the database back")
            # The pool checks each connection before use, so the first request after the outage succeeds.
            assert "errors" not in await post(http, CAMPAIGN_MAP)
            assert "errors" not in await post(http, CAMPAIGN_MAP)


async def test_clients_dropping_mid_request_leave_server_healthy(running_server, sqlite_template, tmp_path: Path):
    path = tmp_path / "drops.db"
    path.write_bytes(sqlite_template.read_bytes())
    database_url = f"sqlite+aiosqlite:///{path}"
    services = build_services(Settings(database_url=database_url), passwords=PasswordHasher(rounds=1, memory_cost=1024))

    async with running_server(served_env(database_url)) as server:

        async def drop_after_request(number: int) -> None:
            """Send a whole register request, then close the connection before the response arrives."""
            body = json.dumps({"query": REGISTER, "variables": {"input": {
                "email": f"dropped{number}@school.example", "password": PASSWORD,
                "firstName": "Dropped", "lastName": str(number),
            }}}).encode()
            reader, writer = await asyncio.open_connection(HOST, server.port)
            writer.write(
                b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
            await writer.drain()
            writer.transport.abort()

        async def drop_mid_body() -> None:
            """Promise a longer body than is sent, then vanish."""
            reader, writer = await asyncio.open_connection(HOST, server.port)
            writer.write(
                b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"query": "{ campai'
            )
            await writer.drain()
            writer.transport.abort()

        await asyncio.gather(*(drop_after_request(number) for number in range(10)), *(drop_mid_body() for _ in range(10)))

        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            async def healthy() -> bool:
                response = await http.get("/healthz")
                return response.status_code == 200

            await wait_for(healthy, "/healthz after the dropped clients")
            assert "errors" not in await post(http, CAMPAIGN_MAP)
            registered = await post(http, REGISTER, {"input": {
                "email": "after@school.example", "password": PASSWORD, "firstName": "After", "lastName": "Drop",
            }})
            no_errors(registered, "register")
        assert server.process.poll() is None

    try:
        # Each dropped registration was committed whole or not at all: a member row always has its e-mail.
        members = await count_rows(services, "member")
        messages = await count_rows(services, "outbox_message WHERE template = 'verify_email'")
        assert 1 <= members <= 11
        assert messages == members
        assert await count_rows(services, "member WHERE email = 'after@school.example'") == 1
    finally:
        await services.database.dispose()
    assert "Traceback" not in server.log()
    assert "client disconnected before sending its whole request" in server.log()
