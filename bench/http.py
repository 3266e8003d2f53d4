"""Search page requests/s over HTTP: the service against a bare Starlette endpoint, one uvicorn worker each.

Both servers run at once on 127.0.0.1 with the same uvicorn options; the load
generator (`bench.load`, a separate process with 16 keep-alive connections)
alternates rounds between them, so both see the same background load.
`--checkout DIR`, given once per checkout, serves the service from other
checkouts instead, each in interleaved rounds against the same bare
endpoint, which compares two versions on the same data.
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
from collections.abc import Sequence
from pathlib import Path

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


def start_server(target: str, port: int, environment: dict, checkout: Path | None = None) -> subprocess.Popen:
    """Start one uvicorn worker serving `target`, from `checkout` when given, else from this checkout."""
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port), *UVICORN_OPTIONS]
    environment = {**os.environ, **environment}
    if checkout is not None:
        # The other checkout's packages come first, so its service code runs with this checkout's venv.
        environment["PYTHONPATH"] = str(checkout)
    process = subprocess.Popen(command, env=environment, cwd=checkout)
    _wait_listening(port, process)
    return process


def measure(
    engine: str, members: int, rounds: int, seconds: float, connections: int, checkouts: Sequence[Path] = ()
) -> dict:
    """Measure the service of each checkout (this one when none is given) against the bare endpoint.

    Rounds go service, bare, next service, bare, and so on, and each service
    round is divided by the bare round right after it. The bare endpoint runs
    the statements that this checkout's service sends. The figures of the
    first service are also at the top level of the result.
    """
    url = asyncio.run(data.prepare(engine, members))
    token = asyncio.run(data.viewer_token(url))
    searches = asyncio.run(capture(url, token))
    spec_path = common.RESULTS.parent / f"bare-{engine}-{members}.pickle"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_bytes(pickle.dumps({"url": url, "searches": searches}))

    sources: list[Path | None] = list(checkouts) or [None]
    service_ports = [free_port() for _ in sources]
    bare_port = free_port()
    servers: dict[int, subprocess.Popen] = {}
    try:
        for checkout, port in zip(sources, service_ports, strict=True):
            servers[port] = start_server("pgbs.app:create_app", port, {"DATABASE_URL": url}, checkout)
        servers[bare_port] = start_server("bench.bare_app:create_app", bare_port, {"BENCH_BARE_SPEC": str(spec_path)})
        ports = [port for service_port in service_ports for port in (service_port, bare_port)]
        load_spec = common.RESULTS.parent / "load-spec.json"
        load_spec.write_text(json.dumps({
            "ports": ports,
            "pids": {str(port): server.pid for port, server in servers.items()},
            "bodies": [{"query": common.SEARCH_PAGE, "variables": common.search_variables(index)}
                       for index in range(len(common.SEARCHES))],
            "token": token,
            "connections": connections,
            "seconds": seconds,
            "max_requests": 200_000,
            # A first round each to warm the servers, left out of the figures.
            "rounds": rounds + 1,
        }))
        output = subprocess.run(
            [sys.executable, "-m", "bench.load", str(load_spec)], capture_output=True, text=True, check=True,
            timeout=(rounds + 1) * len(ports) * (seconds + 30),
        ).stdout
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)

    results = [json.loads(line) for line in output.splitlines() if line.strip()]
    measured = [result for result in results if result["round"] > 0]
    bare = [result for result in measured if result["port"] == bare_port]
    services = []
    for index, (checkout, port) in enumerate(zip(sources, service_ports, strict=True)):
        service = [result for result in measured if result["port"] == port]
        following = bare[index::len(sources)]
        ratios = [mine["rps"] / theirs["rps"] for mine, theirs in zip(service, following, strict=True)]
        services.append({
            "checkout": str(checkout) if checkout is not None else None,
            "service_rps": round(common.median([result["rps"] for result in service]), 1),
            "service_p50_ms": common.median([result["p50_ms"] for result in service]),
            "ratio": round(common.median(ratios), 3),
            "round_ratios": [round(ratio, 3) for ratio in ratios],
            **_cpu_figures("service", service),
        })
    return {
        "engine": engine,
        "members": members,
        "connections": connections,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "failures": sum(result["failures"] for result in results),
        **services[0],
        "bare_rps": round(common.median([result["rps"] for result in bare]), 1),
        "bare_p50_ms": common.median([result["p50_ms"] for result in bare]),
        **_cpu_figures("bare", bare),
        "services": services,
    }


def _cpu_figures(name: str, rounds: list[dict]) -> dict:
    """Return a server's median CPU time per request and cores in use, or nothing when a round lacks its CPU time."""
    if not rounds or any("cpu_s" not in result for result in rounds):
        return {}
    return {
        f"{name}_cpu_ms": round(common.median([result["cpu_s"] / result["requests"] * 1000 for result in rounds]), 2),
        f"{name}_cores": round(common.median([result["cpu_s"] / result["seconds"] for result in rounds]), 2),
    }


def summary_line(figures: dict) -> str:
    return (
        f"http[{figures['engine']}]: members={figures['members']} service_rps={figures['service_rps']} "
        f"bare_rps={figures['bare_rps']} ratio={figures['ratio']} failures={figures['failures']}"
        f"{_cpu_text(figures)}"
    )


def _cpu_text(figures: dict) -> str:
    if "service_cpu_ms" not in figures or "bare_cpu_ms" not in figures:
        return ""
    return f" cpu_ms_per_request={figures['service_cpu_ms']}/{figures['bare_cpu_ms']}"


def comparison_lines(figures: dict) -> list[str]:
    """Return one line per compared checkout: its rate, its ratio to the bare endpoint and its CPU."""
    lines = []
    for service in figures["services"]:
        cpu = f" cpu_ms_per_request={service['service_cpu_ms']}" if "service_cpu_ms" in service else ""
        lines.append(
            f"http[{figures['engine']}] {service['checkout']}: service_rps={service['service_rps']} "
            f"ratio={service['ratio']} rounds={service['round_ratios']}{cpu}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--members", type=int, default=common.MEMBERS)
    parser.add_argument("--rounds", type=int, default=2 if common.QUICK else 4)
    parser.add_argument("--seconds", type=float, default=3 if common.QUICK else 8, help="length of one round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--checkout", type=Path, action="append", default=[], metavar="DIR",
        help="serve the service from this checkout instead of this one; repeat it to compare checkouts in "
        "interleaved rounds (each must read the benchmark database at its migration revision)",
    )
    arguments = parser.parse_args()
    figures = measure(
        arguments.engine, arguments.members, arguments.rounds, arguments.seconds, arguments.connections,
        [checkout.resolve() for checkout in arguments.checkout],
    )
    if arguments.checkout:
        # A comparison leaves the figures of `make bench` as they are.
        print("\n".join(comparison_lines(figures)))
        cpu = f" cpu_ms_per_request={figures['bare_cpu_ms']}" if "bare_cpu_ms" in figures else ""
        print(f"http[{arguments.engine}] bare: bare_rps={figures['bare_rps']}{cpu}")
        return
    common.save_result(f"http-{arguments.engine}", figures)
    print(summary_line(figures))


if __name__ == "__main__":
    main()
