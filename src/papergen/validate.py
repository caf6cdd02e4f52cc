"""Check raw data against the codebook before any statistics, then type it.

Each check_<property> function tests one rule and returns the problems it
found as DataError objects (file, spreadsheet row, column, value, rule), so
the author sees every problem of a file at once.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass

from papergen.codebook import Codebook, ColumnSpec, FileSpec
from papergen.errors import DataError, DataErrors
from papergen.load import RawTable

INT_RE = re.compile(r"^[+-]?\d+$")
NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Table:
    """A validated data file: typed pandas frame plus where it came from."""

    name: str
    shown_as: str
    spec: FileSpec
    frame: "object"  # pandas.DataFrame, indexed by the primary key when there is one


def check_header(raw: RawTable, spec: FileSpec) -> list[DataError]:
    """Every codebook column present once, no unknown column."""
    errs = []
    seen = set()
    for h in raw.header:
        if h in seen:
            errs.append(DataError(raw.shown_as, 1, h, h, "column appears twice in the header"))
        seen.add(h)
        if h not in spec.columns:
            close = difflib.get_close_matches(h, spec.columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "; add it to the codebook or remove it"
            errs.append(DataError(raw.shown_as, 1, h, h, f"column is not in the codebook{hint}"))
    for c in spec.columns:
        if c not in seen:
            errs.append(DataError(raw.shown_as, 1, c, None, "required column is missing from the header"))
    if not raw.rows and not errs:
        errs.append(DataError(raw.shown_as, None, None, None, "file has a header but no data rows"))
    return errs


def check_cell(value: str, col: ColumnSpec):
    """Parse one cell by its column type; return (typed value, problem or None)."""
    v = value.strip()
    if v == "":
        return None, ("required value is missing" if col.required else None)
    if value != v:
        return None, "value has leading or trailing spaces"
    t = col.type
    if t == "integer":
        if not INT_RE.match(v):
            return None, "expected a whole number"
        out = int(v)
    elif t == "number":
        if not NUM_RE.match(v):
            why = "decimal separator must be '.'" if re.match(r"^[+-]?\d+,\d+$", v) else "expected a number"
            return None, why
        out = float(v)
    elif t == "flag":
        if v not in ("0", "1"):
            return None, "expected 0 or 1"
        out = int(v)
    elif t == "date":
        if not DATE_RE.match(v):
            return None, "expected a date written YYYY-MM-DD"
        try:
            out = dt.date.fromisoformat(v)
        except ValueError:
            return None, "not a real calendar date"
    elif t == "category":
        if v not in col.values:
            close = [c for c in col.values if c.lower() == v.lower()] or difflib.get_close_matches(v, col.values, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return None, f"not one of the allowed values {', '.join(col.values)}{hint}"
        out = v
    else:
        out = v
        if col.pattern and not re.match(col.pattern, v):
            return None, f"does not match the pattern {col.pattern}"
    return out, check_range(out, col)


def check_range(value, col: ColumnSpec) -> str | None:
    """Numbers and dates inside the codebook's min and max."""
    lo, hi = col.min, col.max
    if col.type == "date":
        lo = dt.date.fromisoformat(str(lo)) if lo is not None else None
        hi = dt.date.fromisoformat(str(hi)) if hi is not None else None
    unit = f" {col.unit}" if col.unit and col.type != "date" else ""
    if lo is not None and value < lo:
        return f"below the allowed minimum {lo}{unit}"
    if hi is not None and value > hi:
        return f"above the allowed maximum {hi}{unit}"
    return None


def check_primary_key(raw: RawTable, spec: FileSpec, typed: list[dict]) -> list[DataError]:
    """The primary key identifies one row."""
    if not spec.primary_key:
        return []
    errs, first = [], {}
    cols = spec.primary_key
    for (rownum, _), rec in zip(raw.rows, typed):
        k = tuple(rec.get(c) for c in cols)
        if any(v is None for v in k):
            continue
        if k in first:
            shown = k[0] if len(k) == 1 else " / ".join(map(str, k))
            what = "duplicate id" if len(k) == 1 else f"duplicate {' + '.join(cols)}"
            errs.append(DataError(raw.shown_as, rownum, cols[-1], shown, f"{what}; first used in row {first[k]}"))
        else:
            first[k] = rownum
    return errs


def check_rule(raw: RawTable, rule, typed: list[dict]) -> list[DataError]:
    """A cross-column rule of the codebook, row by row."""
    errs = []
    for (rownum, _), rec in zip(raw.rows, typed):
        bad_col = _rule_broken(rule, rec)
        if bad_col:
            errs.append(DataError(raw.shown_as, rownum, bad_col, rec.get(bad_col), f"{rule.text or rule.id} (rule {rule.id})"))
    return errs


def _rule_broken(rule, rec) -> str | None:
    """Name of the column that breaks the rule in this record, or None."""
    cols = rule.columns
    if rule.kind in ("before", "not_after"):
        for a, b in zip(cols, cols[1:]):
            va, vb = rec.get(a), rec.get(b)
            if va is None or vb is None:
                continue
            if va > vb or (rule.kind == "before" and va == vb):
                return b
    elif rule.kind == "present_iff":
        flag = rec.get(rule.flag)
        present = rec.get(cols[0]) is not None
        if flag is not None and present != (flag == 1):
            return cols[0]
    elif rule.kind == "equal_when":
        a, b = cols
        if rec.get(rule.flag) == 1 and rec.get(a) is not None and rec.get(a) != rec.get(b):
            return b
    return None


def check_references(tables: dict[str, "Table"], raws: dict[str, RawTable], book: Codebook) -> list[DataError]:
    """Every foreign key (e.g. lesions.patient_id) names a row that exists."""
    errs = []
    for name, spec in book.files.items():
        for col in spec.columns.values():
            if not col.references:
                continue
            target, _, tcol = col.references.partition(".")
            known = set(tables[target].frame[tcol]) if tcol in tables[target].frame else set(tables[target].frame.index)
            for (rownum, _), v in zip(raws[name].rows, tables[name].frame[col.name]):
                if v is not None and v == v and v not in known:
                    errs.append(DataError(raws[name].shown_as, rownum, col.name, v,
                                          f"no such {tcol} in {book.files[target].path}"))
    return errs


def validate_file(raw: RawTable, spec: FileSpec) -> tuple[list[dict], list[DataError]]:
    """All checks of one file; typed records plus every problem found."""
    errs = check_header(raw, spec)
    if errs:
        return [], errs
    index = {h: i for i, h in enumerate(raw.header)}
    typed = []
    for rownum, cells in raw.rows:
        if len(cells) > len(raw.header) and any(c.strip() for c in cells[len(raw.header):]):
            errs.append(DataError(raw.shown_as, rownum, None, cells[len(raw.header)], "row has more cells than the header"))
        rec = {}
        for name, col in spec.columns.items():
            i = index[name]
            text = cells[i] if i < len(cells) else ""
            value, problem = check_cell(text, col)
            if problem:
                errs.append(DataError(raw.shown_as, rownum, name, text, problem))
            rec[name] = value
        typed.append(rec)
    errs += check_primary_key(raw, spec, typed)
    for rule in spec.rules:
        errs += check_rule(raw, rule, typed)
    return typed, errs


def validate(book: Codebook, raws: dict[str, RawTable]) -> dict[str, Table]:
    """Validate every file; raise DataErrors listing all problems, else typed Tables."""
    import pandas as pd

    errs, tables = [], {}
    for name, spec in book.files.items():
        typed, file_errs = validate_file(raws[name], spec)
        errs += file_errs
        frame = pd.DataFrame(typed, columns=list(spec.columns))
        for cname, col in spec.columns.items():
            if col.type == "date":
                frame[cname] = pd.to_datetime(frame[cname])
        tables[name] = Table(name=name, shown_as=raws[name].shown_as, spec=spec, frame=frame)
    if not errs:
        errs += check_references(tables, raws, book)
    if errs:
        raise DataErrors(errs)
    for t in tables.values():
        if len(t.spec.primary_key) == 1:
            t.frame = t.frame.set_index(t.spec.primary_key[0], drop=False)
            t.frame.index.name = None
    return tables
