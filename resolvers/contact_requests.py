"""Operations on contact requests: send, answer, withdraw, and list the viewer's requests."""

from __future__ import annotations

import strawberry

from domain import contact_requests
from domain.errors import DomainError
from persistence import contact_requests as request_table
from schema.connections import PageInfo, decode_cursor, encode_cursor, page_size
from schema.contact_requests import (
    ContactRequest,
    ContactRequestConnection,
    ContactRequestEdge,
    ContactRequestPayload,
)
from schema.context import Context
from schema.enums import ContactDirection, ContactRequestStatus
from schema.errors import user_errors
from schema.node import decode_global_id

Info = strawberry.Info[Context, None]


def _key(global_id: str, type_name: str) -> int | None:
    decoded = decode_global_id(global_id, type_name)
    return decoded[1] if decoded else None


@strawberry.type
class ContactRequestQuery:
    @strawberry.field(description="The viewer's contact requests, newest first.")
    async def contact_requests(
        self,
        info: Info,
        direction: ContactDirection | None = None,
        status: ContactRequestStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ContactRequestConnection:
        viewer = info.context.require_viewer()
        limit = page_size(first)
        position = decode_cursor(after)
        before_id = position[0] if position and isinstance(position[0], int) else None
        async with info.context.services.database.read() as session:
            rows, total = await request_table.list_for_member(
                session,
                viewer.id,
                direction=direction.name if direction else None,
                status=status.name if status else None,
                before_id=before_id,
                limit=limit + 1,
            )
        page = rows[:limit]
        edges = [ContactRequestEdge(cursor=encode_cursor([row.id]), node=ContactRequest.from_row(row)) for row in page]
        return ContactRequestConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None),
            total_count=total,
        )


async def _act_on_request(info: Info, action, *arguments) -> ContactRequestPayload:
    """Run a domain action on a request as the viewer and shape its payload."""
    viewer = info.context.require_viewer()
    try:
        row = await action(info.context.services, viewer, *arguments)
    except DomainError as error:
        return ContactRequestPayload(user_errors=user_errors(error))
    return ContactRequestPayload(contact_request=ContactRequest.from_row(row))


@strawberry.type
class ContactRequestMutation:
    @strawberry.mutation(description="Ask a member of the other side to connect, with a personal message.")
    async def send_contact_request(self, info: Info, recipient_id: strawberry.ID, message: str) -> ContactRequestPayload:
        viewer = info.context.require_viewer()
        try:
            row = await contact_requests.send(info.context.services, viewer, _key(recipient_id, "User"), message)
        except DomainError as error:
            return ContactRequestPayload(user_errors=user_errors(error))
        return ContactRequestPayload(contact_request=ContactRequest.from_row(row))

    @strawberry.mutation(description="Accept a pending request you received, with an optional message.")
    async def accept_contact_request(
        self, info: Info, id: strawberry.ID, message: str | None = None
    ) -> ContactRequestPayload:
        return await _act_on_request(info, contact_requests.accept, _key(id, "ContactRequest"), message)

    @strawberry.mutation(description="Decline a pending request you received, with an optional message.")
    async def decline_contact_request(
        self, info: Info, id: strawberry.ID, message: str | None = None
    ) -> ContactRequestPayload:
        return await _act_on_request(info, contact_requests.decline, _key(id, "ContactRequest"), message)

    @strawberry.mutation(description="Withdraw a pending request you sent.")
    async def withdraw_contact_request(self, info: Info, id: strawberry.ID) -> ContactRequestPayload:
        return await _act_on_request(info, contact_requests.withdraw, _key(id, "ContactRequest"))
