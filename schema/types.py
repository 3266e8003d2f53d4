"""GraphQL object types of members and their profiles, each built from a row by `from_row`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import calendar, follow_up, preferences, privacy
from domain.profiles import is_profile_complete
from persistence.models import ActivityProfile as ActivityProfileRow
from persistence.models import Member, Organisation as OrganisationRow
from schema.connections import PageInfo
from schema.enums import ActivityFormat, ActivityLength, AgeGroup, OrganisationKind, StemTopic
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
    def from_row(cls, row: OrganisationRow) -> Organisation:
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
    def from_row(cls, row: ActivityProfileRow) -> ActivityProfile:
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


@strawberry.type(description="A member: a teacher, a STEM professional or a coordinator.")
class User(Node):
    row: strawberry.Private[Member]
    first_name: str
    last_name: str
    role: str | None
    subjects: list[StemTopic]

    @classmethod
    def from_row(cls, row: Member) -> User:
        return cls(
            id=encode_global_id("User", row.id),
            row=row,
            first_name=row.first_name,
            last_name=row.last_name,
            role=row.role,
            subjects=[StemTopic[name] for name in row.subjects],
        )

    @strawberry.field(description="Null unless the e-mail privacy rule lets the viewer see it.")
    async def email(self, info: strawberry.Info[Context, None]) -> str | None:
        viewer = info.context.viewer
        exchange = privacy.NO_EXCHANGE
        if privacy.needs_exchange(viewer, self.row):
            exchange = await info.context.loaders.exchange.load(self.row.id)
        return self.row.email if privacy.can_see_email(viewer, self.row, exchange) else None

    @strawberry.field
    async def organisation(self, info: strawberry.Info[Context, None]) -> Organisation | None:
        if self.row.organisation_id is None:
            return None
        row = await info.context.loaders.organisation.load(self.row.organisation_id)
        return Organisation.from_row(row) if row is not None else None

    @strawberry.field
    async def activity_profile(self, info: strawberry.Info[Context, None]) -> ActivityProfile | None:
        row = await info.context.loaders.activity_profile.load(self.row.id)
        return ActivityProfile.from_row(row) if row is not None else None

    @strawberry.field(description="The latest contact request between the viewer and this member, either direction.")
    async def contact_request(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[ContactRequest, strawberry.lazy("schema.contact_requests")] | None:
        from schema.contact_requests import ContactRequest

        viewer = info.context.viewer
        if viewer is None or viewer.id == self.row.id:
            return None
        row = await info.context.loaders.latest_request_with_viewer.load(self.row.id)
        return ContactRequest.from_row(row) if row is not None else None

    @strawberry.field(description="Organisation, role and at least one subject are filled in.")
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


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    total_count: int
