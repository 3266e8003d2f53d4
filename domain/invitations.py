"""Invitations of schools and professionals who are not yet members."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.errors import DomainError, ErrorCode
from domain.services import Services
from domain.tokens import digest
from persistence import invitations as invitation_table
from persistence.models import Member

logger = logging.getLogger(__name__)


async def link_invitation(services: Services, session: AsyncSession, token: str, member: Member) -> None:
    """Link a newly registered member to the member who invited them.

    Raises INVALID_TOKEN for an unknown, used or expired invitation, so the
    person can register without it or ask for a new one.
    """
    invitation = await invitation_table.find_by_token_hash(session, digest(token))
    if (
        invitation is None
        or invitation.accepted_by_id is not None
        or invitation.expires_at <= services.clock.now()
    ):
        raise DomainError(
            ErrorCode.INVALID_TOKEN,
            "This invitation link is invalid, was already used or has expired; register without it.",
            ("input", "invitationToken"),
        )
    invitation.accepted_by_id = member.id
    member.invited_by_id = invitation.inviter_id
    session.add(invitation)
    session.add(member)
    await session.flush()
    logger.info("member %s registered through invitation %s", member.id, invitation.id)
