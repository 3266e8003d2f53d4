"""The outbox: renders a message and stores it in the caller's transaction."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.clock import Clock
from mailer.messages import render
from persistence.database import after_commit
from persistence.models import OutboxMessage

logger = logging.getLogger(__name__)


class Outbox:
    """Implements the domain's `MailQueue`: a queued message is sent only if its transaction commits."""

    def __init__(self, clock: Clock, *, delivery_enabled: bool) -> None:
        self.clock = clock
        self.delivery_enabled = delivery_enabled
        # Set after a commit that queued mail, so the worker in this process starts at once.
        self.wake = asyncio.Event()

    def queue(
        self,
        session: AsyncSession,
        template: str,
        to_address: str,
        *,
        member_id: int | None,
        values: dict[str, Any],
    ) -> None:
        rendered = render(template, values)
        now = self.clock.now()
        message = OutboxMessage(
            template=template,
            to_address=to_address,
            member_id=member_id,
            subject=rendered.subject,
            text_body=rendered.text_body,
            html_body=rendered.html_body,
            created_at=now,
            next_attempt_at=now,
        )
        session.add(message)
        after_commit(session, lambda: self._committed(message))

    def _committed(self, message: OutboxMessage) -> None:
        if self.delivery_enabled:
            self.wake.set()
        else:
            # The body is not logged: it may carry a sign-in link.
            logger.info(
                "no SMTP_HOST set: e-mail %s (%s) to member %s stays in the outbox",
                message.id,
                message.template,
                message.member_id,
            )
