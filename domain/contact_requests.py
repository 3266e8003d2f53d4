"""Contact requests between a school and a company.

A request goes from an active member to an active member of the other side,
never to oneself. A pair has at most one request that is pending or accepted,
in either direction. Only the recipient accepts or declines, and only once.
Only the sender withdraws, and only while the request is pending.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from domain import preferences, privacy
from domain.errors import DomainError, ErrorCode, ErrorCollector
from domain.global_ids import encode_global_id
from domain.profiles import is_active, require_active
from domain.services import Services
from domain.validation import MESSAGE_MAX, clean_text
from domain.vocabulary import ContactRequestStatus
from persistence import contact_requests as request_table
from persistence import members as member_table
from persistence.models import ContactRequest, Member

logger = logging.getLogger(__name__)

PENDING = ContactRequestStatus.PENDING.name
ACCEPTED = ContactRequestStatus.ACCEPTED.name
DECLINED = ContactRequestStatus.DECLINED.name
WITHDRAWN = ContactRequestStatus.WITHDRAWN.name

NOT_FOUND_MESSAGE = "No contact request with this id is visible to you."


def is_party(member: Member, request: ContactRequest) -> bool:
    return member.id in (request.sender_id, request.recipient_id)


def can_see_request(viewer: Member | None, request: ContactRequest) -> bool:
    return viewer is not None and (is_party(viewer, request) or viewer.is_coordinator)


async def _side(session: AsyncSession, member: Member) -> str | None:
    if member.organisation_id is None:
        return None
    organisation = (await member_table.get_organisations(session, [member.organisation_id])).get(
        member.organisation_id
    )
    return organisation.kind if organisation else None


async def send(services: Services, sender: Member, recipient_id: int | None, message: str) -> ContactRequest:
    """Send a request with a personal message and notify the recipient by e-mail."""
    require_active(sender)
    errors = ErrorCollector()
    text = clean_text(errors, message, ("message",), max_length=MESSAGE_MAX, required=True, label="The message", multiline=True)
    errors.raise_if_any()

    not_found = DomainError(ErrorCode.NOT_FOUND, "No member with this id is visible to you.", ("recipientId",))
    if recipient_id is None:
        raise not_found
    if recipient_id == sender.id:
        raise DomainError(ErrorCode.SELF_REQUEST, "You cannot send a contact request to yourself.", ("recipientId",))

    now = services.clock.now()
    try:
        async with services.database.write() as session:
            recipient = await member_table.get_member(session, recipient_id)
            if recipient is None or not is_active(recipient):
                raise not_found
            sender_side = await _side(session, sender)
            if sender_side == await _side(session, recipient):
                raise DomainError(
                    ErrorCode.SAME_SIDE,
                    "Contact requests go between a school and a company; this member is on your side.",
                    ("recipientId",),
                )
            if await request_table.open_request_between(session, sender.id, recipient.id) is not None:
                raise _already_connected()
            low, high = sorted((sender.id, recipient.id))
            request = ContactRequest(
                sender_id=sender.id,
                recipient_id=recipient.id,
                pair_low_id=low,
                pair_high_id=high,
                status=PENDING,
                message=text,
                created_at=now,
            )
            await member_table.add(session, request)
            if preferences.accepts_email(recipient, preferences.NOTIFICATIONS):
                await _queue_new_request(services, session, request, sender, recipient)
    except IntegrityError as error:
        # Two sends of one pair can both pass the check above on PostgreSQL; the
        # unique index on open pairs then rejects the second insert.
        if not request_table.is_open_pair_conflict(error):
            raise
        logger.info("concurrent contact request from member %s to member %s rejected", sender.id, recipient_id)
        raise _already_connected() from None
    logger.info("contact request %s sent by member %s to member %s", request.id, sender.id, recipient.id)
    return request


def _already_connected() -> DomainError:
    return DomainError(
        ErrorCode.ALREADY_CONNECTED,
        "You already have a pending or accepted contact request with this member.",
        ("recipientId",),
    )


async def _load_visible(
    services: Services, session: AsyncSession, viewer: Member, request_id: int | None
) -> ContactRequest:
    request = await request_table.get_request(session, request_id) if request_id is not None else None
    # Coordinators see every request, so for them it exists; the callers then reject them as NOT_ALLOWED.
    if request is None or not can_see_request(viewer, request):
        raise DomainError(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, ("id",))
    return request


async def _respond(
    services: Services, viewer: Member, request_id: int | None, message: str | None, status: str
) -> ContactRequest:
    errors = ErrorCollector()
    text = clean_text(errors, message, ("message",), max_length=MESSAGE_MAX, label="The message", multiline=True)
    errors.raise_if_any()

    now = services.clock.now()
    async with services.database.write() as session:
        request = await _load_visible(services, session, viewer, request_id)
        if request.recipient_id != viewer.id:
            raise DomainError(ErrorCode.NOT_ALLOWED, "Only the recipient can accept or decline a contact request.", ("id",))
        changed = await request_table.change_status(
            session, request.id, PENDING, status=status, response_message=text, responded_at=now
        )
        if not changed:
            current = await session.get(ContactRequest, request.id, populate_existing=True)
            raise _not_pending(current)
        request = await session.get(ContactRequest, request.id, populate_existing=True)
        sender = await member_table.get_member(session, request.sender_id)
        if (
            sender is not None
            and sender.deleted_at is None
            and preferences.accepts_email(sender, preferences.NOTIFICATIONS)
        ):
            await _queue_answer(services, session, request, sender, viewer)
    logger.info("contact request %s %s by member %s", request.id, status.lower(), viewer.id)
    return request


def _not_pending(request: ContactRequest) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_STATUS,
        f"This contact request is {request.status.lower()}, so it can no longer be changed this way.",
        ("id",),
    )


async def accept(services: Services, viewer: Member, request_id: int | None, message: str | None) -> ContactRequest:
    """Accept a pending request received by the viewer and notify the sender by e-mail."""
    return await _respond(services, viewer, request_id, message, ACCEPTED)


async def decline(services: Services, viewer: Member, request_id: int | None, message: str | None) -> ContactRequest:
    """Decline a pending request received by the viewer and notify the sender by e-mail."""
    return await _respond(services, viewer, request_id, message, DECLINED)


async def withdraw(services: Services, viewer: Member, request_id: int | None) -> ContactRequest:
    """Withdraw a pending request the viewer sent."""
    now = services.clock.now()
    async with services.database.write() as session:
        request = await _load_visible(services, session, viewer, request_id)
        if request.sender_id != viewer.id:
            raise DomainError(ErrorCode.NOT_ALLOWED, "Only the sender can withdraw a contact request.", ("id",))
        if not await request_table.change_status(session, request.id, PENDING, status=WITHDRAWN, responded_at=now):
            current = await session.get(ContactRequest, request.id, populate_existing=True)
            raise _not_pending(current)
        request = await session.get(ContactRequest, request.id, populate_existing=True)
    logger.info("contact request %s withdrawn by member %s", request.id, viewer.id)
    return request


def _request_link(services: Services, request: ContactRequest) -> str:
    # The link carries the global id, which the frontend passes to `node(id:)`.
    return f"{services.settings.public_base_url}/contact-requests/{encode_global_id('ContactRequest', request.id)}"


async def _queue_new_request(
    services: Services, session: AsyncSession, request: ContactRequest, sender: Member, recipient: Member
) -> None:
    exchange = await privacy.exchange_between(session, viewer=recipient, owner=sender)
    sender_email = sender.email if privacy.can_see_email(recipient, sender, exchange) else None
    services.mail.queue(
        session,
        "contact_request_received",
        recipient.email,
        member_id=recipient.id,
        values={
            "recipient_first_name": recipient.first_name,
            "sender_name": f"{sender.first_name} {sender.last_name}",
            "sender_email": sender_email,
            "message": request.message,
            "link": _request_link(services, request),
        },
    )


async def _queue_answer(
    services: Services, session: AsyncSession, request: ContactRequest, sender: Member, recipient: Member
) -> None:
    """Tell the sender that the recipient accepted or declined; the e-mail goes to the sender."""
    exchange = await privacy.exchange_between(session, viewer=sender, owner=recipient)
    recipient_email = recipient.email if privacy.can_see_email(sender, recipient, exchange) else None
    services.mail.queue(
        session,
        "contact_request_accepted" if request.status == ACCEPTED else "contact_request_declined",
        sender.email,
        member_id=sender.id,
        values={
            "sender_first_name": sender.first_name,
            "recipient_name": f"{recipient.first_name} {recipient.last_name}",
            "recipient_email": recipient_email,
            "response_message": request.response_message,
            "link": _request_link(services, request),
            "search_link": f"{services.settings.public_base_url}/search",
        },
    )
