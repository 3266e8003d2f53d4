"""Fuzz every query and mutation of a real `pgbs serve` with schemathesis' GraphQL support.

Schemathesis reads the schema by introspection and generates documents with
arbitrary arguments: valid ones, and invalid ones (missing or mistyped
arguments) that the server must reject with a validation error. Each
operation gets a bounded number of examples, once anonymous and once as a
member with a complete profile. Every response must be a well-formed GraphQL
response: no status above 499, no masked internal error (each one is a bug
the fuzzer found), and no error message that shows a traceback, SQL or a
Python exception name.
"""

from __future__ import annotations

import builtins
import os
import re

import httpx
import hypothesis
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode

from tests.factories import active_member
from tests.graphql_client import GraphQLClient

# Kept small so the run on both databases stays well under two minutes; raise it for a deeper local run.
EXAMPLES_PER_OPERATION = int(os.environ.get("PGBS_FUZZ_EXAMPLES", "20"))
# Names of Python and driver exceptions, which must never reach a client.
EXCEPTION_NAMES = {
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
} | {"IntegrityError", "OperationalError", "DataError", "ProgrammingError", "InterfaceError", "StatementError"}
LEAK_PATTERNS = [
    re.compile(r"Traceback|File \"", re.IGNORECASE),
    re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b"),
    re.compile(r"sqlalchemy|sqlite3?|asyncpg|psycopg|aiosqlite", re.IGNORECASE),
    re.compile(r"\b(" + "|".join(sorted(EXCEPTION_NAMES)) + r")\b"),
]
# `logout` would end the fuzzing member's session, so it runs after every other operation.
LAST = ("logout",)


def problems_in(response, operation: str) -> list[str]:
    """Return what is wrong with one fuzzed response; an empty list for a well-formed response."""
    found = []
    if response.status_code >= 500:
        found.append(f"{operation}: status {response.status_code}: {response.text[:500]}")
    try:
        body = response.json()
    except ValueError:
        return [*found, f"{operation}: status {response.status_code}, body is not JSON: {response.text[:500]}"]
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    for error in errors:
        message = error.get("message", "")
        extensions = error.get("extensions") or {}
        if extensions.get("code") == "INTERNAL_SERVER_ERROR":
            found.append(f"{operation}: masked internal error, request {extensions.get('requestId')}")
            if message != "Internal server error." or not extensions.get("requestId"):
                found.append(f"{operation}: internal error not masked properly: {error}")
        for pattern in LEAK_PATTERNS:
            if pattern.search(message):
                found.append(f"{operation}: error message leaks {pattern.pattern!r}: {message[:500]}")
    return found


def fuzz(graphql_url: str, token: str | None) -> list[str]:
    """Run every operation's examples against the server; return the problems found.

    An operation that ran no example at all counts as a problem, so the test cannot pass by fuzzing nothing.
    """
    schema = schemathesis.graphql.from_url(graphql_url, timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda operation: operation.label.split()[-1] in LAST)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    problems: list[str] = []
    calls: list[str] = []

    for operation in operations:

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy() | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        def run(case) -> None:
            response = case.call(headers=headers, timeout=30)
            calls.append(operation.label)
            problems.extend(problems_in(response, operation.label))

        calls_before = len(calls)
        run()
        if len(calls) == calls_before:
            problems.append(f"{operation.label}: no example was run")
    return problems


async def test_fuzzed_operations_respond_cleanly(running_server, server_env, services):
    async with running_server(server_env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            member = await active_member(GraphQLClient(http), services, "fuzzer@school.example", kind="SCHOOL")

        anonymous = fuzz(server.graphql_url, None)
        signed_in = fuzz(server.graphql_url, member.token)

    problems = [f"anonymous: {problem}" for problem in anonymous] + [f"signed in: {p}" for p in signed_in]
    assert problems == [], "\n".join(problems[:40]) + "\n--- server log ---\n" + server.log()[-6000:]


class FakeResponse:
    """A response as `problems_in` reads it, for checking the checks themselves."""

    def __init__(self, status_code: int, body: dict) -> None:
        self.status_code = status_code
        self.body = body
        self.text = str(body)

    def json(self) -> dict:
        return self.body


def test_checks_flag_leaks_and_internal_errors():
    masked = {"errors": [{"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "ab12"}}]}
    leaked = {"errors": [{"message": "IntegrityError: duplicate key value violates unique constraint"}]}
    sql = {"errors": [{"message": "(sqlite3.OperationalError) near \"SELECT\": syntax error"}]}
    user_error = {"data": {"login": {"userErrors": [{"message": "The e-mail or password is wrong."}]}}}

    assert problems_in(FakeResponse(200, user_error), "login") == []
    assert problems_in(FakeResponse(502, user_error), "login") != []
    assert problems_in(FakeResponse(200, masked), "node") == ["node: masked internal error, request ab12"]
    assert len(problems_in(FakeResponse(200, leaked), "register")) == 1
    assert len(problems_in(FakeResponse(200, sql), "search")) == 3
