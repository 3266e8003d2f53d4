"""The GraphQL schema: the operations of every area merged into one Query, Mutation and Subscription."""

from __future__ import annotations

from functools import lru_cache

import strawberry
from strawberry.tools import merge_types

from schema.extensions import MaskUnexpectedErrors


@lru_cache(maxsize=1)
def build_schema() -> strawberry.Schema:
    from resolvers.accounts import AccountMutation, AccountQuery
    from resolvers.activities import ActivityMutation, ActivityQuery, ActivitySubscription
    from resolvers.contact_requests import ContactRequestMutation, ContactRequestQuery
    from resolvers.nodes import NodeQuery

    query = merge_types(
        "Query",
        (
            NodeQuery,
            AccountQuery,
            ContactRequestQuery,
            ActivityQuery,
        ),
    )
    mutation = merge_types(
        "Mutation",
        (
            AccountMutation,
            ContactRequestMutation,
            ActivityMutation,
        ),
    )
    subscription = merge_types(
        "Subscription",
        (
            ActivitySubscription,
        ),
    )
    return strawberry.Schema(
        query=query, mutation=mutation, subscription=subscription, extensions=[MaskUnexpectedErrors]
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
