"""A column read from a typed file (Parquet, SPSS, Stata, SAS) as distinct texts and one code per row.

A typed file's reader (pyarrow, pyreadstat) gives values, not the text the
author typed; each distinct value is written once as the text a CSV export
would hold (``text_of``: 5.0 -> "5", a date -> "2020-10-31", no value -> ""),
and the column keeps per row the index of its text. validate.py then checks
these texts exactly as it checks a CSV's cells, each distinct text once.
"""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import numpy as np


def text_of(v, bools: tuple[str, str] = ("1", "0")) -> str:
    """A typed value as the text a CSV export of it holds (dates ISO, whole floats without '.0')."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return bools[0] if v else bools[1]
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v.is_integer() and abs(v) < 2 ** 63:
            return str(int(v))
        return format(Decimal(repr(v)), "f")  # 1e-05 -> 0.00001, 8.5 -> 8.5
    return str(v)


class CodedColumn:
    """A column as (codes, distinct texts): a sequence of cell texts whose ``factorise`` costs nothing.

    ``arrow``, when the reader has it, holds the same distinct texts as a pyarrow string array, so that
    colcheck can test them with pyarrow.compute without a Python call per text.
    """

    def __init__(self, codes: np.ndarray, texts: np.ndarray, arrow=None):
        self.codes, self.texts, self.arrow = codes, texts, arrow

    @classmethod
    def of(cls, codes: np.ndarray, texts: list[str]) -> "CodedColumn":
        """From any codes (-1: no value) into any texts: texts made distinct, numbered in order of first appearance
        (as pandas.factorize numbers them, which validate.py's messages rely on to name the first row)."""
        import pandas as pd

        texts = np.array(list(texts) + [""], dtype=object)  # the last one stands for -1, no value
        codes = np.where(codes < 0, len(texts) - 1, codes)
        same, distinct = pd.factorize(texts)
        new, order = pd.factorize(same[codes])
        return cls(new.astype(np.intp, copy=False), np.asarray(distinct, dtype=object)[order])

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        return self.texts[self.codes[k]]

    def __iter__(self):
        return iter(self.texts[self.codes].tolist())

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def take(self, rows: np.ndarray) -> "CodedColumn":
        return CodedColumn.of(self.codes[rows], list(self.texts))

    def factorise(self):
        return self.codes, self.texts


class SharedTexts:
    """The Python strings made of large arrays of distinct texts in one read of a study's files, so that a column
    with the same distinct texts as one before (the patient ids of lesions, labs and patients) holds the same
    str objects instead of a million new ones: less memory, and pandas compares and hashes them faster (an object
    is equal to itself; a str keeps its hash). The values are the same texts either way."""

    def __init__(self, least: int = 10_000):
        self.least, self._seen, self._lock = least, [], threading.Lock()

    def texts(self, arrow) -> np.ndarray:
        """``arrow.to_numpy(zero_copy_only=False)``: a new object array, of the strings made before for equal texts.
        Files read at the same time (load.read_all) ask one at a time, so equal texts still get one set of strings."""
        if len(arrow) < self.least:
            return arrow.to_numpy(zero_copy_only=False)
        with self._lock:
            for known, texts in self._seen:
                if len(known) == len(arrow) and known.equals(arrow):
                    return texts.copy()  # the same str objects; an array of its own
            texts = arrow.to_numpy(zero_copy_only=False)
            self._seen.append((arrow, texts))
            return texts


def _as_texts(arrow, shared: SharedTexts | None) -> np.ndarray:
    return arrow.to_numpy(zero_copy_only=False) if shared is None else shared.texts(arrow)


def from_arrow_texts(column, shared: SharedTexts | None = None) -> CodedColumn:
    """A pyarrow string array without nulls (a CSV or Parquet column) as codes into its distinct texts, in order
    of first appearance: by sorted_runs when it is sorted, else by pyarrow's dictionary_encode. ``shared``: the
    strings of this read's other columns, reused for the same distinct texts."""
    import pyarrow.compute as pc

    runs = sorted_runs(column, shared=shared)
    if runs is not None:
        return runs
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    return CodedColumn(codes, _as_texts(encoded.dictionary, shared), arrow=encoded.dictionary)


def sorted_runs(column, least: int = 100_000, shared: SharedTexts | None = None) -> CodedColumn | None:
    """A pyarrow string column (no nulls) sorted by its bytes, as registry extracts are sorted by their keys, coded
    without hashing: equal texts stand together, so each new text starts a run and the runs are numbered in order
    (of first appearance, too). None when the column is not sorted, or has fewer than ``least`` rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(column)
    if n < max(least, 2) or column.null_count:
        return None
    if not pc.all(pc.less_equal(column.slice(0, 999), column.slice(1, 999))).as_py():
        return None  # most unsorted columns show it in their first thousand rows
    head, tail = column.slice(0, n - 1), column.slice(1)
    if not pc.all(pc.less_equal(head, tail)).as_py():
        return None
    new = np.concatenate(([True], pc.not_equal(head, tail).to_numpy(zero_copy_only=False)))
    starts = np.flatnonzero(new)
    dictionary = column if len(starts) == n else column.take(pa.array(starts))
    if len(starts) == n:
        codes = np.arange(n, dtype=np.intp)
    else:
        codes = np.cumsum(new, dtype=np.intp)
        codes -= 1  # in place: one array of ten million codes, not two
    return CodedColumn(codes, _as_texts(dictionary, shared), arrow=dictionary)


def from_values(values) -> CodedColumn:
    """A CodedColumn from an array of typed values (a pandas Series or numpy array; NaN and None: no value)."""
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    return CodedColumn.of(codes, [text_of(u) for u in list(uniques)])
