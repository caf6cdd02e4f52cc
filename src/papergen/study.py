"""Every file and folder of a study, named once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StudyPaths:
    """The layout of a study folder: data/, study/, templates/ and the build output, named once."""

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
    def submissions(self) -> Path:     # the ledger of each submission, kept for later diffs (tracked)
        return self.root / "submissions"

    @property
    def cache(self) -> Path:           # build cache and logs (git-ignored)
        return self.root / ".papergen"

    @property
    def log(self) -> Path:             # full tracebacks and tool output of the last run
        return self.cache / "build.log"

    def rel(self, path: Path) -> str:
        """A path as the author sees it in messages and the ledger: relative to the study folder."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return Path(path).as_posix()


@dataclass(frozen=True)
class OutputPaths:
    """Files inside one manuscript folder (the staging folder or manuscript/)."""

    dir: Path
    name: str

    @property
    def markdown(self) -> Path:
        return self.dir / f"{self.name}.md"

    @property
    def ast(self) -> Path:             # pandoc's AST of the Markdown, read once for every writer; not kept
        return self.dir / f".{self.name}.ast.json"

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
    def review(self) -> Path:          # the review edition: every number clickable, one self-contained file
        return self.dir / f"{self.name}.review.html"

    @property
    def changes_html(self) -> Path:    # numbers and prose changed since the previous version
        return self.dir / "changes.html"

    @property
    def changes_docx(self) -> Path:
        return self.dir / "changes.docx"

    @property
    def reference_docx(self) -> Path:
        return self.dir / "reference.docx"

    @property
    def strobe_md(self) -> Path:       # STROBE checklist filled from the templates' declarations
        return self.dir / "strobe-checklist.md"

    @property
    def strobe_docx(self) -> Path:
        return self.dir / "strobe-checklist.docx"

    @property
    def submission(self) -> Path:      # the files a journal asks for, with MANIFEST.txt (python build.py pack)
        return self.dir / "submission"

    @property
    def submission_zip(self) -> Path:
        return self.dir / "submission.zip"

    @property
    def journal_table(self) -> Path:   # the journal-profile table the build printed (shown again on a no-op build)
        return self.dir / "journal-profile.txt"
