"""The small interfaces through which domain rules reach services outside the domain."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession


class MailQueue(Protocol):
    """Queues an e-mail in the transaction of `session`; it is delivered only if that commits."""

    def queue(
        self,
        session: AsyncSession,
        template: str,
        to_address: str,
        *,
        member_id: int | None,
        values: dict[str, Any],
    ) -> None: ...
