"""Incremental builds: what each stage read (content hashes) and what it made, kept in .papergen/cache/.

A stage is skipped when everything it read hashes the same as for a result
already in the cache. Every key also covers the engine's own files
(src/papergen, resources included), the installed distributions and the
Python version, so a cached result is never served for changed inputs or code.
The expensive result, the analysis (data read, validated and run through the
plan), is pickled without its data frames: loading it imports no pandas,
numpy, lifelines or matplotlib. ``force=True`` recomputes everything.
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from papergen.atomic import write_bytes

#: bump when the layout or meaning of cache entries changes
CACHE_VERSION = "2"
#: modules a cached analysis must not refer to (loading it would import them)
HEAVY = frozenset({"pandas", "numpy", "lifelines", "matplotlib", "scipy"})
#: entries kept per kind of result (older ones are removed after a build)
KEEP = 24
ENGINE_DIR = Path(__file__).resolve().parent
SKIP_DIRS = {"__pycache__", ".git", ".papergen", "manuscript"}


# --- content hashes ------------------------------------------------------------------

def file_hash(path: Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_hashes(folder: Path, base: Path) -> dict[str, str]:
    """Every file below ``folder`` (caches and hidden folders left out) -> its hash, by path from ``base``."""
    out = {}
    if not folder.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            p = Path(dirpath, name)
            out[p.relative_to(base).as_posix()] = file_hash(p)
    return out


def digest(*parts) -> str:
    """One hash of several JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def engine_fingerprint() -> str:
    """The engine's files, every installed distribution (name and version) and the Python version."""
    dists = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                dists.update(e.name for e in it if e.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return digest(CACHE_VERSION, str(ENGINE_DIR), tree_hashes(ENGINE_DIR, ENGINE_DIR), sorted(dists),
                  sys.version, sys.executable)


def git_commit(root: Path) -> str | None:
    """HEAD of the study's repository (the ledger records it), or None outside git."""
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


# --- plain results -------------------------------------------------------------------

class NotPlain(Exception):
    """A result refers to a module that loading it would import (pandas, numpy, ...)."""


class _PlainPickler(pickle.Pickler):
    """A pickler that refuses objects (and classes) of the heavy scientific modules."""

    def reducer_override(self, obj):
        mod = (obj.__module__ if isinstance(obj, type) else type(obj).__module__) or ""
        if mod.split(".")[0] in HEAVY:
            raise NotPlain(f"{mod}.{getattr(obj, '__qualname__', type(obj).__qualname__)}")
        return NotImplemented


def plain_pickle(obj) -> bytes:
    """Pickle ``obj``; NotPlain if it holds a pandas, numpy, ... object."""
    buf = io.BytesIO()
    _PlainPickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


@dataclass
class Curve:
    """One survival curve as plain lists: what a figure needs of a Survival."""

    time: list
    event: list
    sources: list

    @classmethod
    def of(cls, survival) -> "Curve":
        t, e = survival.arrays()
        return cls(time=[float(x) for x in t], event=[int(x) for x in e], sources=list(survival.sources))

    def arrays(self):
        return self.time, self.event


class Figure:
    """A figure the plan declared (plan.FigureSpec), its curves as plain lists."""

    def __init__(self, spec) -> None:
        self.__dict__.update(spec.__dict__)
        self.curves = [(label, Curve.of(s)) for label, s in spec.curves]


class Analysed:
    """What the stages after the analysis use of it: values, tables, figures, settings, codebook.

    The data frames are left out (they are what makes loading slow); the
    identities the plan asserted were checked before this was cached.
    """

    def __init__(self, analysis) -> None:
        self.registry = analysis.registry
        self.tables = analysis.tables
        self.figures = {key: Figure(spec) for key, spec in analysis.figures.items()}
        self.settings = analysis.settings
        self.codebook = analysis.codebook
        self.identities: list = []


def curves_key(curves: list[dict], options: dict) -> str:
    """Hash of a figure's curve data (exact floats) and drawing options."""
    rows = [[c["label"], [float(x) for x in c["time"]], [int(x) for x in c["event"]]] for c in curves]
    return digest(rows, options)


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

    def __init__(self, paths, final: Path, force: bool = False) -> None:
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
            if rel not in out and f.is_file():
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
        return self._entry("builds", hashlib.sha256(str(self.final).encode()).hexdigest()[:24] + ".json")

    def up_to_date(self):
        """(registry, report) of the last build if nothing changed since and its outputs are intact; else None."""
        if self.force:
            return None
        try:
            m = json.loads(self._manifest_path().read_text(encoding="utf-8"))
            if m["key"] != self.build_key():
                return None
            for rel, (size, sha) in m["outputs"].items():
                f = self.final / rel
                if f.stat().st_size != size or file_hash(f) != sha:
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
        outputs = {}
        for dirpath, dirnames, filenames in os.walk(final):
            dirnames.sort()
            for name in sorted(filenames):
                f = Path(dirpath, name)
                outputs[f.relative_to(final).as_posix()] = [f.stat().st_size, file_hash(f)]
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
            _touch(entry)
            return _NOTHING

        def save(result):
            made = sorted({f for pattern in names for f in out_dir.glob(pattern) if f.is_file()})
            _store_dir(self._entry("outputs", state.get("key") or key()), made)
            return result

        return Step(hit=hit, save=save)

    def docx(self, out) -> Step:
        """The DOCX export of ``out`` (papergen.paths.OutputPaths): from the Markdown and figures."""
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
            from papergen import export

            with tempfile.TemporaryDirectory(dir=_mkdir(self.dir)) as tmp:
                made = export.build_reference_docx(Path(tmp) / "reference.docx", **style)
                _store_dir(entry, [made], replace=self.force)
        return path

    def folder(self, kind: str) -> Path:
        """A stage's own folder for this engine (compiled templates, sentence splits); a new engine starts empty."""
        return _mkdir(self._entry(kind, self._key(kind)))

    # -- housekeeping ---------------------------------------------------------------------
    def prune(self) -> None:
        """Keep the KEEP most recently used entries of each kind."""
        for kind in ("analysis", "registry", "builds", "figures", "outputs", "reference-docx", "templates", "sentences",
                     "citations", "strobe"):
            folder = self.dir / kind
            if not folder.is_dir():
                continue
            entries = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in entries[KEEP:]:
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)


class FigureStore:
    """Figures by content: drawn (with matplotlib) only when their curves, options or engine changed.

    The numbers at risk are counted here at once (numpy only) and registered every
    build; a figure to draw goes to a helper process (prepare()) while the build
    renders and reads the manuscript, and finish() waits for it before the exports.
    As a stage's cache it never skips the stage but reports "skipped (unchanged)"
    when no figure had to be drawn. ``FigureStore(None)`` draws every figure and keeps none.
    """

    hit = False

    def __init__(self, cache: BuildCache | None) -> None:
        self.cache, self.drawn, self.reused, self._pool, self._pending = cache, 0, 0, None, []

    def prepare(self) -> None:
        """Import matplotlib in a helper process now, while this one reads the data (2 cores: both work)."""
        import multiprocessing

        if self._pool is not None or "fork" not in multiprocessing.get_all_start_methods():
            return
        if threading.active_count() > 1:  # a fork copies locks another thread may hold: draw here instead
            return
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                         initializer=_import_matplotlib)
        self._pool.submit(int)  # starts the process
        weakref.finalize(self, self._pool.shutdown, wait=False)

    def save(self, out):
        return out

    @property
    def pending(self) -> int:
        """Figures asked for and not yet finished."""
        return len(self._pending)

    @property
    def note(self) -> str:
        if self.drawn == 0 and self.reused:
            return "skipped (unchanged)"
        waiting = " in a helper process" if self._pool is not None and self.drawn else ""
        return f"({self.drawn} drawing{waiting}, {self.reused} unchanged)" if self.drawn else ""

    def km_figure(self, curves: list[dict], stem: Path, **options) -> dict:
        """The numbers at risk of papergen.figures.km_figure now; the figure from the cache or drawn.

        The result also has ``method``: the code and library that counted the numbers at risk.
        Drawing may still be under way when this returns: finish() waits for it.
        """
        stem = Path(stem)
        png, pdf = stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")
        c = self.cache
        entry = c._entry("figures", c._key("figure", curves_key(curves, options))) if c else None
        if c and not c.force:
            try:  # numbers at risk as counted when the figure was drawn: no numpy needed
                kept = json.loads((entry / "figure.json").read_text(encoding="utf-8"))
                stem.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(entry / "figure.png", png)
                shutil.copyfile(entry / "figure.pdf", pdf)
                _touch(entry)
                self.reused += 1
                return {**kept, "png": png, "pdf": pdf,
                        "at_risk": {label: [tuple(x) for x in rows] for label, rows in kept["at_risk"]}}
            except (OSError, ValueError, KeyError):
                pass
        from papergen.figures import at_risk
        from papergen.statistics import method_of, version

        ticks, counts = at_risk(curves, xmax=options.get("xmax"), xstep=options.get("xstep", 12))
        result = {"png": png, "pdf": pdf, "at_risk": counts, "ticks": ticks,
                  "method": method_of(at_risk, f"numpy {version('numpy')}")}
        if self._pool is not None:
            drawing = self._pool.submit(_draw, curves, stem, options)
        else:
            from concurrent.futures import Future

            drawing = Future()
            drawing.set_result(_draw(curves, stem, options))
        self._pending.append((drawing, result, entry))
        self.drawn += 1
        return result

    def forest_figure(self, rows: list[dict], stem: Path, **options) -> dict:
        """papergen.forest.forest_figure from the cache or drawn (in the helper process when there is one)."""
        stem = Path(stem)
        png, pdf = stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")
        c = self.cache
        entry = c._entry("figures", c._key("forest", digest(rows, options))) if c else None
        if c and not c.force and (entry / "figure.png").exists() and (entry / "figure.pdf").exists():
            stem.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry / "figure.png", png)
            shutil.copyfile(entry / "figure.pdf", pdf)
            _touch(entry)
            self.reused += 1
            return {"png": png, "pdf": pdf}
        result = {"png": png, "pdf": pdf, "at_risk": {}, "ticks": [], "method": {}}
        if self._pool is not None:
            drawing = self._pool.submit(_draw_forest, rows, stem, options)
        else:
            from concurrent.futures import Future

            drawing = Future()
            drawing.set_result(_draw_forest(rows, stem, options))
        self._pending.append((drawing, result, entry))
        self.drawn += 1
        return result

    def finish(self) -> None:
        """Wait for the figures being drawn and keep them; their at-risk tables must be the counts registered."""
        try:
            for drawing, result, entry in self._pending:
                drawn, png, pdf = drawing.result(), result["png"], result["pdf"]
                if drawn["at_risk"] != result["at_risk"]:  # one counting for the image and the ledger, or a bug
                    raise RuntimeError(f"{png.name}: at-risk table drawn {drawn['at_risk']} != counted "
                                       f"{result['at_risk']}")
                if entry is None:
                    continue
                record = {"at_risk": [[label, [list(x) for x in rows]] for label, rows in result["at_risk"].items()],
                          "ticks": list(result["ticks"]), "method": result["method"]}
                with tempfile.TemporaryDirectory(dir=_mkdir(self.cache.dir)) as tmp:
                    for src, name in ((png, "figure.png"), (pdf, "figure.pdf")):
                        shutil.copyfile(src, Path(tmp) / name)
                    (Path(tmp) / "figure.json").write_text(json.dumps(record), encoding="utf-8")
                    _store_dir(entry, sorted(Path(tmp).iterdir()), replace=self.cache.force)
        finally:
            self._pending = []
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def abandon(self) -> None:
        """A failed build: let a drawing under way end (it writes into the staging folder), keep nothing."""
        self._pending = []
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _import_matplotlib() -> None:
    import matplotlib.backends.backend_agg  # noqa: F401 (the slow import, done before any figure is asked for)
    import matplotlib.figure  # noqa: F401


def _draw_forest(rows: list[dict], stem: Path, options: dict) -> dict:
    from papergen.forest import forest_figure

    return {**forest_figure(rows, stem, **options), "at_risk": {}}


def _draw(curves: list[dict], stem: Path, options: dict) -> dict:
    from papergen.figures import km_figure

    return km_figure(curves, stem, **options)


# --- files --------------------------------------------------------------------------------

def input_folders(paths) -> list[Path]:
    """Folders whose every file a build may read (with the study's top-level files and codebook_files())."""
    return [paths.data, paths.study, paths.templates, paths.root / "submissions"]


def codebook_files(paths) -> list[Path]:
    """Data files the codebook lists (they may live outside data/); the codebook is read again only when
    its size or modification time changes (python build.py watch asks ten times a second)."""
    try:
        st = paths.codebook.stat()
    except OSError:  # no codebook: the data stage says so
        return []
    return list(_named_files(paths.codebook, paths.data, st.st_size, st.st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _named_files(codebook: Path, data: Path, size: int, mtime_ns: int) -> tuple[Path, ...]:
    try:
        from papergen.codebook import read_codebook

        book = read_codebook(codebook)
    except Exception:  # the data stage reports a broken codebook; here it only changes a key
        return ()
    return tuple((data / spec.path).resolve() for spec in book.files.values())


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _touch(p: Path) -> None:
    try:
        os.utime(p)
    except OSError:
        pass




def _store_dir(entry: Path, files: list[Path], replace: bool = False) -> None:
    """Copy ``files`` into the folder ``entry`` all at once (another build may be writing the same entry)."""
    _mkdir(entry.parent)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}."))
    try:
        for f in files:
            shutil.copyfile(f, tmp / Path(f).name)
        if replace and entry.exists():
            shutil.rmtree(entry, ignore_errors=True)
        os.rename(tmp, entry)
    except OSError:
        pass  # an equal entry appeared meanwhile (same key, same content)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
