"""Erasure of a member's account and personal data.

Names are replaced by a placeholder, so references such as a contact
request's sender still resolve. The e-mail address becomes null, so it can
register again. Removed: password hash, role, subjects, link to the
organisation, activity profile, search index rows, tokens (every session ends
at once), messages the member wrote in contact requests, invitations the
member sent, and every e-mail addressed to them. Copies of their name, address and messages in
e-mails kept for their contacts and for coordinators are replaced too.

What stays: the member row as a tombstone ("Former member"), contact requests
as records of the other party, organisations, and the activities planned
with the member, which stay on the campaign map under the organisation names.

Pending requests in either direction become WITHDRAWN; contacts with an
accepted request are notified by e-mail, naming only the organisation. The
confirmation e-mail (`account_deleted`) is the one message kept for the
address: `purge_delivered_mail` removes it once delivered or given up, or
after `ERASED_MAIL_RETENTION` when it could not be delivered.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from domain import preferences, rate_limits
from domain.accounts import INVALID_CREDENTIALS_MESSAGE
from domain.errors import DomainError, ErrorCode
from domain.services import Services
from persistence import data_rights as rights_table
from persistence import members as member_table
from persistence import search_index
from persistence.models import Member

logger = logging.getLogger(__name__)

PLACEHOLDER_FIRST_NAME = "Former"
PLACEHOLDER_LAST_NAME = "member"
PLACEHOLDER_NAME = f"{PLACEHOLDER_FIRST_NAME} {PLACEHOLDER_LAST_NAME}"
REMOVED_MESSAGE = "[message removed: its author deleted their account]"
REMOVED_ADDRESS = "[address removed]"

# How long the erasure confirmation may wait for delivery before it is deleted unsent.
ERASED_MAIL_RETENTION = timedelta(days=7)

PENDING = "PENDING"
ACCEPTED = "ACCEPTED"
WITHDRAWN = "WITHDRAWN"


async def delete_account(services: Services, member_id: int, password: str) -> int:
    """Erase the member after checking their password; return the erased member's id.

    Raises INVALID_CREDENTIALS for a wrong password, leaving everything as it was,
    and RATE_LIMITED while the address waits after failed attempts.
    """
    async with services.database.read() as session:
        member = await member_table.get_member(session, member_id)
    if member is None or member.deleted_at is not None:
        raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists.")
    # Wrong passwords here count as failed sign-ins of the address, so a stolen
    # session cannot be used to guess the password without the sign-in delays.
    await rate_limits.check_login(services, member.email, None)
    if not await services.passwords.verify(password, member.password_hash):
        await rate_limits.record_login_failure(services, member.email, None)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS_MESSAGE, ("password",))

    now = services.clock.now()
    async with services.database.write() as session:
        member = await session.get(Member, member_id, populate_existing=True)
        if member is None or member.deleted_at is not None:
            raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists.")
        address = member.email
        full_name = f"{member.first_name} {member.last_name}"
        organisation = (
            (await member_table.get_organisations(session, [member.organisation_id])).get(member.organisation_id)
            if member.organisation_id
            else None
        )

        requests = list(await rights_table.requests_of(session, member_id))
        authored = _clear_messages(member_id, requests)
        contacts = await _close_requests(session, member_id, requests, now)
        await _notify_contacts(services, session, contacts, organisation.name if organisation else "a partner organisation")

        # Copies of the member's name, address and messages in e-mails kept for others.
        readers = {request.sender_id for request in requests} | {request.recipient_id for request in requests}
        readers |= {coordinator.id for coordinator in await member_table.get_coordinators(session)}
        readers.discard(member_id)
        replacements = [(text, REMOVED_MESSAGE) for text in authored]
        replacements += [(full_name, PLACEHOLDER_NAME)]
        if address:
            replacements.append((address, REMOVED_ADDRESS))
        await _redact_messages(session, readers, replacements)

        await rights_table.delete_member_rows(session, member_id, address)
        await rights_table.anonymise_accepted_invitations(session, member_id, PLACEHOLDER_NAME)

        member.first_name = PLACEHOLDER_FIRST_NAME
        member.last_name = PLACEHOLDER_LAST_NAME
        member.email = None
        member.password_hash = None
        member.role = None
        member.subjects = []
        member.organisation_id = None
        member.email_verified_at = None
        member.is_coordinator = False
        member.search_visible = False
        member.invited_by_id = None
        member.email_preferences = {}
        member.calendar_token = None
        member.deleted_at = now
        member.updated_at = now
        await member_table.add(session, member)
        await search_index.refresh_member(session, member)

        if address:
            # Queued after the purge above, so it is the one message kept for the address until delivered.
            services.mail.queue(session, "account_deleted", address, member_id=member_id, values={})
    logger.info("member %s deleted their account; %d contact(s) notified", member_id, len(contacts))
    return member_id


def _clear_messages(member_id: int, requests: list) -> list[str]:
    """Replace the texts the member wrote in contact requests; return the original texts."""
    authored: list[str] = []
    for request in requests:
        if request.sender_id == member_id:
            authored.append(request.message)
            request.message = REMOVED_MESSAGE
        if request.recipient_id == member_id and request.response_message:
            authored.append(request.response_message)
            request.response_message = REMOVED_MESSAGE
    return [text for text in authored if text and text != REMOVED_MESSAGE]


async def _close_requests(session, member_id: int, requests: list, now) -> list[Member]:
    """Withdraw pending requests; return the live members of accepted ones, who get a notice."""
    for request in requests:
        if request.status == PENDING:
            request.status = WITHDRAWN
            request.responded_at = now
        session.add(request)
    await session.flush()
    contact_ids = [
        request.recipient_id if request.sender_id == member_id else request.sender_id
        for request in requests
        if request.status == ACCEPTED
    ]
    contacts = await member_table.get_members(session, contact_ids)
    return [contact for contact in contacts.values() if contact.deleted_at is None and contact.email]


async def _notify_contacts(services: Services, session, contacts: list[Member], organisation_name: str) -> None:
    link = f"{services.settings.public_base_url}/search"
    for contact in contacts:
        if not preferences.accepts_email(contact, preferences.NOTIFICATIONS):
            continue
        services.mail.queue(
            session,
            "contact_left",
            contact.email,
            member_id=contact.id,
            values={"first_name": contact.first_name, "organisation_name": organisation_name, "link": link},
        )


async def _redact_messages(session, reader_ids: set[int], replacements: list[tuple[str, str]]) -> None:
    # The HTML part escapes values, so each text is replaced in its escaped form too.
    pairs = [(old, new) for old, new in replacements if old]
    pairs += [(html.escape(old), html.escape(new)) for old, new in pairs if html.escape(old) != old]
    for message in await rights_table.messages_to_members(session, reader_ids):
        changed = False
        for field in ("subject", "text_body", "html_body"):
            value = getattr(message, field)
            if not value:
                continue
            for old, new in pairs:
                value = value.replace(old, new)
            if value != getattr(message, field):
                setattr(message, field, value)
                changed = True
        if changed:
            session.add(message)
    await session.flush()


async def purge_delivered_mail(services: Services) -> int:
    """Delete e-mails of erased members once delivered or given up; return how many went.

    A message still undelivered after `ERASED_MAIL_RETENTION` goes too, so an
    address never stays in an outbox that nothing sends from (no SMTP_HOST).
    """
    created_before = services.clock.now() - ERASED_MAIL_RETENTION
    async with services.database.write() as session:
        message_ids = await rights_table.finished_messages_of_erased_members(session, created_before)
        await rights_table.delete_messages(session, message_ids)
    if message_ids:
        logger.info("purged %d delivered e-mail(s) of erased members", len(message_ids))
    return len(message_ids)
