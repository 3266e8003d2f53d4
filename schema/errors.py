"""`UserError`, and the helpers that turn domain errors into it or into top-level errors."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from domain.errors import DomainError
from schema.enums import ErrorCode


@strawberry.type(description="A problem with a mutation's input that the user can fix.")
class UserError:
    field: list[str] | None = strawberry.field(description="Path to the input field, such as ['input', 'email'].")
    code: ErrorCode
    message: str


def user_errors(error: DomainError) -> list[UserError]:
    return [
        UserError(field=list(problem.field) if problem.field else None, code=problem.code, message=problem.message)
        for problem in error.problems
    ]


class Unauthenticated(GraphQLError):
    """Top-level error for a request that needs a valid bearer token and has none."""

    def __init__(self, message: str = "Sign in first: send 'Authorization: Bearer <token>'.") -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


class ForbiddenError(GraphQLError):
    """Top-level error for a signed-in member who may not use an operation."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "FORBIDDEN"})


class RateLimited(GraphQLError):
    """Top-level error for an operation without `userErrors` that a client sent too often."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "RATE_LIMITED"})
