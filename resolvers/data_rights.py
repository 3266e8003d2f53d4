"""Operations on members' data rights: export, erasure, search visibility, e-mail preferences, calendar feed."""

from __future__ import annotations

import strawberry

from domain import calendar, erasure, export, preferences
from domain.errors import DomainError
from schema.accounts import UserPayload
from schema.context import Context
from schema.data_rights import DeletePayload, EmailPreferencesInput
from schema.errors import user_errors
from schema.node import encode_global_id
from schema.scalars import JSON
from schema.types import User

Info = strawberry.Info[Context, None]


@strawberry.type
class DataRightsQuery:
    @strawberry.field(description="Everything held about the viewer, as one JSON document.")
    async def export_my_data(self, info: Info) -> JSON:
        viewer = info.context.require_viewer()
        return await export.export_member_data(info.context.services, viewer.id, info.context.api_base_url)


@strawberry.type
class DataRightsMutation:
    @strawberry.mutation(
        description="Erase the viewer's account and personal data after checking the password; sessions end at once."
    )
    async def delete_account(self, info: Info, password: str) -> DeletePayload:
        viewer = info.context.require_viewer()
        try:
            member_id = await erasure.delete_account(info.context.services, viewer.id, password)
        except DomainError as error:
            return DeletePayload(user_errors=user_errors(error))
        info.context.viewer = None
        info.context.loaders.viewer = None
        return DeletePayload(deleted_id=encode_global_id("User", member_id))

    @strawberry.mutation(description="Hide the viewer from everyone's search (false) or list them again (true).")
    async def set_search_visibility(self, info: Info, visible: bool) -> UserPayload:
        viewer = info.context.require_viewer()
        try:
            member = await preferences.set_search_visibility(info.context.services, viewer.id, visible)
        except DomainError as error:
            return UserPayload(user_errors=user_errors(error))
        info.context.viewer = member
        return UserPayload(user=User.from_row(member))

    @strawberry.mutation(description="Switch optional e-mails on or off; null fields stay unchanged.")
    async def update_email_preferences(self, info: Info, input: EmailPreferencesInput) -> UserPayload:
        viewer = info.context.require_viewer()
        try:
            member = await preferences.update_email_preferences(info.context.services, viewer.id, input.to_domain())
        except DomainError as error:
            return UserPayload(user_errors=user_errors(error))
        info.context.viewer = member
        return UserPayload(user=User.from_row(member))

    @strawberry.mutation(description="Issue a new private calendar feed URL; the old one stops working.")
    async def reset_calendar_feed(self, info: Info) -> UserPayload:
        viewer = info.context.require_viewer()
        try:
            member = await calendar.reset_feed(info.context.services, viewer.id)
        except DomainError as error:
            return UserPayload(user_errors=user_errors(error))
        info.context.viewer = member
        return UserPayload(user=User.from_row(member))
