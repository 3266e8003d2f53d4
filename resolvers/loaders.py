"""Request-scoped DataLoaders: each batch of nested fields costs one query per table.

A `Loaders` object lives in one request's context and is never shared, so a
cached row is never served to another viewer or after the request ends.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from functools import partial
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from domain.privacy import Exchange
from domain.services import Services
from persistence import activities as activity_table
from persistence import contact_requests as request_table
from persistence import invitations as invitation_table
from persistence import members as member_table
from persistence.database import Database
from persistence.models import Activity, ActivityProfile, ContactRequest, Invitation, Member, Organisation

K = TypeVar("K")
V = TypeVar("V")
ActivityPageKey = tuple[int, str | None, int, int | None]


class Loaders:
    def __init__(self, services: Services, viewer: Member | None) -> None:
        # The load functions take what they need as arguments, not through `self`.
        # A loader that referred back to this object would make a reference
        # cycle, and the request's rows would stay until the garbage collector ran.
        self.services = services
        self.viewer = viewer
        database = services.database
        self.member: DataLoader[int, Member | None] = self._by_key(member_table.get_members)
        self.organisation: DataLoader[int, Organisation | None] = self._by_key(member_table.get_organisations)
        self.activity_profile: DataLoader[int, ActivityProfile | None] = self._by_key(
            member_table.get_activity_profiles
        )

        self.exchange: DataLoader[int, Exchange] = DataLoader(load_fn=partial(_load_exchanges, database, viewer))
        self.contact_request: DataLoader[int, ContactRequest | None] = self._by_key(request_table.get_requests)
        self.invitation: DataLoader[int, Invitation | None] = self._by_key(invitation_table.get_invitations)
        # The latest request between the viewer and each other member, keyed by the other member's id.
        self.latest_request_with_viewer: DataLoader[int, ContactRequest | None] = DataLoader(
            load_fn=partial(_load_latest_requests, database, viewer)
        )

        self.activity: DataLoader[int, Activity | None] = self._by_key(activity_table.get_activities)
        # A page of one contact request's activities and their total count, keyed by
        # (request id, status name or None, rows to fetch, activity id to page before or None).
        self.activities_of_request: DataLoader[ActivityPageKey, tuple[list[Activity], int]] = DataLoader(
            load_fn=partial(_load_activity_pages, database)
        )

    def _by_key(
        self, fetch: Callable[[Any, Sequence[K]], Coroutine[Any, Any, dict[K, V]]]
    ) -> DataLoader[K, V | None]:
        """Wrap `fetch(session, keys) -> {key: row}` as a DataLoader that yields None for missing keys."""
        database = self.services.database

        async def load(keys: list[K]) -> list[V | None]:
            async with database.read() as session:
                rows = await fetch(session, keys)
            return [rows.get(key) for key in keys]

        return DataLoader(load_fn=load)

    def prime_members(self, members: Sequence[Member]) -> None:
        for member in members:
            self.member.prime(member.id, member)


async def _load_activity_pages(database: Database, keys: list[ActivityPageKey]) -> list[tuple[list[Activity], int]]:
    # Requests asking for the same page shape share one pair of queries.
    shapes: dict[tuple[str | None, int, int | None], list[int]] = {}
    for request_id, status, limit, before_id in keys:
        shapes.setdefault((status, limit, before_id), []).append(request_id)
    found: dict[ActivityPageKey, tuple[list[Activity], int]] = {}
    async with database.read() as session:
        for (status, limit, before_id), request_ids in shapes.items():
            pages, totals = await activity_table.pages_by_request(
                session, request_ids, status=status, before_id=before_id, limit=limit
            )
            for request_id in request_ids:
                found[(request_id, status, limit, before_id)] = (pages[request_id], totals.get(request_id, 0))
    return [found[key] for key in keys]


async def _load_latest_requests(
    database: Database, viewer: Member | None, member_ids: list[int]
) -> list[ContactRequest | None]:
    if viewer is None:
        return [None for _ in member_ids]
    async with database.read() as session:
        found = await request_table.latest_with(session, viewer.id, member_ids)
    return [found.get(member_id) for member_id in member_ids]


async def _load_exchanges(database: Database, viewer: Member | None, owner_ids: list[int]) -> list[Exchange]:
    """Load, for each owner id, what that owner has done towards the viewer."""
    if viewer is None:
        return [Exchange() for _ in owner_ids]
    async with database.read() as session:
        found = await request_table.exchanges_with(session, viewer.id, owner_ids)
    return [Exchange(*found[owner_id]) for owner_id in owner_ids]
