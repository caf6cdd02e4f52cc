"""How the build cache keeps results: pickles that load without pandas or numpy, entries stored all at once.

The expensive result, the analysis (data read, validated and run through the
plan), is pickled without its data frames (Analysed): loading it imports no
pandas, numpy, lifelines or matplotlib.
"""
from __future__ import annotations

import io
import os
import pickle
import shutil
import tempfile
from array import array
from dataclasses import dataclass
from pathlib import Path

#: modules a cached analysis must not refer to (loading it would import them)
HEAVY = frozenset({"pandas", "numpy", "lifelines", "matplotlib", "scipy"})


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
    """One survival curve as compact arrays of the standard library (float64 times, int64 events): what a
    figure needs of a Survival. They pickle as their bytes (a million subjects: 16 MB, no list of floats)
    and load without numpy; numpy reads them without a copy (np.asarray)."""

    time: array
    event: array
    sources: list

    @classmethod
    def of(cls, survival) -> "Curve":
        t, e = survival.arrays()
        return cls(time=array("d", t.astype("float64").tobytes()), event=array("q", e.astype("int64").tobytes()),
                   sources=list(survival.sources))

    def arrays(self):
        return self.time, self.event


class Figure:
    """A figure the plan declared (plan.FigureSpec), its curves as Curves (no numpy, no pandas)."""

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


def mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def touch(p: Path) -> None:
    try:
        os.utime(p)
    except OSError:
        pass


def store_dir(entry: Path, files: list[Path], replace: bool = False) -> None:
    """Copy ``files`` into the folder ``entry`` all at once (another build may be writing the same entry)."""
    mkdir(entry.parent)
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
