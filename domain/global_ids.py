"""Opaque global ids: the URL-safe base64 text of `TypeName:primary key`.

They live in the domain because e-mail links carry them too. Clients treat
them as opaque; `decode_global_id` returns None for anything that is not one
of ours, so a bad id can never reach the database as another type.
"""

from __future__ import annotations

import base64
import binascii

# Primary keys are 32-bit integers on PostgreSQL; a larger key would make the query fail, not miss.
MAX_KEY = 2**31 - 1


def encode_global_id(type_name: str, key: int) -> str:
    raw = f"{type_name}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_global_id(global_id: str, expected_type: str | None = None) -> tuple[str, int] | None:
    """Return (type name, key), or None when the id is malformed or of another type than expected.

    Only the exact text `encode_global_id` produces is accepted, so each object
    has one global id and a key outside the database's range never reaches a query.
    """
    if not isinstance(global_id, str) or len(global_id) > 200:
        return None
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, separator, key = raw.partition(":")
    if not separator or not type_name or not key.isascii() or not key.isdigit() or len(key) > 10:
        return None
    number = int(key)
    if number > MAX_KEY or encode_global_id(type_name, number) != global_id:
        return None
    if expected_type is not None and type_name != expected_type:
        return None
    return type_name, number
