"""`pgbs seed-demo`: a small believable campaign for a first look in GraphiQL.

Every demo account signs in with DEMO_PASSWORD. Rows are written directly,
with one shared password hash, because hashing each account with Argon2
would take minutes.
"""

from __future__ import annotations

import logging
from datetime import date

from domain.passwords import PasswordHasher
from pgbs.settings import Settings
from persistence import members as member_table
from persistence import search_index
from persistence.database import Database
from persistence.models import ActivityProfile, Member, Organisation
from domain.clock import Clock
from pgbs.demo_activities import seed_activities

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password"

# (first name, last name, e-mail, role, subjects, organisation, kind, country, city)
DEMO_MEMBERS = [
    ("Claire", "Moreau", "claire.moreau@school.example", "Physics teacher", ["PHYSICS", "MATHEMATICS"],
     "Lycée Jean Moulin", "SCHOOL", "FR", "Lyon"),
    ("Jonas", "Becker", "jonas.becker@company.example", "Software engineer", ["COMPUTER_SCIENCE", "DATA_AND_AI"],
     "Rheinwerk Robotics GmbH", "COMPANY", "DE", "Cologne"),
    ("Lucia", "Romano", "lucia.romano@school.example", "Biology teacher", ["BIOLOGY", "HEALTH_AND_MEDICINE"],
     "Liceo Scientifico Galileo", "SCHOOL", "IT", "Turin"),
    ("Pieter", "de Vries", "pieter.devries@company.example", "Process engineer", ["ENGINEERING", "ENERGY"],
     "Noordzee Energie B.V.", "COMPANY", "NL", "Rotterdam"),
]
COORDINATOR = ("Ana", "Silva", "coordinator@pgbs.example")


async def seed(settings: Settings, *, if_empty: bool) -> int:
    database = Database(settings.database_url)
    clock = Clock()
    try:
        async with database.read() as session:
            existing = await member_table.count_members(session)
        if existing and if_empty:
            logger.info("demo data skipped: the database already has %d members", existing)
            return 0

        password_hash = await PasswordHasher().hash(DEMO_PASSWORD)
        now = clock.now()
        async with database.write() as session:
            for first, last, email, role, subjects, organisation_name, kind, country, city in DEMO_MEMBERS:
                if await member_table.get_member_by_email(session, email):
                    continue
                organisation = Organisation(
                    name=organisation_name, kind=kind, country_code=country, city=city, created_at=now, updated_at=now
                )
                await member_table.add(session, organisation)
                member = Member(
                    email=email, password_hash=password_hash, first_name=first, last_name=last, role=role,
                    subjects=subjects, organisation_id=organisation.id, email_verified_at=now,
                    email_preferences={"reminders": True, "notifications": True}, created_at=now, updated_at=now,
                )
                await member_table.add(session, member)
                await member_table.add(
                    session,
                    ActivityProfile(
                        member_id=member.id, country_code=country, stem_topics=subjects,
                        activity_lengths=["SINGLE_LESSON", "HALF_DAY"], age_groups=["AGES_13_15", "AGES_16_19"],
                        availability=[{"from": date(now.year, 1, 1).isoformat(), "until": date(now.year + 1, 6, 30).isoformat()}],
                        formats=["IN_PERSON", "ONLINE"], languages=["en"],
                        description=f"{role} at {organisation_name}, happy to plan classroom visits.", updated_at=now,
                    ),
                )
                await search_index.refresh_member(session, member)

            first, last, email = COORDINATOR
            if not await member_table.get_member_by_email(session, email):
                await member_table.add(
                    session,
                    Member(
                        email=email, password_hash=password_hash, first_name=first, last_name=last,
                        email_verified_at=now, is_coordinator=True, created_at=now, updated_at=now,
                        email_preferences={"reminders": True, "notifications": True},
                    ),
                )
            activities_added = await seed_activities(session, now)
            logger.info("demo data: %d activities added to the campaign map", activities_added)
        logger.info(
            "demo data written: sign in as %s (coordinator) or %s, password %r",
            COORDINATOR[2], DEMO_MEMBERS[0][2], DEMO_PASSWORD,
        )
        return 0
    finally:
        await database.dispose()
