"""Operation on invitations: invite a school or professional who is not yet a member."""

from __future__ import annotations

import strawberry

from domain import invitations
from domain.errors import DomainError
from schema.context import Context
from schema.errors import user_errors
from schema.invitations import Invitation, InvitationInput, InvitationPayload

Info = strawberry.Info[Context, None]


@strawberry.type
class InvitationMutation:
    @strawberry.mutation(
        description="E-mail an invitation with a registration link; the payload is the same whether or not "
        "the address already belongs to a member."
    )
    async def invite_contact(self, info: Info, input: InvitationInput) -> InvitationPayload:
        viewer = info.context.require_viewer()
        try:
            row = await invitations.invite(info.context.services, viewer, input.to_domain())
        except DomainError as error:
            return InvitationPayload(user_errors=user_errors(error))
        return InvitationPayload(invitation=Invitation.from_row(row))
