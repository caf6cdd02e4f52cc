"""Preview benchmark: from saving a file to the change in the page a real browser shows, and the one-shot build.

    python benchmarks/bench_preview.py              # 12 edits of each kind, 5 one-shot builds
    python benchmarks/bench_preview.py --edits 10 --runs 3

``python build.py preview --no-browser`` runs in a throw-away copy of the study
(bench_build's copy of src/, so edits to the checkout change nothing); headless
Chromium (Debian's, driven by Playwright) has the page open. Each edit is timed
from just before the file is written to the moment the new text is in the
page's DOM (noted by a MutationObserver the benchmark adds to every document of
the page, read every 20 ms; ``--poll``: the page's text read every 2 ms, the
earlier method); the next edit waits until the page says "DOCX and PDF up to date".
Prose edit: a sentence never written before appended to a template. Data edit:
the first patient's operation time set to a value never used before (the mean
operation time changes). Then the one-shot ``python build.py`` after a prose
edit against its floor, both measured in this run (bench_build.floors).
Prints Markdown tables; benchmarks/README.md explains them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_build  # noqa: E402
from bench_build import WORDS, child_env, copy_study, floors, scenario_floors, series, timed  # noqa: E402

CHROMIUM = os.environ.get("PAPERGEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TARGETS = {"preview, prose edit (save -> sentence in the page)": 0.3,
           "preview, data edit (save -> new number in the page)": 1.5}
UP_TO_DATE = "DOCX and PDF up to date"
OP_TIME = "surgery.op_time"
#: a progress line of the build: "  read manuscript   0.05 s  ..."
STAGE_LINE = re.compile(r"^  (\S.*?)\s+(\d+\.\d+) s")


def sentence(k: int) -> str:
    return f"This preview sentence is revision {WORDS[k % len(WORDS)]} {WORDS[k // len(WORDS) % len(WORDS)]}."


def read(page, script: str):
    """page.evaluate(script), through a reload (the old page's context may be gone for a moment)."""
    while True:
        try:
            return page.evaluate(script)
        except Exception as exc:  # Execution context was destroyed / navigation: the new page is coming
            if "context" not in str(exc).lower() and "navigat" not in str(exc).lower():
                raise
            time.sleep(0.002)


def wait_until(page, script: str, test, timeout: float = 60, every: float = 0.002) -> float:
    """Seconds until ``test(page.evaluate(script))`` holds, polled every ``every`` s."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if test(read(page, script)):
            return time.perf_counter()
        time.sleep(every)
    raise SystemExit(f"not within {timeout} s: {script}")


def up_to_date(page) -> None:
    wait_until(page, "document.getElementById('pg-preview-bar') ? document.getElementById('pg-preview-bar').textContent : ''",
               lambda text: UP_TO_DATE in text, every=0.02)


#: run in every document the page opens (reloads too), before its scripts: notes (sessionStorage "seen") the
#: wall-clock time at which what the benchmark waits for (sessionStorage "want") is first in the page's DOM,
#: from a MutationObserver, so that nothing polls the page while it is being patched or parsed
WATCHER = """
(() => {
  const check = () => {
    const want = JSON.parse(sessionStorage.getItem("pg-bench-want") || "null");
    if (!want || sessionStorage.getItem("pg-bench-seen")) return;
    const paper = document.getElementById("pg-paper");
    if (!paper) return;
    let hit = false;
    if (want.text) hit = paper.textContent.includes(want.text);
    else {
      const el = paper.querySelector(`.pg-value[data-key="${want.key}"]`);
      hit = Boolean(el) && el.textContent !== want.before;
    }
    if (hit) sessionStorage.setItem("pg-bench-seen", String(Date.now()));
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""


def expect(page, want: dict) -> None:
    """Tell the page's WATCHER what to wait for (a text in the manuscript, or a value's new text)."""
    read(page, f"sessionStorage.removeItem('pg-bench-seen'); sessionStorage.setItem('pg-bench-want', "
               f"JSON.stringify({json.dumps(want)}))")


def seen(page, t_wall: float, timeout: float = 60) -> float:
    """Seconds from ``t_wall`` (time.time()) to when the page's WATCHER saw what it waits for (read every 20 ms)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        at = read(page, "sessionStorage.getItem('pg-bench-seen')")
        if at:
            return int(at) / 1000 - t_wall
        time.sleep(0.02)
    raise SystemExit(f"not within {timeout} s: {read(page, 'sessionStorage.getItem(' + repr('pg-bench-want') + ')')}")


def preview_series(study: Path, edits: int, poll: bool = False) -> dict:
    """The preview's edits in Chromium; ``poll``: find the change by reading the page's text every 2 ms (the
    earlier method, which keeps one core of the browser busy), instead of the page's own MutationObserver."""
    from playwright.sync_api import sync_playwright

    template = study / "templates" / "discussion.md.j2"
    prose = template.read_text(encoding="utf-8")
    data = study / "data" / "patients.csv"
    rows = data.read_text(encoding="utf-8").splitlines(keepends=True)
    col = rows[0].rstrip("\n").split(",").index("operation_minutes")
    env = {**child_env(), "PYTHONUNBUFFERED": "1"}  # each progress line when it is printed
    proc = subprocess.Popen([sys.executable, "build.py", "preview", "--no-browser"], cwd=study, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = None
    for line in proc.stdout:
        m = re.search(r"http://127\.0\.0\.1:\d+/", line)
        url = url or (m.group(0) if m else None)
        if "waiting for a change" in line:
            break
    if url is None:
        raise SystemExit("the preview did not start")
    printed: list[tuple[float, str]] = []  # (when, line) of everything the preview prints after its start

    def drain():  # keeps the pipe from filling, and notes when the page of each build was written
        for line in proc.stdout:
            printed.append((time.perf_counter(), line))

    threading.Thread(target=drain, daemon=True).start()

    def page_written(since: float) -> float:
        """When the preview printed its first 'review edition' line after ``since``."""
        return next((t for t, line in list(printed) if t > since and "review edition" in line), float("nan"))

    def stages_before_page(since: float) -> dict:
        """The preview's progress lines from ``since`` up to its 'review edition' line: stage -> seconds."""
        out = {}
        for t, line in list(printed):
            m = STAGE_LINE.match(line)
            if t > since and m:
                out[m.group(1).strip()] = float(m.group(2))
                if m.group(1).strip() == "review edition":
                    break
        return out

    out = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            if not poll:
                page.add_init_script(WATCHER)
            page.goto(url)
            up_to_date(page)
            times, full, written, stages = [], [], [], []
            for k in range(edits):
                text = sentence(k)
                if not poll:
                    expect(page, {"text": text})
                t0, t_wall = time.perf_counter(), time.time()
                template.write_text(prose + f"\n{text}\n", encoding="utf-8")
                if poll:
                    t1 = wait_until(page, "(document.getElementById('pg-paper') || {}).innerText || ''",
                                    lambda body, text=text: text in body)
                    times.append(t1 - t0)
                else:
                    times.append(seen(page, t_wall))
                up_to_date(page)
                full.append(time.perf_counter() - t0)
                written.append(page_written(t0) - t0)
                stages.append(stages_before_page(t0))
            out["preview, prose edit (save -> sentence in the page)"] = summary(times, full, written)
            out["preview, prose edit (save -> sentence in the page)"]["stages"] = {
                name: statistics.median(st.get(name, 0.0) for st in stages) for name in stages[-1]}
            script = f"(document.querySelector('#pg-paper .pg-value[data-key=\"{OP_TIME}\"]') || {{}}).textContent"
            times, full, written = [], [], []
            for k in range(edits):
                before = read(page, script)
                cells = rows[1].rstrip("\n").split(",")
                cells[col] = str(500 + 7 * (k + 1))
                if not poll:
                    expect(page, {"key": OP_TIME, "before": before})
                t0, t_wall = time.perf_counter(), time.time()
                data.write_text("".join([rows[0], ",".join(cells) + "\n", *rows[2:]]), encoding="utf-8")
                if poll:
                    t1 = wait_until(page, script, lambda now, before=before: now not in (before, None))
                    times.append(t1 - t0)
                else:
                    times.append(seen(page, t_wall))
                up_to_date(page)
                full.append(time.perf_counter() - t0)
                written.append(page_written(t0) - t0)
            out["preview, data edit (save -> new number in the page)"] = summary(times, full, written)
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        template.write_text(prose, encoding="utf-8")
        data.write_text("".join(rows), encoding="utf-8")
    return out


def summary(times: list[float], full: list[float], written: list[float]) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(times),
            "full": statistics.median(full), "written": statistics.median(written)}


def one_shot(runs: int, study: Path) -> dict:
    """The one-shot build after a prose edit (as bench_build's prose-only edit), in this run."""
    template = study / "templates" / "discussion.md.j2"
    prose = template.read_text(encoding="utf-8")

    def edit(k):
        template.write_text(prose + f"\nThis single-run sentence is revision {WORDS[k % len(WORDS)]}.\n", encoding="utf-8")

    timed([sys.executable, "build.py"], study)
    result = series(runs, [sys.executable, "build.py"], study, before=edit)
    template.write_text(prose, encoding="utf-8")
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=12,
                    help="edits of each kind in the preview (median; default 12; 0: the one-shot build only)")
    ap.add_argument("--runs", type=int, default=5, help="one-shot builds and floor runs (median; default 5)")
    ap.add_argument("--poll", action="store_true",
                    help="find the change in the page by reading its text every 2 ms (the earlier method)")
    args = ap.parse_args(argv)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="papergen-bench-preview-") as tmp:
        work = Path(tmp)
        bench_build.ENGINE[0] = work / "src"
        shutil.copytree(bench_build.ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        study = copy_study(work / "study")
        timed([sys.executable, "build.py"], study)
        pv = {}
        if args.edits > 0:
            print("preview in Chromium ...", file=sys.stderr)
            pv = preview_series(study, args.edits, poll=args.poll)
        print("one-shot build after a prose edit ...", file=sys.stderr)
        shot = one_shot(args.runs, study)
        print("floors ...", file=sys.stderr)
        fl = floors(args.runs, study, work / "floor")
    floor = scenario_floors(fl)["prose-only edit"]
    how = ("the page's text read every 2 ms (--poll)" if args.poll else
           "a MutationObserver in the page notes when the text is in the DOM (read every 20 ms)")
    lines = [f"Machine: {os.cpu_count()} cores; load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after.",
             f"Change found by: {how}.", "",
             "| preview | edits | median s | min s | max s | target s | page written, median s "
             "| until DOCX and PDF up to date, median s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in pv.items():
        lines.append(f"| {name} | {r['n']} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | "
                     f"{TARGETS[name]:.2f} | {r['written']:.3f} | {r['full']:.2f} |")
    prose = pv.get("preview, prose edit (save -> sentence in the page)")
    if prose:
        lines += ["", "Preview, prose edit, the stages before the page (median s): "
                  + ", ".join(f"{s} {t:.3f}" for s, t in prose["stages"].items() if t >= 0.001)]
    ran = ", ".join(f"{s} {t:.2f}" for s, t in shot["stages"].items() if t >= 0.01) or "none"
    lines += ["", "| one-shot `python build.py` | runs | median s | min s | floor s | x floor | target | stages (median s) |",
              "|---|---:|---:|---:|---:|---:|---:|---|",
              f"| after a prose edit | {shot['runs']} | {shot['median']:.2f} | {shot['min']:.2f} | {floor:.2f} | "
              f"{shot['median'] / floor:.2f} | 1.25 | {ran} |",
              "", "Page written: from the save to the preview's 'review edition' progress line (the page is "
              "handed to the server right after it); the rest of the median is the push, the page fetching the "
              "parts that changed (or reloading) and the browser putting them in.", "", "Floor: Python start plus pandoc to DOCX alongside pandoc to Typst and Typst to PDF "
              "(bench_build's prose-edit floor, measured in this run)."]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
