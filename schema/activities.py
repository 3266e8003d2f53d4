"""Activity, campaign map and campaign report types, inputs, connection and payloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import pycountry
import strawberry
from graphql import GraphQLError

from domain.activities import ActivityChanges, LocationChanges
from domain.locations import public_coordinate
from domain.reports import CampaignFigures
from persistence.models import Activity as ActivityRow
from persistence.models import MapEvent
from schema.connections import PageInfo, decode_cursor, encode_cursor, page_size
from schema.enums import (
    ActivityFormat,
    ActivityLength,
    ActivityStatus,
    AgeGroup,
    ContactRequestStatus,
    MapUpdateKind,
    OrganisationKind,
    StemTopic,
)
from schema.errors import UserError
from schema.node import Node, encode_global_id
from schema.types import Organisation

if TYPE_CHECKING:
    from schema.contact_requests import ContactRequest
    from schema.context import Context

Info = strawberry.Info["Context", None]  # for helpers; resolvers spell it out for Strawberry


@strawberry.type(description="Where an activity takes place: a town, never a street address.")
class Location:
    city: str
    country_code: str
    latitude: float | None
    longitude: float | None
    approximate: bool = strawberry.field(
        description="True when the city was not found and the position is the country's centre."
    )


@strawberry.input(description="Coordinates are looked up from the city when not given.")
class LocationInput:
    city: str
    country_code: str
    latitude: float | None = None
    longitude: float | None = None

    def to_domain(self) -> LocationChanges:
        return LocationChanges(
            city=self.city, country_code=self.country_code, latitude=self.latitude, longitude=self.longitude
        )


@strawberry.input(description="A whole activity: editActivity replaces every field with the given input.")
class ActivityInput:
    title: str
    starts_on: date
    length: ActivityLength
    format: ActivityFormat
    stem_topics: list[StemTopic]
    age_groups: list[AgeGroup]
    description: str | None = None
    ends_on: date | None = None
    expected_students: int | None = None
    location: LocationInput | None = strawberry.field(
        default=None, description="Default: the school's city, with its coordinates looked up."
    )

    def to_domain(self) -> ActivityChanges:
        return ActivityChanges(
            title=self.title,
            description=self.description,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            length=self.length,
            format=self.format,
            stem_topics=list(self.stem_topics),
            age_groups=list(self.age_groups),
            expected_students=self.expected_students,
            location=self.location.to_domain() if self.location is not None else None,
        )


@strawberry.type(description="A classroom activity planned by the two parties of an accepted contact request.")
class Activity(Node):
    row: strawberry.Private[ActivityRow]
    title: str
    description: str | None
    status: ActivityStatus
    starts_on: date
    ends_on: date | None
    length: ActivityLength
    format: ActivityFormat
    stem_topics: list[StemTopic]
    age_groups: list[AgeGroup]
    expected_students: int | None
    location: Location
    closed_at: datetime | None
    students_reached: int | None = strawberry.field(description="Reported when closing.")
    summary: str | None = strawberry.field(description="How the activity went, reported when closing.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: ActivityRow) -> Activity:
        return cls(
            id=encode_global_id("Activity", row.id),
            row=row,
            title=row.title,
            description=row.description,
            status=ActivityStatus[row.status],
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            length=ActivityLength[row.length],
            format=ActivityFormat[row.format],
            stem_topics=[StemTopic[name] for name in row.stem_topics],
            age_groups=[AgeGroup[name] for name in row.age_groups],
            expected_students=row.expected_students,
            location=Location(
                city=row.city,
                country_code=row.country_code,
                latitude=row.latitude,
                longitude=row.longitude,
                approximate=row.location_approximate,
            ),
            closed_at=row.closed_at,
            students_reached=row.students_reached,
            summary=row.summary,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def school(self, info: strawberry.Info[Context, None]) -> Organisation:
        return Organisation.from_row(await info.context.loaders.organisation.load(self.row.school_id))

    @strawberry.field
    async def company(self, info: strawberry.Info[Context, None]) -> Organisation:
        return Organisation.from_row(await info.context.loaders.organisation.load(self.row.company_id))

    @strawberry.field
    async def contact_request(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[ContactRequest, strawberry.lazy("schema.contact_requests")]:
        from schema.contact_requests import ContactRequest

        return ContactRequest.from_row(await info.context.loaders.contact_request.load(self.row.contact_request_id))


@strawberry.type
class ActivityEdge:
    cursor: str
    node: Activity


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ActivityPayload:
    activity: Activity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def before_id_of(after: str | None) -> int | None:
    position = decode_cursor(after)
    if position and isinstance(position[0], int):
        return position[0]
    return None


def build_connection(rows: list[ActivityRow], total: int, limit: int) -> ActivityConnection:
    """Shape one page of rows, fetched with one extra row to tell whether another page follows."""
    page = rows[:limit]
    edges = [ActivityEdge(cursor=encode_cursor([row.id]), node=Activity.from_row(row)) for row in page]
    return ActivityConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
        total_count=total,
    )


def empty_connection() -> ActivityConnection:
    return ActivityConnection(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None), total_count=0)


async def request_activities(
    info: Info, contact_request_id: int, status: ActivityStatus | None, first: int | None, after: str | None
) -> ActivityConnection:
    """Return a contact request's activities; batched across the requests of one response."""
    limit = page_size(first)
    key = (contact_request_id, status.name if status else None, limit + 1, before_id_of(after))
    rows, total = await info.context.loaders.activities_of_request.load(key)
    return build_connection(rows, total, limit)


@strawberry.type(description="An activity as the public campaign map shows it: no personal names or addresses.")
class MapActivity:
    id: strawberry.ID
    title: str
    status: ActivityStatus
    starts_on: date
    ends_on: date | None
    format: ActivityFormat
    stem_topics: list[StemTopic]
    location: Location = strawberry.field(description="Town-level position, rounded to two decimal places.")
    school_name: str
    company_name: str

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> MapActivity:
        """Build from the public snapshot stored with a map event."""
        return cls(
            id=encode_global_id("Activity", snapshot["id"]),
            title=snapshot["title"],
            status=ActivityStatus[snapshot["status"]],
            starts_on=date.fromisoformat(snapshot["startsOn"]),
            ends_on=date.fromisoformat(snapshot["endsOn"]) if snapshot["endsOn"] else None,
            format=ActivityFormat[snapshot["format"]],
            stem_topics=[StemTopic[name] for name in snapshot["stemTopics"]],
            location=Location(
                city=snapshot["city"],
                country_code=snapshot["countryCode"],
                latitude=snapshot["latitude"],
                longitude=snapshot["longitude"],
                approximate=snapshot["approximate"],
            ),
            school_name=snapshot["schoolName"],
            company_name=snapshot["companyName"],
        )

    @classmethod
    def from_row(cls, row: ActivityRow, school_name: str, company_name: str) -> MapActivity:
        return cls(
            id=encode_global_id("Activity", row.id),
            title=row.title,
            status=ActivityStatus[row.status],
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            format=ActivityFormat[row.format],
            stem_topics=[StemTopic[name] for name in row.stem_topics],
            location=Location(
                city=row.city,
                country_code=row.country_code,
                latitude=public_coordinate(row.latitude),
                longitude=public_coordinate(row.longitude),
                approximate=row.location_approximate,
            ),
            school_name=school_name,
            company_name=company_name,
        )


@strawberry.type(description="One change of the campaign map, numbered by a sequence that only grows.")
class MapUpdate:
    sequence: int
    kind: MapUpdateKind
    activity: MapActivity = strawberry.field(description="The activity as it is after the change.")
    at: datetime

    @classmethod
    def from_event(cls, event: MapEvent) -> MapUpdate:
        return cls(
            sequence=event.sequence,
            kind=MapUpdateKind[event.kind],
            activity=MapActivity.from_snapshot(event.payload),
            at=event.created_at,
        )


def clean_country_argument(country_code: str | None) -> str | None:
    """Return the upper-case country code, or raise a top-level error for one that is not ISO 3166-1."""
    if country_code is None:
        return None
    code = country_code.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise GraphQLError(
            f"countryCode {country_code!r} is not an ISO 3166-1 alpha-2 code; use two letters such as 'FR'.",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return code


@strawberry.type(description="Members of one side in one country.")
class MemberCount:
    kind: OrganisationKind
    country_code: str
    count: int


@strawberry.type
class ContactRequestStatusCount:
    status: ContactRequestStatus
    count: int


@strawberry.type
class ActivityStatusCount:
    status: ActivityStatus
    count: int


@strawberry.type(description="Activities taking place in one country.")
class CountryActivityCount:
    country_code: str
    planned: int
    closed: int
    students_reached: int


@strawberry.type(description="Activities covering one STEM topic; an activity counts once for each of its topics.")
class TopicActivityCount:
    topic: StemTopic
    count: int


@strawberry.type(description="The campaign in figures, for coordinators.")
class CampaignReport:
    generated_at: datetime
    members: list[MemberCount] = strawberry.field(description="Members by side and country of their organisation.")
    contact_requests: list[ContactRequestStatusCount] = strawberry.field(description="Every status, zero included.")
    contact_requests_pending_over_14_days: int = strawberry.field(
        name="contactRequestsPendingOver14Days", description="Pending requests sent more than 14 days ago."
    )
    activities: list[ActivityStatusCount] = strawberry.field(description="Every status, zero included.")
    activities_by_country: list[CountryActivityCount]
    activities_by_topic: list[TopicActivityCount] = strawberry.field(description="Most frequent topic first.")
    students_reached: int = strawberry.field(description="Sum of the students reached by closed activities.")

    @classmethod
    def from_figures(cls, figures: CampaignFigures) -> CampaignReport:
        return cls(
            generated_at=figures.generated_at,
            members=[
                MemberCount(kind=OrganisationKind[kind], country_code=country, count=count)
                for kind, country, count in figures.members
            ],
            contact_requests=[
                ContactRequestStatusCount(status=ContactRequestStatus[status], count=count)
                for status, count in figures.requests_by_status.items()
            ],
            contact_requests_pending_over_14_days=figures.requests_pending_too_long,
            activities=[
                ActivityStatusCount(status=ActivityStatus[status], count=count)
                for status, count in figures.activities_by_status.items()
            ],
            activities_by_country=[
                CountryActivityCount(
                    country_code=country.country_code,
                    planned=country.planned,
                    closed=country.closed,
                    students_reached=country.students_reached,
                )
                for country in figures.activities_by_country
            ],
            activities_by_topic=[
                TopicActivityCount(topic=StemTopic[topic], count=count)
                for topic, count in figures.activities_by_topic.items()
            ],
            students_reached=figures.students_reached,
        )
