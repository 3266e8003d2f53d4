"""Member profiles, activity profiles and the profile gate.

Until a member has verified their e-mail address and completed the profile
(organisation, role and at least one subject), they cannot search, send
requests, invite or plan activities, and nobody finds them in search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from domain.errors import DomainError, ErrorCode, ErrorCollector
from domain.services import Services
from domain.validation import (
    CITY_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    ORGANISATION_NAME_MAX,
    ROLE_MAX,
    WEBSITE_MAX,
    clean_country,
    clean_date_range,
    clean_language,
    clean_text,
    clean_unique,
)
from domain.vocabulary import ActivityFormat, ActivityLength, AgeGroup, OrganisationKind, StemTopic
from persistence import members as member_table
from persistence import search_index
from persistence.models import ActivityProfile, Member, Organisation

# An activity profile lists at most this many availability periods.
AVAILABILITY_MAX = 50


@dataclass(frozen=True)
class OrganisationChanges:
    name: str
    kind: OrganisationKind
    country_code: str
    city: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class ProfileChanges:
    """New values for a profile; None leaves the stored value unchanged."""

    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    subjects: list[StemTopic] | None = None
    organisation: OrganisationChanges | None = None


@dataclass(frozen=True)
class ActivityProfileChanges:
    """A whole activity profile; it replaces the stored one."""

    country_code: str
    stem_topics: list[StemTopic]
    activity_lengths: list[ActivityLength]
    age_groups: list[AgeGroup]
    availability: list[tuple[date, date]]
    formats: list[ActivityFormat] | None = None
    languages: list[str] | None = None
    description: str | None = None


def is_profile_complete(member: Member) -> bool:
    return member.organisation_id is not None and bool(member.role) and bool(member.subjects)


def is_active(member: Member) -> bool:
    """True when the member passed the profile gate: verified address and complete profile."""
    return member.email_verified_at is not None and is_profile_complete(member) and member.deleted_at is None


def require_active(member: Member) -> None:
    """Raise EMAIL_NOT_VERIFIED or PROFILE_INCOMPLETE unless the member passed the profile gate."""
    if member.email_verified_at is None:
        raise DomainError(
            ErrorCode.EMAIL_NOT_VERIFIED,
            "Verify your e-mail address first: open the link in the e-mail we sent you.",
        )
    if not is_profile_complete(member):
        raise DomainError(
            ErrorCode.PROFILE_INCOMPLETE,
            "Complete your profile first: organisation, role and at least one subject.",
        )


def _clean_website(errors: ErrorCollector, value: str | None, field: tuple[str, ...]) -> str | None:
    website = clean_text(errors, value, field, max_length=WEBSITE_MAX, label="Website")
    if website is None:
        return None
    parts = urlsplit(website)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in website:
        errors.add(ErrorCode.INVALID, f"{website!r} is not a web address; use one such as https://example.org.", field)
    return website


async def update_profile(services: Services, member_id: int, changes: ProfileChanges) -> Member:
    """Apply the given profile fields, validating all of them first; return the updated member."""
    errors = ErrorCollector()
    first_name = clean_text(
        errors, changes.first_name, ("input", "firstName"), max_length=NAME_MAX, label="First name",
        required=changes.first_name is not None,
    )
    last_name = clean_text(
        errors, changes.last_name, ("input", "lastName"), max_length=NAME_MAX, label="Last name",
        required=changes.last_name is not None,
    )
    role = clean_text(
        errors, changes.role, ("input", "role"), max_length=ROLE_MAX, label="Role", required=changes.role is not None
    )
    subjects = None
    if changes.subjects is not None:
        subjects = clean_unique(errors, changes.subjects, ("input", "subjects"), label="Subjects")

    organisation = changes.organisation
    if organisation is not None:
        field = ("input", "organisation")
        organisation_name = clean_text(
            errors, organisation.name, (*field, "name"), max_length=ORGANISATION_NAME_MAX, required=True,
            label="Organisation name",
        )
        country = clean_country(errors, organisation.country_code, (*field, "countryCode"))
        city = clean_text(errors, organisation.city, (*field, "city"), max_length=CITY_MAX, label="City")
        website = _clean_website(errors, organisation.website, (*field, "website"))
    errors.raise_if_any()

    now = services.clock.now()
    async with services.database.write() as session:
        member = await member_table.get_member(session, member_id)
        if member is None or member.deleted_at is not None:
            raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists.")
        if first_name is not None:
            member.first_name = first_name
        if last_name is not None:
            member.last_name = last_name
        if role is not None:
            member.role = role
        if subjects is not None:
            member.subjects = [subject.name for subject in subjects]
        if organisation is not None:
            await _save_organisation(session, member, organisation_name, organisation.kind, country, city, website, now)
        member.updated_at = now
        await member_table.add(session, member)
        await search_index.refresh_member(session, member)
    return member


async def _save_organisation(session, member, name, kind, country, city, website, now) -> None:
    row = await session.get(Organisation, member.organisation_id) if member.organisation_id else None
    if row is None:
        row = Organisation(name=name, kind=kind.name, country_code=country, created_at=now, updated_at=now)
    row.name = name
    row.kind = kind.name
    row.country_code = country
    row.city = city
    row.website = website
    row.updated_at = now
    await member_table.add(session, row)
    member.organisation_id = row.id


async def update_activity_profile(services: Services, member_id: int, changes: ActivityProfileChanges) -> Member:
    """Replace the member's activity profile after validating every field; return the member."""
    errors = ErrorCollector()
    country = clean_country(errors, changes.country_code, ("input", "countryCode"))
    topics = clean_unique(errors, changes.stem_topics, ("input", "stemTopics"), label="STEM topics")
    lengths = clean_unique(errors, changes.activity_lengths, ("input", "activityLengths"), label="Activity lengths")
    ages = clean_unique(errors, changes.age_groups, ("input", "ageGroups"), label="Age groups")
    formats = clean_unique(errors, changes.formats or [], ("input", "formats"), label="Formats")

    languages: list[str] = []
    for index, language in enumerate(changes.languages or []):
        code = clean_language(errors, language, ("input", "languages", str(index)))
        if code is not None:
            languages.append(code)
    clean_unique(errors, languages, ("input", "languages"), label="Languages")

    if len(changes.availability) > AVAILABILITY_MAX:
        errors.add(
            ErrorCode.INVALID,
            f"Availability lists {len(changes.availability)} periods; the maximum is {AVAILABILITY_MAX}.",
            ("input", "availability"),
        )
    for index, (starts, ends) in enumerate(changes.availability):
        clean_date_range(errors, starts, ends, ("input", "availability", str(index)), label="The period")
    clean_unique(errors, changes.availability, ("input", "availability"), label="Availability")

    description = clean_text(
        errors,
        changes.description,
        ("input", "description"),
        max_length=DESCRIPTION_MAX,
        label="Description",
        multiline=True,
    )
    errors.raise_if_any()

    now = services.clock.now()
    async with services.database.write() as session:
        member = await member_table.get_member(session, member_id)
        if member is None or member.deleted_at is not None:
            raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists.")
        profile = await session.get(ActivityProfile, member_id) or ActivityProfile(
            member_id=member_id, country_code=country, updated_at=now
        )
        profile.country_code = country
        profile.stem_topics = [topic.name for topic in topics]
        profile.activity_lengths = [length.name for length in lengths]
        profile.age_groups = [age.name for age in ages]
        profile.formats = [format_.name for format_ in formats]
        profile.languages = languages
        profile.availability = [
            {"from": starts.isoformat(), "until": ends.isoformat()} for starts, ends in sorted(changes.availability)
        ]
        profile.description = description
        profile.updated_at = now
        await member_table.add(session, profile)
        member.updated_at = now
        await member_table.add(session, member)
        await search_index.refresh_member(session, member)
    return member
