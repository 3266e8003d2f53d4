"""Follow-up of contact requests that wait for a response, run as a background job.

A pending request reminds its recipient once after `request_reminder_days`
and expires after `request_expiry_days`, when its sender is told and may ask
someone else: an expired request is no longer open, so the pair may start a
new one. Each pass is idempotent: a conditional UPDATE records every change,
so a second pass (or a second process) finds nothing left to do and sends no
e-mail twice. Time comes from `services.clock`, so tests move it forward.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from domain import preferences
from domain.erasure import purge_delivered_mail
from domain.services import Services
from persistence import data_rights as rights_table
from persistence import members as member_table
from persistence.models import ContactRequest, Member

logger = logging.getLogger(__name__)

# Requests changed per transaction, so a long backlog never holds the write lock for long.
BATCH_SIZE = 200


@dataclass(frozen=True)
class FollowUpResult:
    reminded: int
    expired: int
    purged_emails: int


async def run_follow_up(services: Services) -> FollowUpResult:
    """Do one pass: expire overdue requests, remind recipients of the rest, purge erased members' e-mails."""
    expired = await _expire_overdue(services)
    reminded = await _remind_waiting(services)
    purged = await purge_delivered_mail(services)
    if expired or reminded:
        logger.info("follow-up: %d request(s) expired, %d reminder(s) queued", expired, reminded)
    return FollowUpResult(reminded=reminded, expired=expired, purged_emails=purged)


async def run_periodically(services: Services, interval_seconds: float) -> None:
    """Run a pass every `interval_seconds` until cancelled; a failed pass is logged and retried."""
    logger.info("contact request follow-up started, every %s s", interval_seconds)
    try:
        while True:
            try:
                await run_follow_up(services)
            except Exception:
                logger.exception("follow-up pass failed; retrying in %s s", interval_seconds)
            await asyncio.sleep(interval_seconds)
    finally:
        logger.info("contact request follow-up stopped")


async def count_waiting_requests(services: Services, member_id: int) -> int:
    """Return how many pending contact requests wait for the member's response."""
    async with services.database.read() as session:
        return await rights_table.count_pending_received(session, member_id)


def _request_link(services: Services, request: ContactRequest) -> str:
    return f"{services.settings.public_base_url}/contact-requests/{request.id}"


def _name(member: Member) -> str:
    return f"{member.first_name} {member.last_name}"


async def _expire_overdue(services: Services) -> int:
    settings = services.settings
    now = services.clock.now()
    deadline = now - timedelta(days=settings.request_expiry_days)
    count = 0
    while (batch := await _expire_batch(services, deadline)) > 0:
        count += batch
    return count


async def _expire_batch(services: Services, deadline: datetime) -> int:
    """Expire one batch of overdue requests in one transaction; return how many expired.

    The transaction runs a few statements whatever the batch size, so it holds
    SQLite's write lock only briefly while the service is busy.
    """
    settings = services.settings
    async with services.database.write() as session:
        overdue = await rights_table.pending_created_before(session, deadline, limit=BATCH_SIZE)
        if not overdue:
            return 0
        expired_ids = await rights_table.expire_pending(session, [request.id for request in overdue])
        expired = await _with_members(session, overdue, expired_ids)
        for _request, sender, recipient in expired:
            if sender is None or sender.deleted_at is not None or recipient is None:
                continue
            if not preferences.accepts_email(sender, preferences.NOTIFICATIONS):
                continue
            services.mail.queue(
                session,
                "contact_request_expired",
                sender.email,
                member_id=sender.id,
                values={
                    "sender_first_name": sender.first_name,
                    "recipient_name": _name(recipient),
                    "expiry_days": settings.request_expiry_days,
                    "link": f"{settings.public_base_url}/search",
                },
            )
    return len(expired)


async def _remind_waiting(services: Services) -> int:
    settings = services.settings
    now = services.clock.now()
    due = now - timedelta(days=settings.request_reminder_days)
    count = 0
    while (batch := await _remind_batch(services, due, now)) > 0:
        count += batch
    return count


async def _remind_batch(services: Services, due: datetime, now: datetime) -> int:
    """Remind the recipients of one batch of waiting requests in one transaction; return how many.

    Like `_expire_batch`, it runs a few statements whatever the batch size.
    """
    settings = services.settings
    async with services.database.write() as session:
        waiting = await rights_table.pending_created_before(session, due, not_reminded=True, limit=BATCH_SIZE)
        if not waiting:
            return 0
        reminded_ids = await rights_table.mark_reminded(session, [request.id for request in waiting], now)
        reminded = await _with_members(session, waiting, reminded_ids)
        for request, sender, recipient in reminded:
            if recipient is None or recipient.deleted_at is not None or sender is None:
                continue
            if not preferences.accepts_email(recipient, preferences.REMINDERS):
                continue
            services.mail.queue(
                session,
                "contact_request_reminder",
                recipient.email,
                member_id=recipient.id,
                values={
                    "recipient_first_name": recipient.first_name,
                    "sender_name": _name(sender),
                    "days": (now - request.created_at).days,
                    "message": request.message,
                    "expiry_days": settings.request_expiry_days,
                    "link": _request_link(services, request),
                },
            )
    return len(reminded)


async def _with_members(
    session: AsyncSession, requests: list[ContactRequest], changed_ids: set[int]
) -> list[tuple[ContactRequest, Member | None, Member | None]]:
    """Return each of `requests` whose id is in `changed_ids` with its sender and recipient, read by one statement."""
    changed = [request for request in requests if request.id in changed_ids]
    ids = {request.sender_id for request in changed} | {request.recipient_id for request in changed}
    members = await member_table.get_members(session, ids)
    return [(request, members.get(request.sender_id), members.get(request.recipient_id)) for request in changed]
