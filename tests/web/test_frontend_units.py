"""The front end's own unit tests (web/test, Node's test runner), run as part of the suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"


def test_map_state_units() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed; the front end's unit tests need it")

    result = subprocess.run(
        [node, "--test", "test/"], cwd=WEB, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
