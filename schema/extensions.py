"""Schema extensions: masking of unexpected errors, and one log line per error."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import InvalidOperationTypeError

logger = logging.getLogger(__name__)

MASKED_MESSAGE = "Internal server error."


def is_unexpected(error: GraphQLError) -> bool:
    """True for an error raised by a bug or an outage, not one the API raises on purpose.

    Errors the API means to show (UNAUTHENTICATED, FORBIDDEN, limits) are
    GraphQLErrors themselves; validation errors carry no original error.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def explain_operation_type(error: GraphQLError) -> GraphQLError:
    """Replace strawberry's error for an operation the transport cannot run with one a client can act on.

    The legacy graphql-ws WebSocket protocol runs subscriptions only; strawberry
    raises InvalidOperationTypeError for a query or mutation sent over it.
    """
    original = error.original_error
    if not isinstance(original, InvalidOperationTypeError):
        return error
    reason = original.as_http_error_reason("the legacy graphql-ws protocol")
    return GraphQLError(
        f"{reason[0].upper()}{reason[1:]}. Send them over HTTP or the graphql-transport-ws protocol.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "BAD_REQUEST"},
    )


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors with a generic one, so no stack trace or SQL reaches a client."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE)

    # NOTE: _process_errors is MaskErrors' private hook (strawberry 0.341); the tests
    # of request error logging fail if a strawberry upgrade stops calling it.
    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # Errors the API raises on purpose are logged here at INFO, without a
        # traceback. Unexpected ones are logged at ERROR by anonymise_error.
        errors = [explain_operation_type(error) for error in errors]
        for error in errors:
            if not is_unexpected(error):
                code = (error.extensions or {}).get("code", "GRAPHQL_ERROR")
                logger.info(
                    "request error in %s: %s (%s, request %s)",
                    self._operation_name(), error.message, code, self._request_id(),
                )
        return super()._process_errors(errors)

    def _operation_name(self) -> str:
        return self.execution_context.operation_name or "anonymous operation"

    def _request_id(self) -> str | None:
        return getattr(getattr(self.execution_context, "context", None), "request_id", None)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = self._request_id()
        logger.error(
            "unexpected error in %s at %s (request %s)",
            self._operation_name(),
            ".".join(str(part) for part in error.path or []),
            request_id,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked
