"""The GraphQL schema: the operations of every area merged into one Query, Mutation and Subscription."""

from __future__ import annotations

import logging
from functools import lru_cache

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.execution import PlainFieldExecutor
from schema.extensions import (
    CachedParser,
    CachedValidation,
    HideSchemaInProduction,
    MaskUnexpectedErrors,
    RequestLimits,
    is_unexpected,
)

logger = logging.getLogger(__name__)

# Distinct documents whose parse and validation results are kept. Clients send
# a small fixed set of documents, so repeats skip both steps, which cost more
# than executing a search page; the bound keeps unique texts from growing memory.
DOCUMENT_CACHE_SIZE = 256


class Schema(strawberry.Schema):
    """Strawberry's schema, logging client mistakes briefly instead of as errors with tracebacks."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        operation = execution_context.operation_name if execution_context else None
        for error in errors:
            # Unexpected errors were logged with their traceback when they were masked.
            if not is_unexpected(error):
                logger.info("request error in %s: %s", operation or "anonymous operation", error.message)


@lru_cache(maxsize=1)
def build_schema() -> strawberry.Schema:
    from resolvers.accounts import AccountMutation, AccountQuery
    from resolvers.activities import ActivityMutation, ActivityQuery, ActivitySubscription
    from resolvers.contact_requests import ContactRequestMutation, ContactRequestQuery
    from resolvers.data_rights import DataRightsMutation, DataRightsQuery
    from resolvers.invitations import InvitationMutation
    from resolvers.nodes import NodeQuery
    from resolvers.search import SearchQuery

    query = merge_types(
        "Query",
        (
            NodeQuery,
            AccountQuery,
            ContactRequestQuery,
            DataRightsQuery,
            SearchQuery,
            ActivityQuery,
        ),
    )
    mutation = merge_types(
        "Mutation",
        (
            AccountMutation,
            ContactRequestMutation,
            InvitationMutation,
            DataRightsMutation,
            ActivityMutation,
        ),
    )
    subscription = merge_types(
        "Subscription",
        (
            ActivitySubscription,
        ),
    )
    return Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        execution_context_class=PlainFieldExecutor,
        extensions=[
            MaskUnexpectedErrors,
            # Limits come before the caches, so an oversized document is rejected before it is validated.
            RequestLimits,
            HideSchemaInProduction,
            lambda: CachedParser(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: CachedValidation(maxsize=DOCUMENT_CACHE_SIZE),
        ],
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
