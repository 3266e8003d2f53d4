"""The ASGI application: routes, the GraphQL endpoint and the lifespan that owns every service."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from domain import accounts, follow_up, rate_limits
from domain import calendar as calendar_feed
from domain.clock import Clock
from domain.locations import warm_up as load_city_positions
from domain.map_feed import MapFeed
from domain.passwords import PasswordHasher
from domain.services import Services
from mailer.delivery import DeliveryWorker, SmtpSender
from mailer.outbox import Outbox
from persistence.broker import create_broker
from persistence.database import Database
from persistence.rate_limits import create_rate_limit_store
from pgbs.http import BodySizeLimit, GraphQLOverHTTP
from pgbs.settings import Settings
from pgbs.shared_subscriptions import SharedStreamHandler, SharedStreams
from pgbs.web import DEFAULT_BUILD_DIR, graphiql_page, web_routes
from pgbs.websocket import CONNECTION_INIT_TIMEOUT, LegacyGraphQLWSHandler
from resolvers.loaders import Loaders
from schema import build_schema
from schema.context import Context

logger = logging.getLogger(__name__)

BEARER = "bearer "
# Open operations one WebSocket connection may run at once; one more gets an error message.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 100


def bearer_token(header: str | None) -> str | None:
    """Return the token of an `Authorization: Bearer <token>` value, or None."""
    if not header or not header[: len(BEARER)].lower() == BEARER:
        return None
    token = header[len(BEARER):].strip()
    return token or None


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


class GraphQLEndpoint(GraphQLOverHTTP):
    """Strawberry's ASGI endpoint with the service's context and WebSocket authentication."""

    graphql_ws_handler_class = LegacyGraphQLWSHandler
    graphql_transport_ws_handler_class = SharedStreamHandler

    def __init__(self, services: Services, web_build_dir: Path = DEFAULT_BUILD_DIR, **options: Any) -> None:
        super().__init__(build_schema(), services.settings, **options)
        self.services = services
        self.web_build_dir = web_build_dir
        self.shared_streams = SharedStreams()

    async def render_graphql_ide(self, request: Request) -> Response:
        """Serve GraphiQL from the service's own build instead of strawberry's page, which loads from a CDN."""
        return graphiql_page(self.web_build_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["request_id"] = new_request_id()
        await super().__call__(scope, receive, send)

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
            request_id=request.scope.get("state", {}).get("request_id") or new_request_id(),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """Sign the connection in with `authorization` from the `connection_init` payload.

        Returns UNSET, so the acknowledgement carries no payload: returning None
        would send `"payload": null` on graphql-transport-ws.
        """
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("authorization") or params.get("Authorization")
        if header is None:
            return UNSET
        token = bearer_token(header) if isinstance(header, str) else None
        viewer = await accounts.authenticate(self.services, token) if token else None
        if viewer is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "The token is invalid or expired."})
        context.viewer = viewer
        context.bearer_token = token
        context.loaders = Loaders(self.services, viewer)
        return UNSET


def build_services(
    settings: Settings, *, clock: Clock | None = None, passwords: PasswordHasher | None = None
) -> Services:
    clock = clock or Clock()
    database = Database(settings.database_url, pool_size=settings.database_pool_size)
    broker = create_broker(settings.broker_url)
    return Services(
        settings=settings,
        database=database,
        clock=clock,
        mail=Outbox(clock, delivery_enabled=settings.smtp_host is not None),
        passwords=passwords or PasswordHasher(),
        broker=broker,
        rate_limits=create_rate_limit_store(settings.broker_url, database),
        map_feed=MapFeed(database, broker),
    )


# Young objects are collected after this many new ones instead of Python's 700.
# Reference counting frees a request's objects when it ends, so a collection
# finds little and only delays the request it interrupts (BENCHMARKS.md).
YOUNG_GENERATION_THRESHOLD = 50_000

_startup_objects_frozen = False


def prepare_garbage_collector() -> tuple[int, int, int]:
    """Freeze the objects loaded at startup, once per process, and collect young objects less often.

    The service has about 150,000 objects after startup (modules, the
    schema, the city table), which live as long as the process. Each full
    collection walked them all again, pausing the event loop for about 50 ms
    (measured on a 2-core Intel Xeon); frozen, the collector skips them.
    Returns the thresholds it replaced, for the lifespan to restore.
    """
    global _startup_objects_frozen
    if not _startup_objects_frozen:
        gc.collect()
        gc.freeze()
        _startup_objects_frozen = True
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
    return thresholds


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    """Build the application; `services` may be passed by tests that need to reach into them."""
    settings = settings or (services.settings if services else Settings.from_environ())
    services = services or build_services(settings)
    web_build_dir = Path(settings.web_build_dir) if settings.web_build_dir else DEFAULT_BUILD_DIR
    graphql = GraphQLEndpoint(
        services,
        web_build_dir=web_build_dir,
        graphql_ide="graphiql",
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
    )

    async def healthz(request: Request) -> Response:
        try:
            await asyncio.wait_for(services.database.ping(), timeout=5)
        except Exception as error:
            logger.warning("health check failed: database unreachable: %s", type(error).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def calendar(request: Request) -> Response:
        # The token in the path is the only credential of a calendar feed.
        document = await calendar_feed.render_feed(services, request.path_params["token"])
        if document is None:
            return Response("No calendar feed at this address.", status_code=404, media_type="text/plain")
        return Response(document, media_type="text/calendar", headers={"cache-control": "private, no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.broker.start()
        await asyncio.to_thread(load_city_positions)
        # Restored when the application stops.
        collector_thresholds = prepare_garbage_collector()
        if services.map_feed is not None:
            await services.map_feed.start()
        tasks: list[asyncio.Task] = []
        if settings.smtp_host is not None:
            worker = DeliveryWorker(
                services.database, SmtpSender(settings), settings, services.clock, services.mail.wake
            )
            tasks.append(asyncio.create_task(worker.run(), name="mail-delivery"))
        else:
            logger.info("SMTP_HOST is not set: e-mails are kept in the outbox and not sent")
        tasks.append(
            asyncio.create_task(
                follow_up.run_periodically(services, settings.follow_up_interval_seconds), name="follow-up"
            )
        )
        tasks.append(asyncio.create_task(rate_limits.run_pruning(services), name="rate-limit-pruning"))
        app.state.services = services
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if services.map_feed is not None:
                await services.map_feed.stop()
            await services.broker.close()
            await services.rate_limits.close()
            await services.database.dispose()
            gc.set_threshold(*collector_thresholds)

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/calendar/{token}.ics", calendar, methods=["GET"]),
        *web_routes(web_build_dir),
    ]
    middleware = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
