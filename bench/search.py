"""Search page latency in process, through the schema, against the same SQL run bare.

Each round runs the six searches in turn through `schema.execute` with a new
context (and so new DataLoaders) per request, then the statements those
searches sent, captured with SQLAlchemy's `before_cursor_execute`, through the
bare driver: sqlite3 for SQLite, asyncpg for PostgreSQL. Rounds alternate, so
load from other processes falls on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from starlette.requests import Request
from uvicorn.loops.auto import auto_loop_factory

from bench import common, data
from domain import accounts
from persistence.database import SQLITE_MMAP_BYTES
from pgbs.app import build_services, prepare_garbage_collector
from pgbs.settings import Settings
from resolvers.loaders import Loaders
from schema import build_schema
from schema.context import Context

Statement = tuple[str, Any]


@contextmanager
def captured_statements(database):
    """Collect (statement, parameters) of every statement sent inside the block."""
    statements: list[Statement] = []

    def capture(_connection, _cursor, statement, parameters, _context, _executemany):
        statements.append((statement, parameters))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": [], "query_string": b"",
                    "server": ("127.0.0.1", 8000), "scheme": "http", "client": ("127.0.0.1", 1)})


class InProcess:
    """Runs the search page through the schema as the HTTP endpoint would, minus HTTP."""

    def __init__(self, url: str) -> None:
        self.services = build_services(Settings(database_url=url))
        self.schema = build_schema()
        self.viewer = None

    async def start(self) -> None:
        token = await data.viewer_token(self.services.settings.database_url)
        self.viewer = await accounts.authenticate(self.services, token)
        # As the service's lifespan does once started, so garbage collection costs what it costs there.
        prepare_garbage_collector()

    async def run(self, variables: dict) -> dict:
        context = Context(
            services=self.services, request=_request(), response=None, viewer=self.viewer,
            bearer_token=None, loaders=Loaders(self.services, self.viewer),
        )
        result = await self.schema.execute(common.SEARCH_PAGE, variable_values=variables, context_value=context)
        if result.errors:
            raise RuntimeError(f"search failed: {result.errors}")
        return result.data

    async def capture(self, variables: dict) -> list[Statement]:
        with captured_statements(self.services.database) as statements:
            await self.run(variables)
        # Transaction control is left out: the bare run reads in autocommit mode.
        return [(sql, parameters) for sql, parameters in statements if sql.strip().upper() not in ("BEGIN",)]

    async def close(self) -> None:
        await self.services.database.dispose()


class BareSqlite:
    def __init__(self, url: str) -> None:
        path = url.split("///", 1)[1]
        self.connection = sqlite3.connect(path, isolation_level=None)
        # The service's own connection settings, so both read the file alike.
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")

    async def run(self, statements: list[Statement]) -> int:
        rows = 0
        for sql, parameters in statements:
            rows += len(self.connection.execute(sql, parameters).fetchall())
        return rows

    async def close(self) -> None:
        self.connection.close()


class BarePostgres:
    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.connection = None

    async def start(self) -> None:
        self.connection = await asyncpg.connect(self.url)

    async def run(self, statements: list[Statement]) -> int:
        rows = 0
        for sql, parameters in statements:
            rows += len(await self.connection.fetch(sql, *parameters))
        return rows

    async def close(self) -> None:
        await self.connection.close()


async def _timed(samples: list[float], call, *arguments) -> None:
    started = time.perf_counter()
    await call(*arguments)
    samples.append((time.perf_counter() - started) * 1000)


async def measure(engine: str, members: int, rounds: int, per_round: int) -> dict:
    url = await data.prepare(engine, members)
    service = InProcess(url)
    await service.start()
    bare = BareSqlite(url) if engine == "sqlite" else BarePostgres(url)
    if isinstance(bare, BarePostgres):
        await bare.start()

    captured = [await service.capture(common.search_variables(index)) for index in range(len(common.SEARCHES))]
    small = await service.capture(common.search_variables(0, first=5))
    large = await service.capture(common.search_variables(0, first=100))

    # Warm caches on both sides before measuring.
    for index in range(len(common.SEARCHES) * 2):
        await service.run(common.search_variables(index))
        await bare.run(captured[index % len(captured)])

    service_samples: list[float] = []
    bare_samples: list[float] = []
    round_ratios: list[float] = []
    for _round in range(rounds):
        service_round: list[float] = []
        bare_round: list[float] = []
        for index in range(per_round):
            await _timed(service_round, service.run, common.search_variables(index))
        for index in range(per_round):
            await _timed(bare_round, bare.run, captured[index % len(captured)])
        round_ratios.append(common.median(service_round) / common.median(bare_round))
        service_samples += service_round
        bare_samples += bare_round

    await service.close()
    await bare.close()
    return {
        "engine": engine,
        "members": members,
        "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        "requests": len(service_samples),
        "p50_ms": round(common.percentile(service_samples, 0.50), 2),
        "p99_ms": round(common.percentile(service_samples, 0.99), 2),
        "bare_p50_ms": round(common.percentile(bare_samples, 0.50), 2),
        "bare_p99_ms": round(common.percentile(bare_samples, 0.99), 2),
        "ratio": round(common.median(round_ratios), 2),
        "statements_per_page": [len(statements) for statements in captured],
        "statements_first_5": len(small),
        "statements_first_100": len(large),
    }


def summary_line(figures: dict) -> str:
    return (
        f"search[{figures['engine']}]: members={figures['members']} p50_ms={figures['p50_ms']} "
        f"p99_ms={figures['p99_ms']} bare_p50_ms={figures['bare_p50_ms']} ratio={figures['ratio']} "
        f"statements_5={figures['statements_first_5']} statements_100={figures['statements_first_100']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--members", type=int, default=common.MEMBERS)
    parser.add_argument("--rounds", type=int, default=3 if common.QUICK else 4)
    parser.add_argument("--per-round", type=int, default=60 if common.QUICK else 90, help="requests per round")
    arguments = parser.parse_args()
    # The service's own loop. aiosqlite hands each statement to its thread and
    # back through the loop, which costs less on uvloop.
    with asyncio.Runner(loop_factory=auto_loop_factory()) as runner:
        figures = runner.run(measure(arguments.engine, arguments.members, arguments.rounds, arguments.per_round))
    common.save_result(f"search-{arguments.engine}", figures)
    print(summary_line(figures))


if __name__ == "__main__":
    main()
