"""Registry scale: cold builds of 10,000, 100,000 and 1,000,000 invented patients, from Parquet and from CSV.

    python benchmarks/bench_registry.py                   # the series 10000,100000,1000000 (about 10 minutes)
    python benchmarks/bench_registry.py --sizes 10000,100000
    python benchmarks/bench_registry.py --sizes 1000000 --runs 3   # median of three cold builds each

Each size is one cohort of synthetic_cohort.make_registry (about 10 rows per
patient over four tables), written once as Parquet and once as plain CSV, and
built cold (``python build.py --force``, cache deleted) ``--runs`` times (once by
default: a million-patient build is heavy); with more runs the table gives the
median and the range, since one run on this shared machine can differ from the
next by a fifth. Time is from start to exit of the child; CPU its user + system
time and peak memory its ru_maxrss (os.wait4: the build and the processes it
waited for), as in bench_build.py. The same run times the two CSV readers on the
largest CSV cohort's files (read and number every column, in this process):
pyarrow's (ingest/arrowcsv.py, what a build uses) and plaincsv's splitter (what
it replaced). Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_build import ENGINE, series, snapshot_engine  # noqa: E402
from synthetic_cohort import make_registry  # noqa: E402

TARGETS = {"parquet": 15.0, "csv": 25.0}  # seconds, cold build of 1,000,000 patients
PEAK_TARGET_MB = 4096


def rows_of(study: Path) -> int:
    import pyarrow.parquet as pq

    total = 0
    for f in (study / "data").iterdir():
        if f.suffix == ".parquet":
            total += pq.ParquetFile(f).metadata.num_rows
        elif f.suffix == ".csv":
            with open(f, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1
    return total


def build_series(sizes: list[int], work: Path, runs: int = 1) -> dict:
    out = {}
    for n in sizes:
        for fmt in ("parquet", "csv"):
            t0 = time.perf_counter()
            study = make_registry(work / f"registry-{n}-{fmt}", n, fmt)
            made = time.perf_counter() - t0
            cache = study / ".papergen" / "cache"
            result = series(runs, [sys.executable, "build.py", "--force"], study,
                            before=lambda _: shutil.rmtree(cache, ignore_errors=True))
            result.update(rows=rows_of(study), made=made,
                          size_mb=sum(f.stat().st_size for f in (study / "data").iterdir()) / 2 ** 20)
            out[(n, fmt)] = result
            print(f"  {n:>9} patients, {fmt:<7}: {result['median']:.1f} s (min {result['min']:.1f}, max "
                  f"{result['max']:.1f}), CPU {result['cpu']:.1f} s, {result['peak']:.0f} MB", file=sys.stderr)
            if n != sizes[-1] or fmt != "csv":
                shutil.rmtree(study / "manuscript", ignore_errors=True)
            if fmt == "parquet":
                shutil.rmtree(study, ignore_errors=True)
    return out


def readers(study: Path) -> dict:
    """Seconds to read and number every column of the cohort's CSV files: pyarrow's reader, then plaincsv's."""
    sys.path.insert(0, str(ENGINE[0]))
    from papergen.ingest import colcheck, load

    files = sorted((study / "data").glob("*.csv"))
    out = {}
    for label, arrow in (("pyarrow.csv (arrowcsv), first run: pays its imports", True), ("plaincsv splitter", False),
                         ("pyarrow.csv (arrowcsv), second run", True)):
        load.USE_ARROW = arrow
        t0 = time.perf_counter()
        for f in files:
            raw = load.read_raw(f.stem, f, f.name)
            for column in raw.columns:
                colcheck.factorise(column)
        out[label] = time.perf_counter() - t0
    load.USE_ARROW = True
    return out


STAGES = ("read and validate data", "analysis plan", "ledger", "figures drawn")


def report(sz: dict, rd: dict, n_csv: int, load: tuple) -> str:
    runs = {r["runs"] for r in sz.values()}
    told = "one cold build per row" if runs == {1} else \
        f"{'/'.join(map(str, sorted(runs)))} cold builds per row: median (min-max); stages and CPU their medians"
    lines = [f"Machine: {os.cpu_count()} cores; load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; "
             f"{told}.", "",
             "| patients | format | data rows | data MB | cold build s | CPU s | read + validate s | analysis plan s | "
             "ledger s | peak MB | s per 100,000 more patients |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    previous = {}
    for (n, fmt), r in sorted(sz.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        slope = ""
        if fmt in previous:
            m, s = previous[fmt]
            slope = f"{(r['median'] - s) / (n - m) * 100_000:.2f}"
        previous[fmt] = (n, r["median"])
        st = r["stages"]
        spread = f" ({r['min']:.2f}-{r['max']:.2f})" if r["runs"] > 1 else ""
        lines.append(f"| {n:,} | {fmt} | {r['rows']:,} | {r['size_mb']:.0f} | {r['median']:.2f}{spread} | "
                     f"{r['cpu']:.2f} | "
                     f"{st.get(STAGES[0], 0):.2f} | {st.get(STAGES[1], 0):.2f} | {st.get(STAGES[2], 0):.2f} | "
                     f"{r['peak']:.0f} | {slope} |")
    lines += ["", f"CSV readers on the {n_csv:,}-patient CSV files (read and number every column):", "",
              "| reader | s |", "|---|---:|"]
    lines += [f"| {label} | {seconds:.2f} |" for label, seconds in rd.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="cohort sizes, comma-separated")
    ap.add_argument("--runs", type=int, default=1, help="cold builds of each cohort (median; default 1)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="papergen-registry-") as tmp:
        work = snapshot_engine(Path(tmp))
        sz = build_series(sizes, work, args.runs)
        rd = readers(work / f"registry-{sizes[-1]}-csv")
    print(report(sz, rd, sizes[-1], load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
