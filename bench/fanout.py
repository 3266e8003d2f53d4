"""Map update fan-out: publish → last receipt at N graphql-transport-ws subscribers, against a bare broadcast.

One uvicorn worker runs the service with `bench.fanout_server`'s extra routes.
Subscribers live in separate processes (`bench.ws_clients`, 1,000 at most
each). Rounds alternate between a real map event, which every subscription
resolves and sends through strawberry, and a bare broadcast of the same
frame text over the same sockets. The server's resident memory is read from
/proc before and after the subscribers connect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time

import httpx

from bench import common, data
from bench.http import free_port, start_server

# Subscribers per client process.
PER_PROCESS = 1000
# A delivery that takes longer than this fails the benchmark.
DELIVERY_TIMEOUT = 60.0


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class ClientProcess:
    """One `bench.ws_clients` process and the lines it printed."""

    def __init__(self, url: str, count: int) -> None:
        self.count = count
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.ws_clients", url, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.sample: str | None = None  # the first `next` frame received
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith("sample ") and self.sample is None:
                self.sample = line[len("sample "):].rstrip("\n")
                continue
            self.lines.put(line.rstrip("\n"))

    def expect(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {prefix!r} line from the subscriber process within {timeout} s")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_subscribed(base: str, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = httpx.get(f"{base}/bench/subscribers").json()
        # Either every subscription runs on its own, or they joined shared streams that run.
        if found["feed"] >= expected or (found["shared"] >= expected and found["feed"] >= 1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"subscriptions after {timeout} s: {found}, expected {expected}")


def _last_receipt(clients: list[ClientProcess], sequence: int) -> float:
    latest = 0.0
    for client in clients:
        line = client.expect(f"done {sequence} ", DELIVERY_TIMEOUT)
        latest = max(latest, float(line.split()[2]))
    return latest


def measure(subscribers: int, rounds: int) -> dict:
    url = asyncio.run(data.prepare("sqlite", 200))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server("bench.fanout_server:create_app", port, {"DATABASE_URL": url, "BROKER_URL": "memory://"})
    clients: list[ClientProcess] = []
    try:
        httpx.get(f"{base}/healthz").raise_for_status()
        time.sleep(1)
        idle_mb = resident_mb(server.pid)

        for start in range(0, subscribers, PER_PROCESS):
            clients.append(ClientProcess(f"ws://127.0.0.1:{port}/graphql", min(PER_PROCESS, subscribers - start)))
        for client in clients:
            client.expect("ready", 180)
        _wait_subscribed(base, subscribers)
        time.sleep(1)
        subscribed_mb = resident_mb(server.pid)

        # A first event, left out of the figures, gives a frame to copy for the bare broadcast.
        first = httpx.post(f"{base}/bench/publish").json()
        _last_receipt(clients, first["sequence"])
        sample = json.loads(clients[0].sample)

        service_ms: list[float] = []
        bare_ms: list[float] = []
        for round_number in range(rounds):
            published = httpx.post(f"{base}/bench/publish").json()
            service_ms.append((_last_receipt(clients, published["sequence"]) - published["published_at"]) * 1000)

            # The same frame with a sequence number no real event has, so the receipts of the two kinds of round stay distinct.
            sequence = 1_000_000_000 + round_number
            sample["payload"]["data"]["mapUpdates"]["sequence"] = sequence
            text = json.dumps(sample, separators=(",", ":"))
            sent = httpx.post(f"{base}/bench/broadcast", json={"text": text}, timeout=DELIVERY_TIMEOUT).json()
            bare_ms.append((_last_receipt(clients, sequence) - sent["published_at"]) * 1000)
    finally:
        for client in clients:
            client.stop()
        server.terminate()
        server.wait(timeout=30)

    return {
        "subscribers": subscribers,
        "rounds": rounds,
        "p50_ms": round(common.percentile(service_ms, 0.50), 1),
        "p99_ms": round(common.percentile(service_ms, 0.99), 1),
        "bare_p50_ms": round(common.percentile(bare_ms, 0.50), 1),
        "bare_p99_ms": round(common.percentile(bare_ms, 0.99), 1),
        "ratio": round(common.percentile(service_ms, 0.99) / common.percentile(bare_ms, 0.99), 2),
        "idle_rss_mb": round(idle_mb, 1),
        "subscribed_rss_mb": round(subscribed_mb, 1),
        "rss_mb": round(subscribed_mb - idle_mb, 1),
        "client_processes": len(clients),
    }


def summary_line(figures: dict) -> str:
    return (
        f"fanout[{figures['subscribers']}]: p50_ms={figures['p50_ms']} p99_ms={figures['p99_ms']} "
        f"bare_p50_ms={figures['bare_p50_ms']} bare_p99_ms={figures['bare_p99_ms']} ratio={figures['ratio']} "
        f"rss_mb={figures['rss_mb']} (idle {figures['idle_rss_mb']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200 if common.QUICK else 1000)
    parser.add_argument("--rounds", type=int, default=15 if common.QUICK else 30)
    arguments = parser.parse_args()
    figures = measure(arguments.subscribers, arguments.rounds)
    common.save_result(f"fanout-{arguments.subscribers}", figures)
    print(summary_line(figures))


if __name__ == "__main__":
    main()
