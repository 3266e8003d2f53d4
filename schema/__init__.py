"""The GraphQL schema: the operations of every area merged into one Query, Mutation and Subscription."""

from __future__ import annotations

from functools import lru_cache

import strawberry
from strawberry.tools import merge_types

from schema.extensions import HideSchemaInProduction, MaskUnexpectedErrors, RequestLimits, ServiceSchema


@lru_cache(maxsize=1)
def build_schema() -> strawberry.Schema:
    from resolvers.accounts import AccountMutation, AccountQuery
    from resolvers.nodes import NodeQuery

    query = merge_types("Query", (NodeQuery, AccountQuery))
    mutation = merge_types("Mutation", (AccountMutation,))
    return ServiceSchema(
        query=query, mutation=mutation, extensions=[MaskUnexpectedErrors, RequestLimits, HideSchemaInProduction]
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
