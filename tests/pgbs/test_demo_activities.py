"""`pgbs seed-demo` plants planned and closed activities across Europe, each with its map events."""

from __future__ import annotations

from sqlmodel import select

from persistence.models import Activity, MapEvent
from pgbs.demo import seed
from pgbs.demo_activities import DEMO_ACTIVITIES


async def test_seed_writes_activities_and_map_events(settings, services):
    await seed(settings, if_empty=False)
    await seed(settings, if_empty=False)

    async with services.database.read() as session:
        activities = list((await session.exec(select(Activity))).all())
        events = list((await session.exec(select(MapEvent).order_by(MapEvent.sequence))).all())
    closed = [activity for activity in activities if activity.status == "CLOSED"]
    assert len(activities) == len(DEMO_ACTIVITIES)
    assert len(closed) == sum(1 for row in DEMO_ACTIVITIES if row[-1] is not None)
    assert len({activity.country_code for activity in activities}) >= 6
    assert all(activity.latitude is not None and not activity.location_approximate for activity in activities)
    assert [event.sequence for event in events] == list(range(1, len(activities) + len(closed) + 1))
    assert sorted(event.kind for event in events if event.kind == "CLOSED") == ["CLOSED"] * len(closed)
