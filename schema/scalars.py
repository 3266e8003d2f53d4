"""Custom scalars: `JSON` is Strawberry's built-in scalar of that name (any JSON value)."""

from __future__ import annotations

from strawberry.scalars import JSON

__all__ = ["JSON"]
