"""Shared by the small command benchmarks: run a command N times in fresh processes, report the median."""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path


def time_command(args: list[str], cwd: Path, runs: int, ok, label: str, target_s: float) -> int:
    """Time ``python ARGS`` ``runs`` times; ``ok(result)`` says whether a run behaved; exit code 0, 1 or 2."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if not ok(r):
            print(f"unexpected result (exit {r.returncode}):\n{r.stderr.strip()}", file=sys.stderr)
            return 2
    median = statistics.median(times)
    print(f"{label}: median {median * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {runs} runs "
          f"(target < {target_s * 1000:.0f} ms)")
    return 0 if median < target_s else 1
