"""Every file and folder of a study, named once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StudyPaths:
    root: Path

    @property
    def data(self) -> Path:            # raw data files and their codebook
        return self.root / "data"

    @property
    def codebook(self) -> Path:        # types, units, ranges and rules of every column
        return self.data / "codebook.yaml"

    @property
    def study(self) -> Path:           # analysis plan, settings, references, journal profile
        return self.root / "study"

    @property
    def plan(self) -> Path:            # definition of every reported number
        return self.study / "analysis_plan.py"

    @property
    def settings(self) -> Path:        # title, authors, statements, section order
        return self.study / "study.yaml"

    @property
    def bibliography(self) -> Path:    # verified references (BibTeX)
        return self.study / "references.bib"

    @property
    def journal(self) -> Path:         # journal profile: sections, limits, style
        return self.study / "journal.yaml"

    @property
    def templates(self) -> Path:       # Jinja manuscript prose
        return self.root / "templates"

    @property
    def manuscript(self) -> Path:      # the last good build (replaced only on success)
        return self.root / "manuscript"

    @property
    def cache(self) -> Path:           # build cache and logs (git-ignored)
        return self.root / ".papergen"

    @property
    def log(self) -> Path:             # full tracebacks and tool output of the last run
        return self.cache / "build.log"


@dataclass(frozen=True)
class OutputPaths:
    """Files inside one manuscript folder (the staging folder or manuscript/)."""

    dir: Path
    name: str

    @property
    def markdown(self) -> Path:
        return self.dir / f"{self.name}.md"

    @property
    def docx(self) -> Path:
        return self.dir / f"{self.name}.docx"

    @property
    def pdf(self) -> Path:
        return self.dir / f"{self.name}.pdf"

    @property
    def figures(self) -> Path:
        return self.dir / "figures"

    @property
    def tables_docx(self) -> Path:
        return self.dir / "tables.docx"

    @property
    def ledger(self) -> Path:
        return self.dir / "numbers.json"

    @property
    def reference_docx(self) -> Path:
        return self.dir / "reference.docx"
