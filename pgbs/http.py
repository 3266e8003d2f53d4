"""GraphQL over HTTP: media types, status codes and request checks around Strawberry's ASGI view.

The rules follow the GraphQL over HTTP specification (draft of 2024):
- The response is `application/graphql-response+json` when the client
  accepts it and prefers it, else `application/json`; an Accept header that
  allows neither gets 406.
- A request that fails before execution (parse, validation, a limit,
  variable coercion) gets no `data` entry. Its status is 400 with
  `application/graphql-response+json`, and 200 with `application/json`,
  as older clients expect.
- POST takes `application/json` only (415 otherwise). A browser sends
  text/plain, application/x-www-form-urlencoded and multipart/form-data
  cross-site without a CORS preflight, so rejecting them means no other
  site can make a visitor's browser run a mutation. GET runs queries only;
  a mutation over GET gets 405.
- Batching (a JSON array of operations) is not enabled and gets 400.
- Bodies over MAX_BODY_BYTES get 413 before they are parsed (`BodySizeLimit`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from pgbs.settings import Settings
from schema.extensions import MASKED_MESSAGE

logger = logging.getLogger(__name__)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
SUPPORTED_MEDIA_TYPES = (GRAPHQL_RESPONSE_JSON, JSON)


class RequestRejected(Exception):
    """Raised to reject an HTTP request with an error status and a GraphQL-shaped error body."""

    def __init__(self, status_code: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = headers or {}


class NestingTooDeep(json.JSONDecodeError):
    """Raised when a JSON text nests too deeply for Python's decoder to read it."""


def error_response(
    status_code: int, code: str, message: str, media_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status_code, media_type=media_type, headers=headers)


def negotiate_media_type(accept: str | None) -> str | None:
    """Return the response media type for an Accept header, or None when it allows neither supported type.

    A missing header and `*/*` get `application/json`, which every client reads.
    """
    if accept is None or not accept.strip():
        return JSON
    choices: list[tuple[float, int, str]] = []
    for position, entry in enumerate(accept.split(",")):
        media_range, params = parse_content_type(entry.strip() or "invalid/invalid")
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality <= 0:
            continue
        if media_range in SUPPORTED_MEDIA_TYPES:
            choices.append((quality, -position, media_range))
        elif media_range in ("*/*", "application/*"):
            choices.append((quality, -position, JSON))
    if not choices:
        return None
    return max(choices)[2]


def is_request_error(result: ExecutionResult) -> bool:
    """True when the operation did not start: a parse, validation, limit or variable coercion error.

    Such errors carry no `path`; errors raised while fields resolve always do.
    """
    if isinstance(result, PreExecutionError):
        return True
    if result.data is not None or not result.errors:
        return False
    return all(error.path is None and (error.extensions or {}).get("code") != "TIMEOUT" for error in result.errors)


class GraphQLOverHTTP(GraphQL):
    """Strawberry's ASGI view with the HTTP rules of this module and an execution timeout."""

    def __init__(self, schema: Any, settings: Settings, **options: Any) -> None:
        super().__init__(schema, **options)
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self._respond(request)
        except RequestRejected as rejection:
            response = error_response(
                rejection.status_code,
                rejection.code,
                rejection.message,
                getattr(request.state, "graphql_media_type", JSON),
                rejection.headers,
            )
        except HTTPException as error:
            media_type = getattr(request.state, "graphql_media_type", JSON)
            response = error_response(error.status_code, "BAD_REQUEST", error.reason, media_type)
        except BodyTooLarge:
            raise
        except ClientDisconnect:
            # The client closed the connection before sending the whole body, so no response can be sent.
            request_id = scope.get("state", {}).get("request_id")
            logger.info("client disconnected before sending its whole request (request %s)", request_id)
            return
        except Exception:
            # Raised outside GraphQL execution, for example while authenticating, where
            # the schema's masking does not reach. The response matches a masked error.
            request_id = scope.get("state", {}).get("request_id")
            logger.exception("unexpected error before executing a GraphQL request (request %s)", request_id)
            body = {
                "data": None,
                "errors": [
                    {"message": MASKED_MESSAGE, "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}}
                ],
            }
            response = JSONResponse(body, status_code=500)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            message = f"{request.method} is not supported; use GET or POST."
            raise RequestRejected(405, "METHOD_NOT_ALLOWED", message, {"Allow": "GET, POST"})
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return await self.run(request)

        media_type = negotiate_media_type(request.headers.get("accept"))
        if media_type is None:
            raise RequestRejected(
                406, "NOT_ACCEPTABLE", f"The Accept header must allow {GRAPHQL_RESPONSE_JSON} or {JSON}."
            )
        request.state.graphql_media_type = media_type

        if request.method == "POST":
            await self._check_post_body(request)

        response = await self.run(request)
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        if media_type == GRAPHQL_RESPONSE_JSON and getattr(request.state, "graphql_request_error", False):
            response.status_code = 400
        return response

    async def _check_post_body(self, request: Request) -> None:
        content_type, params = parse_content_type(request.headers.get("content-type", ""))
        if content_type != JSON:
            raise RequestRejected(
                415, "UNSUPPORTED_MEDIA_TYPE", f"POST bodies must be {JSON}, got {content_type!r}."
            )
        charset = params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise RequestRejected(415, "UNSUPPORTED_MEDIA_TYPE", f"POST bodies must be UTF-8, got {charset!r}.")
        body = await request.body()
        if body.lstrip()[:1] == b"[":
            raise RequestRejected(
                400, "BATCHING_NOT_SUPPORTED", "Batched requests are not supported; send one operation per request."
            )

    def encode_json(self, data: object) -> str:
        # orjson encodes a search page in under a tenth of json.dumps' time (BENCHMARKS.md), as UTF-8.
        # A str, because Strawberry sends bytes as binary WebSocket frames and the protocols use text.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        # Also used for WebSocket messages, where a JSONDecodeError closes the connection cleanly.
        try:
            return super().decode_json(data)
        except RecursionError:
            raise NestingTooDeep("The JSON nests too deeply", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except NestingTooDeep:
            raise RequestRejected(
                400, "VARIABLES_TOO_DEEP", "The request's JSON nests too deeply to be read; send flatter variables."
            ) from None
        except json.JSONDecodeError as error:
            raise RequestRejected(400, "BAD_REQUEST", f"The request body is not valid JSON: {error}.") from None

    async def execute_single(self, request: Request, request_adapter: Any, **arguments: Any) -> ExecutionResult:
        # Queries and mutations sent over the WebSocket get the same timeout in `pgbs.shared_subscriptions`.
        timeout = self.settings.execution_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                return await super().execute_single(request=request, request_adapter=request_adapter, **arguments)
        except HTTPException as error:
            if request_adapter.method == "GET" and isinstance(error.__cause__, InvalidOperationTypeError):
                raise RequestRejected(
                    405, "METHOD_NOT_ALLOWED", "Only queries run over GET; send mutations with POST.", {"Allow": "POST"}
                ) from error
            raise
        except TimeoutError:
            data = arguments.get("request_data")
            logger.warning(
                "operation %s timed out after %s seconds", getattr(data, "operation_name", None) or "anonymous", timeout
            )
            message = f"The operation did not finish within {timeout:g} seconds and was stopped."
            return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": "TIMEOUT"})])

    async def process_result(self, request: Request, result: ExecutionResult) -> dict[str, Any]:
        response_data = await super().process_result(request, result)
        if is_request_error(result):
            # A request error has no `data` entry at all, which distinguishes it from a null result.
            response_data.pop("data", None)
            request.state.graphql_request_error = True
        return response_data


class BodySizeLimit:
    """ASGI middleware that returns 413 for a request body over `max_bytes`, before the body is parsed.

    A declared Content-Length over the limit is rejected at once, without
    reading the body. A chunked body is counted as it arrives and rejected as
    soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return

        received = 0
        body_complete = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, body_complete
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            if not body_complete:
                await self._drain(receive)
            await self._reject(scope, receive, send)

    async def _drain(self, receive: Receive) -> None:
        """Read up to `max_bytes` more of the body, so a client still sending it can read the 413.

        A server that closes a connection with unread data makes the client's
        TCP stack reset it, and the client may then lose the response.
        """
        drained = 0
        while drained <= self.max_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes."
        response = error_response(413, "REQUEST_TOO_LARGE", message, headers={"Connection": "close"})
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised by `BodySizeLimit` inside the application when the body passes the limit."""
