"""``python build.py watch``: rebuild whenever an input changes, in one process that stays running.

An author rebuilds dozens of times a session. A process that stays running pays
Python's start, the imports and Typst's font loading once; each rebuild is then
build_manuscript() on a warm process, with the same stages, cache, output and
one-line errors as ``python build.py`` (papergen.commands.terminal) (a failed build leaves manuscript/ as it
was and the watch goes on). Changes are the operating system's file events
(watchfiles: inotify on Linux, FSEvents on macOS), kept to the files the build
cache hashes (papergen.pipeline.keys: data/, study/, templates/, submissions/,
the study's top-level files, data files the codebook names elsewhere). When
papergen's own code changes, the process starts itself again, so a rebuild
never runs stale code. ``python build.py preview`` (papergen.commands.preview)
runs the same loop behind its server.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
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
    parser.add_argument("--interval", type=float, default=0.05,
                        help="seconds without a new file event that end one save (0.05)")
    parser.add_argument("--builds", type=int, default=0, help="stop after this many builds (0: until Ctrl-C)")
    parser.add_argument("--out", help="write the manuscript here instead of manuscript/")
    args = parser.parse_args(argv)
    build_args = ["--out", args.out] if args.out else []
    print(f"papergen: watching {paths.root.name} (data/, study/, templates/); Ctrl-C stops", flush=True)

    def once() -> int:
        code = run_command("build", build.run, paths, build_args)
        if code != 130:  # interrupted: the loop stops
            print(f"watching: {'built' if code == 0 else 'build failed'}; waiting for a change", flush=True)
        return code

    try:
        return rebuild_on_change(paths, once, builds=args.builds, step=args.interval)
    except KeyboardInterrupt:
        print("stopped watching", flush=True)
        return 0


def rebuild_on_change(paths: StudyPaths, build_once: Callable[[], int], *, builds: int = 0, step: float = 0.05,
                      restart_argv: list[str] | None = None, stop: threading.Event | None = None) -> int:
    """``build_once()`` now and after every change of an input, until Ctrl-C, a closed terminal or ``kill``
    (SIGHUP, SIGTERM: raised as KeyboardInterrupt), ``stop`` or ``builds`` builds; returns the last build's code.

    A change of papergen's own code restarts the process (``sys.argv`` plus ``restart_argv``).
    """
    _hangup_stops()
    since = stamp(paths)  # before the build reads them: a save while it runs, or before the watcher starts, counts
    code, done = _stopped_if_interrupted(build_once()), 1
    if builds and done >= builds:
        return code
    for what in changes(paths, step=step, stop=stop, since=since):
        if what == "engine":
            print("papergen itself changed: restarting", flush=True)
            os.execv(sys.executable, [sys.executable, *sys.argv, *(restart_argv or [])])
        code, done = _stopped_if_interrupted(build_once()), done + 1
        if builds and done >= builds:
            break
    return code


def _stopped_if_interrupted(code: int) -> int:
    """A build stopped by Ctrl-C (130), SIGTERM or SIGHUP (ENDS_WATCH; papergen.commands.terminal): the loop stops too."""
    if code == 130 or code in ENDS_WATCH:
        raise KeyboardInterrupt
    return code


def changes(paths: StudyPaths, *, step: float = 0.05, stop: threading.Event | None = None,
            since: dict | None = None) -> Iterator[str]:
    """"inputs" after each save of a file the build reads, "engine" after one of papergen's own files; events
    of one save (an editor writes, renames, touches) come as one. Ends when ``stop`` is set.

    The study's input folders are watched whole, its top-level files and the data files the codebook names
    elsewhere one by one (the study folder may hold a .venv or .git of thousands of folders); when one of
    those files is replaced, or a folder or file appears or goes, the watch starts anew on what is there.
    A file event comes only once the watcher runs: a save between the build's reading of the inputs (``since``:
    their stamp() then; default now) and the watcher's start is found by comparing the stamps once it runs.
    """
    import watchfiles  # the file events are the watch's own: no build imports them

    keep = InputFilter(paths)
    since = stamp(paths, keep) if since is None else since
    while True:
        places, looked = watched(paths), False
        singles = {p for p in places if p.is_file()}
        for batch in watchfiles.watch(*places, watch_filter=keep, step=max(1, int(step * 1000)), debounce=1000,
                                      stop_event=stop, raise_interrupt=True, rust_timeout=STARTED_WITHIN,
                                      yield_on_timeout=True):
            if not batch:  # the watcher runs: was anything saved before it did?
                if not looked:
                    looked, now = True, stamp(paths, keep, places)
                    if now != since:
                        since = now
                        yield "inputs"
                continue
            changed = [Path(p) for _, p in batch]
            since = stamp(paths, keep)  # what the build about to run reads (the places may have changed)
            yield "engine" if any(p.is_relative_to(ENGINE_DIR) for p in changed) else "inputs"
            if singles.intersection(changed) or watched(paths) != places:
                break  # watch again: a file watched alone was replaced, or the places changed
        else:
            return  # stopped


#: milliseconds the watcher waits for a first event before changes() compares the inputs' stamps
STARTED_WITHIN = 100


def stamp(paths: StudyPaths, keep: "InputFilter | None" = None,
          places: list[Path] | None = None) -> dict[str, tuple[int, int, int]]:
    """(mtime in ns, size, inode) of each file the build reads (InputFilter), by path: a save changes one.
    ``places``: what the watch follows (watched(), made again when not given)."""
    import watchfiles

    keep = InputFilter(paths) if keep is None else keep
    out = {}
    for place in watched(paths) if places is None else places:
        if place == ENGINE_DIR:
            continue
        files = [place] if place.is_file() else (Path(d, f) for d, _, fs in os.walk(place) for f in fs)
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue  # gone meanwhile: the watcher reports it
            name = str(Path(f).resolve())
            if keep(watchfiles.Change.modified, name):
                out[name] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return out


def watched(paths: StudyPaths) -> list[Path]:
    """What the watch follows: the input folders that exist, the study's top-level files, the data files the
    codebook names elsewhere, and papergen's own folder."""
    folders = [f for f in input_folders(paths) if f.is_dir()]
    files = [f for f in sorted(paths.root.iterdir()) if f.is_file() and not f.name.startswith(".")]
    elsewhere = [f for f in codebook_files(paths) if f.is_file() and not any(f.is_relative_to(d) for d in folders)]
    return [*folders, *files, *elsewhere, ENGINE_DIR]


class InputFilter:
    """watchfiles' filter: what a build reads (papergen.pipeline.keys), and papergen's own code.

    watchfiles' DefaultFilter drops editors' swap and backup files and caches (__pycache__, .git).
    """

    def __init__(self, paths: StudyPaths) -> None:
        import watchfiles

        self.paths, self.default = paths, watchfiles.DefaultFilter()
        self.folders = [f.resolve() for f in input_folders(paths)]
        self.root = paths.root.resolve()

    def __call__(self, change, path: str) -> bool:
        if not self.default(change, path):
            return False
        p = Path(path)
        if p.is_relative_to(ENGINE_DIR):
            return True
        if p.is_relative_to(self.root):
            top = p.relative_to(self.root).parts[0]
            if top in SKIP_DIRS or top.startswith("."):  # manuscript/, the staging folders, .papergen/
                return False
            if p.parent == self.root:  # a top-level file of the study (a folder's own event is not a file's)
                return not p.is_dir()
        for folder in self.folders:
            if p.is_relative_to(folder):
                rest = p.relative_to(folder).parts[:-1]
                return not any(part in SKIP_DIRS or part.startswith(".") for part in rest)
        return p in {f.resolve() for f in codebook_files(self.paths)}


def _hangup_stops() -> None:
    """A closed terminal (SIGHUP) or ``kill`` (SIGTERM) stops the loop as Ctrl-C does: with KeyboardInterrupt
    in the main thread, so the server closes and the build in progress leaves manuscript/ as it was."""
    if threading.current_thread() is not threading.main_thread():
        return

    def hangup(signum, frame):
        raise KeyboardInterrupt

    for name in ("SIGHUP", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), hangup)
