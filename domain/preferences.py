"""Members' choices about their data: e-mail preferences and visibility in search.

Two kinds of e-mail can be switched off: `reminders` (the reminder of a
contact request waiting for an answer) and `notifications` (news about the
member's contact requests: received, answered, expired, or a contact who
left). Messages that protect the account or answer the member's own request
(verification, password reset, the account-exists notice, erasure
confirmation) are always sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.errors import DomainError, ErrorCode
from domain.services import Services
from persistence import members as member_table
from persistence import search_index
from persistence.models import Member

logger = logging.getLogger(__name__)

REMINDERS = "reminders"
NOTIFICATIONS = "notifications"
EMAIL_KINDS = (REMINDERS, NOTIFICATIONS)


@dataclass(frozen=True)
class EmailPreferenceChanges:
    """New values; None leaves the stored choice unchanged."""

    reminders: bool | None = None
    notifications: bool | None = None


def accepts_email(member: Member, kind: str) -> bool:
    """True when the member has not switched off e-mails of `kind`; a missing choice means yes."""
    if kind not in EMAIL_KINDS:
        raise ValueError(f"unknown e-mail kind {kind!r}; expected one of {EMAIL_KINDS}")
    return bool((member.email_preferences or {}).get(kind, True))


def email_preferences(member: Member) -> dict[str, bool]:
    return {kind: accepts_email(member, kind) for kind in EMAIL_KINDS}


async def _load_live(session, member_id: int) -> Member:
    member = await member_table.get_member(session, member_id)
    if member is None or member.deleted_at is not None:
        raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists.")
    return member


async def update_email_preferences(services: Services, member_id: int, changes: EmailPreferenceChanges) -> Member:
    """Store the given choices and return the member."""
    now = services.clock.now()
    async with services.database.write() as session:
        member = await _load_live(session, member_id)
        preferences = email_preferences(member)
        if changes.reminders is not None:
            preferences[REMINDERS] = changes.reminders
        if changes.notifications is not None:
            preferences[NOTIFICATIONS] = changes.notifications
        # A new dict, so SQLAlchemy detects the change of the JSON column.
        member.email_preferences = dict(preferences)
        member.updated_at = now
        await member_table.add(session, member)
    logger.info("member %s set e-mail preferences %s", member_id, preferences)
    return member


async def set_search_visibility(services: Services, member_id: int, visible: bool) -> Member:
    """Hide the member from everyone's search, or list them again; nothing else about them changes."""
    now = services.clock.now()
    async with services.database.write() as session:
        member = await _load_live(session, member_id)
        member.search_visible = visible
        member.updated_at = now
        await member_table.add(session, member)
        await search_index.refresh_member(session, member)
    logger.info("member %s is %s in search", member_id, "listed" if visible else "hidden")
    return member
