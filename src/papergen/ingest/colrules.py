"""Cross-column rules and keys on whole columns: which rows break a rule, which keys repeat.

A 100,000-row file is not walked row by row: each rule of the codebook
(before, not_after, present_iff, equal_when, starts_with) is evaluated on the
typed columns of colcheck.Column with numpy, and so is the primary key. The
rows found are then worded one by one by validate.py's per-row checks, which
makes the messages those of the row-by-row path; a row flagged here that
breaks nothing there costs a little time and no message.
"""
from __future__ import annotations

import numpy as np

from papergen.ingest.arrowcheck import starts_with
from papergen.ingest.colcheck import Column


# --- keys ---------------------------------------------------------------------------------

def duplicate_keys(columns: list[Column], typed: np.ndarray):
    """(row, first row with the same key) for every repeated key, in row order; empty keys are not compared."""
    import pandas as pd

    if _all_distinct(columns, typed):
        return []
    combined = None
    valid = typed.copy()
    for column in columns:
        codes = column.key_codes()
        valid &= codes >= 0
        combined = codes if combined is None else combined * (int(codes.max()) + 1) + codes
        combined = pd.factorize(combined)[0]
    rows = np.flatnonzero(valid)
    key_codes, _ = pd.factorize(combined[rows])  # codes 0..k-1, each used
    first = np.unique(key_codes, return_index=True)[1]  # where each key first occurs (numpy documents this;
    # a fancy assignment with repeated indices would leave "which write wins" unspecified)
    repeated = np.flatnonzero(first[key_codes] != np.arange(len(rows)))
    return [(int(rows[p]), int(rows[first[key_codes[p]]])) for p in repeated]


def _all_distinct(columns: list[Column], typed: np.ndarray) -> bool:
    """Whether no key repeats, told by counting each key's rows (np.bincount, no hashing) when the keys'
    codes multiply to a range not much wider than the rows; False when it cannot tell so cheaply."""
    n = len(typed)
    combined, span, valid = None, 1, typed.copy()
    for column in columns:
        codes = column.key_codes()
        valid &= codes >= 0
        width = int(codes.max()) + 1 if n else 1
        if span * width > 4 * n + 1024:
            return False
        combined = codes if combined is None else combined * width + codes
        span *= width
    keys = combined[valid]
    return not len(keys) or int(np.bincount(keys, minlength=0).max()) <= 1


# --- cross-column rules on whole columns ------------------------------------------------------

def broken_rules(spec, columns: dict[str, Column], rules) -> np.ndarray:
    """Rows that break at least one cross-column rule (a superset is fine: those rows are re-checked one by one)."""
    n = len(next(iter(columns.values())).codes)
    out = np.zeros(n, dtype=bool)
    for rule in spec.rules:
        if rule.kind in rules:
            out |= _broken(rule, columns, n)
    return out


def _broken(rule, columns: dict[str, Column], n: int) -> np.ndarray:
    if rule.kind in ("before", "not_after"):
        out = np.zeros(n, dtype=bool)
        for a, b in zip(rule.columns, rule.columns[1:]):
            (va, pa), (vb, pb) = _pair(columns[a], columns[b])
            both = np.flatnonzero(pa & pb)
            x, y = va[both], vb[both]
            fine = (x < y) if rule.kind == "before" else (x <= y)
            out[both[~np.asarray(fine, dtype=bool)]] = True
        return out
    if rule.kind == "present_iff":
        flag, pf = columns[rule.flag].vector()
        present = columns[rule.columns[0]].present()
        return (_equals(flag, pf, 1) & ~present) | (_equals(flag, pf, 0) & present)
    if rule.kind == "equal_when":
        flag, pf = columns[rule.flag].vector()
        (va, pa), (vb, pb) = _pair(columns[rule.columns[0]], columns[rule.columns[1]])
        rows = np.flatnonzero(_equals(flag, pf, 1) & pa & pb)
        out = np.zeros(n, dtype=bool)
        out[rows[~np.asarray(va[rows] == vb[rows], dtype=bool)]] = True
        return out
    if rule.kind == "starts_with":
        a, b = columns[rule.columns[0]], columns[rule.columns[1]]
        rows = np.flatnonzero(a.present() & b.present())
        fine = None
        if _texts_are_values(a) and _texts_are_values(b):  # compared by pyarrow, no str per row
            fine = starts_with(a.arrow, a.codes[rows], b.arrow, b.codes[rows])
        if fine is None:
            sa, sb = a.texts().take(a.codes[rows]), b.texts().take(b.codes[rows])
            fine = np.fromiter(map(str.startswith, sb, sa), dtype=bool, count=len(rows))
        out = np.zeros(n, dtype=bool)
        out[rows[~fine]] = True
        return out
    return np.ones(n, dtype=bool)  # a kind not vectorised here: every row is checked one by one


def _texts_are_values(column: Column) -> bool:
    """Whether a row with a value has its text as the value (a string column, or categories without labels),
    and the reader kept the texts as a pyarrow array."""
    kind = column.spec.type
    return column.arrow is not None and (kind == "string" or (kind == "category" and not column.spec.labels))


def _pair(a: Column, b: Column):
    """Both columns as arrays of one kind (Python objects when their kinds differ, so Python compares)."""
    va, vb = a.vector(), b.vector()
    if va[0].dtype != vb[0].dtype:
        return (a.row_values(), va[1]), (b.row_values(), vb[1])
    return va, vb


def _equals(arr: np.ndarray, present: np.ndarray, x) -> np.ndarray:
    """Rows with a value equal to ``x`` (a number), by Python's == for objects."""
    if arr.dtype == object:
        return present & np.fromiter((v == x for v in arr), dtype=bool, count=len(arr))
    if arr.dtype.kind == "M":
        return np.zeros(len(arr), dtype=bool)  # a date never equals a number
    return present & (arr == x)
