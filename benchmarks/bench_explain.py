"""Benchmark: ``python build.py explain os.mean`` must answer in well under a second.

Run after a build: ``python benchmarks/bench_explain.py [KEY] [--runs N]``. Times the
whole command (interpreter start, reading manuscript/numbers.json, printing)
in fresh processes and exits 1 if the median exceeds the target.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing import time_command

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", nargs="?", default="os.mean")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    return time_command(["build.py", "explain", args.key], ROOT, args.runs, lambda r: r.returncode == 0,
                        f"explain {args.key}", TARGET_S)


if __name__ == "__main__":
    sys.exit(main())
