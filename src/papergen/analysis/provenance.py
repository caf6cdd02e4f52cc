"""Row-level provenance: the input values of the few rows behind a value.

When a statistic rests on a handful of rows (a small cohort, one subgroup),
the ledger keeps those rows' values as read, plus the per-row variable the
plan computed from them, so ``explain`` and the review edition can show what
went in without loading any data.
"""
from __future__ import annotations

import math

#: keep row values only for values computed from at most this many rows
MAX_ROWS = 20


def row_values(frame, series, columns, label: str) -> dict:
    """``values`` and ``derived`` for a Source: {row: {column: value}} and (label, {row: value}).

    Columns are looked up in ``frame`` only when the series' index holds that
    table's row ids; a derived series equal to its one column is not repeated.
    Empty when there are more than MAX_ROWS rows.
    """
    if len(series) == 0 or len(series) > MAX_ROWS:  # before listing ids: a large cohort has many
        return {}
    ids = [str(i) for i in series.index]
    out = {}
    cols = [c for c in columns if c in frame.columns]
    if cols and all(i in frame.index for i in series.index):
        out["values"] = {str(i): {c: plain(frame.at[i, c]) for c in cols} for i in series.index}
    derived = {str(i): plain(v) for i, v in series.items()}
    same = "values" in out and len(cols) == 1 and all(out["values"][i][cols[0]] == derived[i] for i in ids)
    if not same:
        out["derived"] = (label, derived)
    return out


def plain(v):
    """A cell as JSON can hold it: None for missing, ISO text for dates, Python numbers."""
    import pandas as pd

    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    if hasattr(v, "item") and callable(v.item) and not hasattr(v, "isoformat"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "isoformat"):
        text = v.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(v, (bool, int, float, str)):
        return v
    return str(v)
