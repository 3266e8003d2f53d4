"""The service with two benchmark-only routes, for `bench.fanout`; never part of `pgbs serve`.

- POST /bench/publish writes a map event for an activity in the log and
  publishes its sequence, as a committed activity change does, and returns
  the monotonic clock just before the publish.
- POST /bench/broadcast sends one given text frame to every open WebSocket
  over the same connections, with no GraphQL: the bare baseline.

Both read the monotonic clock, which Linux shares between processes, so the
client processes can compare their receipt times with it.
"""

from __future__ import annotations

import time

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.vocabulary import MapUpdateKind
from persistence import map_log
from persistence.models import MapEvent
from pgbs.app import build_services, create_app as create_service_app
from pgbs.settings import Settings


class SocketRegistry:
    """ASGI middleware that keeps the `send` callable of every accepted WebSocket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.sends: set[Send] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        async def tracking_send(message: dict) -> None:
            if message["type"] == "websocket.accept":
                self.sends.add(send)
            elif message["type"] == "websocket.close":
                self.sends.discard(send)
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            self.sends.discard(send)


def create_app() -> ASGIApp:
    settings = Settings.from_environ()
    services = build_services(settings)
    app = create_service_app(settings, services=services)
    registry = SocketRegistry(app)

    async def publish(request: Request) -> JSONResponse:
        async with services.database.write() as session:
            found = await session.exec(select(MapEvent).order_by(MapEvent.sequence.desc()).limit(1))
            template = found.first()
            if template is None:
                return JSONResponse({"error": "the map log is empty; seed the demo first"}, status_code=409)
            event = await map_log.append(
                session,
                kind=MapUpdateKind.UPDATED.name,
                activity_id=template.activity_id,
                country_code=template.country_code,
                payload=dict(template.payload),
                now=services.clock.now(),
            )
        started = time.monotonic()
        await services.broker.publish(map_log.MAP_CHANNEL, str(event.sequence))
        return JSONResponse({"sequence": event.sequence, "published_at": started})

    async def broadcast(request: Request) -> JSONResponse:
        text = (await request.json())["text"]
        sends = list(registry.sends)
        started = time.monotonic()
        for send in sends:
            await send({"type": "websocket.send", "text": text})
        return JSONResponse({"sockets": len(sends), "published_at": started})

    shared_streams = next(
        (getattr(route, "app", None).shared_streams for route in app.routes
         if hasattr(getattr(route, "app", None), "shared_streams")),
        None,
    )

    async def subscribers(request: Request) -> JSONResponse:
        feed = services.map_feed
        return JSONResponse({
            # Subscriptions the map feed serves: one per shared stream, plus those running on their own.
            "feed": feed.subscription_count if feed else 0,
            "shared": shared_streams.subscriber_count if shared_streams is not None else 0,
            "sockets": len(registry.sends),
        })

    app.router.routes[0:0] = [
        Route("/bench/publish", publish, methods=["POST"]),
        Route("/bench/broadcast", broadcast, methods=["POST"]),
        Route("/bench/subscribers", subscribers, methods=["GET"]),
    ]
    return registry
