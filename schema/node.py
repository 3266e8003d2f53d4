"""The Relay `Node` interface; global ids are encoded by `domain.global_ids`."""

from __future__ import annotations

import strawberry

from domain import global_ids


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


def encode_global_id(type_name: str, key: int) -> strawberry.ID:
    return strawberry.ID(global_ids.encode_global_id(type_name, key))


decode_global_id = global_ids.decode_global_id
