"""Incremental builds: what each stage read (content hashes) and what it made, kept in .papergen/cache/.

A stage is skipped when everything it read hashes the same as for a result
already in the cache. Every key also covers the engine's own files
(src/papergen, resources included), the installed distributions and the
Python version (papergen.pipeline.keys), so a cached result is never served
for changed inputs or code. The analysis is kept without its data frames
(papergen.pipeline.store); figures by their curves (papergen.pipeline.figstore).
``force=True`` recomputes everything.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
import threading
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.pipeline.figstore import FigureStore
from papergen.pipeline.keys import (
    codebook_files,
    digest,
    engine_fingerprint,
    file_hash,
    git_commit,
    input_folders,
    tree_hashes,
)
from papergen.pipeline.store import Analysed, NotPlain, mkdir, plain_pickle, store_dir, touch
from papergen.study import Study

#: entries kept per kind of result (older ones are removed after a build)
KEEP = 24


# --- what the last build left -----------------------------------------------------------

def manifest_path(paths, final: Path) -> Path:
    """The record of the last good build into ``final``: its key and the size and hash of every output.

    Named by ``final`` relative to the study when it is inside it, so a copied study keeps its record.
    """
    name = paths.rel(final) if Path(final).is_relative_to(paths.root) else str(final)
    return paths.cache / "cache" / "builds" / (hashlib.sha256(name.encode()).hexdigest()[:24] + ".json")


def recorded_outputs(paths, final: Path) -> dict | None:
    """{relative path: [size, sha256]} of every file the last good build left in ``final``; None if unrecorded."""
    try:
        return dict(json.loads(manifest_path(paths, final).read_text(encoding="utf-8"))["outputs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def output_hashes(final: Path) -> dict[str, list]:
    """{relative path: [size, sha256]} of every file now in ``final``."""
    outputs = {}
    for dirpath, dirnames, filenames in os.walk(final):
        dirnames.sort()
        for name in sorted(filenames):
            f = Path(dirpath, name)
            outputs[f.relative_to(final).as_posix()] = [f.stat().st_size, file_hash(f)]
    return outputs


def same_outputs(final: Path, recorded: dict) -> bool:
    """``final`` holds the files ``recorded`` (extra files are allowed: the cache checks only its own)."""
    for rel, (size, sha) in recorded.items():
        f = Path(final) / rel
        if not f.is_file() or f.stat().st_size != size or file_hash(f) != sha:
            return False
    return True


# --- stages ----------------------------------------------------------------------------

class Step:
    """A stage's cache entry. ``hit``: its inputs are unchanged and the result was loaded.

    Stages.run skips the stage on a hit (``load()`` gives the result) and
    otherwise runs it and passes the result to ``save()``; ``note`` is shown
    on the progress line.
    """

    note = ""

    def __init__(self, hit=lambda: None, save=lambda out: out) -> None:
        self._hit, self._save, self._loaded, self._done = hit, save, None, False

    @property
    def hit(self) -> bool:
        if not self._done:
            self._loaded, self._done = self._hit(), True
        return self._loaded is not None

    def load(self):
        return None if self._loaded is _NOTHING else self._loaded

    def save(self, out):
        return self._save(out)


_NOTHING = object()  # a hit whose stage has no result to hand on


class BuildCache:
    """The cache of one study's builds: keys from input hashes, entries in .papergen/cache/."""

    def __init__(self, study: Study, final: Path, force: bool = False) -> None:
        paths = study.paths
        self.paths, self.final, self.force = paths, Path(final), force
        self.dir = paths.cache / "cache"
        self.engine = engine_fingerprint()
        self.inputs = self._input_hashes()
        self._pending: bytes | None = None
        self._build_key: str | None = None
        self._analysis_key = self._key("analysis", str(paths.root), self._analysis_inputs())
        self.data = Step(hit=self._data_needed, save=lambda out: out)
        self.analysis = Step(hit=self._load_analysis, save=self._keep_analysis)
        self.checked = Step(hit=lambda: _NOTHING if self.analysis.hit else None, save=self._commit_analysis)
        self.figures = FigureStore(self)
        self._reference_lock, self._made = threading.Lock(), set()

    # -- keys ----------------------------------------------------------------------
    def _input_hashes(self) -> dict[str, str]:
        """data/, study/, templates/ and submissions/, top-level files, and data files the codebook names elsewhere."""
        p = self.paths
        out = {}
        for folder in input_folders(p):
            out.update(tree_hashes(folder, p.root))
        for f in sorted(p.root.iterdir()):
            if f.is_file():
                out[f.name] = file_hash(f)
        for f in codebook_files(p):
            rel = p.rel(f)
            if rel not in out and f.is_file() and f.is_relative_to(p.root.resolve()):  # the build refuses the rest
                out["@" + rel] = file_hash(f)
        return out

    def _analysis_inputs(self) -> dict[str, str]:
        """What the data stage and the plan may read: data/ (and data files elsewhere), study/ but the
        bibliography and notes (*.md): a citation or a note edited does not rerun the statistics."""
        data, study = self.paths.rel(self.paths.data) + "/", self.paths.rel(self.paths.study) + "/"
        skip = {self.paths.rel(self.paths.bibliography)}
        return {k: v for k, v in self.inputs.items()
                if k.startswith((data, "@")) or (k.startswith(study) and k not in skip and not k.endswith(".md"))}

    def _key(self, kind: str, *parts) -> str:
        return digest(kind, self.engine, os.environ.get("SOURCE_DATE_EPOCH", ""), *parts)

    def build_key(self) -> str:
        """Everything a build reads: a build with the same key makes the same manuscript."""
        if self._build_key is None:
            self._build_key = self._key("build", str(self.final), self.inputs, git_commit(self.paths.root))
        return self._build_key

    def _entry(self, kind: str, key: str) -> Path:
        return self.dir / kind / key

    # -- no-op builds ----------------------------------------------------------------
    def _manifest_path(self) -> Path:
        return manifest_path(self.paths, self.final)

    def up_to_date(self):
        """(registry, report) of the last build if nothing changed since and its outputs are intact; else None."""
        if self.force:
            return None
        try:
            m = json.loads(self._manifest_path().read_text(encoding="utf-8"))
            if m["key"] != self.build_key():
                return None
            if not same_outputs(self.final, m["outputs"]):
                return None
            with open(self._entry("registry", m["key"]), "rb") as fh:
                return pickle.load(fh), list(m.get("report", []))
        except Exception:  # missing, damaged or from another version: build
            return None

    def remember(self, final: Path, registry, report: list | None = None) -> None:
        """After a good build: the hash of every output, the registry, and the analysis if it is new."""
        try:
            self._remember(final, registry, report)
        except OSError:
            pass  # a cache that cannot be written only makes the next build slower

    def _remember(self, final: Path, registry, report) -> None:
        self._commit_analysis(None)
        outputs = output_hashes(final)
        key = self.build_key()
        try:
            write_bytes(self._entry("registry", key), plain_pickle(registry))
        except (NotPlain, pickle.PicklingError, TypeError, AttributeError):
            return  # not cacheable: the next build runs in full
        manifest = {"key": key, "outputs": outputs, "report": list(report or [])}
        write_bytes(self._manifest_path(), json.dumps(manifest, indent=1).encode("utf-8"))
        self.prune()

    # -- the analysis -----------------------------------------------------------------
    def _data_needed(self):
        """The data are read only for an analysis that must run; figures will likely be redrawn too."""
        if self.analysis.hit:
            return _NOTHING
        self.figures.prepare()
        return None

    def _load_analysis(self):
        if self.force:
            return None
        try:
            with open(self._entry("analysis", self._analysis_key), "rb") as fh:
                return pickle.load(fh)
        except Exception:
            return None

    def _keep_analysis(self, analysis):
        """Snapshot the analysis as it leaves the plan; written once the checks after it pass."""
        try:
            self._pending = plain_pickle(Analysed(analysis))
            self.analysis.note = ""
        except (NotPlain, pickle.PicklingError, TypeError, AttributeError) as exc:
            self._pending = None
            self.analysis.note = f"(not cached: holds {exc})"
        return analysis

    def _commit_analysis(self, out):
        if self._pending is not None:
            write_bytes(self._entry("analysis", self._analysis_key), self._pending)
            self._pending = None
        return out

    # -- outputs of tools ----------------------------------------------------------------
    def output(self, out_dir: Path, names: list[str], depends: list[Path]) -> Step:
        """A stage that writes files ``names`` (globs) into ``out_dir`` from the files ``depends``."""
        def key() -> str:
            deps = {}
            for d in depends:
                d = Path(d)
                for f in (sorted(x for x in d.rglob("*") if x.is_file()) if d.is_dir() else [d]):
                    deps[f.relative_to(out_dir).as_posix() if f.is_relative_to(out_dir) else str(f)] = file_hash(f)
            return self._key("output", names, self.inputs, deps)

        state = {}

        def hit():
            if self.force:
                return None
            state["key"] = key()
            entry = self._entry("outputs", state["key"])
            if not entry.is_dir():
                return None
            for f in sorted(entry.iterdir()):
                shutil.copyfile(f, out_dir / f.name)
            touch(entry)
            return _NOTHING

        def save(result):
            made = sorted({f for pattern in names for f in out_dir.glob(pattern) if f.is_file()})
            store_dir(self._entry("outputs", state.get("key") or key()), made)
            return result

        return Step(hit=hit, save=save)

    def docx(self, out) -> Step:
        """The DOCX export of ``out`` (papergen.study.OutputPaths): from the Markdown and figures."""
        return self.output(out.dir, [out.docx.name, out.docx.name + ".*.log"], [out.markdown, out.figures])

    def pdf(self, out) -> Step:
        """The PDF export (and the Typst source it was compiled from)."""
        return self.output(out.dir, [out.pdf.name, out.pdf.with_suffix(".typ").name, out.pdf.name + ".*.log"],
                           [out.markdown, out.figures])

    def reference_docx(self, style: dict) -> Path:
        """pandoc's reference.docx with the journal's styles, made once per style (and engine)."""
        with self._reference_lock:  # the manuscript and the change report ask at the same time
            return self._reference_docx(style)

    def _reference_docx(self, style: dict) -> Path:
        entry = self._entry("reference-docx", self._key("reference-docx", style))
        path = entry / "reference.docx"
        if path in self._made:
            return path
        self._made.add(path)
        if self.force or not path.is_file():
            from papergen.publish.reference_docx import build_reference_docx

            with tempfile.TemporaryDirectory(dir=mkdir(self.dir)) as tmp:
                made = build_reference_docx(Path(tmp) / "reference.docx", **style)
                store_dir(entry, [made], replace=self.force)
        return path

    def folder(self, kind: str) -> Path:
        """A stage's own folder for this engine (compiled templates, sentence splits); a new engine starts empty."""
        return mkdir(self._entry(kind, self._key(kind)))

    def compiled_templates(self) -> Path:
        """The templates compiled with source marks: by the lint, then reused by the render."""
        return self.folder("templates-marked")

    # -- housekeeping ---------------------------------------------------------------------
    def prune(self) -> None:
        """Keep the KEEP most recently used entries of each kind."""
        for kind in ("analysis", "registry", "builds", "figures", "outputs", "reference-docx", "templates",
                     "templates-marked", "sentences", "citations", "markdown-parts", "marked-parts", "strobe", "review-blocks", "changes",
                     "typst-blocks", "bibliography", "alignments"):
            folder = self.dir / kind
            if not folder.is_dir():
                continue
            entries = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in entries[KEEP:]:
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
