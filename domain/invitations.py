"""Invitations of schools and professionals who are not yet members.

An active member invites a person by e-mail; the message carries a link to
`/register?invitation=<token>`, and registering with it links the new member
to the inviter. Only the token's digest is stored.

Limits, both from the settings: a member sends at most `invitations_per_day`
invitations in any 24 hours, and invites one address at most once per
`invitation_repeat_days` (RATE_LIMITED). An address receives at most one
invitation e-mail per `invitation_repeat_days`, whoever invites it.

The inviter must not learn whether an address belongs to a member: for a
member's address the invitation is stored with `sent=False` and no e-mail
goes out, and the inviter receives the same payload as for anyone else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.errors import DomainError, ErrorCode, ErrorCollector
from domain.links import invitation_link
from domain.profiles import require_active
from domain.services import Services
from domain.tokens import digest, new_token
from domain.validation import MESSAGE_MAX, NAME_MAX, clean_text, normalise_email
from domain.vocabulary import OrganisationKind
from persistence import invitations as invitation_table
from persistence import members as member_table
from persistence.models import Invitation, Member

logger = logging.getLogger(__name__)

INVALID_INVITATION_MESSAGE = "This invitation link is invalid, was already used or has expired; register without it."


@dataclass(frozen=True)
class InvitationDetails:
    """The person to invite, as the inviter typed them."""

    kind: OrganisationKind
    first_name: str
    last_name: str
    email: str
    message: str | None = None


def can_see_invitation(viewer: Member | None, invitation: Invitation) -> bool:
    return viewer is not None and (viewer.id == invitation.inviter_id or viewer.is_coordinator)


async def invite(services: Services, inviter: Member, details: InvitationDetails) -> Invitation:
    """Store an invitation and, unless the address is a member's or was invited lately, e-mail it."""
    require_active(inviter)
    errors = ErrorCollector()
    first_name = clean_text(
        errors, details.first_name, ("input", "firstName"), max_length=NAME_MAX, required=True, label="First name"
    )
    last_name = clean_text(
        errors, details.last_name, ("input", "lastName"), max_length=NAME_MAX, required=True, label="Last name"
    )
    message = clean_text(errors, details.message, ("input", "message"), max_length=MESSAGE_MAX, label="The message", multiline=True)
    email = None
    try:
        email = normalise_email(details.email, ("input", "email"))
    except DomainError as error:
        errors.problems.extend(error.problems)
    errors.raise_if_any()

    settings = services.settings
    now = services.clock.now()
    repeat_since = now - timedelta(days=settings.invitation_repeat_days)
    token, token_hash = new_token()

    async with services.database.write() as session:
        # Concurrent invitations of one member wait here, so none slips past the daily limit.
        await invitation_table.lock_inviter(session, inviter.id)
        sent_today = await invitation_table.count_sent_by(session, inviter.id, now - timedelta(days=1))
        if sent_today >= settings.invitations_per_day:
            raise DomainError(
                ErrorCode.RATE_LIMITED,
                f"You sent {sent_today} invitations in the last 24 hours; the limit is "
                f"{settings.invitations_per_day}. Try again tomorrow.",
                ("input",),
            )
        if await invitation_table.count_to_address(session, email, repeat_since, inviter_id=inviter.id):
            raise DomainError(
                ErrorCode.RATE_LIMITED,
                f"You invited {email} in the last {settings.invitation_repeat_days} days; "
                "wait before inviting this address again.",
                ("input", "email"),
            )

        # Whether the address is a member's decides only whether the e-mail goes out,
        # never the payload, so the inviter cannot use invitations to test addresses.
        is_member = await member_table.get_member_by_email(session, email) is not None
        recently_emailed = await invitation_table.count_to_address(session, email, repeat_since, sent_only=True) > 0
        send = not is_member and not recently_emailed

        invitation = Invitation(
            inviter_id=inviter.id,
            kind=details.kind.name,
            first_name=first_name,
            last_name=last_name,
            email=email,
            message=message,
            token_hash=token_hash,
            sent=send,
            created_at=now,
            expires_at=now + timedelta(days=settings.invitation_ttl_days),
        )
        await member_table.add(session, invitation)
        if send:
            await _queue_invitation(services, session, invitation, inviter, token)

    logger.info("invitation %s created by member %s (e-mailed: %s)", invitation.id, inviter.id, send)
    return invitation


async def _queue_invitation(
    services: Services, session: AsyncSession, invitation: Invitation, inviter: Member, token: str
) -> None:
    organisations = await member_table.get_organisations(session, [inviter.organisation_id])
    organisation = organisations.get(inviter.organisation_id)
    # The invitee is not a member, so the e-mail privacy rule keeps the inviter's address out.
    services.mail.queue(
        session,
        "invitation",
        invitation.email,
        member_id=None,
        values={
            "first_name": invitation.first_name,
            "inviter_name": f"{inviter.first_name} {inviter.last_name}",
            "inviter_organisation": organisation.name if organisation else None,
            "invitee_side": "school" if invitation.kind == OrganisationKind.SCHOOL.name else "company",
            "message": invitation.message,
            "link": invitation_link(services.settings.public_base_url, token),
            "valid_days": services.settings.invitation_ttl_days,
        },
    )


async def link_invitation(services: Services, session: AsyncSession, token: str, member: Member) -> None:
    """Link a newly registered member to the member who invited them.

    Raises INVALID_TOKEN for an unknown, used or expired invitation, so the
    person can register without it or ask for a new one.
    """
    invitation = await invitation_table.find_by_token_hash(session, digest(token))
    # The conditional update lets only one of two concurrent registrations use the same link.
    if invitation is None or not await invitation_table.mark_accepted(
        session, invitation.id, member.id, services.clock.now()
    ):
        raise DomainError(ErrorCode.INVALID_TOKEN, INVALID_INVITATION_MESSAGE, ("input", "invitationToken"))
    member.invited_by_id = invitation.inviter_id
    session.add(member)
    await session.flush()
    logger.info("member %s registered through invitation %s", member.id, invitation.id)
