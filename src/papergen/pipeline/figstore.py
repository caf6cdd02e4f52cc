"""Figures by content: a Kaplan-Meier figure is drawn (matplotlib, in a helper process) only when its curves change.

The figures stage's cache (papergen.pipeline.cache.BuildCache.figures).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import weakref
from array import array
from pathlib import Path

from papergen.errors import FigureError
from papergen.pipeline.keys import digest
from papergen.pipeline.stopping import signals_held
from papergen.pipeline.store import mkdir, store_dir, touch


def curves_key(curves: list[dict], options: dict) -> str:
    """Hash of a figure's curve data (exact floats: the sha256 of the float64 times and int64 events) and
    drawing options; the same for a Survival's numpy arrays and a cached Curve's arrays."""
    rows = [[c["label"], _sha256(c["time"], "d"), _sha256(c["event"], "q")] for c in curves]
    return digest(rows, options)


def _sha256(items, typecode: str) -> str:
    """sha256 of ``items`` as machine numbers (``typecode`` "d": float64, "q": int64), without a Python float each."""
    if isinstance(items, array) and items.typecode == typecode:
        data = items.tobytes()
    elif hasattr(items, "astype"):  # a numpy array
        data = items.astype("float64" if typecode == "d" else "int64").tobytes()
    else:
        data = array(typecode, [float(x) if typecode == "d" else int(x) for x in items]).tobytes()
    return hashlib.sha256(data).hexdigest()


class FigureStore:
    """Figures by content: drawn (with matplotlib) only when their curves, options or engine changed.

    The numbers at risk are counted here at once (numpy only) and registered every
    build; a figure to draw goes to a helper process (prepare()) while the build
    renders and reads the manuscript, and finish() waits for it before the exports.
    As a stage's cache it never skips the stage but reports "skipped (unchanged)"
    when no figure had to be drawn. ``FigureStore(None)`` draws every figure and keeps none.
    """

    hit = False

    def __init__(self, cache) -> None:
        self.cache, self.drawn, self.reused, self._pool, self._pending = cache, 0, 0, None, []
        self._finishing, self._failed = threading.Lock(), None  # finish() from several stages at once

    def prepare(self) -> None:
        """Import matplotlib in a helper process now, while this one reads the data (2 cores: both work)."""
        import multiprocessing

        if self._pool is not None or "fork" not in multiprocessing.get_all_start_methods():
            return
        others = [t for t in threading.enumerate()
                  if t is not threading.current_thread() and not getattr(t, "fork_safe", False)]
        if others:  # a fork copies locks another thread may hold: draw here instead
            return
        from concurrent.futures import ProcessPoolExecutor

        with signals_held():  # a stop signal during the fork is handled after it
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

    def km_figure(self, curves: list[dict], stem: Path, where: str = "", **options) -> dict:
        """The numbers at risk of papergen.publish.figures.km_figure now; the figure from the cache or drawn.

        The result also has ``method``: the code and library that counted the numbers at risk.
        Drawing may still be under way when this returns: finish() waits for it. ``where``: the plan
        line that asked for the figure, named when it cannot be drawn.
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
                touch(entry)
                self.reused += 1
                return {**kept, "png": png, "pdf": pdf,
                        "at_risk": {label: [tuple(x) for x in rows] for label, rows in kept["at_risk"]}}
            except (OSError, ValueError, KeyError):
                pass
        from papergen.publish.figures import at_risk
        from papergen.analysis.statistics import method_of, version

        try:
            ticks, counts = at_risk(curves, xmax=options.get("xmax"), xstep=options.get("xstep", 12))
        except ValueError as e:  # the plan's options (xmax, xstep) or its curves
            raise _figure_error(e, where, stem.name) from e
        result = {"png": png, "pdf": pdf, "at_risk": counts, "ticks": ticks,
                  "method": method_of(at_risk, f"numpy {version('numpy')}")}
        drawing = self._start(_draw, curves, stem, options)
        self._pending.append((drawing, result, entry, where))
        self.drawn += 1
        return result

    def forest_figure(self, rows: list[dict], stem: Path, where: str = "", **options) -> dict:
        """papergen.publish.forest.forest_figure from the cache or drawn (in the helper process when there is one)."""
        stem = Path(stem)
        png, pdf = stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")
        c = self.cache
        entry = c._entry("figures", c._key("forest", digest(rows, options))) if c else None
        if c and not c.force and (entry / "figure.png").exists() and (entry / "figure.pdf").exists():
            stem.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry / "figure.png", png)
            shutil.copyfile(entry / "figure.pdf", pdf)
            touch(entry)
            self.reused += 1
            return {"png": png, "pdf": pdf}
        result = {"png": png, "pdf": pdf, "at_risk": {}, "ticks": [], "method": {}}
        drawing = self._start(_draw_forest, rows, stem, options)
        self._pending.append((drawing, result, entry, where))
        self.drawn += 1
        return result

    def _start(self, draw, *args):
        """A drawing under way in the helper process, or done here when there is none (a finished Future)."""
        if self._pool is not None:
            return self._pool.submit(draw, *args)
        from concurrent.futures import Future

        drawing = Future()
        try:
            drawing.set_result(draw(*args))
        except ValueError as e:  # raised by finish(), as from the helper process, naming the plan line
            drawing.set_exception(e)
        return drawing

    def finish(self) -> None:
        """Wait for the figures being drawn and keep them; their at-risk tables must be the counts registered.

        Safe to call from several threads and more than once: the stages that show the figures each call it
        before they start (Stages.call's ``after``); the first does the work, the others wait for it and then
        return, or raise what it raised.
        """
        with self._finishing:
            if self._failed is not None:
                raise self._failed
            try:
                self._finish()
            except BaseException as exc:
                self._failed = exc
                raise

    def _finish(self) -> None:
        try:
            for drawing, result, entry, where in self._pending:
                drawn, png, pdf = _drawn(drawing, where, result["png"]), result["png"], result["pdf"]
                if drawn["at_risk"] != result["at_risk"]:  # one counting for the image and the ledger, or a bug
                    raise RuntimeError(f"{png.name}: at-risk table drawn {drawn['at_risk']} != counted "
                                       f"{result['at_risk']}")
                if entry is None:
                    continue
                record = {"at_risk": [[label, [list(x) for x in rows]] for label, rows in result["at_risk"].items()],
                          "ticks": list(result["ticks"]), "method": result["method"]}
                with tempfile.TemporaryDirectory(dir=mkdir(self.cache.dir)) as tmp:
                    for src, name in ((png, "figure.png"), (pdf, "figure.pdf")):
                        shutil.copyfile(src, Path(tmp) / name)
                    (Path(tmp) / "figure.json").write_text(json.dumps(record), encoding="utf-8")
                    store_dir(entry, sorted(Path(tmp).iterdir()), replace=self.cache.force)
        finally:
            self._pending = []
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def abandon(self) -> None:
        """A failed build: let a drawing under way end (it writes into the staging folder), keep nothing."""
        with self._finishing:
            self._pending = []
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


def _drawn(drawing, where: str, png: Path) -> dict:
    """A drawing's result; a figure the plan's options make impossible is a FigureError at the plan line."""
    try:
        return drawing.result()
    except ValueError as e:
        raise _figure_error(e, where, png.stem) from e


def _figure_error(e: ValueError, where: str, key: str) -> Exception:
    """The drawing functions' ValueError ("km_figure: ...") as a FigureError naming the plan line; others as they are."""
    if not str(e).startswith(("km_figure: ", "forest_figure: ")):
        return e
    reason = str(e).split(": ", 1)[1]
    return FigureError(f"{where + ': ' if where else ''}figure {key!r} cannot be drawn: {reason}")


def _import_matplotlib() -> None:
    import matplotlib.backends.backend_agg  # noqa: F401 (the slow import, done before any figure is asked for)
    import matplotlib.figure  # noqa: F401


def _draw_forest(rows: list[dict], stem: Path, options: dict) -> dict:
    from papergen.publish.forest import forest_figure

    return {**forest_figure(rows, stem, **options), "at_risk": {}}


def _draw(curves: list[dict], stem: Path, options: dict) -> dict:
    from papergen.publish.figures import km_figure

    return km_figure(curves, stem, **options)
