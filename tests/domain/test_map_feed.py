"""The map feed: live fan-out by country, catch-up from the log, and no leftovers after a subscriber leaves."""

from __future__ import annotations

import asyncio

import pytest

from domain import activities, map_feed
from domain.activities import LocationChanges
from tests.activity_factories import activity_changes, connected_pair, key, member_row

# Bound for every wait on an expected event; a correct feed delivers far sooner.
WAIT = 10


@pytest.fixture
async def planner(app, client, services):
    """The school member of a connected pair, with the application (and its feed) running."""
    pair = await connected_pair(client, services)
    return await member_row(services, pair.school), key(pair.request_id)


async def create(services, planner, title: str, country: str = "FR"):
    member, request_id = planner
    location = LocationChanges(city="Lyon" if country == "FR" else "Turin", country_code=country)
    return await activities.create(services, member, request_id, activity_changes(title=title, location=location))


async def take(updates, count: int) -> list:
    received = []
    async with asyncio.timeout(WAIT):
        while len(received) < count:
            received.append(await anext(updates))
    return received


async def test_live_updates_filtered_by_country(services, planner):
    feed = services.map_feed
    france = feed.updates("FR", None)
    everywhere = feed.updates(None, None)
    first_france = asyncio.ensure_future(anext(france))
    first_anywhere = asyncio.ensure_future(anext(everywhere))
    await asyncio.sleep(0)

    await create(services, planner, "Turin visit", country="IT")
    await create(services, planner, "Lyon visit", country="FR")

    async with asyncio.timeout(WAIT):
        france_event = await first_france
        anywhere_event = await first_anywhere
    assert france_event.payload["title"] == "Lyon visit"
    assert anywhere_event.payload["title"] == "Turin visit"
    assert (await take(everywhere, 1))[0].payload["title"] == "Lyon visit"
    await france.aclose()
    await everywhere.aclose()
    assert feed.subscription_count == 0


async def test_after_sequence_replays_then_goes_live_without_duplicates(services, planner):
    feed = services.map_feed
    for number in range(3):
        await create(services, planner, f"Before {number}")

    updates = feed.updates(None, 1)
    replayed = await take(updates, 2)
    writers = asyncio.gather(*(create(services, planner, f"During {number}") for number in range(5)))
    live = await take(updates, 5)
    await writers

    sequences = [event.sequence for event in replayed + live]
    assert sequences == list(range(2, 9))
    await updates.aclose()


async def test_subscribing_while_writers_commit_has_no_gap(services, planner):
    feed = services.map_feed
    await create(services, planner, "First")

    writers = asyncio.ensure_future(asyncio.gather(*(create(services, planner, f"Racing {n}") for n in range(6))))
    updates = feed.updates(None, 0)
    received = await take(updates, 7)
    await writers

    assert [event.sequence for event in received] == list(range(1, 8))
    await updates.aclose()


async def test_resume_catches_up_missed_notifications(services, planner, monkeypatch):
    feed = services.map_feed
    updates = feed.updates(None, None)
    pending = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0)

    async def lost(channel: str, payload: str) -> None:
        return None

    monkeypatch.setattr(services.broker, "publish", lost)
    await create(services, planner, "Published while the broker was down")
    await asyncio.sleep(0.05)
    assert not pending.done()

    await feed.on_resume()

    async with asyncio.timeout(WAIT):
        event = await pending
    assert event.payload["title"] == "Published while the broker was down"
    await updates.aclose()


async def test_slow_subscriber_reads_log_after_overflow(services, planner, monkeypatch):
    monkeypatch.setattr(map_feed, "QUEUE_MAX", 2)
    feed = services.map_feed
    await create(services, planner, "Seen first")
    updates = feed.updates(None, 0)
    assert len(await take(updates, 1)) == 1

    for number in range(6):
        await create(services, planner, f"Burst {number}")

    received = await take(updates, 6)
    assert [event.sequence for event in received] == list(range(2, 8))
    await updates.aclose()
    assert feed.subscription_count == 0


async def test_stop_ends_open_subscriptions(services, planner):
    feed = services.map_feed
    updates = feed.updates(None, None)
    pending = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0)
    assert feed.subscription_count == 1

    await feed.stop()

    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(WAIT):
            await pending
    assert feed.subscription_count == 0
