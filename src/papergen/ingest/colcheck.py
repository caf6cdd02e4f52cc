"""Check a data column at once: each distinct text judged once, the verdicts spread over the rows by numpy.

A 100,000-patient study has about five million cells but few distinct texts
per column (dates, categories, small integers). Each column is factorised
(its distinct texts, and each row's index into them); ``cells.check_cell``
judges every distinct text once, so a problem is worded exactly as the
row-by-row check words it. Columns with very many distinct texts (study ids,
measured values) first pass a vectorised test that accepts the plainly valid
texts, and only the rest go to ``check_cell``. Typed values and the typed
frame are then built from the distinct values, not from per-row dicts.
"""
from __future__ import annotations

import re

import numpy as np

from papergen.codebook import ColumnSpec
from papergen.ingest.cells import MISSING_MARKERS
from papergen.ingest.load import RawTable

#: a column with more distinct texts than this first passes the vectorised acceptance test
MANY = 2000
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_NUM = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def factorise(texts: list[str]):
    """(codes, distinct texts in order of first appearance) of one column (a list, or plaincsv's ByteColumn)."""
    if hasattr(texts, "factorise"):
        return texts.factorise()
    import pandas as pd

    codes, uniques = pd.factorize(np.fromiter(texts, dtype=object, count=len(texts)))
    return codes, uniques


class Column:
    """One codebook column of one file: per distinct text its typed value and problem, per row its code."""

    def __init__(self, name: str, spec: ColumnSpec, codes: np.ndarray, uniques: np.ndarray, check_cell, arrow=None):
        self.name, self.spec, self.codes, self.uniques = name, spec, codes, uniques
        self.arrow = arrow  # the distinct texts as a pyarrow array, when the reader kept one
        n = len(uniques)
        values = np.empty(n, dtype=object)
        problems: list[str | None] = [None] * n
        self.ok_u = np.ones(n, dtype=bool)  # no problem
        self.has_u = np.ones(n, dtype=bool)  # a typed value (accepted texts always have one)
        todo = range(n)
        if n > MANY:
            accepted, typed = _accept(uniques, spec, arrow)
            values[accepted] = typed
            todo = np.flatnonzero(~accepted).tolist()
        for j in todo:
            values[j], problems[j] = check_cell(uniques[j], spec)
            self.ok_u[j] = problems[j] is None
            self.has_u[j] = values[j] is not None
        self.values = values          # typed value of each distinct text (None: empty or a problem)
        self.problems = problems      # problem of each distinct text, or None
        self.bad_rows: np.ndarray | None = None  # rows whose cell load already reported (Excel formulas)
        self._vector = None
        self._positions = None

    def problem_rows(self) -> np.ndarray:
        """Rows whose cell has a problem (or was reported by load)."""
        bad = ~self.ok_u[self.codes]
        if self.bad_rows is not None:
            bad |= self.bad_rows
        return bad

    def value(self, k: int):
        """The typed value of row k (None when empty, bad or reported by load)."""
        if self.bad_rows is not None and self.bad_rows[k]:
            return None
        return self.values[self.codes[k]]

    def row_values(self) -> np.ndarray:
        """Typed value of every row as an object array (None where empty or bad)."""
        out = self.values.take(self.codes)
        if self.bad_rows is not None:
            out[self.bad_rows] = None
        return out

    def present(self) -> np.ndarray:
        """Rows with a typed value."""
        out = self.has_u[self.codes]
        if self.bad_rows is not None:
            out &= ~self.bad_rows
        return out

    def distinct_values(self, rows: np.ndarray) -> set:
        """The set of typed values in the given rows (None included when one of them has none)."""
        good = rows if self.bad_rows is None else rows & ~self.bad_rows
        out = set(self.values[np.bincount(self.codes[good], minlength=len(self.values)) > 0])
        if self.bad_rows is not None and (rows & self.bad_rows).any():
            out.add(None)
        return out

    def text_values(self):
        """The distinct typed values as a pyarrow array when they are the reader's texts (a string column, or
        categories without labels, where every text has a value and load reported no cell); else None."""
        plain = self.spec.type == "string" or (self.spec.type == "category" and not self.spec.labels)
        if plain and self.arrow is not None and self.bad_rows is None and self.has_u.all():
            return self.arrow
        return None

    def positions_in(self, value_set) -> np.ndarray:
        """Each distinct text's (text_values) position in ``value_set`` (a pyarrow array of texts), -1 where it is
        absent: looked up once per value_set, since a reference is checked with it (validate.check_references)
        and its rows are then linked with it (validate.Link)."""
        import pyarrow.compute as pc

        if self._positions is None or self._positions[0] is not value_set:
            texts = self.text_values()
            if texts.equals(value_set):  # the same distinct texts in the same order (every patient has lesions)
                at = np.arange(len(texts))
            else:
                at = pc.index_in(texts, value_set=value_set).fill_null(-1).to_numpy(zero_copy_only=False)
            self._positions = (value_set, at)
        return self._positions[1]

    def texts(self) -> np.ndarray:
        """str() of each distinct typed value (what starts_with and covers compare)."""
        if self.spec.type in ("string", "category"):  # the value is the text itself, or None
            out = self.values.copy()
            out[~self.has_u] = "None"
            return out
        return np.array([str(v) for v in self.values], dtype=object)

    def vector(self):
        """(array, present) for comparisons: datetime64 days, int64, float64, or objects."""
        if self._vector is None:
            self._vector = self._make_vector()
        return self._vector

    def _make_vector(self):
        present = self.present()
        kind = self.spec.type
        vals = self.values
        if kind == "date":
            arr = np.array([np.datetime64(v, "D") if v is not None else np.datetime64("NaT", "D") for v in vals],
                           dtype="datetime64[D]")
        elif kind == "number":
            arr = np.array([v if v is not None else np.nan for v in vals], dtype=np.float64)
        elif kind in ("integer", "flag") and all(v is None or -2**62 < v < 2**62 for v in vals):
            arr = np.array([v if v is not None else 0 for v in vals], dtype=np.int64)
        else:
            arr = vals
        return arr.take(self.codes), present

    def key_codes(self) -> np.ndarray:
        """Per row, one code per typed value under Python equality (1 and "01" typed as 1 are one key)."""
        if self.spec.type == "string" or (self.spec.type == "category" and not self.spec.labels):
            # the typed value is the text: distinct texts, distinct keys
            ids = np.where(self.has_u, np.arange(len(self.values)), -1)
        else:
            seen: dict = {}
            ids = np.fromiter((seen.setdefault(v, len(seen)) if v is not None else -1 for v in self.values),
                              dtype=np.int64, count=len(self.values))
        out = ids[self.codes]
        if self.bad_rows is not None:
            out[self.bad_rows] = -1
        return out

    def frame_column(self):
        """The typed frame's column, built as pandas builds it from the per-row values."""
        import pandas as pd

        kind, vals = self.spec.type, self.values
        if kind == "date":
            return pd.to_datetime(pd.Series(vals, dtype=object)).to_numpy().take(self.codes)
        missing = not self.has_u.all()
        if self.has_u.any() and kind in ("string", "category"):
            return vals.take(self.codes)  # texts, and None where empty
        if self.has_u.any() and kind == "number":
            return np.array([np.nan if v is None else v for v in vals], dtype=np.float64).take(self.codes)
        if self.has_u.any() and kind in ("integer", "flag") and all(v is None or -2**63 <= v < 2**63 for v in vals):
            if missing:  # pandas stores whole numbers with gaps as floats
                return np.array([np.nan if v is None else float(v) for v in vals]).take(self.codes)
            return np.array(list(vals), dtype=np.int64).take(self.codes)
        return pd.Series(vals.take(self.codes).tolist()).to_numpy()  # anything else: pandas infers, as from records


class Known:
    """The typed values of a referenced column over its typed rows: a set, made when first asked for, and for a
    text column (Column.text_values) the same values as a pyarrow array, which references are looked up in."""

    def __init__(self, column: Column, typed: np.ndarray):
        self.column, self.typed = column, typed
        self.arrow = column.text_values() if typed.all() else None  # every distinct text is some row's
        self._values = None
        self._positions = None

    def positions_in(self, texts) -> np.ndarray:
        """For each value (``arrow``), its position among ``texts`` (a pyarrow array), -1 where absent; the
        lookup table is built once per texts array (covers asks for it once per listed value)."""
        import pyarrow.compute as pc

        if self._positions is None or self._positions[0] is not texts:
            if self.arrow.equals(texts):  # the same distinct texts in the same order: each value where it is
                self._positions = (texts, np.arange(len(texts)))
            else:
                found = pc.index_in(self.arrow, value_set=texts).fill_null(-1)
                self._positions = (texts, found.to_numpy(zero_copy_only=False))
        return self._positions[1]

    @property
    def values(self) -> set:
        if self._values is None:
            self._values = self.column.distinct_values(self.typed)
        return self._values


class FileColumns:
    """One file's columns, factorised once; the codebook's columns checked (``[name]``), the typed rows."""

    def __init__(self, raw: RawTable):
        self.raw = raw
        self._factorised: dict[int, tuple] = {}
        self.checked: dict[str, Column] = {}
        self.typed = np.ones(raw.nrows, dtype=bool)  # rows that become records (not a width error)

    def arrow(self, i: int):
        """Column i's distinct texts as a pyarrow array, when the reader kept one (else None)."""
        return getattr(self.raw.columns[i], "arrow", None)

    def factorised(self, i: int):
        if i not in self._factorised:
            self._factorised[i] = factorise(self.raw.columns[i])
        return self._factorised[i]

    def __getitem__(self, name: str) -> Column:
        return self.checked[name]

    def values_of_typed_rows(self, name: str) -> Known:
        """A column's typed values over the typed rows (None included when a cell has none)."""
        return Known(self.checked[name], self.typed)


def _accept(uniques: np.ndarray, spec: ColumnSpec, arrow=None):
    """(mask, typed values) of the distinct texts that ``check_cell`` plainly accepts; the rest go to it.
    ``arrow``: the same texts as a pyarrow array when the reader kept one (a string column's bytes are read
    from it, its pattern matched by pyarrow where that is the same as re's)."""
    if spec.type == "string":
        from papergen.ingest import arrowcheck

        arrow = arrowcheck.as_arrow(uniques, arrow)
    if spec.missing:  # declared markers (999, NA) are never accepted as values: check_cell words them
        if spec.type == "string":
            marker = arrowcheck.is_in(arrow, uniques, spec.missing)
        else:
            marker = np.isin(uniques, np.array(spec.missing, dtype=object))
        if marker.any():
            ok, typed = _accept_plain(uniques, spec, arrow)
            keep = ~marker[ok]
            ok[np.flatnonzero(ok)[~keep]] = False
            return ok, [t for t, k in zip(typed, keep) if k]
    return _accept_plain(uniques, spec, arrow)


def _accept_plain(uniques: np.ndarray, spec: ColumnSpec, arrow=None):
    n = len(uniques)
    no = np.zeros(n, dtype=bool), []
    if spec.min is not None or spec.max is not None:
        if spec.type not in ("integer", "number"):
            return no
    if spec.type == "string":
        ok, marker_like = _plain_text(uniques, MISSING_MARKERS, arrow)
        for j in np.flatnonzero(ok & marker_like):
            ok[j] = uniques[j].lower() not in MISSING_MARKERS
        if spec.pattern:
            from papergen.ingest.arrowcheck import pattern_matches

            idx = np.flatnonzero(ok)
            ok[idx] = pattern_matches(arrow, uniques, spec.pattern, idx)
        return ok, uniques[ok]  # a string's typed value is its text
    if spec.type in ("integer", "number"):
        full = (_INT if spec.type == "integer" else _NUM).fullmatch
        ok = np.fromiter(map(bool, map(full, uniques)), dtype=bool, count=n)
        texts = uniques[ok]
        if spec.type == "integer":
            typed = [int(u) for u in texts]
        else:
            typed = [float(u) for u in texts]
        lo, hi = spec.min, spec.max  # check_range's comparisons, on Python numbers
        inside = [(lo is None or not t < lo) and (hi is None or not t > hi) for t in typed]
        idx = np.flatnonzero(ok)
        ok[idx[~np.array(inside, dtype=bool)]] = False
        return ok, [t for t, i in zip(typed, inside) if i]
    return no


# --- identifiers --------------------------------------------------------------------------

_TEN_DIGITS = re.compile(r"(?:\D*\d){10}")


def might_identify(uniques: np.ndarray, arrow=None) -> np.ndarray:
    """Texts that ``identifiers.value_kind`` could flag: with "@" or "+", or ten digits or more.

    A cheap superset of value_kind's patterns (every one needs "@", a leading
    "+", or at least ten digits), so value_kind runs on a handful of texts. A
    non-ASCII character counts as a digit (\\d matches other scripts' digits). ``arrow``: the same texts as
    a pyarrow array, when the reader kept one (their bytes are then read from its buffers).
    """
    lines = _lines(uniques, arrow)
    if lines is None:
        return np.fromiter(("@" in u or "+" in u or _TEN_DIGITS.match(u) is not None for u in uniques),
                           dtype=bool, count=len(uniques))
    b, starts, ends = lines
    digits = _count(_DIGIT_LIKE[b], starts, ends)  # one table look-up per byte, not four comparisons
    return (digits >= 10) | (_count(_AT_PLUS[b], starts, ends) > 0)


#: bytes that may be part of a digit (ASCII 0-9, any byte of a non-ASCII character), and "@" and "+"
_DIGIT_LIKE = np.zeros(256, dtype=bool)
_DIGIT_LIKE[48:58] = True
_DIGIT_LIKE[128:] = True
_AT_PLUS = np.zeros(256, dtype=bool)
_AT_PLUS[[64, 43]] = True


def _lines(texts: np.ndarray, arrow=None):
    """(bytes, start, end) of each text in the UTF-8 of the texts joined by newlines; None if one has a newline.
    ``arrow``: the same texts as a pyarrow array, whose buffers hold these bytes already."""
    if arrow is not None:
        from papergen.ingest.arrowcheck import lines

        return lines(arrow)
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1 or not len(texts):
        return None
    b = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    ends = np.append(np.flatnonzero(b == 10), len(b))
    starts = np.concatenate(([0], ends[:-1] + 1))
    return b, starts, ends


def _count(mask: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many bytes of each text are in ``mask``."""
    total = np.concatenate(([0], np.cumsum(mask, dtype=np.int32 if len(mask) < 2 ** 31 else np.int64)))
    return total[ends] - total[starts]


#: bytes a text may not start or end with to be plainly accepted: ASCII white space and any non-ASCII byte
_EDGE = np.zeros(256, dtype=bool)
_EDGE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_EDGE[128:] = True
def _marker_bytes(markers) -> np.ndarray:
    """Bytes of the missing-value markers in either case, and any non-ASCII byte (its lower case may be ASCII)."""
    table = np.zeros(256, dtype=bool)
    chars = "".join(markers)
    table[list((chars + chars.upper()).encode("ascii"))] = True
    table[128:] = True
    return table


def _plain_text(uniques: np.ndarray, markers, arrow=None) -> tuple[np.ndarray, np.ndarray]:
    """(plain, marker_like): not empty, no line break, a visible ASCII character at each end; made of
    the characters of a missing-value marker (those are then looked up one by one)."""
    lines = _lines(uniques, arrow)
    if lines is None:
        plain = np.fromiter((bool(u) and u == u.strip() and "\r" not in u and "\n" not in u for u in uniques),
                            dtype=bool, count=len(uniques))
        return plain, np.ones(len(uniques), dtype=bool)
    b, starts, ends = lines
    first, last = b[np.minimum(starts, len(b) - 1)], b[np.maximum(ends - 1, 0)]
    plain = (ends > starts) & ~_EDGE[first] & ~_EDGE[last]
    if 13 in b:  # a carriage return inside a text
        plain &= _count(b == 13, starts, ends) == 0
    table = _marker_bytes(markers)
    marker_like = table[first]  # a marker starts with one of its characters: look closer only then
    closer = np.flatnonzero(marker_like)
    if len(closer):
        marker_like[closer] = (_count(~table[b], starts, ends) == 0)[closer]
    return plain, marker_like
