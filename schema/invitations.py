"""Invitation type, input and payload."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.invitations import InvitationDetails
from domain.vocabulary import OrganisationKind as Kind
from persistence.models import Invitation as InvitationRow
from schema.enums import OrganisationKind
from schema.errors import UserError
from schema.node import Node, encode_global_id


@strawberry.input(description="A school or professional who is not yet a member, to invite by e-mail.")
class InvitationInput:
    kind: OrganisationKind
    first_name: str
    last_name: str
    email: str
    message: str | None = None

    def to_domain(self) -> InvitationDetails:
        return InvitationDetails(
            kind=self.kind,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            message=self.message,
        )


@strawberry.type(description="An invitation sent by a member; visible to the inviter and to coordinators.")
class Invitation(Node):
    kind: OrganisationKind
    first_name: str
    last_name: str
    email: str
    message: str | None
    created_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: InvitationRow) -> Invitation:
        # `sent` is not exposed because it reveals whether the address belongs to a member.
        return cls(
            id=encode_global_id("Invitation", row.id),
            kind=Kind[row.kind],
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            message=row.message,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
