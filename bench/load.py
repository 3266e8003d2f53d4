"""HTTP load generator: keep-alive connections posting GraphQL requests, in a process of its own.

Run by `bench.http` as `python -m bench.load SPEC.json`; prints one JSON line per
round. Each round targets one server for a fixed time (and at most a fixed
number of requests), and rounds alternate between the servers listed.
With the servers' process ids in the specification, each round also
reports the CPU time its server used.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import psutil


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response with a Content-Length body; return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _connection(port: int, requests: list[bytes], deadline: float, budget: list[int], latencies: list[float],
                      failures: list[int], offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = offset
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(requests[index % len(requests)])
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures[0] += 1
            index += 1
    finally:
        writer.close()


def _http_request(port: int, body: dict, token: str) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def run_round(port: int, requests: list[bytes], connections: int, seconds: float, max_requests: int) -> dict:
    latencies: list[float] = []
    failures = [0]
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.wait_for(
        asyncio.gather(
            *(_connection(port, requests, deadline, budget, latencies, failures, offset)
              for offset in range(connections))
        ),
        timeout=seconds + 30,
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "port": port,
        "requests": len(latencies),
        "failures": failures[0],
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2) if latencies else None,
    }


def cpu_seconds(pid: int) -> float | None:
    """Return the user and system CPU seconds a process has used so far, or None when it cannot be read."""
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return times.user + times.system


async def main(spec: dict) -> None:
    bodies = spec["bodies"]
    # The server process behind each port, whose CPU time each round reports.
    pids = {int(port): pid for port, pid in spec.get("pids", {}).items()}
    for round_number in range(spec["rounds"]):
        for port in spec["ports"]:
            requests = [_http_request(port, body, spec["token"]) for body in bodies]
            before = cpu_seconds(pids[port]) if port in pids else None
            result = await run_round(port, requests, spec["connections"], spec["seconds"], spec["max_requests"])
            after = cpu_seconds(pids[port]) if port in pids else None
            if before is not None and after is not None:
                result["cpu_s"] = round(after - before, 3)
            print(json.dumps({"round": round_number, **result}), flush=True)


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        asyncio.run(main(json.load(file)))
