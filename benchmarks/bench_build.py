"""Build benchmark: median times of the build scenarios, side by side with their floors.

    python benchmarks/bench_build.py                      # all of it, 5 runs each
    python benchmarks/bench_build.py --runs 3 --sizes 11,1000

Every build is ``python build.py`` in a throw-away copy of the study, run as a
child process and timed from start to exit; peak memory is the child's
ru_maxrss (os.wait4). Floors, measured in the same run: a bare Python start,
importing pandas, lifelines and matplotlib, and pandoc alone on the rendered
Markdown (to DOCX; to Typst, then Typst to PDF). Scenarios: cold build
(--force, fresh cache), no-op rebuild, prose-only edit, data edit, and a prose-only edit
seen by a running ``python build.py watch``; then cold
builds of synthetic cohorts (benchmarks/synthetic_cohort.py) of growing size.
Prints Markdown tables; benchmarks/README.md explains them.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

from synthetic_cohort import make_study  # noqa: E402

TARGETS = {"cold build": 2.0, "no-op rebuild": 0.25, "prose-only edit": 0.5, "data edit": None,
           "prose-only edit, watch": 0.5}
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo",
         "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform")
STAGE_LINE = re.compile(r"^  (\S.*?)\s+(\d+\.\d\d) s")
LEDGER_SIZED = ("lint templates", "ledger", "review edition", "compare with last build")


# --- running and timing children ---------------------------------------------------------

ENGINE = [ROOT / "src"]  # main() points this at a snapshot of src/, so edits during a run change nothing


def snapshot_engine(work: Path) -> Path:
    """Copy src/ into ``work`` and run the children on that copy; returns ``work``."""
    ENGINE[0] = work / "src"
    shutil.copytree(ROOT / "src", ENGINE[0], ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return work


def child_env() -> dict:
    """This checkout's engine; byte-code caches on, as in a normal Python setup."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "SOURCE_DATE_EPOCH")}
    env["PYTHONPATH"] = os.pathsep.join([str(ENGINE[0]), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one child process; fails loudly if it fails."""
    seconds, usage, text = run_child(cmd, cwd)
    return seconds, usage.ru_maxrss / 1024, text


def run_child(cmd: list[str], cwd: Path):
    """(seconds, resource usage, stdout) of one child process: os.wait4's rusage covers the child and the
    processes it waited for (pandoc, Typst, the figure helper)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=child_env(), stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)} in {cwd}\n{text[-2000:]}")
    return seconds, usage, text


def series(runs: int, cmd: list[str], cwd: Path, before=None) -> dict:
    """Median, min and max seconds, peak MB, median CPU seconds (user + system, with the children waited for)
    and the stage times of ``runs`` runs (``before`` each)."""
    times, peaks, cpus, stages = [], [], [], {}
    for k in range(runs):
        if before:
            before(k)
        seconds, usage, text = run_child(cmd, cwd)
        times.append(seconds)
        peaks.append(usage.ru_maxrss / 1024)
        cpus.append(usage.ru_utime + usage.ru_stime)
        for line in text.splitlines():
            m = STAGE_LINE.match(line)
            if m:
                stages.setdefault(m.group(1), []).append(float(m.group(2)))
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "peak": max(peaks),
            "cpu": statistics.median(cpus), "stages": {name: statistics.median(v) for name, v in stages.items()},
            "runs": runs}


# --- floors ------------------------------------------------------------------------------------

def floors(runs: int, built: Path, tmp: Path) -> dict:
    """What no build can beat: Python, the heavy imports, and pandoc + Typst alone on the same Markdown."""
    py = sys.executable
    md = built / "manuscript" / "manuscript.md"
    tmp.mkdir(parents=True)
    shutil.copytree(built / "manuscript" / "figures", tmp / "figures")
    shutil.copy(md, tmp / "manuscript.md")
    pandoc = [py, "-c", "import pypandoc, sys; print(pypandoc.get_pandoc_path())"]
    pandoc = subprocess.run(pandoc, capture_output=True, text=True, env=child_env(), check=True).stdout.strip()
    from papergen.publish.export import TYPST_TEMPLATE
    from papergen.publish.pandoc import LUA_FILTER
    from papergen.publish.reference_docx import build_reference_docx
    from papergen.study import Study

    study = Study(built)
    ref = build_reference_docx(tmp / "reference.docx", **study.docx_style)
    common = [pandoc, "manuscript.md", "--from=markdown", "--citeproc", "--resource-path=.",
              f"--lua-filter={LUA_FILTER}", f"--bibliography={study.paths.bibliography}"]
    csl = study.citation_style
    if csl:
        common.append(f"--csl={csl}")
    read = [a for a in common if not a.startswith(("--lua-filter", "--resource-path"))]
    typst = (f"import typst; typst.compile({str(tmp / 'manuscript.typ')!r}, output='manuscript.pdf', "
             f"root={str(tmp)!r}, font_paths=[], ignore_system_fonts=True)")
    return {
        "python start": series(runs, [py, "-c", "pass"], tmp),
        "import pandas, lifelines, matplotlib": series(runs, [py, "-c", "import pandas, lifelines, matplotlib"], tmp),
        "import pandas, matplotlib (what a build imports)": series(runs, [py, "-c", "import pandas, matplotlib.figure"],
                                                                   tmp),
        "pandoc reads the Markdown with citeproc (-> JSON)": series(runs, read + ["--to=json", "-o", "x.json"], tmp),
        "pandoc Markdown -> DOCX": series(runs, common + ["--to=docx", f"--reference-doc={ref}", "-o", "x.docx"], tmp),
        "pandoc Markdown -> Typst": series(runs, common + ["--to=typst", "--standalone",
                                                         f"--template={TYPST_TEMPLATE}", "-o", str(tmp / "manuscript.typ")],
                                           tmp),
        "Typst -> PDF (incl. Python start)": series(runs, [py, "-c", typst], tmp),
    }


# --- scenarios -----------------------------------------------------------------------------

def copy_study(dest: Path) -> Path:
    for part in ("data", "study", "templates"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "build.py", dest / "build.py")
    return dest


def scenarios(runs: int, study: Path) -> dict:
    py = [sys.executable, "build.py"]
    template = study / "templates" / "discussion.md.j2"
    prose = template.read_text(encoding="utf-8")
    data = study / "data" / "patients.csv"
    rows = data.read_text(encoding="utf-8").splitlines(keepends=True)
    header = rows[0].rstrip("\n").split(",")
    col = header.index("operation_minutes")

    def fresh_cache(_):
        shutil.rmtree(study / ".papergen" / "cache", ignore_errors=True)

    def edit_prose(k):  # a sentence never written before: nothing of it can be in the cache
        template.write_text(prose + f"\nThis sentence is revision {WORDS[k % len(WORDS)]} {WORDS[k // len(WORDS)]}.\n",
                            encoding="utf-8")

    def edit_data(k):  # a value never used before: operation time of the first patient
        cells = rows[1].rstrip("\n").split(",")
        cells[col] = str(300 + 7 * (k + 1))
        data.write_text("".join([rows[0], ",".join(cells) + "\n", *rows[2:]]), encoding="utf-8")

    out = {"cold build": series(runs, py + ["--force"], study, before=fresh_cache)}
    timed(py, study)
    out["no-op rebuild"] = series(runs, py, study)
    out["prose-only edit"] = series(runs, py, study, before=edit_prose)
    out["data edit"] = series(runs, py, study, before=edit_data)
    out["prose-only edit, watch"] = watch_series(runs, study, lambda k: edit_prose(runs + k))
    return out


def comparative_scenarios(runs: int, work: Path) -> dict:
    """The comparative example (GBSG2: Table 1 with P values, Cox models, PH test, forest plot): cold build, data edit."""
    study = work / "gbsg2"
    shutil.copytree(ROOT / "examples" / "gbsg2", study,
                    ignore=shutil.ignore_patterns("manuscript", ".papergen", "__pycache__", ".manuscript.*"))
    py = [sys.executable, "build.py"]
    data = study / "data" / "gbsg2.csv"
    rows = data.read_text(encoding="utf-8").splitlines(keepends=True)
    col = rows[0].rstrip("\n").split(",").index("age")

    def fresh_cache(_):
        shutil.rmtree(study / ".papergen" / "cache", ignore_errors=True)

    def edit_data(k):  # a value never used before: the first woman's age
        cells = rows[1].rstrip("\n").split(",")
        cells[col] = str(30 + k % 40)
        data.write_text("".join([rows[0], ",".join(cells) + "\n", *rows[2:]]), encoding="utf-8")

    out = {"comparative example, cold build": series(runs, py + ["--force"], study, before=fresh_cache)}
    timed(py, study)
    out["comparative example, data edit"] = series(runs, py, study, before=edit_data)
    return out


def watch_series(runs: int, study: Path, before) -> dict:
    """Like series(), for edits seen by a running ``python build.py watch``: from the edit to the build's
    last line (the watch looks every 0.1 s, so half of that is waiting, on average)."""
    proc = subprocess.Popen([sys.executable, "build.py", "watch"], cwd=study, env=child_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def until(text: str) -> list[str]:
        lines = []
        while True:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("the watch stopped:\n" + "\n".join(lines[-20:]))
            lines.append(line)
            if text in line:
                return lines

    times, stages = [], {}
    try:
        until("waiting for a change")
        for k in range(runs):
            before(k)
            t0 = time.perf_counter()
            lines = until("built ")
            times.append(time.perf_counter() - t0)
            until("waiting for a change")
            for line in lines:
                m = STAGE_LINE.match(line)
                if m:
                    stages.setdefault(m.group(1), []).append(float(m.group(2)))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.stdout.read()
        _, _, usage = os.wait4(proc.pid, 0)
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "peak": usage.ru_maxrss / 1024, "stages": {name: statistics.median(v) for name, v in stages.items()},
            "runs": runs}


def scaling(runs: int, sizes: list[int], work: Path) -> dict:
    out = {}
    for n in sizes:
        study = make_study(work / f"cohort-{n}", n)
        rows = sum(len(f.read_text(encoding="utf-8").splitlines()) - 1 for f in (study / "data").glob("*.csv"))
        cache = study / ".papergen" / "cache"
        result = series(runs, [sys.executable, "build.py", "--force"], study,
                        before=lambda _: shutil.rmtree(cache, ignore_errors=True))
        result["rows"] = rows
        out[n] = result
        print(f"  {n:>7} patients: {result['median']:.2f} s", file=sys.stderr)
    return out


# --- report --------------------------------------------------------------------------------------

def report(fl: dict, sc: dict, sz: dict, runs: int, load: tuple) -> str:
    lines = [f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
             f"{platform.python_version()}; load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after; "
             f"median of {runs} runs.", "",
             "| floor | median s | min s | peak MB |", "|---|---:|---:|---:|"]
    for name, r in fl.items():
        lines.append(f"| {name} | {r['median']:.3f} | {r['min']:.3f} | {r['peak']:.0f} |")
    lines += ["", "| scenario | median s | min s | max s | floor s | target s | peak MB | stages that ran (median s) |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    floor = scenario_floors(fl)
    for name, r in sc.items():
        target = TARGETS.get(name)
        ran = ", ".join(f"{s} {t:.2f}" for s, t in r["stages"].items() if t >= 0.01) or "none"
        lines.append(f"| {name} | {r['median']:.2f} | {r['min']:.2f} | {r['max']:.2f} | {floor.get(name, 0):.2f} | "
                     f"{'' if target is None else f'{target:.2f}'} | {r['peak']:.0f} | {ran} |")
    lines.append("\nFloor of a scenario (the issue's definition): Python start (no-op); plus pandoc to DOCX alongside "
                 "pandoc to Typst and Typst to PDF, the two exports on two cores (prose edit); with the import of "
                 "pandas, lifelines and matplotlib instead of the bare start (cold build, data edit). Figures "
                 "column: the figures stage plus the wait for the drawing at 'figures drawn'.")
    if sz:
        lines += ["", "| patients | data rows | cold build s | read + validate s | analysis plan s | figures s "
                      "| ledger-sized stages s | peak MB | statistics s per 1,000 more patients |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        previous = None
        for n, r in sz.items():
            st = r["stages"]
            stats = st.get("read and validate data", 0) + st.get("analysis plan", 0)
            ledgerish = sum(st.get(k, 0) for k in LEDGER_SIZED)
            slope = "" if previous is None else f"{1000 * (stats - previous[1]) / (n - previous[0]):.3f}"
            lines.append(f"| {n:,} | {r['rows']:,} | {r['median']:.2f} | {st.get('read and validate data', 0):.2f} | "
                         f"{st.get('analysis plan', 0):.2f} | {st.get('figures', 0) + st.get('figures drawn', 0):.2f} | "
                         f"{ledgerish:.2f} | "
                         f"{r['peak']:.0f} | {slope} |")
            previous = (n, stats)
        lines.append(f"\nLedger-sized stages: {', '.join(LEDGER_SIZED)} (they read or write numbers.json, "
                     "which lists the row ids behind every value, or past `values.ROW_LIST_LIMIT` rows a summary of them).")
    return "\n".join(lines)


def scenario_floors(fl: dict) -> dict:
    """The least each scenario must cost, from the floors measured in the same run."""
    if not fl:
        return {}
    m = {name: r["median"] for name, r in fl.items()}
    exports = max(m["pandoc Markdown -> DOCX"], m["pandoc Markdown -> Typst"] + m["Typst -> PDF (incl. Python start)"])
    heavy = m["import pandas, lifelines, matplotlib"]
    return {"no-op rebuild": m["python start"], "prose-only edit": m["python start"] + exports,
            "cold build": heavy + exports, "data edit": heavy + exports, "prose-only edit, watch": exports,
            "comparative example, cold build": heavy + exports, "comparative example, data edit": heavy + exports}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (median; default 5)")
    ap.add_argument("--sizes", default="11,1000,10000,100000", help="cohort sizes of the scaling series ('' for none)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="papergen-bench-") as tmp:
        work = snapshot_engine(Path(tmp))
        study = copy_study(work / "study")
        print("scenarios on the demonstration study ...", file=sys.stderr)
        sc = scenarios(args.runs, study)
        print("scenarios on the comparative example ...", file=sys.stderr)
        sc.update(comparative_scenarios(args.runs, work))
        print("floors ...", file=sys.stderr)
        fl = floors(args.runs, study, work / "floor")
        print("scaling series ...", file=sys.stderr)
        sz = scaling(args.runs, sizes, work)
    print(report(fl, sc, sz, args.runs, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
