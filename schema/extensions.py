"""Schema extensions: masking of unexpected errors."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

logger = logging.getLogger(__name__)

MASKED_MESSAGE = "Internal server error."


def is_unexpected(error: GraphQLError) -> bool:
    """True for an error raised by a bug or an outage, not one the API raises on purpose.

    Errors the API means to show (UNAUTHENTICATED, FORBIDDEN, limits) are
    GraphQLErrors themselves; validation errors carry no original error.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors with a generic one, so no stack trace or SQL reaches a client."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = getattr(self.execution_context, "context", None)
        request_id = getattr(context, "request_id", None)
        logger.error(
            "unexpected error in %s at %s (request %s)",
            self.execution_context.operation_name or "anonymous operation",
            ".".join(str(part) for part in error.path or []),
            request_id,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked
