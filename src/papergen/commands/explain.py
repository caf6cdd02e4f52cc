"""``python build.py explain KEY`` (or a printed text, e.g. ``"34.1"``): a number's trace on the terminal.

Reads manuscript/numbers.json only (papergen.trace.explain words it), so it answers
at once without loading data or refitting anything.
"""
from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from papergen.errors import LedgerError
from papergen.ledger import read_ledger
from papergen.study import StudyPaths
from papergen.trace.explain import find, render_list, render_text

def run(paths: StudyPaths, argv: list[str]) -> int:
    """The explain command; exit 0 when something matched, 2 (one-line error) when nothing did."""
    parser = argparse.ArgumentParser(prog="python build.py explain",
                                     description="Trace a generated number: by key (os.mean) or printed text (\"34.1\").")
    parser.add_argument("query", nargs="?", help="a value key, a printed text, or a key prefix such as os")
    parser.add_argument("--ledger", type=Path, help="read this numbers.json instead of manuscript/numbers.json")
    args = parser.parse_args(argv)
    path = args.ledger or paths.manuscript / "numbers.json"
    values = read_ledger(path)["values"]
    if not args.query:
        print(render_list(values, sorted(values), "anything"))
        return 0
    keys = find(values, args.query)
    if not keys:
        close = difflib.get_close_matches(args.query, list(values), n=3, cutoff=0.5)
        hint = f"; closest keys: {', '.join(close)}" if close else "; run python build.py explain to list them"
        raise LedgerError(f"no generated number with key or printed text {args.query!r} in {path.name}{hint}")
    out = render_text(values[keys[0]]) if len(keys) == 1 else render_list(values, keys, args.query)
    sys.stdout.write(out + "\n")
    return 0
