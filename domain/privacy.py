"""Who may see whom: the e-mail privacy rule and member visibility.

Member X's address is visible to viewer Y only when Y is X, X sent Y a
contact request (whatever became of it), X accepted a request from Y, or Y is
a coordinator. Every path that returns an address calls `can_see_email`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.profiles import is_active
from persistence import contact_requests as request_table
from persistence.models import Member


@dataclass(frozen=True)
class Exchange:
    """The requests the owner of an address has sent to or accepted from one viewer."""

    owner_sent_request: bool = False  # the owner sent the viewer a request, in any status
    owner_accepted_request: bool = False  # the owner accepted a request the viewer sent


NO_EXCHANGE = Exchange()


async def exchange_between(session: AsyncSession, *, viewer: Member, owner: Member) -> Exchange:
    """Read from the stored contact requests what `owner` has done towards `viewer`."""
    found = await request_table.exchanges_with(session, viewer.id, [owner.id])
    return Exchange(*found[owner.id])


def can_see_email(viewer: Member | None, owner: Member, exchange: Exchange) -> bool:
    """Apply the e-mail privacy rule: may `viewer` see the address of `owner`?

    A contact request is how a member chooses to disclose their address, so it
    is shown only to people the owner wrote to or accepted, and to coordinators.
    """
    if viewer is None or owner.deleted_at is not None:
        return False
    if viewer.id == owner.id or viewer.is_coordinator:
        return True
    return exchange.owner_sent_request or exchange.owner_accepted_request


def needs_exchange(viewer: Member | None, owner: Member) -> bool:
    """True when `can_see_email` depends on the requests between the two, so they must be loaded."""
    return viewer is not None and viewer.id != owner.id and not viewer.is_coordinator


def can_see_member(viewer: Member | None, member: Member, *, related: bool = False) -> bool:
    """Whether `viewer` may see `member`'s profile.

    Anyone passed through the profile gate sees every other active member;
    members see themselves, coordinators see everyone, and the two parties of
    a contact request (`related`) see each other.
    """
    if viewer is None or member.deleted_at is not None:
        return False
    if viewer.id == member.id or viewer.is_coordinator or related:
        return True
    return is_active(viewer) and is_active(member)
