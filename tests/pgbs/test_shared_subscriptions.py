"""Shared subscription streams: which operations share one, and that every subscriber gets each event once."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from persistence import map_log
from persistence.database import after_commit
from persistence.migrate import upgrade
from pgbs.app import create_app
from pgbs.settings import Settings
from pgbs.shared_subscriptions import shared_stream_key

LIVE = "subscription Live { mapUpdates { sequence kind activity { title } } }"
REPLAY = "subscription Replay($after: Int) { mapUpdates(afterSequence: $after) { sequence } }"
# Bound for a subscription to register or a frame to arrive; both take milliseconds when healthy.
WAIT_SECONDS = 10


def test_live_map_document_is_shared():
    assert shared_stream_key(LIVE, None, None) is not None
    assert shared_stream_key(LIVE, {}, "Live") == shared_stream_key(LIVE, None, "Live")


def test_variables_separate_streams():
    query = "subscription ($country: String) { mapUpdates(countryCode: $country) { sequence } }"

    assert shared_stream_key(query, {"country": "FR"}, None) != shared_stream_key(query, {"country": "DE"}, None)


@pytest.mark.parametrize(
    "query",
    [
        REPLAY,
        "subscription { mapUpdates(afterSequence: 3) { sequence } }",
        "query { campaignMap { id } }",
        "subscription { ...Updates } fragment Updates on Subscription { mapUpdates { sequence } }",
        "subscription { a: mapUpdates { sequence } b: mapUpdates { sequence } }",
        "subscription { mapUpdates { sequence ",
    ],
)
def test_other_operations_run_alone(query):
    assert shared_stream_key(query, {"after": 0}, None) is None


def _wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT_SECONDS} s")
        time.sleep(0.01)


def _subscribe(socket, operation_id: str, query: str, variables: dict | None = None) -> None:
    socket.send_json({"type": "connection_init", "payload": {}})
    assert socket.receive_json() == {"type": "connection_ack"}
    socket.send_json({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})


def test_shared_stream_delivers_each_event_to_every_subscriber(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))
    endpoint = next(route.app for route in app.routes if hasattr(route.app, "shared_streams"))

    with TestClient(app) as client:
        services = app.state.services

        async def publish_event() -> int:
            async with services.database.write() as session:
                event = await map_log.append(
                    session, kind="CREATED", activity_id=7, country_code="FR", now=datetime.now(UTC),
                    payload={"id": 7, "title": "Robots in class", "status": "PLANNED", "startsOn": "2027-03-01",
                             "endsOn": None, "format": "IN_PERSON", "stemTopics": ["ROBOTICS"], "city": "Lyon",
                             "countryCode": "FR", "latitude": 45.76, "longitude": 4.84, "approximate": False,
                             "schoolName": "Lycée Ampère", "companyName": "Volta Robotics"},
                )
                sequence = event.sequence
                after_commit(session, lambda: services.broker.publish(map_log.MAP_CHANNEL, str(sequence)))
            return sequence

        with (
            client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as first,
            client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as second,
            client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as replaying,
        ):
            _subscribe(first, "one", LIVE)
            _subscribe(second, "two", LIVE)
            _subscribe(replaying, "three", REPLAY, {"after": 0})
            # Two live subscribers share one feed subscription; the replaying one has its own.
            _wait_until(lambda: endpoint.shared_streams.subscriber_count == 2, "two shared subscribers")
            _wait_until(lambda: services.map_feed.subscription_count == 2, "two feed subscriptions")

            sequence = client.portal.call(publish_event)

            expected_data = {"mapUpdates": {"sequence": sequence, "kind": "CREATED",
                                            "activity": {"title": "Robots in class"}}}
            assert first.receive_json() == {"id": "one", "type": "next", "payload": {"data": expected_data}}
            assert second.receive_json() == {"id": "two", "type": "next", "payload": {"data": expected_data}}
            assert replaying.receive_json() == {
                "id": "three", "type": "next", "payload": {"data": {"mapUpdates": {"sequence": sequence}}},
            }

            # A subscriber that completes leaves the stream; the other keeps it.
            first.send_json({"id": "one", "type": "complete"})
            _wait_until(lambda: endpoint.shared_streams.subscriber_count == 1, "one shared subscriber left")
            second_sequence = client.portal.call(publish_event)
            assert second.receive_json()["payload"]["data"]["mapUpdates"]["sequence"] == second_sequence

            second.send_json({"id": "two", "type": "complete"})
            _wait_until(lambda: endpoint.shared_streams.subscriber_count == 0, "no shared subscriber left")
            # The stream of the last subscriber stops, so only the replaying subscription remains.
            _wait_until(lambda: services.map_feed.subscription_count == 1, "the shared stream's feed subscription ended")
