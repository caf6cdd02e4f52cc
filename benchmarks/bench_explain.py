"""Benchmark: ``python build.py explain os.mean`` must answer in well under a second.

Run after a build: ``python benchmarks/bench_explain.py [KEY] [--runs N]``. Times the
whole command (interpreter start, reading manuscript/numbers.json, printing)
in fresh processes and exits 1 if the median exceeds the target.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", nargs="?", default="os.mean")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "build.py", "explain", args.key], cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            print(r.stderr.strip(), file=sys.stderr)
            return 2
    median = statistics.median(times)
    print(f"explain {args.key}: median {median * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {args.runs} runs "
          f"(target < {TARGET_S * 1000:.0f} ms)")
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
