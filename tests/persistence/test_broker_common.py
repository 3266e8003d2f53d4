"""Pieces every broker uses: the reconnect backoff, URL handling and payload limits."""

from __future__ import annotations

import pytest

from persistence.broker import create_broker, describe_url, validate_payload
from persistence.broker.listeners import Backoff
from persistence.broker.memory import MemoryBroker


def test_backoff_doubles_up_to_maximum():
    backoff = Backoff(initial=0.5, maximum=30.0)

    delays = [backoff.next_delay() for _ in range(12)]

    for attempt, delay in enumerate(delays):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling, f"attempt {attempt}: {delay} outside [{ceiling / 2}, {ceiling}]"
    assert backoff.attempts == 12


def test_backoff_reset_starts_over():
    backoff = Backoff(initial=1.0, maximum=8.0)
    for _ in range(5):
        backoff.next_delay()

    backoff.reset()

    assert backoff.attempts == 0
    assert 0.5 <= backoff.next_delay() <= 1.0


def test_backoff_delays_are_jittered():
    delays = {Backoff(initial=1.0, maximum=1.0).next_delay() for _ in range(20)}

    assert len(delays) > 1


@pytest.mark.parametrize(("initial", "maximum"), [(0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_backoff_rejects_invalid_bounds(initial, maximum):
    with pytest.raises(ValueError, match="backoff needs 0 < initial <= maximum"):
        Backoff(initial, maximum)


def test_create_broker_memory():
    assert isinstance(create_broker("memory://"), MemoryBroker)


def test_create_broker_rejects_unknown_scheme():
    with pytest.raises(ValueError, match="BROKER_URL scheme 'kafka' is not supported"):
        create_broker("kafka://127.0.0.1:9092")


def test_describe_url_hides_credentials():
    assert describe_url("redis://user:secret@cache.internal:6380/0") == "redis://cache.internal:6380"
    assert describe_url("postgres://pgbs:secret@db.internal/pgbs") == "postgres://db.internal"


def test_payload_must_be_text():
    with pytest.raises(ValueError, match="broker payload must be a str, got int"):
        validate_payload(42)  # type: ignore[arg-type]
