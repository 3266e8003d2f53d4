"""Helpers for the broker tests: a recording listener and servers the tests start themselves."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.processes import free_port

REDIS_URL = os.environ.get("PGBS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("PGBS_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
WAIT_SECONDS = 10.0


def unique_channel() -> str:
    """Return a channel name no other test run uses, so parallel runs do not meet."""
    return f"test.{uuid.uuid4().hex}"


class RecordingListener:
    """Stores every payload and counts resumes; waits are bounded by WAIT_SECONDS."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.resumes = 0
        self._changed = asyncio.Condition()

    async def on_message(self, payload: str) -> None:
        async with self._changed:
            self.payloads.append(payload)
            self._changed.notify_all()

    async def on_resume(self) -> None:
        async with self._changed:
            self.resumes += 1
            self._changed.notify_all()

    async def wait_for_payloads(self, count: int) -> list[str]:
        async with self._changed:
            async with asyncio.timeout(WAIT_SECONDS):
                await self._changed.wait_for(lambda: len(self.payloads) >= count)
        return list(self.payloads)

    async def wait_for_resumes(self, count: int) -> None:
        async with self._changed:
            async with asyncio.timeout(WAIT_SECONDS):
                await self._changed.wait_for(lambda: self.resumes >= count)


async def wait_for_log(caplog: pytest.LogCaptureFixture, text: str) -> None:
    """Wait until a captured log line contains `text`, for at most WAIT_SECONDS."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not any(text in record.getMessage() for record in caplog.records):
        assert asyncio.get_running_loop().time() < deadline, f"no log line contains {text!r}"
        await asyncio.sleep(0.05)


class RedisServer:
    """A `redis-server` subprocess on a free port, without persistence, that a test can kill and restart."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with status {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING within {WAIT_SECONDS} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT_SECONDS)
        self.process = None


class FreezableProxy:
    """A TCP proxy on a free local port that can stop forwarding without closing, like a lost network path."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._pipes):
            task.cancel()
        for writer in list(self._writers):
            writer.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            client_writer.close()
            return
        self._writers.update((client_writer, server_writer))
        for reader, writer in ((client_reader, server_writer), (server_reader, client_writer)):
            task = asyncio.create_task(self._pipe(reader, writer))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
