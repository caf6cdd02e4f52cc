"""Merge benchmark: what the source map adds to a build, and how long merging a returned DOCX takes.

    python benchmarks/bench_merge.py [--runs 5]

Copies the study to a temporary folder, builds it once, then prints (median
of ``--runs``): the source map stage alone (pandoc reading the marked
Markdown, the alignments, the gzip record) and its record's size; reading
the returned DOCX; and a whole ``merge`` of a copy with 20 tracked edits (10
prose, 5 numbers, 5 comments), as figures, not assertions.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import copy_study  # noqa: E402
from ooxml import Docx  # noqa: E402

PROSE = [("were men", "were male"), ("underwent hepatectomy", "had hepatectomy"), ("This study has limitations.",
         "The study has limitations."), ("Larger prospective or multicenter", "Larger prospective, multicenter"),
         ("Crosses mark censored patients", "Crosses mark censored observations"), ("is associated with", "goes with"),
         ("most often in", "mainly in"), ("approximately symmetric", "roughly symmetric"), ("Patients were followed up",
         "Patients were seen"), ("Their baseline characteristics", "The baseline characteristics")]


def _median(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    from papergen.cli import main as cli
    from papergen.ledger import read_ledger
    from papergen.pipeline.build import build_manuscript
    from papergen.trace.sourcemap import write_record
    from papergen.trace.wordtext import read_word

    with tempfile.TemporaryDirectory() as tmp:
        root = copy_study(Path(tmp) / "study")
        result = build_manuscript(root, echo=lambda *_: None)
        docx = result.outputs.docx
        values = read_ledger(result.outputs.ledger)["values"]
        ledger = read_ledger(result.outputs.ledger)
        # the stage again, on a fresh record folder each run: its own cost
        from papergen.pipeline import stages
        from papergen.study import Study

        study = Study(root)
        tables = stages.load_data(study)
        analysis = stages.run_analysis(study, tables)
        out = study.outputs(Path(tmp) / "render")
        stages.draw_figures(analysis, out)
        rendered = stages.render_manuscript(study, analysis, out)
        files = sorted((root / "templates").glob("*.j2")) + [root / "study" / "analysis_plan.py",
                                                            root / "study" / "study.yaml"]
        k = iter(range(10**6))
        t_map, record = _median(lambda: write_record(stages.map_sources(study, rendered, out), docx, root, files,
                                                     values, Path(tmp) / f"sent{next(k)}", "2020"), runs)
        d = Docx(docx)
        for old, new in PROSE:
            d.replace(old, new)
        numbers = [v["text"] for key, v in ledger["values"].items() if key.startswith(("os.", "pfs."))][:5]
        for n in numbers:
            try:
                d.replace(n, n.replace("1", "2", 1) if "1" in n else n + "0")
            except AssertionError:
                pass
        for anchor in ("median follow-up", "Kaplan-Meier method", "were included", "limitations", "approach"):
            d.comment(anchor, "A comment.")
        returned = d.save(Path(tmp) / "returned.docx")
        t_read, _ = _median(lambda: read_word(returned.read_bytes()), runs)
        t_merge, _ = _median(lambda: cli(["merge", "--dry-run", str(returned)], root=root), runs)
        size = record.stat().st_size / 1024
    print("| what | median |\n|:---|---:|")
    print(f"| source map, both stages (new build id) | {t_map:.2f} s |")
    print(f"| its record, .papergen/sent/<id>/map.json.gz | {size:.0f} KiB |")
    print(f"| read a returned DOCX (tracked changes, comments) | {t_read * 1000:.0f} ms |")
    print(f"| merge --dry-run, {len(PROSE)} prose edits, {len(numbers)} numbers, 5 comments | {t_merge:.2f} s |")


if __name__ == "__main__":
    main()
