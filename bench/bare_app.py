"""The bare baseline endpoint: the search page's SQL through the bare driver, answered with the same JSON.

`bench.http` writes the statements each search sent through the service and
the service's response body to a pickle file, named by BENCH_BARE_SPEC. For
each request this endpoint runs those statements (sqlite3 in a worker thread
with a connection per thread, so queries overlap as they do under aiosqlite,
or an asyncpg pool), then serialises the response the service gave, so it
does the same database and JSON work with no ORM, GraphQL or DataLoaders.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import sqlite3
import threading

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from persistence.database import SQLITE_MMAP_BYTES


def _key(search_filter: dict | None) -> str:
    return json.dumps(search_filter, sort_keys=True)


def create_app() -> Starlette:
    with open(os.environ["BENCH_BARE_SPEC"], "rb") as file:
        spec = pickle.load(file)
    searches = {_key(entry["filter"]): entry for entry in spec["searches"]}
    url: str = spec["url"]
    state: dict = {}
    local = threading.local()

    def run_sqlite(statements: list) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            # The service's connection settings, so both read the file alike.
            connection.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        for sql, parameters in statements:
            connection.execute(sql, parameters).fetchall()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):
        if url.startswith("sqlite"):
            state["sqlite"] = True
        else:
            state["pool"] = await asyncpg.create_pool(
                url.replace("postgresql+asyncpg://", "postgresql://", 1), min_size=1, max_size=10
            )
        yield
        if "pool" in state:
            await state["pool"].close()

    async def graphql(request: Request) -> Response:
        body = json.loads(await request.body())
        entry = searches[_key(body["variables"].get("filter"))]
        if "sqlite" in state:
            await asyncio.to_thread(run_sqlite, entry["statements"])
        else:
            async with state["pool"].acquire() as connection:
                for sql, parameters in entry["statements"]:
                    await connection.fetch(sql, *parameters)
        return Response(json.dumps(entry["response"]), media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])], lifespan=lifespan)
