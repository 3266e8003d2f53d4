"""Payloads shared by several areas."""

from __future__ import annotations

import strawberry

from schema.errors import UserError


@strawberry.type(description="The result of a deletion: the global id of what was deleted, or why nothing was.")
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
