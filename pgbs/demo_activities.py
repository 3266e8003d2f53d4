"""Demo activities for `pgbs seed-demo`: planned and closed visits across Europe, with their map events.

Each demo school is connected to each demo company by an accepted contact
request, and the activities below are planned under those requests. Members
come from the member demo data; a pair with a missing member is skipped.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.locations import locate
from domain.map_events import map_snapshot
from persistence import map_log
from persistence import members as member_table
from persistence.contact_requests import open_request_between
from persistence.models import Activity, ContactRequest, Member

logger = logging.getLogger(__name__)


# (school e-mail, company e-mail, title, city, country, days from today, format, topics, students reached or
# None while planned). Negative days are past activities, closed with the number of students reached.
DEMO_ACTIVITIES = [
    ("claire.moreau@school.example", "jonas.becker@company.example", "Build a line-following robot",
     "Lyon", "FR", -40, "IN_PERSON", ["ROBOTICS", "COMPUTER_SCIENCE"], 28),
    ("claire.moreau@school.example", "jonas.becker@company.example", "How a neural network sees",
     "Lyon", "FR", 21, "ONLINE", ["DATA_AND_AI", "MATHEMATICS"], None),
    ("claire.moreau@school.example", "pieter.devries@company.example", "Wind turbines up close",
     "Marseille", "FR", -12, "IN_PERSON", ["ENERGY", "PHYSICS"], 54),
    ("claire.moreau@school.example", "pieter.devries@company.example", "Hydrogen in the harbour",
     "Rotterdam", "NL", 45, "HYBRID", ["ENERGY", "CHEMISTRY"], None),
    ("lucia.romano@school.example", "jonas.becker@company.example", "Sensors in the greenhouse",
     "Turin", "IT", -70, "IN_PERSON", ["BIOLOGY", "TECHNOLOGY"], 22),
    ("lucia.romano@school.example", "jonas.becker@company.example", "Code your first game",
     "Milan", "IT", 14, "IN_PERSON", ["COMPUTER_SCIENCE"], None),
    ("lucia.romano@school.example", "pieter.devries@company.example", "Energy from the sea",
     "Genoa", "IT", 60, "HYBRID", ["ENERGY", "EARTH_AND_ENVIRONMENT"], None),
    ("lucia.romano@school.example", "pieter.devries@company.example", "A day at the science festival",
     "Vienna", "AT", -5, "IN_PERSON", ["PHYSICS", "SPACE"], 120),
    ("claire.moreau@school.example", "jonas.becker@company.example", "Satellites and maps",
     "Kraków", "PL", 30, "ONLINE", ["SPACE", "EARTH_AND_ENVIRONMENT"], None),
    ("lucia.romano@school.example", "jonas.becker@company.example", "Medical imaging explained",
     "Madrid", "ES", 90, "ONLINE", ["HEALTH_AND_MEDICINE", "PHYSICS"], None),
    ("claire.moreau@school.example", "pieter.devries@company.example", "Recycling plastics, the chemistry",
     "Lisbon", "PT", -25, "HYBRID", ["CHEMISTRY", "EARTH_AND_ENVIRONMENT"], 36),
]


async def _accepted_request(session: AsyncSession, school: Member, company: Member, now: datetime) -> ContactRequest:
    existing = await open_request_between(session, school.id, company.id)
    if existing is not None:
        return existing
    low, high = sorted((school.id, company.id))
    request = ContactRequest(
        sender_id=school.id,
        recipient_id=company.id,
        pair_low_id=low,
        pair_high_id=high,
        status="ACCEPTED",
        message="We would love a visit from your engineers this school year.",
        response_message="Happy to help; let us plan something.",
        created_at=now - timedelta(days=90),
        responded_at=now - timedelta(days=88),
    )
    await member_table.add(session, request)
    return request


async def seed_activities(session: AsyncSession, now: datetime) -> int:
    """Write the demo activities and a map event for each change; return how many activities were added."""
    today = now.date()
    added = 0
    for school_email, company_email, title, city, country, days, format_, topics, reached in DEMO_ACTIVITIES:
        school = await member_table.get_member_by_email(session, school_email)
        company = await member_table.get_member_by_email(session, company_email)
        if school is None or company is None or not school.organisation_id or not company.organisation_id:
            logger.info("demo activity %r skipped: %s or %s is not a demo member", title, school_email, company_email)
            continue
        request = await _accepted_request(session, school, company, now)
        exists = await session.exec(
            select(Activity.id).where(Activity.contact_request_id == request.id, Activity.title == title)
        )
        if exists.first() is not None:
            continue

        starts_on: date = today + timedelta(days=days)
        place = locate(city, country)
        activity = Activity(
            contact_request_id=request.id,
            school_id=school.organisation_id,
            company_id=company.organisation_id,
            title=title,
            description=f"{title}: a classroom activity planned by a teacher and a STEM professional.",
            status="PLANNED",
            starts_on=starts_on,
            ends_on=starts_on,
            length="HALF_DAY",
            format=format_,
            stem_topics=topics,
            age_groups=["AGES_13_15", "AGES_16_19"],
            expected_students=reached or 25,
            city=city,
            country_code=country,
            latitude=place.latitude,
            longitude=place.longitude,
            location_approximate=place.approximate,
            created_by_id=school.id,
            created_at=now,
            updated_at=now,
        )
        await member_table.add(session, activity)
        organisations = await member_table.get_organisations(session, [activity.school_id, activity.company_id])
        names = (organisations[activity.school_id].name, organisations[activity.company_id].name)
        await _record(session, "CREATED", activity, names, now)

        if reached is not None:
            activity.status = "CLOSED"
            activity.students_reached = reached
            activity.summary = "The students asked many questions and want a second visit."
            activity.closed_at = now
            activity.closed_by_id = school.id
            activity.version += 1
            await member_table.add(session, activity)
            await _record(session, "CLOSED", activity, names, now)
        added += 1
    return added


async def _record(session: AsyncSession, kind: str, activity: Activity, names: tuple[str, str], now: datetime) -> None:
    await map_log.append(
        session,
        kind=kind,
        activity_id=activity.id,
        country_code=activity.country_code,
        payload=map_snapshot(activity, *names),
        now=now,
    )
