"""The one exception type of the domain, and the codes clients branch on."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class ErrorCode(enum.Enum):
    """The reason a request was rejected; exposed to clients as the GraphQL `ErrorCode` enum."""

    INVALID = "INVALID"  # a value is malformed or out of range
    REQUIRED = "REQUIRED"  # a mandatory value is missing or blank
    TOO_LONG = "TOO_LONG"
    TOO_SHORT = "TOO_SHORT"
    DUPLICATE = "DUPLICATE"  # a list contains the same value twice
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_LANGUAGE = "INVALID_LANGUAGE"
    INVALID_DATE_RANGE = "INVALID_DATE_RANGE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"  # unknown, used or expired e-mail token
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    PROFILE_INCOMPLETE = "PROFILE_INCOMPLETE"
    NOT_FOUND = "NOT_FOUND"  # no such object, or one the viewer may not see
    NOT_ALLOWED = "NOT_ALLOWED"  # the viewer may see the object but not do this to it
    SAME_SIDE = "SAME_SIDE"  # a contact request between two schools or two companies
    SELF_REQUEST = "SELF_REQUEST"
    ALREADY_CONNECTED = "ALREADY_CONNECTED"  # the pair already has a pending or accepted request
    INVALID_STATUS = "INVALID_STATUS"  # the object's status does not allow this change
    ACTIVITY_CLOSED = "ACTIVITY_CLOSED"
    CONFLICT = "CONFLICT"  # the object changed concurrently; read it again and retry
    RATE_LIMITED = "RATE_LIMITED"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: a code, a sentence for people, and the input field path."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None


class DomainError(Exception):
    """Raised when a rule rejects a request; carries one or more problems with codes and fields."""

    def __init__(self, code: ErrorCode, message: str, field: Sequence[str] | None = None) -> None:
        self.problems = [Problem(code, message, tuple(field) if field is not None else None)]
        super().__init__(message)

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> DomainError:
        error = cls(problems[0].code, problems[0].message, problems[0].field)
        error.problems = list(problems)
        error.args = ("; ".join(problem.message for problem in problems),)
        return error

    @property
    def code(self) -> ErrorCode:
        return self.problems[0].code


class ErrorCollector:
    """Gathers the problems of one input so that a client sees them all at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: ErrorCode, message: str, field: Sequence[str]) -> None:
        self.problems.append(Problem(code, message, tuple(field)))

    def raise_if_any(self) -> None:
        if self.problems:
            raise DomainError.from_problems(self.problems)


class AuthenticationRequired(Exception):
    """Raised when an operation needs a signed-in member and the request has no valid token."""


class Forbidden(Exception):
    """Raised when the signed-in member may not use an operation at all (a top-level error)."""
