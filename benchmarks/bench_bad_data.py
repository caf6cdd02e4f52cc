"""Benchmark: a build with a data mistake must fail in well under 1.5 s (validation runs before anything heavy).

Run: ``python benchmarks/bench_bad_data.py [--runs N]``. Copies the study to a
temporary folder, puts an impossible age in patients.csv, and times
``python build.py`` (interpreter start, codebook, reading and checking every
file, the error lines) in fresh processes; exits 1 if the median exceeds the
target.

``--corpus`` times every case of the bad-input corpus (tests/ingest/test_validate.py)
instead, each in its own fresh copy, and prints them slowest first; exits 1 if
any takes longer than CASE_TARGET_S to fail.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from timing import time_command

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.5
#: no case of the bad-input corpus may take longer than this to fail (issue 15)
CASE_TARGET_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--corpus", action="store_true", help="time each case of the bad-input corpus once")
    args = parser.parse_args()
    if args.corpus:
        return corpus()
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
        return time_command(["build.py"], study, args.runs,
                            lambda r: r.returncode == 2 and "row 2, column age_years" in r.stderr,
                            "failing build", TARGET_S)


def corpus() -> int:
    """Every corpus case once, in a fresh copy of the study: seconds to fail, slowest first."""
    import subprocess
    import time

    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "ingest")]
    from studycopy import copy_study
    from test_validate import CASES

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (mutate, _)) in enumerate(sorted(CASES.items())):
            study = copy_study(Path(tmp) / f"case{i}")
            mutate(study)
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "build.py"], cwd=study, capture_output=True, text=True)
            times.append((time.perf_counter() - t0, name, r.returncode))
            shutil.rmtree(study)
    slow = [t for t in times if t[0] > CASE_TARGET_S or t[2] != 2]
    for took, name, code in sorted(times, reverse=True):
        print(f"{took:6.2f} s  exit {code}  {name}")
    print(f"{len(times)} cases: median {sorted(t for t, _, _ in times)[len(times) // 2]:.2f} s, slowest "
          f"{max(times)[0]:.2f} s (target < {CASE_TARGET_S:.1f} s each, exit 2); {len(slow)} outside it")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
