"""What the benchmarks share: the search page document, the six rotating searches and statistics."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path

# BENCH_QUICK=1 runs every benchmark at a reduced size.
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
# Where each benchmark leaves its figures for the closing summary line.
RESULTS = Path(__file__).parent / ".cache" / ("results-quick" if QUICK else "results")
MEMBERS = 2_000 if QUICK else 100_000

# The search page a client shows: every nested field that reads another table.
SEARCH_PAGE = """
query SearchPage($filter: SearchFilter, $first: Int) {
  search(filter: $filter, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id firstName lastName email role subjects isProfileComplete
        organisation { name kind countryCode city website }
        activityProfile {
          countryCode stemTopics activityLengths ageGroups formats languages description
          availability { from until }
        }
        contactRequest { id status }
      }
    }
  }
}
"""

# Six searches of a school teacher for companies, free text and filters, run in turn.
SEARCHES: list[dict] = [
    {"text": "software", "countryCodes": ["DE", "AT"]},
    {"text": "engineer", "stemTopics": ["ENGINEERING", "ENERGY"]},
    {"text": "data", "ageGroups": ["AGES_16_19"]},
    {"countryCodes": ["FR", "BE"], "activityLengths": ["HALF_DAY"]},
    {"text": "workshop robotics"},
    {"text": "energy", "availableFrom": "2027-03-01", "availableUntil": "2027-04-30"},
]
PAGE_SIZE = 20


def search_variables(index: int, first: int = PAGE_SIZE) -> dict:
    return {"filter": SEARCHES[index % len(SEARCHES)], "first": first}


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Return the sample below which `fraction` of the samples lie (nearest rank)."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> dict:
    """Describe the machine the figures come from."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu": model,
        "python": platform.python_version(),
        "load_average": load_average(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


def save_result(name: str, figures: dict) -> None:
    """Store one benchmark's figures as JSON for `bench.summary` and BENCHMARKS.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({**figures, "machine": machine()}, indent=2))


def load_results() -> dict[str, dict]:
    if not RESULTS.exists():
        return {}
    return {path.stem: json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))}
