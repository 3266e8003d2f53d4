"""Inputs and payloads of accounts and profiles."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.profiles import ActivityProfileChanges, OrganisationChanges, ProfileChanges
from schema.enums import ActivityFormat, ActivityLength, AgeGroup, OrganisationKind, StemTopic
from schema.errors import UserError
from schema.types import User


@strawberry.input
class RegisterInput:
    email: str
    password: str
    first_name: str
    last_name: str
    invitation_token: str | None = None


@strawberry.input
class OrganisationInput:
    name: str
    kind: OrganisationKind
    country_code: str
    city: str | None = None
    website: str | None = None

    def to_domain(self) -> OrganisationChanges:
        return OrganisationChanges(
            name=self.name, kind=self.kind, country_code=self.country_code, city=self.city, website=self.website
        )


@strawberry.input(description="A null or missing field leaves the stored value unchanged.")
class ProfileInput:
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    subjects: list[StemTopic] | None = None
    organisation: OrganisationInput | None = None

    def to_domain(self) -> ProfileChanges:
        return ProfileChanges(
            first_name=self.first_name,
            last_name=self.last_name,
            role=self.role,
            subjects=self.subjects,
            organisation=self.organisation.to_domain() if self.organisation else None,
        )


@strawberry.input
class DateRangeInput:
    from_: date = strawberry.field(name="from")
    until: date


@strawberry.input
class ActivityProfileInput:
    country_code: str
    stem_topics: list[StemTopic]
    activity_lengths: list[ActivityLength]
    age_groups: list[AgeGroup]
    availability: list[DateRangeInput]
    formats: list[ActivityFormat] | None = None
    languages: list[str] | None = None
    description: str | None = None

    def to_domain(self) -> ActivityProfileChanges:
        return ActivityProfileChanges(
            country_code=self.country_code,
            stem_topics=list(self.stem_topics),
            activity_lengths=list(self.activity_lengths),
            age_groups=list(self.age_groups),
            availability=[(period.from_, period.until) for period in self.availability],
            formats=list(self.formats) if self.formats is not None else None,
            languages=list(self.languages) if self.languages is not None else None,
            description=self.description,
        )


@strawberry.type
class AuthPayload:
    token: str | None = None
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
