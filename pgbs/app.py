"""The ASGI application: routes, the GraphQL endpoint and the lifespan that owns every service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError

from domain import accounts
from domain.clock import Clock
from domain.passwords import PasswordHasher
from domain.services import Services
from mailer.delivery import DeliveryWorker, SmtpSender
from mailer.outbox import Outbox
from persistence.broker import create_broker
from persistence.database import Database
from persistence.rate_limits import create_rate_limit_store
from pgbs.http import BodySizeLimit, GraphQLOverHTTP
from pgbs.settings import Settings
from resolvers.loaders import Loaders
from schema import build_schema
from schema.context import Context

logger = logging.getLogger(__name__)

BEARER = "bearer "


def bearer_token(header: str | None) -> str | None:
    """Return the token of an `Authorization: Bearer <token>` value, or None."""
    if not header or not header[: len(BEARER)].lower() == BEARER:
        return None
    token = header[len(BEARER):].strip()
    return token or None


class GraphQLEndpoint(GraphQLOverHTTP):
    """Strawberry's ASGI endpoint with the service's context and WebSocket authentication."""

    def __init__(self, services: Services, **options: Any) -> None:
        super().__init__(build_schema(), services.settings, **options)
        self.services = services

    async def get_context(self, request: Request | WebSocket, response: Response | None = None) -> Context:
        token = bearer_token(request.headers.get("authorization")) if isinstance(request, Request) else None
        viewer = await accounts.authenticate(self.services, token) if token else None
        return Context(
            services=self.services,
            request=request,
            response=response,
            viewer=viewer,
            bearer_token=token if viewer else None,
            loaders=Loaders(self.services, viewer),
        )

    async def on_ws_connect(self, context: Context) -> None:
        """Sign the connection in with `authorization` from the `connection_init` payload."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("authorization") or params.get("Authorization")
        if header is None:
            return None
        token = bearer_token(header) if isinstance(header, str) else None
        viewer = await accounts.authenticate(self.services, token) if token else None
        if viewer is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "The token is invalid or expired."})
        context.viewer = viewer
        context.bearer_token = token
        context.loaders = Loaders(self.services, viewer)
        return None


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    clock = clock or Clock()
    database = Database(settings.database_url)
    return Services(
        settings=settings,
        database=database,
        clock=clock,
        mail=Outbox(clock, delivery_enabled=settings.smtp_host is not None),
        passwords=PasswordHasher(),
        broker=create_broker(settings.broker_url),
        rate_limits=create_rate_limit_store(settings.broker_url, database),
    )


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    """Build the application; `services` may be passed by tests that need to reach into them."""
    settings = settings or (services.settings if services else Settings.from_environ())
    services = services or build_services(settings)
    graphql = GraphQLEndpoint(
        services,
        graphql_ide="graphiql",
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=10),
    )

    async def healthz(request: Request) -> Response:
        try:
            await asyncio.wait_for(services.database.ping(), timeout=5)
        except Exception as error:
            logger.warning("health check failed: database unreachable: %s", type(error).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.broker.start()
        tasks: list[asyncio.Task] = []
        if settings.smtp_host is not None:
            worker = DeliveryWorker(
                services.database, SmtpSender(settings), settings, services.clock, services.mail.wake
            )
            tasks.append(asyncio.create_task(worker.run(), name="mail-delivery"))
        else:
            logger.info("SMTP_HOST is not set: e-mails are kept in the outbox and not sent")
        app.state.services = services
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.broker.close()
            await services.rate_limits.close()
            await services.database.dispose()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    middleware = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
