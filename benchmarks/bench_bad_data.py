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
import sys
import tempfile
from pathlib import Path

from timing import time_command

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
        return time_command(["build.py"], study, args.runs,
                            lambda r: r.returncode == 2 and "row 2, column age_years" in r.stderr,
                            "failing build", TARGET_S)


if __name__ == "__main__":
    sys.exit(main())
