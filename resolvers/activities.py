"""Operations on activities, the public campaign map, its live updates and the coordinators' report."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain import activities, reports
from domain.activities import can_see_activity
from domain.errors import DomainError, Forbidden
from persistence import activities as activity_table
from schema.activities import (
    Activity,
    ActivityConnection,
    ActivityInput,
    ActivityPayload,
    CampaignReport,
    MapActivity,
    MapUpdate,
    before_id_of,
    build_connection,
    clean_country_argument,
    empty_connection,
)
from schema.connections import page_size
from schema.context import Context
from schema.enums import ActivityStatus
from schema.errors import ForbiddenError, user_errors
from schema.node import decode_global_id, encode_global_id
from schema.payloads import DeletePayload

Info = strawberry.Info[Context, None]


def _key(global_id: str, type_name: str) -> int | None:
    decoded = decode_global_id(global_id, type_name)
    return decoded[1] if decoded else None


async def list_activities(
    info: Info,
    *,
    contact_request_id: int | None,
    status: ActivityStatus | None,
    first: int | None,
    after: str | None,
) -> ActivityConnection:
    """Return the activities the viewer may see: all for a coordinator, else those of their requests."""
    viewer = info.context.require_viewer()
    limit = page_size(first)
    before_id = before_id_of(after)
    if contact_request_id is not None:
        request = await info.context.loaders.contact_request.load(contact_request_id)
        if not can_see_activity(viewer, request):
            return empty_connection()
    async with info.context.services.database.read() as session:
        rows, total = await activity_table.list_activities(
            session,
            member_id=None if viewer.is_coordinator else viewer.id,
            contact_request_id=contact_request_id,
            status=status.name if status else None,
            before_id=before_id,
            limit=limit + 1,
        )
    return build_connection(rows, total, limit)


@strawberry.type
class ActivityQuery:
    @strawberry.field(description="Activities the viewer may see (coordinators: all), newest first.")
    async def activities(
        self,
        info: Info,
        contact_request_id: strawberry.ID | None = None,
        status: ActivityStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ActivityConnection:
        request_key = None
        if contact_request_id is not None:
            request_key = _key(contact_request_id, "ContactRequest")
            if request_key is None:
                # An id that is not a contact request's matches no activity.
                request_key = 0
        return await list_activities(info, contact_request_id=request_key, status=status, first=first, after=after)

    @strawberry.field(description="Every activity on the public campaign map, by start date. Needs no sign-in.")
    async def campaign_map(
        self, info: Info, country_code: str | None = None, status: ActivityStatus | None = None
    ) -> list[MapActivity]:
        country = clean_country_argument(country_code)
        async with info.context.services.database.read() as session:
            rows = await activity_table.map_rows(session, country_code=country, status=status.name if status else None)
        return [MapActivity.from_row(row, school_name, company_name) for row, school_name, company_name in rows]

    @strawberry.field(description="The campaign in figures; coordinators only.")
    async def campaign_report(self, info: Info) -> CampaignReport:
        viewer = info.context.require_viewer()
        try:
            figures = await reports.campaign_report(info.context.services, viewer)
        except Forbidden as error:
            raise ForbiddenError(str(error)) from None
        return CampaignReport.from_figures(figures)


@strawberry.type
class ActivityMutation:
    @strawberry.mutation(description="Plan an activity for an accepted contact request you are a party to.")
    async def create_activity(
        self, info: Info, contact_request_id: strawberry.ID, input: ActivityInput
    ) -> ActivityPayload:
        viewer = info.context.require_viewer()
        try:
            row = await activities.create(
                info.context.services, viewer, _key(contact_request_id, "ContactRequest"), input.to_domain()
            )
        except DomainError as error:
            return ActivityPayload(user_errors=user_errors(error))
        return ActivityPayload(activity=Activity.from_row(row))

    @strawberry.mutation(description="Replace every field of a planned activity with the given input.")
    async def edit_activity(self, info: Info, id: strawberry.ID, input: ActivityInput) -> ActivityPayload:
        viewer = info.context.require_viewer()
        try:
            row = await activities.edit(info.context.services, viewer, _key(id, "Activity"), input.to_domain())
        except DomainError as error:
            return ActivityPayload(user_errors=user_errors(error))
        return ActivityPayload(activity=Activity.from_row(row))

    @strawberry.mutation(description="Record that the activity took place; it is frozen and coordinators are e-mailed.")
    async def close_activity(
        self, info: Info, id: strawberry.ID, students_reached: int | None = None, summary: str | None = None
    ) -> ActivityPayload:
        viewer = info.context.require_viewer()
        try:
            row = await activities.close(info.context.services, viewer, _key(id, "Activity"), students_reached, summary)
        except DomainError as error:
            return ActivityPayload(user_errors=user_errors(error))
        return ActivityPayload(activity=Activity.from_row(row))

    @strawberry.mutation(description="Delete a planned activity that will not take place.")
    async def delete_activity(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = info.context.require_viewer()
        try:
            row = await activities.delete(info.context.services, viewer, _key(id, "Activity"))
        except DomainError as error:
            return DeletePayload(user_errors=user_errors(error))
        return DeletePayload(deleted_id=encode_global_id("Activity", row.id))


@strawberry.type
class ActivitySubscription:
    @strawberry.subscription(
        description="Changes of the public campaign map as they are committed. Needs no sign-in. "
        "With afterSequence, every change numbered above it comes first, then live ones, each once."
    )
    async def map_updates(
        self, info: Info, country_code: str | None = None, after_sequence: int | None = None
    ) -> AsyncGenerator[MapUpdate, None]:
        country = clean_country_argument(country_code)
        feed = info.context.services.map_feed
        if feed is None:
            raise RuntimeError("the map feed is not configured in this process")
        updates = feed.updates(country, after_sequence)
        try:
            async for event in updates:
                yield MapUpdate.from_event(event)
        finally:
            await updates.aclose()
