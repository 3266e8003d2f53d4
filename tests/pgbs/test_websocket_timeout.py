"""Queries and mutations sent over graphql-transport-ws stop at the execution timeout, as over HTTP."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from pgbs.settings import Settings
from pgbs.shared_subscriptions import SharedStreamHandler, _runs_once
from tests.schema.test_limits import CATALOGUE, CatalogueEndpoint


class TimedCatalogue(CatalogueEndpoint):
    graphql_transport_ws_handler_class = SharedStreamHandler


def _run_over_websocket(timeout_seconds: float, query: str) -> tuple[dict, dict]:
    """Send `query` over graphql-transport-ws and return its result message and the message after it."""
    app = TimedCatalogue(CATALOGUE, Settings(execution_timeout_seconds=timeout_seconds))

    # Without `with`, the client sends no lifespan events, which the bare endpoint does not handle.
    client = TestClient(app)
    with client.websocket_connect("/", subprotocols=["graphql-transport-ws"]) as socket:
        socket.send_json({"type": "connection_init"})
        assert socket.receive_json()["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        result = socket.receive_json()
        ending = socket.receive_json()
    return result, ending


def test_websocket_query_stops_at_timeout():
    result, ending = _run_over_websocket(0.2, "{ neverFinishes }")

    assert result["type"] == "next"
    assert result["payload"]["data"] is None
    assert [error["extensions"]["code"] for error in result["payload"]["errors"]] == ["TIMEOUT"]
    assert ending == {"id": "1", "type": "complete"}


def test_websocket_query_within_timeout_completes():
    result, ending = _run_over_websocket(5, "{ items(first: 1) { nodes { id } } }")

    assert result["payload"] == {"data": {"items": {"nodes": [{"id": 0}]}}}
    assert ending == {"id": "1", "type": "complete"}


@pytest.mark.parametrize(("query", "operation_name", "expected"), [
    ("{ items { nodes { id } } }", None, True),
    ("mutation Change { change }", None, True),
    ("subscription Updates { mapUpdates { sequence } }", None, False),
    ("query A { a } subscription B { b }", "B", False),
    ("query A { a } subscription B { b }", "A", True),
    ("query A { a } subscription B { b }", None, False),
    ("{ unclosed", None, False),
])
def test_runs_once_tells_queries_from_subscriptions(query, operation_name, expected):
    assert _runs_once(query, operation_name) is expected
