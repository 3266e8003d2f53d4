"""The committed schema.graphql is the SDL of the running schema."""

from __future__ import annotations

import difflib
from pathlib import Path

from schema import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_running_schema():
    committed = SCHEMA_FILE.read_text()
    running = schema_sdl()

    difference = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True), running.splitlines(keepends=True), "schema.graphql", "running schema"
        )
    )
    assert not difference, f"schema.graphql is out of date; run `pgbs export-schema`:\n{difference}"
