"""The typed context of one GraphQL request or WebSocket connection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from domain.services import Services
from persistence.models import Member
from resolvers.loaders import Loaders
from schema.errors import Unauthenticated


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | None
    viewer: Member | None
    bearer_token: str | None
    loaders: Loaders
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # The `connection_init` payload of a WebSocket connection; None over HTTP.
    connection_params: dict | None = None

    def require_viewer(self) -> Member:
        """Return the signed-in member; raise UNAUTHENTICATED for an anonymous request."""
        if self.viewer is None:
            raise Unauthenticated()
        return self.viewer

    @property
    def api_base_url(self) -> str:
        """The address clients reached this service at, such as `http://127.0.0.1:8000`, without a slash."""
        url = self.request.base_url
        scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
        return str(url.replace(scheme=scheme)).rstrip("/")

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"
