"""Search page requests/s over HTTP: the service against a bare Starlette endpoint, one uvicorn worker each.

Both servers run at once on 127.0.0.1 with the same uvicorn options; the load
generator (`bench.load`, a separate process with 16 keep-alive connections)
alternates rounds between them, so both see the same background load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import socket
import subprocess
import sys
import time

import httpx

from bench import common, data
from bench.search import captured_statements
from pgbs.app import create_app
from pgbs.settings import Settings

# As `pgbs serve` runs uvicorn: one worker, WebSocket compression off (WEBSOCKET_COMPRESSION).
UVICORN_OPTIONS = [
    "--workers", "1", "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1",
    "--ws-per-message-deflate", "false",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def capture(url: str, token: str) -> list[dict]:
    """Run each search through the ASGI app in process; return its statements and response body."""
    app = create_app(Settings(database_url=url))
    entries = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        database = _database(app)
        for index in range(len(common.SEARCHES)):
            variables = common.search_variables(index)
            with captured_statements(database) as statements:
                response = await client.post(
                    "/graphql",
                    json={"query": common.SEARCH_PAGE, "variables": variables},
                    headers={"authorization": f"Bearer {token}"},
                )
            body = response.json()
            if "errors" in body:
                raise RuntimeError(f"search failed: {body['errors']}")
            entries.append({
                "filter": variables["filter"],
                "statements": [(sql, params) for sql, params in statements if sql.strip().upper() != "BEGIN"],
                "response": body,
            })
    await _database(app).dispose()
    return entries


def _database(app):
    """Find the service's Database in the app built by `create_app`."""
    for route in app.routes:
        endpoint = getattr(route, "app", None) or getattr(route, "endpoint", None)
        services = getattr(endpoint, "services", None)
        if services is not None:
            return services.database
    raise RuntimeError("the GraphQL endpoint was not found among the routes")


def _wait_listening(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"no server listening on port {port} after {timeout} s")


def start_server(target: str, port: int, environment: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port), *UVICORN_OPTIONS]
    process = subprocess.Popen(command, env={**os.environ, **environment})
    _wait_listening(port, process)
    return process


def measure(engine: str, members: int, rounds: int, seconds: float, connections: int) -> dict:
    url = asyncio.run(data.prepare(engine, members))
    token = asyncio.run(data.viewer_token(url))
    searches = asyncio.run(capture(url, token))
    spec_path = common.RESULTS.parent / f"bare-{engine}-{members}.pickle"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_bytes(pickle.dumps({"url": url, "searches": searches}))

    service_port, bare_port = free_port(), free_port()
    servers = []
    try:
        servers.append(start_server("pgbs.app:create_app", service_port, {"DATABASE_URL": url}))
        servers.append(start_server("bench.bare_app:create_app", bare_port, {"BENCH_BARE_SPEC": str(spec_path)}))
        load_spec = common.RESULTS.parent / "load-spec.json"
        load_spec.write_text(json.dumps({
            "ports": [service_port, bare_port],
            "bodies": [{"query": common.SEARCH_PAGE, "variables": common.search_variables(index)}
                       for index in range(len(common.SEARCHES))],
            "token": token,
            "connections": connections,
            "seconds": seconds,
            "max_requests": 200_000,
            # A first round each to warm both servers, left out of the figures.
            "rounds": rounds + 1,
        }))
        output = subprocess.run(
            [sys.executable, "-m", "bench.load", str(load_spec)], capture_output=True, text=True, check=True,
            timeout=(rounds + 1) * 2 * (seconds + 30),
        ).stdout
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    results = [json.loads(line) for line in output.splitlines() if line.strip()]
    measured = [result for result in results if result["round"] > 0]
    failures = sum(result["failures"] for result in results)
    service = [result for result in measured if result["port"] == service_port]
    bare = [result for result in measured if result["port"] == bare_port]
    ratios = [mine["rps"] / theirs["rps"] for mine, theirs in zip(service, bare, strict=True)]
    return {
        "engine": engine,
        "members": members,
        "connections": connections,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "failures": failures,
        "service_rps": round(common.median([result["rps"] for result in service]), 1),
        "bare_rps": round(common.median([result["rps"] for result in bare]), 1),
        "service_p50_ms": common.median([result["p50_ms"] for result in service]),
        "bare_p50_ms": common.median([result["p50_ms"] for result in bare]),
        "ratio": round(common.median(ratios), 3),
        "round_ratios": [round(ratio, 3) for ratio in ratios],
    }


def summary_line(figures: dict) -> str:
    return (
        f"http[{figures['engine']}]: members={figures['members']} service_rps={figures['service_rps']} "
        f"bare_rps={figures['bare_rps']} ratio={figures['ratio']} failures={figures['failures']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--members", type=int, default=common.MEMBERS)
    parser.add_argument("--rounds", type=int, default=2 if common.QUICK else 4)
    parser.add_argument("--seconds", type=float, default=3 if common.QUICK else 8, help="length of one round")
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    figures = measure(arguments.engine, arguments.members, arguments.rounds, arguments.seconds, arguments.connections)
    common.save_result(f"http-{arguments.engine}", figures)
    print(summary_line(figures))


if __name__ == "__main__":
    main()
