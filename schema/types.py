"""GraphQL object types of members and their profiles, each built from a row by `from_row`."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain import calendar, follow_up, preferences, privacy
from domain.profiles import is_profile_complete
from domain.privacy import Exchange
from persistence.models import ActivityProfile as ActivityProfileRow
from persistence.models import ContactRequest as ContactRequestRow
from persistence.models import Member, Organisation as OrganisationRow
from persistence.search import Values
from schema.connections import PageInfo
from schema.enums import ActivityFormat, ActivityLength, AgeGroup, OrganisationKind, StemTopic
from schema.execution import NOT_PRELOADED, direct_reader
from schema.node import Node, encode_global_id

if TYPE_CHECKING:
    from schema.contact_requests import ContactRequest
    from schema.data_rights import EmailPreferences
    from schema.context import Context


@strawberry.type
class Organisation:
    name: str
    kind: OrganisationKind
    country_code: str
    city: str | None
    website: str | None

    @classmethod
    def from_row(cls, row: OrganisationRow | Values) -> Organisation:
        return cls(
            name=row.name,
            kind=OrganisationKind[row.kind],
            country_code=row.country_code,
            city=row.city,
            website=row.website,
        )


@strawberry.type
class DateRange:
    from_: date = strawberry.field(name="from")
    until: date


@strawberry.type
class ActivityProfile:
    country_code: str
    stem_topics: list[StemTopic]
    activity_lengths: list[ActivityLength]
    age_groups: list[AgeGroup]
    availability: list[DateRange]
    formats: list[ActivityFormat]
    languages: list[str]
    description: str | None

    @classmethod
    def from_row(cls, row: ActivityProfileRow | Values) -> ActivityProfile:
        return cls(
            country_code=row.country_code,
            stem_topics=[StemTopic[name] for name in row.stem_topics],
            activity_lengths=[ActivityLength[name] for name in row.activity_lengths],
            age_groups=[AgeGroup[name] for name in row.age_groups],
            availability=[
                DateRange(from_=date.fromisoformat(period["from"]), until=date.fromisoformat(period["until"]))
                for period in row.availability
            ],
            formats=[ActivityFormat[name] for name in row.formats],
            languages=list(row.languages),
            description=row.description,
        )


@dataclass(frozen=True)
class Preloaded:
    """Rows read together with a list of members, keyed as the DataLoaders are.

    A `User` that carries them answers `email`, `organisation`,
    `activityProfile` and `contactRequest` at once, without a DataLoader or an
    await, which makes a search page several times cheaper to build. The maps
    hold every member of the list: a missing key means no such row.
    """

    organisations: Mapping[int, OrganisationRow | Values]  # keyed by organisation id
    activity_profiles: Mapping[int, ActivityProfileRow | Values]  # keyed by member id
    exchanges: Mapping[int, Exchange]  # keyed by member id
    latest_requests: Mapping[int, ContactRequestRow | Values]  # keyed by member id


@strawberry.type(description="A member: a teacher, a STEM professional or a coordinator.")
class User(Node):
    row: strawberry.Private[Member]
    first_name: str
    last_name: str
    role: str | None
    subjects: list[StemTopic]
    preloaded: strawberry.Private[Preloaded | None] = None

    @classmethod
    def from_row(cls, row: Member, preloaded: Preloaded | None = None) -> User:
        return cls(
            id=encode_global_id("User", row.id),
            row=row,
            first_name=row.first_name,
            last_name=row.last_name,
            role=row.role,
            subjects=[StemTopic[name] for name in row.subjects],
            preloaded=preloaded,
        )

    # The four fields below are plain functions, not coroutine functions: with
    # preloaded rows they return the value, and otherwise an awaitable that
    # graphql-core awaits, so only members without preloaded rows pay for one.
    # Each `_read_…` function returns the value from the preloaded rows, or
    # NOT_PRELOADED when a DataLoader must read it. PlainFieldExecutor calls it
    # in place of the resolver.

    def _read_email(self, context: Context) -> str | None:
        viewer = context.viewer
        if not privacy.needs_exchange(viewer, self.row):
            return self.row.email if privacy.can_see_email(viewer, self.row, privacy.NO_EXCHANGE) else None
        if self.preloaded is None:
            return NOT_PRELOADED
        exchange = self.preloaded.exchanges.get(self.row.id, privacy.NO_EXCHANGE)
        return self.row.email if privacy.can_see_email(viewer, self.row, exchange) else None

    @strawberry.field(description="Null unless the e-mail privacy rule lets the viewer see it.")
    @direct_reader(_read_email)
    def email(self, info: strawberry.Info[Context, None]) -> str | None:
        email = self._read_email(info.context)
        return self._load_email(info) if email is NOT_PRELOADED else email

    async def _load_email(self, info: strawberry.Info[Context, None]) -> str | None:
        exchange = await info.context.loaders.exchange.load(self.row.id)
        return self.row.email if privacy.can_see_email(info.context.viewer, self.row, exchange) else None

    def _read_organisation(self, _context: Context) -> Organisation | None:
        if self.row.organisation_id is None:
            return None
        if self.preloaded is None:
            return NOT_PRELOADED
        return _organisation_or_none(self.preloaded.organisations.get(self.row.organisation_id))

    @strawberry.field
    @direct_reader(_read_organisation)
    def organisation(self, info: strawberry.Info[Context, None]) -> Organisation | None:
        organisation = self._read_organisation(info.context)
        if organisation is NOT_PRELOADED:
            return _then(info.context.loaders.organisation.load(self.row.organisation_id), _organisation_or_none)
        return organisation

    def _read_activity_profile(self, _context: Context) -> ActivityProfile | None:
        if self.preloaded is None:
            return NOT_PRELOADED
        return _activity_profile_or_none(self.preloaded.activity_profiles.get(self.row.id))

    @strawberry.field
    @direct_reader(_read_activity_profile)
    def activity_profile(self, info: strawberry.Info[Context, None]) -> ActivityProfile | None:
        profile = self._read_activity_profile(info.context)
        if profile is NOT_PRELOADED:
            return _then(info.context.loaders.activity_profile.load(self.row.id), _activity_profile_or_none)
        return profile

    def _read_contact_request(self, context: Context) -> Any:
        viewer = context.viewer
        if viewer is None or viewer.id == self.row.id:
            return None
        if self.preloaded is None:
            return NOT_PRELOADED
        return _contact_request_or_none(self.preloaded.latest_requests.get(self.row.id))

    @strawberry.field(description="The latest contact request between the viewer and this member, either direction.")
    @direct_reader(_read_contact_request)
    def contact_request(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[ContactRequest, strawberry.lazy("schema.contact_requests")] | None:
        request = self._read_contact_request(info.context)
        if request is NOT_PRELOADED:
            return _then(info.context.loaders.latest_request_with_viewer.load(self.row.id), _contact_request_or_none)
        return request

    def _read_is_profile_complete(self, _context: Context) -> bool:
        return is_profile_complete(self.row)

    @strawberry.field(description="Organisation, role and at least one subject are filled in.")
    @direct_reader(_read_is_profile_complete)
    def is_profile_complete(self) -> bool:
        return is_profile_complete(self.row)

    @strawberry.field(description="The e-mail address was confirmed through the link sent to it.")
    def is_email_verified(self) -> bool:
        return self.row.email_verified_at is not None

    @strawberry.field(description="Flagged by `pgbs create-coordinator`; sees every member and activity.")
    def is_coordinator(self) -> bool:
        return self.row.is_coordinator

    def _is_viewer(self, info: strawberry.Info[Context, None]) -> bool:
        viewer = info.context.viewer
        return viewer is not None and viewer.id == self.row.id

    @strawberry.field(
        description="The viewer's own private iCalendar feed of planned activities, created on first read; "
        "null for anyone else."
    )
    async def calendar_feed_url(self, info: strawberry.Info[Context, None]) -> str | None:
        if not self._is_viewer(info):
            return None
        services = info.context.services
        token = self.row.calendar_token or await calendar.ensure_feed_token(services, self.row.id)
        return calendar.feed_url(info.context.api_base_url, token) if token else None

    @strawberry.field(description="Whether others find this member in search; null unless the viewer is this member.")
    def is_search_visible(self, info: strawberry.Info[Context, None]) -> bool | None:
        return self.row.search_visible if self._is_viewer(info) else None

    @strawberry.field(description="Which optional e-mails the member receives; null unless the viewer is this member.")
    def email_preferences(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[EmailPreferences, strawberry.lazy("schema.data_rights")] | None:
        from schema.data_rights import EmailPreferences

        if not self._is_viewer(info):
            return None
        return EmailPreferences(**preferences.email_preferences(self.row))

    @strawberry.field(
        description="How many contact requests wait for this member's answer; null unless the viewer is this member."
    )
    async def pending_request_count(self, info: strawberry.Info[Context, None]) -> int | None:
        if not self._is_viewer(info):
            return None
        return await follow_up.count_waiting_requests(info.context.services, self.row.id)


async def _then(pending: Awaitable[Any], convert: Any) -> Any:
    return convert(await pending)


def _organisation_or_none(row: OrganisationRow | Values | None) -> Organisation | None:
    return Organisation.from_row(row) if row is not None else None


def _activity_profile_or_none(row: ActivityProfileRow | Values | None) -> ActivityProfile | None:
    return ActivityProfile.from_row(row) if row is not None else None


def _contact_request_or_none(row: ContactRequestRow | Values | None) -> Any:
    from schema.contact_requests import ContactRequest

    return ContactRequest.from_row(row) if row is not None else None


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    total_count: int
