"""Relay cursor connections: the page info type and cursor encoding shared by every list."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def page_size(first: int | None) -> int:
    """Return the requested page size; raise a top-level error when it is negative or over 100."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise GraphQLError(f"`first` must not be negative, got {first}.", extensions={"code": "BAD_USER_INPUT"})
    if first > MAX_PAGE_SIZE:
        raise GraphQLError(
            f"`first` is at most {MAX_PAGE_SIZE}, got {first}; page with `after` instead.",
            extensions={"code": "LIMIT_EXCEEDED"},
        )
    return first


def encode_cursor(position: list[Any]) -> str:
    """Encode a position in a sorted list (the sort key of its last item) as an opaque cursor."""
    # The same compact JSON as json.dumps, faster, but with non-ASCII characters
    # unescaped. `decode_cursor` reads both forms.
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """Return the position a cursor encodes; raise a top-level error for one we did not issue."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        position = None
    if not isinstance(position, list):
        raise GraphQLError("`after` is not a cursor from this list; pass an `endCursor` or `cursor` value.",
                           extensions={"code": "BAD_USER_INPUT"})
    return position
