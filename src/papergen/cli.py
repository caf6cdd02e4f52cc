"""Command line: ``python build.py [build|explain KEY]``; a thin wrapper over build_manuscript().

On the terminal a failure is one clear message and a non-zero exit; the full
traceback goes to .papergen/build.log.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
import warnings
from pathlib import Path

from papergen.errors import PapergenError
from papergen.paths import StudyPaths


def main(argv: list[str] | None = None, root: Path | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python build.py", description="Build the manuscript from data/ and templates/.")
    parser.add_argument("command", nargs="?", default="build", choices=["build", "explain"],
                        help="build (default) or explain a number")
    parser.add_argument("query", nargs="?", help="for explain: a value key (os.mean) or printed text (\"34.1\")")
    parser.add_argument("--out", type=Path, help="write the manuscript here instead of manuscript/")
    args = parser.parse_args(argv)
    paths = StudyPaths(Path(root or Path.cwd()).resolve())
    paths.cache.mkdir(exist_ok=True)
    log = _logger(paths.log)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if args.command == "explain":
                from papergen.explain import explain

                print(explain(paths, args.query, out_dir=args.out))
                return 0
            from papergen.build import build_manuscript, recover_interrupted

            final = args.out.resolve() if args.out else paths.manuscript
            if recover_interrupted(final):
                print(f"restored the last good manuscript in {final} (a previous build was interrupted)")
            print(f"papergen: building {paths.root.name}")
            result = build_manuscript(paths.root, args.out, echo=print)
        for w in caught:
            log.warning("%s: %s", w.category.__name__, w.message)
        n = len(result.registry)
        print(f"built {result.outputs.docx.name} and {result.outputs.pdf.name} with {n} generated numbers "
              f"in {time.perf_counter() - t0:.2f} s -> {_rel(result.outputs.dir, paths.root)}/"
              + (f" ({len(caught)} warnings in {_rel(paths.log, paths.root)})" if caught else ""))
        return 0
    except PapergenError as exc:
        log.error("%s", traceback.format_exc())
        print(f"error: {exc}", file=sys.stderr)
        print(f"(nothing was changed in manuscript/; details in {_rel(paths.log, paths.root)})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; manuscript/ was left as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in papergen or a study's plan: still no traceback on the terminal
        log.error("%s", traceback.format_exc())
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"(manuscript/ was left as it was; the traceback is in {_rel(paths.log, paths.root)})", file=sys.stderr)
        return 1


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
