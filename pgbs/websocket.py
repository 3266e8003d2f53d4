"""WebSocket protocol handlers with the limits the service applies to every connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

logger = logging.getLogger(__name__)

# A client must send `connection_init` within this time, or the connection is closed.
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler):
    """The legacy `graphql-ws` subprotocol, closed when `connection_init` does not arrive in time.

    Strawberry's handler already refuses `start` before `connection_init` (it
    closes with 4401), but has no initialisation timeout of its own, unlike
    the `graphql-transport-ws` handler. Without one, an idle client could hold
    a connection open for ever.
    """

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(CONNECTION_INIT_TIMEOUT.total_seconds())
        if not self.connection_acknowledged:
            logger.info("closing a graphql-ws connection: no connection_init within %s", CONNECTION_INIT_TIMEOUT)
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
