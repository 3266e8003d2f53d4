"""The CPU time per request that `bench.http` reports, read by `bench.load` around each round."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.http import _cpu_figures
from bench.load import cpu_seconds


def test_cpu_seconds_grows_with_work():
    before = cpu_seconds(os.getpid())
    total = 0
    for number in range(2_000_000):
        total += number * number

    after = cpu_seconds(os.getpid())
    assert before is not None
    assert after is not None
    assert after > before


def test_cpu_seconds_of_ended_process_is_none():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()

    # The child was waited for, so its id names no process until the system reuses it.
    assert cpu_seconds(process.pid) is None


def test_cpu_figures_are_medians_per_request():
    rounds = [
        {"requests": 100, "seconds": 2.0, "cpu_s": 1.2},
        {"requests": 200, "seconds": 2.0, "cpu_s": 1.8},
        {"requests": 100, "seconds": 2.0, "cpu_s": 1.0},
    ]

    figures = _cpu_figures("service", rounds)

    # 12, 9 and 10 ms per request; 0.6, 0.9 and 0.5 cores.
    assert figures == {"service_cpu_ms": 10.0, "service_cores": 0.6}


def test_cpu_figures_need_every_round():
    rounds = [{"requests": 100, "seconds": 2.0, "cpu_s": 1.2}, {"requests": 100, "seconds": 2.0}]

    assert _cpu_figures("bare", rounds) == {}
    assert _cpu_figures("bare", []) == {}
