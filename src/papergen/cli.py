"""Command line: ``python build.py [COMMAND] [ARGS]``; a thin wrapper over the stage modules.

Each command lives in the module named for what it makes and exposes
``run(paths, args) -> int``. On the terminal a failure is one clear message
and a non-zero exit; the full traceback goes to .papergen/build.log.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
import traceback
import warnings
from pathlib import Path

from papergen.errors import PapergenError
from papergen.study import StudyPaths

#: command -> (module with run(paths, args), one-line help)
COMMANDS = {
    "build": ("papergen.cli", "build the manuscript into manuscript/ (the default)"),
    "watch": ("papergen.commands.watch", "rebuild whenever data, templates or settings change (Ctrl-C stops)"),
    "explain": ("papergen.trace.explain", "trace a number: python build.py explain os.mean  (or \"34.1\")"),
    "check": ("papergen.write.lint", "lint templates and check the manuscript against the journal profile"),
    "pack": ("papergen.commands.pack", "write the submission pack manuscript/submission/ and its zip"),
    "diff": ("papergen.trace.diff", "numbers that changed against a git revision or a saved numbers.json"),
    "new": ("papergen.commands.new", "create a new study folder that builds at once"),
}


def main(argv: list[str] | None = None, root: Path | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "build"
    if command == "build" and argv[:1] in (["-h"], ["--help"]):
        _print_help()
        return 0
    paths = StudyPaths(Path(root or Path.cwd()).resolve())
    paths.cache.mkdir(exist_ok=True)
    # each command keeps its own log, so `explain` after a failed build keeps the build's traceback
    log_path = paths.log if command == "build" else paths.cache / f"{command}.log"
    log = _logger(log_path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(COMMANDS[command][0])
            code = module.run(paths, argv)
        for w in caught:
            log.warning("%s: %s", w.category.__name__, w.message)
        return code
    except PapergenError as exc:
        log.error("%s", traceback.format_exc())
        for line in str(exc).splitlines() or [type(exc).__name__]:  # DataErrors: one line per problem
            print(f"error: {line}", file=sys.stderr)
        if command == "build":  # other commands do not touch manuscript/: their error is one line
            print(f"(manuscript/ was left as it was; details in {_rel(log_path, paths.root)})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; manuscript/ was left as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in papergen or a study's plan: still no traceback on the terminal
        log.error("%s", traceback.format_exc())
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"(manuscript/ was left as it was; the traceback is in {_rel(log_path, paths.root)})", file=sys.stderr)
        return 1


def run(paths: StudyPaths, argv: list[str]) -> int:
    """The build command: build_manuscript() with progress lines and a one-line summary."""
    parser = argparse.ArgumentParser(prog="python build.py", description="Build the manuscript from data/ and templates/.")
    parser.add_argument("--out", type=Path, help="write the manuscript here instead of manuscript/")
    parser.add_argument("--force", action="store_true", help="run every stage, even those whose inputs are unchanged")
    args = parser.parse_args(argv)
    from papergen.atomic import recover_interrupted
    from papergen.pipeline.build import build_manuscript

    t0 = time.perf_counter()
    final = args.out.resolve() if args.out else paths.manuscript
    if recover_interrupted(final):
        print(f"restored the last good manuscript in {final} (a previous build was interrupted)")
    print(f"papergen: building {paths.root.name}")
    result = build_manuscript(paths.root, args.out, echo=print, force=args.force)
    shown, took = _rel(result.outputs.dir, paths.root), time.perf_counter() - t0
    if result.up_to_date:
        print(f"{shown}/ is up to date: no input changed since the last build ({len(result.registry)} generated "
              f"numbers; checked in {took:.2f} s)")
    else:
        ran = len(result.timings) - len(result.skipped)
        print(f"built {result.outputs.docx.name} and {result.outputs.pdf.name} with {len(result.registry)} generated "
              f"numbers in {took:.2f} s ({ran} stages ran, {len(result.skipped)} skipped as unchanged) -> {shown}/")
    if result.warnings:
        print(f"build report: {len(result.warnings)} notes (python build.py check fails on journal-profile errors)")
        for line in result.warnings:
            print(f"  {line}")
    if result.changes is not None:
        from papergen.trace.diff import summary_lines

        for line in summary_lines(result.changes, report=_rel(result.outputs.changes_html, paths.root)):
            print(line)
    return 0


def _print_help() -> None:
    print("usage: python build.py [COMMAND] [ARGS]\n\ncommands:")
    for name, (_, text) in COMMANDS.items():
        print(f"  {name:<8} {text}")


def _rel(p: Path, root: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(root))
    except ValueError:
        return str(p)


def _logger(path: Path) -> logging.Logger:
    log = logging.getLogger("papergen")
    log.handlers.clear()
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log
