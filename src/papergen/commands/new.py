"""``papergen new DIR``: start a new paper from the bundled template study, which builds at once.

The template (``resources/new_study``) has synthetic demonstration data, a
codebook, an analysis plan, templates, a journal profile and one reference; the
author replaces them one by one, rebuilding after each step.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from papergen.errors import StudyLayoutError
from papergen.pipeline.build import build_manuscript
from papergen.study import StudyPaths

TEMPLATE = Path(__file__).resolve().parents[1] / "resources" / "new_study"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "manuscript", ".papergen", ".manuscript.*")
GITIGNORE = "manuscript/\n.manuscript.*\n.papergen/\n__pycache__/\n"

#: what the author edits, in the order that makes the paper theirs
FILES_TO_EDIT = (
    ("data/patients.csv, data/codebook.yaml", "your data and the contract of each column"),
    ("study/analysis_plan.py", "every number the paper reports"),
    ("templates/*.md.j2", "the prose; print numbers as {{ key }}, never type them"),
    ("study/study.yaml", "title, authors, section order, citation style"),
    ("study/references.bib", "references, cited as [@key]"),
)


def create_study(target: Path) -> StudyPaths:
    """Copy the template study into ``target`` (which must be new or empty); return its paths."""
    target = Path(target).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StudyLayoutError(f"{target}: already exists and is not an empty folder; choose a new folder name")
    shutil.copytree(TEMPLATE, target, ignore=IGNORE, dirs_exist_ok=True)
    (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return StudyPaths(target)


def next_steps(paths: StudyPaths, shown: str) -> str:
    """The message printed after ``new``: where the study is and which files to edit."""
    width = max(len(f) for f, _ in FILES_TO_EDIT)
    lines = [f"created {shown}/ from the papergen template. Edit these files, then rebuild with "
             f"`python {shown}/build.py`:"]
    lines += [f"  {f:<{width}}  {what}" for f, what in FILES_TO_EDIT]
    lines.append(f"the ledger {shown}/manuscript/numbers.json traces every number; see {shown}/README.md")
    return "\n".join(lines)


def run(paths: StudyPaths, argv: list[str]) -> int:
    """The ``new`` command: create DIR (relative to the current folder) and build it once."""
    parser = argparse.ArgumentParser(prog="papergen new", description="Create a new study folder that builds at once.")
    parser.add_argument("dir", type=Path, help="folder to create (must not exist, or be empty)")
    parser.add_argument("--no-build", action="store_true", help="only copy the template, do not build it")
    args = parser.parse_args(argv)
    study = create_study(args.dir)
    shown = str(args.dir).rstrip("/")
    if not args.no_build:
        print(f"papergen: building the new study in {shown}/")
        result = build_manuscript(study.root, echo=print)
        print(f"built {shown}/manuscript/{result.outputs.docx.name} and {result.outputs.pdf.name}")
    print(next_steps(study, shown))
    return 0
