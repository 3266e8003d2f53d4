"""Helpers for tests that run the `pgbs` command as a child process."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

# The only variables passed on from the test run, so that a developer's DATABASE_URL,
# SMTP_HOST or other setting never leaks into a test: whatever else `pgbs` reads keeps its default.
INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def pgbs_command() -> str:
    """Return the `pgbs` script installed beside the running interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "pgbs"
    if beside.exists():
        return str(beside)
    found = shutil.which("pgbs")
    assert found, "the pgbs command is not installed; run `make install`"
    return found


def child_environment(env: dict[str, str]) -> dict[str, str]:
    """Return `env` plus the inherited variables of the test run."""
    base = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    return {**base, **env}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
