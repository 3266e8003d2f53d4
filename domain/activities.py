"""Activities planned by the two parties of an accepted contact request.

Rules: either party creates, edits, closes or deletes an activity (both must
pass the profile gate); coordinators see every activity but change none. A
closed activity is frozen: it can be neither edited nor deleted. Every change
is a conditional write on the row's status, so a close that wins a race with
an edit or a deletion is never followed by it. An edit also names the
`version` it read: of two concurrent edits based on the same read only one
applies and the other gets CONFLICT, so neither party overwrites a change
they have not seen. Each change appends a map event in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.errors import DomainError, ErrorCode, ErrorCollector
from domain.locations import Place, locate
from domain.map_events import record_change
from domain.profiles import require_active
from domain.services import Services
from domain.validation import CITY_MAX, DESCRIPTION_MAX, TITLE_MAX, clean_country, clean_text, clean_unique
from domain.vocabulary import (
    ActivityFormat,
    ActivityLength,
    ActivityStatus,
    AgeGroup,
    ContactRequestStatus,
    MapUpdateKind,
    OrganisationKind,
    StemTopic,
)
from persistence import activities as activity_table
from persistence import contact_requests as request_table
from persistence import members as member_table
from persistence.models import Activity, ContactRequest, Member, Organisation

logger = logging.getLogger(__name__)

PLANNED = ActivityStatus.PLANNED.name
CLOSED = ActivityStatus.CLOSED.name
SUMMARY_MAX = 2000
# Counts of students above this are typing mistakes, not classes.
STUDENTS_MAX = 100_000

NOT_FOUND_MESSAGE = "No activity with this id is visible to you."


@dataclass(frozen=True)
class LocationChanges:
    city: str
    country_code: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class ActivityChanges:
    """A whole activity as a party enters it; an edit replaces every stored field with these."""

    title: str
    starts_on: date
    length: ActivityLength
    format: ActivityFormat
    stem_topics: list[StemTopic]
    age_groups: list[AgeGroup]
    description: str | None = None
    ends_on: date | None = None
    expected_students: int | None = None
    location: LocationChanges | None = None


@dataclass(frozen=True)
class _CleanLocation:
    city: str
    country_code: str
    latitude: float | None
    longitude: float | None


def is_party(member: Member, request: ContactRequest) -> bool:
    return member.id in (request.sender_id, request.recipient_id)


def can_see_activity(viewer: Member | None, request: ContactRequest | None) -> bool:
    """Return whether the viewer may see the activities of `request`: its two parties and coordinators may."""
    if viewer is None or request is None:
        return False
    return viewer.is_coordinator or is_party(viewer, request)


def _clean_count(errors: ErrorCollector, value: int | None, field: tuple[str, ...], label: str) -> None:
    if value is None:
        return
    if value < 0:
        errors.add(ErrorCode.INVALID, f"{label} is {value}; it cannot be negative.", field)
    elif value > STUDENTS_MAX:
        errors.add(ErrorCode.INVALID, f"{label} is {value}; the maximum is {STUDENTS_MAX}.", field)


def _clean_location(errors: ErrorCollector, location: LocationChanges | None) -> _CleanLocation | None:
    if location is None:
        return None
    field = ("input", "location")
    city = clean_text(errors, location.city, (*field, "city"), max_length=CITY_MAX, required=True, label="City")
    country = clean_country(errors, location.country_code, (*field, "countryCode"))
    latitude, longitude = location.latitude, location.longitude
    if (latitude is None) != (longitude is None):
        errors.add(
            ErrorCode.REQUIRED,
            "Give both latitude and longitude, or neither to have the city looked up.",
            (*field, "latitude" if latitude is None else "longitude"),
        )
    if latitude is not None and not -90 <= latitude <= 90:
        errors.add(ErrorCode.INVALID, f"Latitude {latitude} is outside -90 to 90 degrees.", (*field, "latitude"))
    if longitude is not None and not -180 <= longitude <= 180:
        errors.add(
            ErrorCode.INVALID, f"Longitude {longitude} is outside -180 to 180 degrees.", (*field, "longitude")
        )
    return _CleanLocation(city or "", country or "", latitude, longitude)


def _clean_changes(changes: ActivityChanges) -> tuple[dict[str, Any], _CleanLocation | None]:
    """Validate every field, reporting all problems at once; return the column values and the location."""
    errors = ErrorCollector()
    title = clean_text(errors, changes.title, ("input", "title"), max_length=TITLE_MAX, required=True, label="Title")
    description = clean_text(
        errors, changes.description, ("input", "description"), max_length=DESCRIPTION_MAX, label="Description"
    )
    if changes.ends_on is not None and changes.ends_on < changes.starts_on:
        errors.add(
            ErrorCode.INVALID_DATE_RANGE,
            f"The activity ends on {changes.ends_on.isoformat()}, before it starts on "
            f"{changes.starts_on.isoformat()}; set endsOn on or after startsOn.",
            ("input", "endsOn"),
        )
    topics = clean_unique(errors, changes.stem_topics, ("input", "stemTopics"), label="STEM topics")
    if not topics:
        errors.add(ErrorCode.REQUIRED, "Choose at least one STEM topic.", ("input", "stemTopics"))
    ages = clean_unique(errors, changes.age_groups, ("input", "ageGroups"), label="Age groups")
    _clean_count(errors, changes.expected_students, ("input", "expectedStudents"), "Expected students")
    location = _clean_location(errors, changes.location)
    errors.raise_if_any()

    values = {
        "title": title,
        "description": description,
        "starts_on": changes.starts_on,
        "ends_on": changes.ends_on,
        "length": changes.length.name,
        "format": changes.format.name,
        "stem_topics": [topic.name for topic in topics],
        "age_groups": [age.name for age in ages],
        "expected_students": changes.expected_students,
    }
    return values, location


def _place(location: _CleanLocation | None, school: Organisation) -> dict[str, Any]:
    """Return the location columns: the given place, or by default the school's city."""
    if location is None:
        if not school.city:
            raise DomainError(
                ErrorCode.REQUIRED,
                f"The school {school.name!r} has no city in its profile, so give the activity's location.",
                ("input", "location"),
            )
        location = _CleanLocation(school.city, school.country_code, None, None)
    if location.latitude is not None and location.longitude is not None:
        place = Place(location.latitude, location.longitude, approximate=False)
    else:
        place = locate(location.city, location.country_code)
    return {
        "city": location.city,
        "country_code": location.country_code,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "location_approximate": place.approximate,
    }


async def _school_and_company(session: AsyncSession, request: ContactRequest) -> tuple[Organisation, Organisation]:
    members = await member_table.get_members(session, [request.sender_id, request.recipient_id])
    organisation_ids = [member.organisation_id for member in members.values() if member.organisation_id is not None]
    organisations = await member_table.get_organisations(session, organisation_ids)
    by_kind = {organisation.kind: organisation for organisation in organisations.values()}
    school = by_kind.get(OrganisationKind.SCHOOL.name)
    company = by_kind.get(OrganisationKind.COMPANY.name)
    if school is None or company is None:
        raise DomainError(
            ErrorCode.INVALID,
            "Activities need a school and a company, but the two parties of this contact request "
            "are no longer one of each. Check both organisations in the profiles.",
            ("contactRequestId",),
        )
    return school, company


async def _organisation_names(session: AsyncSession, activity: Activity) -> tuple[str, str]:
    organisations = await member_table.get_organisations(session, [activity.school_id, activity.company_id])
    return organisations[activity.school_id].name, organisations[activity.company_id].name


def _require_party(viewer: Member, request: ContactRequest | None, not_found: DomainError) -> ContactRequest:
    if request is None or not can_see_activity(viewer, request):
        raise not_found
    if not is_party(viewer, request):
        raise DomainError(
            ErrorCode.NOT_ALLOWED,
            "Only the two parties of the contact request can plan its activities. Coordinators can only view them.",
            not_found.problems[0].field,
        )
    return request


async def _load_for_party(
    session: AsyncSession, viewer: Member, activity_id: int | None, *, lock: bool = False
) -> Activity:
    not_found = DomainError(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, ("id",))
    activity = await activity_table.get_activity(session, activity_id, lock=lock) if activity_id is not None else None
    if activity is None:
        raise not_found
    request = await request_table.get_request(session, activity.contact_request_id)
    _require_party(viewer, request, not_found)
    return activity


def _closed(activity: Activity) -> DomainError:
    return DomainError(
        ErrorCode.ACTIVITY_CLOSED,
        f"The activity {activity.title!r} was closed, so it can no longer be changed or deleted.",
        ("id",),
    )


async def _stale(session: AsyncSession, activity_id: int) -> DomainError:
    """Explain why a conditional write matched no row: deleted, closed, or changed by someone else."""
    current = await activity_table.get_activity(session, activity_id)
    if current is None:
        return DomainError(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, ("id",))
    if current.status == CLOSED:
        return _closed(current)
    return DomainError(
        ErrorCode.CONFLICT,
        "The activity was changed by someone else at the same time. Load it again and repeat your change.",
        ("id",),
    )


async def create(
    services: Services, viewer: Member, contact_request_id: int | None, changes: ActivityChanges
) -> Activity:
    """Plan a new activity for an accepted contact request of the viewer."""
    require_active(viewer)
    values, location = _clean_changes(changes)

    now = services.clock.now()
    async with services.database.write() as session:
        not_found = DomainError(
            ErrorCode.NOT_FOUND, "No contact request with this id is visible to you.", ("contactRequestId",)
        )
        request = await request_table.get_request(session, contact_request_id) if contact_request_id else None
        request = _require_party(viewer, request, not_found)
        if request.status != ContactRequestStatus.ACCEPTED.name:
            raise DomainError(
                ErrorCode.INVALID_STATUS,
                f"This contact request is {request.status.lower()}. Activities can be planned once it is accepted.",
                ("contactRequestId",),
            )
        school, company = await _school_and_company(session, request)
        activity = Activity(
            contact_request_id=request.id,
            school_id=school.id,
            company_id=company.id,
            status=PLANNED,
            created_by_id=viewer.id,
            created_at=now,
            updated_at=now,
            **values,
            **_place(location, school),
        )
        await member_table.add(session, activity)
        await record_change(services, session, MapUpdateKind.CREATED, activity, school.name, company.name)
    logger.info("activity %s created for contact request %s by member %s", activity.id, request.id, viewer.id)
    return activity


async def edit(services: Services, viewer: Member, activity_id: int | None, changes: ActivityChanges) -> Activity:
    """Replace every field of a planned activity with `changes`."""
    require_active(viewer)
    values, location = _clean_changes(changes)

    now = services.clock.now()
    async with services.database.write() as session:
        activity = await _load_for_party(session, viewer, activity_id)
        if activity.status == CLOSED:
            raise _closed(activity)
        organisations = await member_table.get_organisations(session, [activity.school_id, activity.company_id])
        school, company = organisations[activity.school_id], organisations[activity.company_id]
        values.update(_place(location, school))
        if not await activity_table.change_if_current(
            session, activity.id, activity.version, PLANNED, updated_at=now, **values
        ):
            raise await _stale(session, activity.id)
        activity = await activity_table.get_activity(session, activity.id)
        await record_change(services, session, MapUpdateKind.UPDATED, activity, school.name, company.name)
    logger.info("activity %s edited by member %s (version %s)", activity.id, viewer.id, activity.version)
    return activity


async def close(
    services: Services,
    viewer: Member,
    activity_id: int | None,
    students_reached: int | None,
    summary: str | None,
) -> Activity:
    """Record that a planned activity took place, freeze it, and e-mail every coordinator."""
    require_active(viewer)
    errors = ErrorCollector()
    _clean_count(errors, students_reached, ("studentsReached",), "Students reached")
    summary = clean_text(errors, summary, ("summary",), max_length=SUMMARY_MAX, label="The summary")
    errors.raise_if_any()

    now = services.clock.now()
    async with services.database.write() as session:
        activity = await _load_for_party(session, viewer, activity_id, lock=True)
        if activity.status == CLOSED:
            raise _closed(activity)
        # Closing does not depend on the fields read, so it names no version: it
        # applies after a concurrent edit, and only a close or delete can stop it.
        changed = await activity_table.change_if_current(
            session,
            activity.id,
            None,
            PLANNED,
            status=CLOSED,
            students_reached=students_reached,
            summary=summary,
            closed_at=now,
            closed_by_id=viewer.id,
            updated_at=now,
        )
        if not changed:
            raise await _stale(session, activity.id)
        activity = await activity_table.get_activity(session, activity.id)
        school_name, company_name = await _organisation_names(session, activity)
        await record_change(services, session, MapUpdateKind.CLOSED, activity, school_name, company_name)
        await _queue_closed_mail(services, session, activity, viewer, school_name, company_name)
    logger.info("activity %s closed by member %s", activity.id, viewer.id)
    return activity


async def delete(services: Services, viewer: Member, activity_id: int | None) -> Activity:
    """Delete a planned activity that will not take place; return it as it was."""
    require_active(viewer)
    async with services.database.write() as session:
        # The lock keeps the row as read until it is deleted, so the map event shows its last state.
        activity = await _load_for_party(session, viewer, activity_id, lock=True)
        if activity.status == CLOSED:
            raise _closed(activity)
        school_name, company_name = await _organisation_names(session, activity)
        if not await activity_table.delete_if_status(session, activity.id, PLANNED):
            raise await _stale(session, activity.id)
        await record_change(services, session, MapUpdateKind.DELETED, activity, school_name, company_name)
    logger.info("activity %s deleted by member %s", activity.id, viewer.id)
    return activity


async def coordinator_addresses(session: AsyncSession, services: Services) -> list[tuple[str, int | None]]:
    """Return (address, member id or None) of every coordinator, members first, each address once."""
    addresses: dict[str, int | None] = {}
    for member in await member_table.get_coordinators(session):
        if member.email:
            addresses.setdefault(member.email, member.id)
    for address in services.settings.coordinator_emails:
        addresses.setdefault(address.lower(), None)
    return list(addresses.items())


async def _queue_closed_mail(
    services: Services,
    session: AsyncSession,
    activity: Activity,
    closed_by: Member,
    school_name: str,
    company_name: str,
) -> None:
    values = {
        "title": activity.title,
        "description": activity.description,
        "school_name": school_name,
        "company_name": company_name,
        "city": activity.city,
        "country_code": activity.country_code,
        "starts_on": activity.starts_on.isoformat(),
        "ends_on": activity.ends_on.isoformat() if activity.ends_on else None,
        "format": activity.format,
        "stem_topics": ", ".join(topic.replace("_", " ").lower() for topic in activity.stem_topics),
        "expected_students": activity.expected_students,
        "students_reached": activity.students_reached,
        "summary": activity.summary,
        "closed_by_name": f"{closed_by.first_name} {closed_by.last_name}",
        "closed_at": activity.closed_at.strftime("%Y-%m-%d %H:%M UTC"),
    }
    for address, member_id in await coordinator_addresses(session, services):
        services.mail.queue(session, "activity_closed", address, member_id=member_id, values=values)
