"""``python build.py check``: the lint, then the built manuscript against the journal profile and STROBE.

manuscript/ is built first when it is missing or older than its inputs
(ensure_built, which ``pack`` uses too).
"""
from __future__ import annotations

import argparse
import json

from papergen.errors import JournalProfileError
from papergen.pipeline.build import build_manuscript
from papergen.pipeline.stages import build_metadata
from papergen.publish import journal, strobe
from papergen.study import Study, StudyPaths
from papergen.write.lint import assert_no_typed_numbers


def stale_reason(study: Study) -> str:
    """Why manuscript/ must be rebuilt ("" if it is up to date with data/, study/ and templates/)."""
    paths, out = study.paths, study.outputs()
    for f in (out.docx, out.pdf, out.ledger, out.strobe_docx):
        if not f.exists():
            return f"{paths.rel(f)} is missing"
    try:
        built = json.loads(out.ledger.read_text(encoding="utf-8"))["build"]["inputs"]
    except (OSError, ValueError, KeyError):
        return "numbers.json is unreadable"
    now = build_metadata(study)["inputs"]
    changed = sorted(k for k in set(built) | set(now) if built.get(k) != now.get(k))
    return f"{changed[0]} changed since the last build" if changed else ""


def ensure_built(study: Study, echo=print) -> tuple[object, bool]:
    """manuscript/'s OutputPaths, building it first when it is missing or stale; and whether it built."""
    reason = stale_reason(study)
    if not reason:
        return study.outputs(), False
    echo(f"building first: {reason}")
    result = build_manuscript(study, echo=echo)
    return result.outputs, True


def run(paths: StudyPaths, argv: list[str]) -> int:
    """``python build.py check``: lint, build if stale, then the journal profile and STROBE report."""
    parser = argparse.ArgumentParser(prog="python build.py check",
                                     description="Lint the templates and check the manuscript against the journal profile.")
    parser.parse_args(argv)
    print(f"papergen: checking {paths.root.name}")
    study = Study(paths)
    assert_no_typed_numbers(paths.templates, paths.manuscript / "numbers.json", allow_raw=study.allow_raw)
    print("  templates: no hand-typed numbers")
    out, built = ensure_built(study, echo=print)
    rows = journal.check(study, out)
    if not built:  # a build prints the table itself
        print(journal.format_table(rows, study.journal_name))
    errors = [r for r in rows if not r.ok and r.level == "error"]
    advisories = [r for r in rows if not r.ok and r.level != "error"]
    for r in advisories:
        print(f"  advisory: {r.message()}")
    missing = strobe.missing_items(study)
    if missing:
        print(f"  advisory: {strobe.GUIDELINES[study.guideline][1]} items no template declares: {', '.join(missing)}")
    if errors:
        raise JournalProfileError("\n".join(r.message() for r in errors))
    notes = len(advisories) + bool(missing)
    print(f"check passed: no errors ({len(rows)} journal rules checked, {notes} advisories)")
    return 0
