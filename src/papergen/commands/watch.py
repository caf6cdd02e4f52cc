"""``python build.py watch``: rebuild whenever an input changes, in one process that stays running.

An author rebuilds dozens of times a session. A process that stays running pays
Python's start, the imports and Typst's font loading once; each rebuild is then
build_manuscript() on a warm process, with the same stages, cache, output and
one-line errors as ``python build.py`` (papergen.commands.terminal) (a failed build leaves manuscript/ as it
was and the watch goes on). Inputs are polled: the size and modification time
of every file the build cache hashes (papergen.pipeline.keys: data/, study/,
templates/, submissions/, the study's top-level files, data files the
codebook names elsewhere). When papergen's own code
changes, the process starts itself again, so a rebuild never runs stale code.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from papergen.commands import build
from papergen.commands.terminal import run_command
from papergen.pipeline.keys import SKIP_DIRS, codebook_files, input_folders
from papergen.study import StudyPaths

ENGINE_DIR = Path(__file__).resolve().parents[1]
#: a build stopped by SIGTERM or SIGHUP (not Ctrl-C, which stops only the build under way) ends the watch
ENDS_WATCH = {128 + signal.SIGTERM, 128 + signal.SIGHUP}


def run(paths: StudyPaths, argv: list[str]) -> int:
    """The watch command: build now, then again after every change, until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python build.py watch",
                                     description="Rebuild the manuscript whenever data, templates or settings change.")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two looks at the inputs (0.1)")
    parser.add_argument("--builds", type=int, default=0, help="stop after this many builds (0: until Ctrl-C)")
    parser.add_argument("--out", help="write the manuscript here instead of manuscript/")
    args = parser.parse_args(argv)
    build_args = ["--out", args.out] if args.out else []
    engine, seen, builds = snapshot([ENGINE_DIR]), None, 0
    print(f"papergen: watching {paths.root.name} (data/, study/, templates/); Ctrl-C stops", flush=True)
    try:
        while True:
            now = snapshot(inputs(paths))
            if now != seen:
                seen = now
                code = run_command("build", build.run, paths, build_args)
                builds += 1
                if (args.builds and builds >= args.builds) or code in ENDS_WATCH:
                    return code
                print(f"watching: {'built' if code == 0 else 'build failed'}; waiting for a change", flush=True)
            if snapshot([ENGINE_DIR]) != engine:
                print("papergen itself changed: restarting the watch", flush=True)
                os.execv(sys.executable, [sys.executable, *sys.argv])
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print("stopped watching", flush=True)
        return 0


def inputs(paths: StudyPaths) -> list[Path]:
    """What a build reads, as the build cache counts it: its folders, the study's top-level files, and
    data files the codebook names elsewhere."""
    return [*input_folders(paths), *(f for f in sorted(paths.root.iterdir()) if f.is_file()), *codebook_files(paths)]


def snapshot(places: list[Path]) -> dict[str, tuple[int, int]]:
    """(size, modification time in ns) of every file in ``places`` (files, or folders walked)."""
    out = {}
    for place in places:
        if place.is_file():
            st = place.stat()
            out[str(place)] = (st.st_size, st.st_mtime_ns)
            continue
        for dirpath, dirnames, filenames in os.walk(place):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for name in filenames:
                p = os.path.join(dirpath, name)
                try:
                    st = os.stat(p)
                except OSError:  # removed while we looked: the next look sees it gone
                    continue
                out[p] = (st.st_size, st.st_mtime_ns)
    return out
