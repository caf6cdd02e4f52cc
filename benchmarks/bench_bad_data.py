"""Benchmark: a build with a data mistake must fail in well under 1.5 s (validation runs before anything heavy).

Run: ``python benchmarks/bench_bad_data.py [--runs N]``. Copies the study to a
temporary folder, puts an impossible age in patients.csv, and times
``python build.py`` (interpreter start, codebook, reading and checking every
file, the error lines) in fresh processes; exits 1 if the median exceeds the
target.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "study"
        for part in ("data", "study", "templates"):
            shutil.copytree(ROOT / part, study / part)
        shutil.copy2(ROOT / "build.py", study)
        patients = study / "data" / "patients.csv"
        lines = patients.read_text(encoding="utf-8").split("\n")
        cells = lines[1].split(",")
        cells[1] = "250"
        lines[1] = ",".join(cells)
        patients.write_text("\n".join(lines), encoding="utf-8")
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "build.py"], cwd=study, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if r.returncode != 2 or "row 2, column age_years" not in r.stderr:
                print(f"unexpected result (exit {r.returncode}):\n{r.stderr}", file=sys.stderr)
                return 2
    median = statistics.median(times)
    print(f"failing build: median {median * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {args.runs} runs "
          f"(target < {TARGET_S * 1000:.0f} ms)")
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
