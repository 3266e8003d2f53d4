"""Contact request types, connection and payload."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.vocabulary import ContactDirection as Direction
from persistence.models import ContactRequest as ContactRequestRow
from persistence.search import Values
from schema.connections import PageInfo
from schema.enums import ActivityStatus, ContactDirection, ContactRequestStatus
from schema.errors import UserError
from schema.node import Node, encode_global_id
from schema.types import User

if TYPE_CHECKING:
    from schema.activities import ActivityConnection
    from schema.context import Context


@strawberry.type(description="A request from one member to connect with a member of the other side.")
class ContactRequest(Node):
    row: strawberry.Private[ContactRequestRow | Values]  # a search page reads its columns only (`Values`)
    status: ContactRequestStatus
    message: str
    response_message: str | None
    created_at: datetime
    responded_at: datetime | None

    @classmethod
    def from_row(cls, row: ContactRequestRow | Values) -> ContactRequest:
        return cls(
            id=encode_global_id("ContactRequest", row.id),
            row=row,
            status=ContactRequestStatus[row.status],
            message=row.message,
            response_message=row.response_message,
            created_at=row.created_at,
            responded_at=row.responded_at,
        )

    @strawberry.field
    async def sender(self, info: strawberry.Info[Context, None]) -> User:
        return User.from_row(await info.context.loaders.member.load(self.row.sender_id))

    @strawberry.field
    async def recipient(self, info: strawberry.Info[Context, None]) -> User:
        return User.from_row(await info.context.loaders.member.load(self.row.recipient_id))

    @strawberry.field(description="SENT when the viewer sent this request, RECEIVED otherwise.")
    def direction(self, info: strawberry.Info[Context, None]) -> ContactDirection:
        viewer = info.context.viewer
        return Direction.SENT if viewer is not None and viewer.id == self.row.sender_id else Direction.RECEIVED

    @strawberry.field(description="Activities planned under this request, newest first.")
    async def activities(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        status: ActivityStatus | None = None,
    ) -> Annotated[ActivityConnection, strawberry.lazy("schema.activities")]:
        from schema.activities import request_activities

        return await request_activities(info, self.row.id, status, first, after)


@strawberry.type
class ContactRequestEdge:
    cursor: str
    node: ContactRequest


@strawberry.type
class ContactRequestConnection:
    edges: list[ContactRequestEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ContactRequestPayload:
    contact_request: ContactRequest | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
