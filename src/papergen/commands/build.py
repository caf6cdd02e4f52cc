"""``python build.py`` (the build command): build_manuscript() with progress lines and a one-line summary."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from papergen.atomic import recover_interrupted
from papergen.commands.terminal import shown
from papergen.pipeline.build import build_manuscript
from papergen.pipeline.target import Target
from papergen.study import Study, StudyPaths


def run(paths: StudyPaths, argv: list[str], on_page=None) -> int:
    """The build command: build_manuscript() with progress lines and a one-line summary.

    ``on_page`` (python build.py preview) is handed the review edition before the other outputs are written.
    """
    parser = argparse.ArgumentParser(prog="python build.py", description="Build the manuscript from data/ and templates/.")
    parser.add_argument("--out", type=Path, help="write the manuscript here instead of manuscript/")
    parser.add_argument("--force", action="store_true", help="run every stage, even those whose inputs are unchanged")
    parser.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                        help="stop the build if it runs longer than this (for unattended builds)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    final = args.out.resolve() if args.out else paths.manuscript
    if recover_interrupted(final):
        print(f"restored the last good manuscript in {final} (a previous build was interrupted)")
    target = Target(paths, final)
    try:
        return _build(paths, args, t0, on_page)
    except BaseException as exc:  # the terminal says what the output folder holds now, as checked
        exc.manuscript_state = target.state()
        raise


def _build(paths: StudyPaths, args, t0: float, on_page=None) -> int:
    print(f"papergen: building {paths.root.name}")
    result = build_manuscript(Study(paths), args.out, echo=print, force=args.force, on_page=on_page,
                              timeout=args.timeout)
    where, took = shown(result.outputs.dir, paths.root), time.perf_counter() - t0
    if result.up_to_date:
        print(f"{where}/ is up to date: no input changed since the last build ({len(result.registry)} generated "
              f"numbers; checked in {took:.2f} s)")
    else:
        ran = len(result.timings) - len(result.skipped)
        print(f"built {result.outputs.docx.name} and {result.outputs.pdf.name} with {len(result.registry)} generated "
              f"numbers in {took:.2f} s ({ran} stages ran, {len(result.skipped)} skipped as unchanged) -> {where}/")
    if result.warnings:
        print(f"build report: {len(result.warnings)} notes (python build.py check fails on journal-profile errors)")
        for line in result.warnings:
            print(f"  {line}")
    if result.changes is not None:
        from papergen.trace.diff import summary_lines  # the change report's modules: only when numbers changed

        for line in summary_lines(result.changes, report=shown(result.outputs.changes_html, paths.root)):
            print(line)
    return 0


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text}")
    return value
