"""``python build.py codebook draft FILE... [--out PATH] [--force]``: a codebook.yaml draft from data files.

The draft (papergen.ingest.draft) is written to data/codebook.yaml unless
``--out`` names another file; an existing file is never replaced without
``--force``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.errors import CodebookError
from papergen.study import StudyPaths


def run(paths: StudyPaths, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python build.py codebook",
                                     description="Draft a codebook from data files: REDCap export + data dictionary, "
                                                 "SPSS, Stata, SAS, Parquet, CSV or .xlsx.")
    sub = parser.add_subparsers(dest="action", required=True)
    draft = sub.add_parser("draft", help="write a codebook.yaml draft from the files' metadata and values")
    draft.add_argument("files", nargs="+", type=Path, help="data files (a REDCap export with its data dictionary)")
    draft.add_argument("--out", type=Path, help="write here instead of data/codebook.yaml")
    draft.add_argument("--force", action="store_true", help="replace the file if it exists")
    args = parser.parse_args(argv)
    from papergen.ingest.draft import draft_codebook

    out = (args.out if args.out is None or args.out.is_absolute() else paths.root / args.out) or paths.codebook
    if out.exists() and not args.force:
        raise CodebookError(f"{paths.rel(out)} exists; the draft is not written over it: give --out FILE for "
                            "another file, or --force to replace it")
    files = [f if f.is_absolute() else paths.root / f for f in args.files]
    for f in files:
        if not f.is_file():
            raise CodebookError(f"{paths.rel(f)}: no such data file")
    text = draft_codebook(files, out.parent, shown=paths.rel)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(out, text.encode("utf-8"))
    notes = sum(1 for line in text.splitlines() if line.startswith("      ") and "   # " in line)
    print(f"wrote {paths.rel(out)}: a draft from {len(files)} file(s); review it (comments on {max(notes, 0)} "
          "line(s) say where metadata and data disagree or what to check), then delete its line 'draft: true'")
    return 0
