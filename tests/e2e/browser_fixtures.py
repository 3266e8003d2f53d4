"""A real `pgbs serve` process and headless Chromium, for the browser tests.

The browser is Debian's `chromium` driven through `chromedriver` by Selenium
(`make browser-deps` installs both). The pages come from the front-end build
(`make web`). Where either is missing the tests are skipped with the command
to run, except under CI (CI set), where they fail so that a missing install
step cannot pass unnoticed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import urlopen

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService

from pgbs.web import DEFAULT_BUILD_DIR
from tests.graphql_client import GraphQLClient
from tests.processes import free_port

REPOSITORY = Path(__file__).resolve().parents[2]
ARTIFACTS = REPOSITORY / "test-artifacts"
CHROMIUM = os.environ.get("PGBS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PGBS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")

# Bounds of every wait, in seconds.
SERVER_START_TIMEOUT = 20.0
SERVER_STOP_TIMEOUT = 10.0
PAGE_TIMEOUT = 15.0

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing(reason: str) -> None:
    """Skip the test, or fail it under CI, where every browser test must run."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class ServerProcess:
    """One `pgbs serve` subprocess on 127.0.0.1; `start` and `stop` may be called again to restart it."""

    database_url: str
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("SMTP_")}
        env.update(DATABASE_URL=self.database_url, BROKER_URL="memory://", LOG_LEVEL="INFO")
        return env

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pgbs.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPOSITORY,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pgbs serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"pgbs serve did not respond on /healthz within {SERVER_START_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=SERVER_STOP_TIMEOUT)

    def kill(self) -> None:
        """End the process at once, as a crash would, dropping every connection without a close frame."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=SERVER_STOP_TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def run_cli(self, *arguments: str) -> subprocess.CompletedProcess:
        """Run another `pgbs` command against the server's database."""
        return subprocess.run(
            [sys.executable, "-m", "pgbs.cli", *arguments],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPOSITORY,
        )


@pytest.fixture
def web_build() -> Path:
    if not (DEFAULT_BUILD_DIR / "map" / "index.html").exists() or not (DEFAULT_BUILD_DIR / "graphiql").is_dir():
        missing(f"the front end is not built in {DEFAULT_BUILD_DIR}; run `make web`")
    return DEFAULT_BUILD_DIR


@pytest.fixture
def server(database_url: str, web_build: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    """`pgbs serve` on a free port, on the test's database (SQLite and PostgreSQL in turn)."""
    process = ServerProcess(database_url=database_url, log_path=tmp_path / "server.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client that talks to the server process over HTTP."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        yield GraphQLClient(http)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile, recording console messages and network events."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing(f"{CHROMIUM} or {CHROMEDRIVER} is missing; run `make browser-deps`")

    profile = tempfile.mkdtemp(prefix="pgbs-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,800"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=ChromeService(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def save_screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save a PNG of the current page under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """Console messages at level SEVERE (errors, uncaught exceptions, failed loads) since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """Every network URL the page requested: resource timing entries plus the DevTools network log.

    The network log also lists WebSocket connections, which resource timing leaves out.
    Inline data: and blob: URLs, which reach no host, are left out.
    """
    urls = driver.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".map((entry) => entry.name)"
    )
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return [url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")]
