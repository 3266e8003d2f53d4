"""Run every benchmark in turn and print one summary line each, then the closing `bench:` line.

`make bench` runs the full sizes; `make bench BENCH_QUICK=1` reduced ones.
Each benchmark runs in a process of its own, one after the other, so they
never compete for the two cores with each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import common

FANOUT_SIZES = (200, 800) if common.QUICK else (1000, 4000)


def steps() -> list[list[str]]:
    return [
        ["bench.data", "--engine", "sqlite", "--members", str(common.MEMBERS)],
        ["bench.data", "--engine", "postgresql", "--members", str(common.MEMBERS)],
        ["bench.data", "--engine", "sqlite", "--members", "200"],
        ["bench.search", "--engine", "sqlite"],
        ["bench.search", "--engine", "postgresql"],
        ["bench.http", "--engine", "sqlite"],
        ["bench.http", "--engine", "postgresql"],
        *(["bench.fanout", "--subscribers", str(size)] for size in FANOUT_SIZES),
    ]


def closing_line() -> str:
    results = common.load_results()
    search = results.get("search-sqlite", {})
    http = results.get("http-sqlite", {})
    fanout = results.get(f"fanout-{FANOUT_SIZES[0]}", {})
    return (
        f"bench: search_p50_ms={search.get('p50_ms')} http_ratio={http.get('ratio')} "
        f"fanout_p99_ms={fanout.get('p99_ms')} fanout_ratio={fanout.get('ratio')} rss_mb={fanout.get('rss_mb')}"
    )


def main() -> int:
    started = time.monotonic()
    for stale in common.RESULTS.glob("*.json") if common.RESULTS.exists() else ():
        stale.unlink()
    print(f"bench: load average {common.load_average()} before the run", flush=True)
    failed = []
    for step in steps():
        # The data steps print the database URL only; the benchmarks print their summary line.
        completed = subprocess.run([sys.executable, "-m", *step], env=os.environ, stdout=subprocess.PIPE, text=True)
        if completed.returncode != 0:
            failed.append(" ".join(step))
            print(f"{' '.join(step)}: failed with exit code {completed.returncode}", flush=True)
        elif step[0] != "bench.data":
            print(completed.stdout.strip().splitlines()[-1], flush=True)
    print(f"bench: {time.monotonic() - started:.0f} s, load average {common.load_average()} after the run")
    print(closing_line())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
