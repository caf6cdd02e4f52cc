"""Command line: ``python build.py [COMMAND] [ARGS]``; a dispatch table over papergen.commands.

Each command lives in the module of papergen.commands named for it and exposes
``run(paths, argv) -> int``; papergen.commands.terminal runs it: on the
terminal a failure is one clear message and a non-zero exit, the full
traceback goes to .papergen/build.log (or .papergen/COMMAND.log).
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from papergen.commands.terminal import run_command
from papergen.pipeline.stopping import stop_on_signals
from papergen.study import StudyPaths

#: command -> (module with run(paths, argv), one-line help)
COMMANDS = {
    "build": ("papergen.commands.build", "build the manuscript into manuscript/ (the default)"),
    "watch": ("papergen.commands.watch", "rebuild whenever data, templates or settings change (Ctrl-C stops)"),
    "preview": ("papergen.commands.preview", "the review edition in the browser, rebuilt and reloaded on every save"),
    "explain": ("papergen.commands.explain", "trace a number: python build.py explain os.mean  (or \"34.1\")"),
    "check": ("papergen.commands.check", "lint templates and check the manuscript against the journal profile"),
    "pack": ("papergen.commands.pack", "write the submission pack manuscript/submission/ and its zip"),
    "diff": ("papergen.commands.diff", "numbers that changed against a git revision or a saved numbers.json"),
    "new": ("papergen.commands.new", "create a new study folder that builds at once"),
    "codebook": ("papergen.commands.codebook", "draft data/codebook.yaml from data files: codebook draft FILE..."),
    "merge": ("papergen.commands.merge", "bring co-authors' edited DOCX (tracked changes, comments) back into the templates"),
}


def main(argv: list[str] | None = None, root: Path | None = None) -> int:
    utf8_terminal()
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "build"
    if command == "build" and argv[:1] in (["-h"], ["--help"]):
        _print_help()
        return 0
    paths = StudyPaths(Path(root or Path.cwd()).resolve())

    def run(paths: StudyPaths, argv: list[str]) -> int:  # the command's modules are imported only for it
        return importlib.import_module(COMMANDS[command][0]).run(paths, argv)

    with stop_on_signals():  # Ctrl-C, SIGTERM, SIGHUP: helper processes end, the staging folder is removed
        return run_command(command, run, paths, argv)


def utf8_terminal() -> None:
    """Print UTF-8 whatever the locale (``LC_ALL=C`` made stdout ASCII, so a "±" failed after the swap);
    a character the stream cannot take is written as a backslash escape, never an error."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # not when a caller replaced the stream (pytest's capture)
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")


def _print_help() -> None:
    print("usage: python build.py [COMMAND] [ARGS]\n\ncommands:")
    for name, (_, text) in COMMANDS.items():
        print(f"  {name:<8} {text}")
