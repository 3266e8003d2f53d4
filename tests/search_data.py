"""Members for search tests, written through the profile rules without the cost of registering.

Each member is inserted as a verified row and then given its profile and
activity profile by `domain.profiles`, which also writes the search index,
so the index contains exactly what a member editing their profile would produce.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import profiles
from domain.services import Services
from domain.vocabulary import ActivityFormat, ActivityLength, AgeGroup, OrganisationKind, StemTopic
from persistence import members as member_table
from persistence import search_index
from persistence.models import Member

# Members are created this far apart, oldest first, so "newest first" is well defined.
_JOINED = datetime(2026, 1, 1, tzinfo=UTC)


async def add_member(
    services: Services,
    name: str,
    *,
    kind: str = "COMPANY",
    organisation: str | None = None,
    country: str = "FR",
    city: str = "Lyon",
    role: str = "Engineer",
    subjects: tuple[str, ...] = ("ENGINEERING",),
    profile: dict | None = None,
    verified: bool = True,
    complete: bool = True,
    search_visible: bool = True,
    deleted: bool = False,
    joined_days: int = 0,
) -> Member:
    """Insert a member called `name` ("First Last") and return the row.

    `profile` contains the activity profile fields: country, topics, lengths,
    ages, availability (a list of (from, until) dates), description, languages.
    """
    first, _, last = name.partition(" ")
    joined = _JOINED + timedelta(days=joined_days)
    async with services.database.write() as session:
        member = Member(
            email=f"{first}.{last}.{kind}@example.org".lower().replace(" ", ""),
            password_hash=None,
            first_name=first,
            last_name=last or "Member",
            email_verified_at=joined if verified else None,
            search_visible=search_visible,
            created_at=joined,
            updated_at=joined,
        )
        await member_table.add(session, member)

    if complete:
        await profiles.update_profile(
            services,
            member.id,
            profiles.ProfileChanges(
                role=role,
                subjects=[StemTopic[subject] for subject in subjects],
                organisation=profiles.OrganisationChanges(
                    name=organisation or f"{last} {kind.title()}",
                    kind=OrganisationKind[kind],
                    country_code=country,
                    city=city,
                ),
            ),
        )
    if profile is not None:
        await profiles.update_activity_profile(
            services,
            member.id,
            profiles.ActivityProfileChanges(
                country_code=profile.get("country", country),
                stem_topics=[StemTopic[topic] for topic in profile.get("topics", ())],
                activity_lengths=[ActivityLength[length] for length in profile.get("lengths", ())],
                age_groups=[AgeGroup[age] for age in profile.get("ages", ())],
                availability=list(profile.get("availability", ())),
                formats=[ActivityFormat[value] for value in profile.get("formats", ())],
                languages=list(profile.get("languages", ())),
                description=profile.get("description"),
            ),
        )

    async with services.database.write() as session:
        row = await member_table.get_member(session, member.id)
        # Profile updates stamp updated_at only; the membership date stays as given.
        row.created_at = joined
        if deleted:
            row.deleted_at = joined
        await member_table.add(session, row)
        # The index contains the membership date and drops erased members, as erasure does.
        await search_index.refresh_member(session, row)
    return row
