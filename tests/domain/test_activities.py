"""Activity rules: who plans, what is valid, the frozen closed activity, concurrent changes and map events."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlmodel import select

from domain import activities
from domain.errors import DomainError, ErrorCode
from persistence.models import Activity, MapEvent
from tests.activity_factories import (
    LocationChanges,
    activity_changes,
    connected_pair,
    key,
    member_row,
    send_request,
)
from tests.conftest import count_rows
from tests.factories import active_member, outbox


@pytest.fixture
async def pair(client, services):
    return await connected_pair(client, services)


async def map_events(services) -> list[MapEvent]:
    async with services.database.read() as session:
        return list((await session.exec(select(MapEvent).order_by(MapEvent.sequence))).all())


async def stored(services, activity_id: int) -> Activity | None:
    async with services.database.read() as session:
        return await session.get(Activity, activity_id)


async def rejection(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await call
    return caught.value


async def test_create_stores_organisations_and_map_event(services, pair):
    school = await member_row(services, pair.school)

    activity = await activities.create(services, school, key(pair.request_id), activity_changes())

    assert activity.status == "PLANNED"
    assert activity.version == 1
    events = await map_events(services)
    assert [(event.sequence, event.kind, event.activity_id) for event in events] == [(1, "CREATED", activity.id)]
    assert events[0].payload["schoolName"] == "Lycée Jean Moulin"
    assert events[0].payload["companyName"] == "Rhône Robotics"
    assert "Claire" not in str(events[0].payload)
    assert "@" not in str(events[0].payload)


async def test_either_party_creates(services, pair):
    company = await member_row(services, pair.company)

    activity = await activities.create(services, company, key(pair.request_id), activity_changes())

    assert activity.created_by_id == company.id


async def test_default_location_is_school_city(services, pair):
    school = await member_row(services, pair.school)

    activity = await activities.create(services, school, key(pair.request_id), activity_changes())

    assert (activity.city, activity.country_code) == ("Lyon", "FR")
    assert activity.latitude == pytest.approx(45.75, abs=0.01)
    assert activity.longitude == pytest.approx(4.85, abs=0.01)
    assert activity.location_approximate is False


async def test_city_lookup_ignores_case_and_accents(services, pair):
    school = await member_row(services, pair.school)
    location = LocationChanges(city="KOLN", country_code="de")

    activity = await activities.create(services, school, key(pair.request_id), activity_changes(location=location))

    assert activity.country_code == "DE"
    assert activity.latitude == pytest.approx(50.93, abs=0.01)
    assert activity.location_approximate is False


async def test_unknown_city_placed_at_country_centre(services, pair):
    school = await member_row(services, pair.school)
    location = LocationChanges(city="Saint-Nulle-Part", country_code="FR")

    activity = await activities.create(services, school, key(pair.request_id), activity_changes(location=location))

    assert activity.city == "Saint-Nulle-Part"
    assert activity.location_approximate is True
    assert 42 < activity.latitude < 51
    assert -5 < activity.longitude < 8


async def test_given_coordinates_are_kept(services, pair):
    school = await member_row(services, pair.school)
    location = LocationChanges(city="Lyon", country_code="FR", latitude=45.767312, longitude=4.834277)

    activity = await activities.create(services, school, key(pair.request_id), activity_changes(location=location))

    assert activity.latitude == 45.767312
    assert activity.longitude == 4.834277
    events = await map_events(services)
    assert events[0].payload["latitude"] == 45.77
    assert events[0].payload["longitude"] == 4.83


async def test_invalid_input_reports_every_field(services, pair):
    school = await member_row(services, pair.school)
    changes = activity_changes(
        title="x" * 201,
        description="y" * 2001,
        starts_on=date(2027, 3, 10),
        ends_on=date(2027, 3, 9),
        expected_students=-1,
        stem_topics=[],
        location=LocationChanges(city=" ", country_code="XX", latitude=91.0, longitude=None),
    )

    error = await rejection(activities.create(services, school, key(pair.request_id), changes))

    found = {(problem.code, problem.field) for problem in error.problems}
    assert (ErrorCode.TOO_LONG, ("input", "title")) in found
    assert (ErrorCode.TOO_LONG, ("input", "description")) in found
    assert (ErrorCode.INVALID_DATE_RANGE, ("input", "endsOn")) in found
    assert (ErrorCode.INVALID, ("input", "expectedStudents")) in found
    assert (ErrorCode.REQUIRED, ("input", "stemTopics")) in found
    assert (ErrorCode.REQUIRED, ("input", "location", "city")) in found
    assert (ErrorCode.INVALID_COUNTRY, ("input", "location", "countryCode")) in found
    assert (ErrorCode.INVALID, ("input", "location", "latitude")) in found
    assert (ErrorCode.REQUIRED, ("input", "location", "longitude")) in found
    assert await count_rows(services, "activity") == 0
    assert await count_rows(services, "map_event") == 0


async def test_text_at_maximum_lengths_accepted(services, pair):
    school = await member_row(services, pair.school)

    activity = await activities.create(
        services, school, key(pair.request_id), activity_changes(title="t" * 200, description="d" * 2000)
    )

    assert len(activity.title) == 200


async def test_create_needs_accepted_request(client, services):
    school = await active_member(client, services, "a@school.example", kind="SCHOOL")
    company = await active_member(client, services, "b@company.example", kind="COMPANY")
    request_id = await send_request(client, school, company)
    school_row = await member_row(services, school)

    error = await rejection(activities.create(services, school_row, key(request_id), activity_changes()))

    assert error.code is ErrorCode.INVALID_STATUS
    assert error.problems[0].field == ("contactRequestId",)


async def test_outsider_and_coordinator_cannot_plan(client, services, pair):
    outsider = await member_row(services, await active_member(client, services, "c@school.example"))
    coordinator = await member_row(services, pair.company)
    coordinator.is_coordinator = True
    coordinator.id = outsider.id  # a coordinator who is not a party of the request

    by_outsider = await rejection(activities.create(services, outsider, key(pair.request_id), activity_changes()))
    by_coordinator = await rejection(
        activities.create(services, coordinator, key(pair.request_id), activity_changes())
    )

    assert by_outsider.code is ErrorCode.NOT_FOUND
    assert by_coordinator.code is ErrorCode.NOT_ALLOWED
    assert await count_rows(services, "activity") == 0


async def test_profile_gate_applies(client, services, pair):
    school = await member_row(services, pair.school)
    school.email_verified_at = None

    error = await rejection(activities.create(services, school, key(pair.request_id), activity_changes()))

    assert error.code is ErrorCode.EMAIL_NOT_VERIFIED


async def test_edit_replaces_every_field(services, pair):
    school = await member_row(services, pair.school)
    company = await member_row(services, pair.company)
    created = await activities.create(services, school, key(pair.request_id), activity_changes())

    edited = await activities.edit(
        services,
        company,
        created.id,
        activity_changes(title="Sensors workshop", description=None, ends_on=None, expected_students=None),
    )

    assert edited.title == "Sensors workshop"
    assert edited.description is None
    assert edited.ends_on is None
    assert edited.expected_students is None
    assert edited.version == 2
    assert [event.kind for event in await map_events(services)] == ["CREATED", "UPDATED"]


async def test_close_freezes_and_emails_coordinators(client, services, pair):
    school = await member_row(services, pair.school)
    coordinator = await active_member(client, services, "coordinator@pgbs.example", kind="COMPANY")
    async with services.database.write() as session:
        row = await session.get(type(school), key(coordinator.id))
        row.is_coordinator = True
    created = await activities.create(services, school, key(pair.request_id), activity_changes())

    closed = await activities.close(services, school, created.id, 27, "The students built a line follower.")

    assert closed.status == "CLOSED"
    assert closed.students_reached == 27
    assert closed.closed_at is not None
    for address in (coordinator.email, "campaign-office@pgbs.example"):
        mails = await outbox(services, address, "activity_closed")
        assert len(mails) == 1, address
        assert "Robots in the physics lab" in mails[0].text_body
        assert "Students reached: 27" in mails[0].text_body
        assert "line follower" in mails[0].text_body
    edit = await rejection(activities.edit(services, school, created.id, activity_changes(title="Later")))
    delete = await rejection(activities.delete(services, school, created.id))
    again = await rejection(activities.close(services, school, created.id, 30, None))
    assert edit.code is ErrorCode.ACTIVITY_CLOSED
    assert delete.code is ErrorCode.ACTIVITY_CLOSED
    assert again.code is ErrorCode.ACTIVITY_CLOSED
    assert (await stored(services, created.id)).title == "Robots in the physics lab"


async def test_close_rejects_negative_count_and_long_summary(services, pair):
    school = await member_row(services, pair.school)
    created = await activities.create(services, school, key(pair.request_id), activity_changes())

    error = await rejection(activities.close(services, school, created.id, -3, "s" * 2001))

    assert {(problem.code, problem.field) for problem in error.problems} == {
        (ErrorCode.INVALID, ("studentsReached",)),
        (ErrorCode.TOO_LONG, ("summary",)),
    }
    assert (await stored(services, created.id)).status == "PLANNED"


async def test_delete_removes_and_records_event(services, pair):
    company = await member_row(services, pair.company)
    created = await activities.create(services, company, key(pair.request_id), activity_changes())

    await activities.delete(services, company, created.id)

    assert await stored(services, created.id) is None
    events = await map_events(services)
    assert [event.kind for event in events] == ["CREATED", "DELETED"]
    assert events[1].payload["id"] == created.id
    missing = await rejection(activities.delete(services, company, created.id))
    assert missing.code is ErrorCode.NOT_FOUND


async def test_concurrent_edits_end_consistent(services, pair):
    school = await member_row(services, pair.school)
    company = await member_row(services, pair.company)
    created = await activities.create(services, school, key(pair.request_id), activity_changes())
    titles = [f"Version by writer {number}" for number in range(4)]
    writers = [school, company, school, company]

    results = await asyncio.gather(
        *(
            activities.edit(services, writer, created.id, activity_changes(title=title, expected_students=number))
            for number, (writer, title) in enumerate(zip(writers, titles, strict=True))
        ),
        return_exceptions=True,
    )

    succeeded = [result for result in results if isinstance(result, Activity)]
    failed = [result for result in results if not isinstance(result, Activity)]
    assert succeeded
    assert all(isinstance(error, DomainError) and error.code is ErrorCode.CONFLICT for error in failed)
    final = await stored(services, created.id)
    assert final.version == 1 + len(succeeded)
    assert final.title in titles
    assert final.expected_students == titles.index(final.title)
    updates = [event for event in await map_events(services) if event.kind == "UPDATED"]
    assert len(updates) == len(succeeded)
    assert updates[-1].payload["title"] == final.title


async def test_close_racing_edit_never_changes_closed(services, pair):
    school = await member_row(services, pair.school)
    company = await member_row(services, pair.company)
    for round_number in range(3):
        created = await activities.create(services, school, key(pair.request_id), activity_changes())

        edit, close = await asyncio.gather(
            activities.edit(services, company, created.id, activity_changes(title=f"Edited {round_number}")),
            activities.close(services, school, created.id, 20, None),
            return_exceptions=True,
        )

        assert isinstance(close, Activity), close
        final = await stored(services, created.id)
        assert final.status == "CLOSED"
        events = [event for event in await map_events(services) if event.activity_id == created.id]
        kinds = [event.kind for event in events]
        if isinstance(edit, Activity):
            # The edit committed first, and the close froze the edited activity.
            assert kinds == ["CREATED", "UPDATED", "CLOSED"]
            assert final.title == f"Edited {round_number}"
        else:
            assert edit.code is ErrorCode.ACTIVITY_CLOSED
            assert kinds == ["CREATED", "CLOSED"]
            assert final.title == "Robots in the physics lab"
        assert events[-1].payload["status"] == "CLOSED"
        assert events[-1].payload["title"] == final.title


async def test_delete_racing_close_one_wins(services, pair):
    school = await member_row(services, pair.school)
    company = await member_row(services, pair.company)
    created = await activities.create(services, school, key(pair.request_id), activity_changes())

    delete, close = await asyncio.gather(
        activities.delete(services, company, created.id),
        activities.close(services, school, created.id, 20, None),
        return_exceptions=True,
    )

    outcomes = sorted(type(result).__name__ for result in (delete, close))
    assert outcomes == ["Activity", "DomainError"]
    final = await stored(services, created.id)
    kinds = [event.kind for event in await map_events(services)]
    if isinstance(delete, Activity):
        assert final is None
        assert close.code is ErrorCode.NOT_FOUND
        assert kinds == ["CREATED", "DELETED"]
    else:
        assert final.status == "CLOSED"
        assert delete.code is ErrorCode.ACTIVITY_CLOSED
        assert kinds == ["CREATED", "CLOSED"]


async def test_concurrent_creates_get_gapless_sequences(services, pair):
    school = await member_row(services, pair.school)

    await asyncio.gather(
        *(
            activities.create(services, school, key(pair.request_id), activity_changes(title=f"Activity {number}"))
            for number in range(8)
        )
    )

    events = await map_events(services)
    async with services.database.read() as session:
        activity_ids = set((await session.exec(select(Activity.id))).all())
    assert [event.sequence for event in events] == list(range(1, 9))
    assert {event.activity_id for event in events} == activity_ids
