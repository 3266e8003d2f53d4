"""WebSocket subscribers to `mapUpdates` for `bench.fanout`, in a process of their own.

`python -m bench.ws_clients URL COUNT` opens COUNT graphql-transport-ws
connections, subscribes each, prints `ready`, then for every sequence number
that all COUNT connections received prints `done SEQUENCE LAST_RECEIPT`
(monotonic clock). It prints the first frame as `sample TEXT` and stops when
its standard input closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import uvloop
import websockets

SUBSCRIPTION = """
subscription MapUpdates {
  mapUpdates {
    sequence kind at
    activity {
      id title status startsOn endsOn format stemTopics schoolName companyName
      location { city countryCode latitude longitude }
    }
  }
}
"""
# Connections opened at once while starting, so the server's accept queue is not flooded.
OPEN_BATCH = 50


class Receipts:
    def __init__(self, count: int) -> None:
        self.count = count
        self.received: dict[int, list[float]] = {}
        self.sampled = False

    def record(self, text: str) -> None:
        now = time.monotonic()
        message = json.loads(text)
        if message.get("type") != "next":
            return
        if not self.sampled:
            self.sampled = True
            print("sample " + text, flush=True)
        sequence = message["payload"]["data"]["mapUpdates"]["sequence"]
        times = self.received.setdefault(sequence, [])
        times.append(now)
        if len(times) == self.count:
            print(f"done {sequence} {max(times)}", flush=True)
            del self.received[sequence]


async def subscriber(url: str, receipts: Receipts, ready: asyncio.Event) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None,
                                  ping_interval=None, open_timeout=60, compression=None) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        acknowledgement = json.loads(await socket.recv())
        if acknowledgement["type"] != "connection_ack":
            raise RuntimeError(f"expected connection_ack, got {acknowledgement}")
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        ready.set()
        async for text in socket:
            receipts.record(text)


async def main(url: str, count: int) -> None:
    receipts = Receipts(count)
    tasks = []
    for start in range(0, count, OPEN_BATCH):
        events = [asyncio.Event() for _ in range(min(OPEN_BATCH, count - start))]
        tasks += [asyncio.create_task(subscriber(url, receipts, event)) for event in events]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in events)), timeout=120)
    print("ready", flush=True)

    # Runs until the benchmark closes standard input.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    # uvloop, as the server runs under, so the subscribers' own receive loop
    # adds as little as it can to the time they report.
    uvloop.run(main(sys.argv[1], int(sys.argv[2])))
