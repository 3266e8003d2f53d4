"""`pgbs seed-demo` plants planned and closed activities across Europe, each with its map events."""

from __future__ import annotations

from sqlmodel import select

from persistence.models import Activity, ContactRequest, MapEvent
from pgbs.demo import seed
from pgbs.demo_activities import DEMO_ACTIVITIES


async def read_activities(services) -> list[Activity]:
    async with services.database.read() as session:
        return list((await session.exec(select(Activity))).all())


async def test_seed_writes_activities_and_map_events(settings, services):
    await seed(settings, if_empty=False)
    first_run = await read_activities(services)
    await seed(settings, if_empty=False)

    activities = await read_activities(services)
    async with services.database.read() as session:
        events = list((await session.exec(select(MapEvent).order_by(MapEvent.sequence))).all())
        statuses = {
            row.status
            for row in (await session.exec(select(ContactRequest))).all()
            if row.id in {activity.contact_request_id for activity in activities}
        }
    closed = [activity for activity in activities if activity.status == "CLOSED"]
    named_titles = {row[2] for row in DEMO_ACTIVITIES}
    assert len(activities) == len(first_run)
    assert named_titles <= {activity.title for activity in activities}
    assert len(activities) >= len(DEMO_ACTIVITIES) + 40
    assert statuses == {"ACCEPTED"}
    assert len({activity.country_code for activity in activities}) >= 15
    assert all(activity.latitude is not None and not activity.location_approximate for activity in activities)
    assert [event.sequence for event in events] == list(range(1, len(activities) + len(closed) + 1))
    assert sorted(event.kind for event in events if event.kind == "CLOSED") == ["CLOSED"] * len(closed)
