"""`node(id:)`: any object the viewer may see, by its global id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from domain.activities import can_see_activity
from domain.contact_requests import can_see_request
from domain.invitations import can_see_invitation
from domain.privacy import can_see_member
from schema.activities import Activity
from schema.contact_requests import ContactRequest
from schema.context import Context
from schema.invitations import Invitation
from schema.node import Node, decode_global_id
from schema.types import User

Info = strawberry.Info[Context, None]


async def _user(info: Info, key: int) -> User | None:
    member = await info.context.loaders.member.load(key)
    if member is None or not can_see_member(info.context.viewer, member):
        return None
    return User.from_row(member)


async def _contact_request(info: Info, key: int) -> ContactRequest | None:
    row = await info.context.loaders.contact_request.load(key)
    if row is None or not can_see_request(info.context.viewer, row):
        return None
    return ContactRequest.from_row(row)


async def _invitation(info: Info, key: int) -> Invitation | None:
    row = await info.context.loaders.invitation.load(key)
    if row is None or not can_see_invitation(info.context.viewer, row):
        return None
    return Invitation.from_row(row)


async def _activity(info: Info, key: int) -> Activity | None:
    row = await info.context.loaders.activity.load(key)
    if row is None:
        return None
    request = await info.context.loaders.contact_request.load(row.contact_request_id)
    if not can_see_activity(info.context.viewer, request):
        return None
    return Activity.from_row(row)


# Each type that implements Node, with the function that returns it when the viewer may see it.
NODE_RESOLVERS: dict[str, Callable[[Info, int], Awaitable[Node | None]]] = {
    "User": _user,
    "ContactRequest": _contact_request,
    "Invitation": _invitation,
    "Activity": _activity,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(description="The object with this global id; null when it does not exist or is not visible.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        decoded = decode_global_id(id)
        if decoded is None:
            return None
        type_name, key = decoded
        resolve = NODE_RESOLVERS.get(type_name)
        if resolve is None:
            return None
        return await resolve(info, key)
