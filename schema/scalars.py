"""Custom scalars."""

from __future__ import annotations

from typing import Any, NewType

import strawberry

JSON = strawberry.scalar(
    NewType("JSON", object),
    name="JSON",
    description="A JSON value: object, array, string, number, boolean or null.",
    serialize=lambda value: value,
    parse_value=lambda value: value,
)

JSONValue = Any
