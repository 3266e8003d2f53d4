"""Shared subscription streams: one execution per event for every subscriber of the same public stream.

Strawberry runs each subscription on its own: for every event it executes
the document, serialises the result and sends it, once per subscriber. With
a thousand map watchers one map change costs a thousand identical
executions. Here subscribers join one stream when their operation is the
same document with the same variables on a root field in
SHARED_ROOT_FIELDS, whose results depend on nothing but its arguments. The
document then runs once per event and its `next` payload is serialised
once. Each subscriber gets that text behind its own operation id.

A stream that replays missed events (`afterSequence`) differs for each
subscriber, so operations passing that argument run on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

logger = logging.getLogger(__name__)

# Public subscription root fields whose events are the same for every viewer, given the same arguments.
SHARED_ROOT_FIELDS = frozenset({"mapUpdates"})
# Arguments that make a stream start differently for each subscriber.
PER_SUBSCRIBER_ARGUMENTS = frozenset({"afterSequence"})
# Distinct documents whose shareability is remembered.
DOCUMENT_CACHE_SIZE = 256


def _named_operations(
    query: str, operation_name: str | None
) -> tuple[DocumentNode, list[OperationDefinitionNode]] | None:
    """Parse `query` and return it with its operations called `operation_name`, or all of them when None.

    Returns None for a document that does not parse. The normal pipeline reports why.
    """
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [
        definition for definition in document.definitions if isinstance(definition, OperationDefinitionNode)
    ]
    if operation_name is not None:
        operations = [operation for operation in operations if operation.name and operation.name.value == operation_name]
    return document, operations


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _is_shareable_document(query: str, operation_name: str | None) -> bool:
    parsed = _named_operations(query, operation_name)
    if parsed is None:
        return False
    document, operations = parsed
    if len(operations) != 1 or len(document.definitions) != 1:
        return False  # Fragments or several operations run on their own.
    operation = operations[0]
    if operation.operation != OperationType.SUBSCRIPTION or operation.directives:
        return False
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return False
    root = selections[0]
    if root.name.value not in SHARED_ROOT_FIELDS or root.directives:
        return False
    return not any(argument.name.value in PER_SUBSCRIBER_ARGUMENTS for argument in root.arguments or ())


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _runs_once(query: str, operation_name: str | None) -> bool:
    """Return whether the document's operation is a query or a mutation: one result, unlike a subscription.

    A document that does not parse, or names no single operation, is left to
    the normal pipeline, which reports why.
    """
    parsed = _named_operations(query, operation_name)
    if parsed is None:
        return False
    _document, operations = parsed
    return len(operations) == 1 and operations[0].operation != OperationType.SUBSCRIPTION


def shared_stream_key(query: str, variables: dict[str, Any] | None, operation_name: str | None) -> str | None:
    """Return the key of the shared stream an operation can join, or None when it must run on its own."""
    if not isinstance(query, str) or not _is_shareable_document(query, operation_name):
        return None
    try:
        encoded_variables = json.dumps(variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return json.dumps([query, operation_name, encoded_variables])


@dataclass(eq=False)
class _Member:
    handler: BaseGraphQLTransportWSHandler
    operation: Operation
    finished: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class _SharedStream:
    """One running subscription whose frames go to every member."""

    def __init__(self, streams: SharedStreams, key: str, operation: Operation, handler: BaseGraphQLTransportWSHandler):
        self.streams = streams
        self.key = key
        self.members: set[_Member] = set()
        # The first subscriber's context runs the stream. Only root fields that
        # read nothing from the viewer are shared, so any member's would do.
        self.task = asyncio.create_task(self._run(handler, operation), name="shared-subscription")

    async def _run(self, handler: BaseGraphQLTransportWSHandler, operation: Operation) -> None:
        final: tuple[str, Any] = ("complete", None)
        try:
            source = await handler.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=handler.context,
                root_value=handler.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError):
                        final = ("error", [error.formatted for error in result.errors or []])
                        break
                    if not isinstance(result, ExecutionResult):
                        final = ("error", [{"message": "Incremental delivery is not supported over WebSocket."}])
                        break
                    await self._send_next(result)
        except asyncio.CancelledError:
            return
        except Exception:
            logger.exception("shared subscription stream failed; ending it for %d subscribers", len(self.members))
            final = ("error", [{"message": "Internal server error."}])
        self.streams.forget(self)
        for member in list(self.members):
            if not member.finished.done():
                member.finished.set_result(final)

    async def _send_next(self, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        # Serialised once; each frame only adds its operation id in front.
        tail = ',"type":"next","payload":' + json.dumps(payload, separators=(",", ":")) + "}"
        # NOTE: frames are sent one socket after another, so a client whose socket
        # blocks the send delays the members after it for this event.
        for member in list(self.members):
            if member.operation.completed or member.finished.done():
                continue
            try:
                await member.handler.websocket.ws.send_text('{"id":' + json.dumps(member.operation.id) + tail)
            except Exception as error:
                # A closed connection ends only its own membership.
                logger.debug("shared subscription frame not sent to operation %s: %r", member.operation.id, error)
                self.leave(member)
                member.finished.set_result(("gone", None))

    def leave(self, member: _Member) -> None:
        self.members.discard(member)
        if not self.members:
            self.streams.forget(self)
            self.task.cancel()


class SharedStreams:
    """The shared streams of one endpoint, by key."""

    def __init__(self) -> None:
        self._streams: dict[str, _SharedStream] = {}

    @property
    def subscriber_count(self) -> int:
        return sum(len(stream.members) for stream in self._streams.values())

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def forget(self, stream: _SharedStream) -> None:
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]

    async def follow(self, key: str, handler: BaseGraphQLTransportWSHandler, operation: Operation) -> tuple[str, Any]:
        """Join (or start) the stream of `key` until it ends or the operation is cancelled; return how it ended."""
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _SharedStream(self, key, operation, handler)
        member = _Member(handler, operation)
        stream.members.add(member)
        try:
            return await member.finished
        finally:
            stream.leave(member)


class SharedStreamHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws, with operations on SHARED_ROOT_FIELDS joining a shared stream."""

    async def run_operation(self, operation: Operation) -> None:
        streams: SharedStreams | None = getattr(self.view, "shared_streams", None)
        key = shared_stream_key(operation.query, operation.variables, operation.operation_name)
        if streams is None or key is None:
            if _runs_once(operation.query, operation.operation_name):
                await self._run_within_timeout(operation)
            else:
                await super().run_operation(operation)
            return

        kind, payload = await streams.follow(key, self, operation)
        if kind == "gone":
            return
        with contextlib.suppress(Exception):
            if kind == "error":
                await operation.send_operation_message({"id": operation.id, "type": "error", "payload": payload})
            else:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _run_within_timeout(self, operation: Operation) -> None:
        """Run a query or mutation sent over the WebSocket with the execution timeout of HTTP requests."""
        timeout = self.view.settings.execution_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                await super().run_operation(operation)
        except TimeoutError:
            name = operation.operation_name or "anonymous"
            logger.warning("operation %s over WebSocket timed out after %s seconds", name, timeout)
            message = f"The operation did not finish within {timeout:g} seconds and was stopped."
            error = GraphQLError(message, extensions={"code": "TIMEOUT"})
            with contextlib.suppress(Exception):
                await operation.send_next(ExecutionResult(data=None, errors=[error]))
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
