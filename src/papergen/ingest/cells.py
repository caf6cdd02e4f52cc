"""One cell checked against its codebook column: typed value, or the problem in the author's words.

A problem of a direct identifier's cell (``role: identifier``) never shows a value: not the cell's,
not one derived from it (the date of an Excel serial), not the allowed values or a "did you mean".

check_cell parses a cell by its column's type (check_integer, check_number,
check_flag, check_date, check_category, check_string) and checks its range. The
column-wise check (colcheck.py) judges each distinct text of a column with it
once, so a problem is worded the same however many rows hold it.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re

from papergen.codebook import ColumnSpec

INT_RE = re.compile(r"^[+-]?\d+$")
NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: what people type for "not known" instead of leaving the cell empty
MISSING_MARKERS = {"na", "n/a", "n.a.", "nan", "null", "none", "-", "--", "?", "??", "unknown", "missing", ".",
                   "#n/a", "nd", "n.d.", "not done", "/"}
EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (after its 1900 leap-year bug)


def check_cell(value: str, col: ColumnSpec):
    """Parse one cell by its column type; return (typed value, problem or None)."""
    v = value.strip()
    if v == "":
        return None, ("required value is missing" if col.required else None)
    if value != v:
        hint = _category_hint(v, col) if col.type == "category" else ""
        return None, f"value has leading or trailing spaces{hint}"
    out, problem = CELL_CHECKS[col.type](v, col)
    if v.lower() in MISSING_MARKERS and (problem or col.type == "string"):
        if col.required:
            shown = "the text" if col.is_identifier else repr(v)
            return None, f"{shown} marks a missing value, but the codebook requires a value here"
        return None, "leave the cell empty for a missing value instead of writing a placeholder"
    if problem:
        return None, problem
    return out, check_range(out, col)


def check_integer(v: str, col: ColumnSpec):
    if INT_RE.match(v):
        return int(v), None
    return None, _number_problem(v, "expected a whole number")


def check_number(v: str, col: ColumnSpec):
    if NUM_RE.match(v):
        return float(v), None
    return None, _number_problem(v, "expected a number")


def _number_problem(v: str, default: str) -> str:
    if re.fullmatch(r"[+-]?[\d.]*\d,\d[\d,.]*", v):
        return "comma in a number; use '.' as the decimal separator and no thousands separator"
    if re.fullmatch(r"[+-]?\d+(\.\d+)?\s*%", v):
        return "remove the % sign (the unit is given in the codebook)"
    if re.fullmatch(r"[<>≤≥]=?\s*[\d.]+", v):
        return f"{default}; a qualified value like '<5' is not a number (record the limit in another column)"
    if re.fullmatch(r"[+-]?\d+(\.\d+)?\s*[^\d\s.,][^\d]*", v):
        return f"{default}; remove the unit (the codebook gives it)"
    return default


def check_flag(v: str, col: ColumnSpec):
    if v in ("0", "1"):
        return int(v), None
    if v.lower() in ("yes", "no", "y", "n", "true", "false", "dead", "alive"):
        return None, "expected 0 or 1 (write 1 for yes and 0 for no)"
    return None, "expected 0 or 1"


def check_date(v: str, col: ColumnSpec):
    if DATE_RE.match(v):
        try:
            return dt.date.fromisoformat(v), None
        except ValueError:
            return None, "not a real calendar date"
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", v)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if a <= 12 and b <= 12 and a != b:
            return None, "ambiguous date (day/month or month/day?); write it as YYYY-MM-DD"
        if not _real_date(y, b, a) and not _real_date(y, a, b):
            return None, "not a real calendar date; write dates as YYYY-MM-DD"
        return None, "expected a date written YYYY-MM-DD"
    if re.fullmatch(r"\d{4,5}(\.0+)?", v):
        day = EXCEL_EPOCH + dt.timedelta(days=int(float(v)))
        guess = "" if col.is_identifier else f" ({day.isoformat()}?)"  # the date itself would show the value
        return None, (f"looks like an Excel date serial number{guess}; format the cells as dates "
                      "or type YYYY-MM-DD")
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", v):
        return None, "write the month and day with two digits (YYYY-MM-DD)"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2})?", v):
        return None, "date has a time of day; keep the date only (YYYY-MM-DD)"
    return None, "expected a date written YYYY-MM-DD"


def _real_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def check_category(v: str, col: ColumnSpec):
    if v in col.values:
        return v, None
    if col.is_identifier:  # the allowed values are themselves identifiers (names of people)
        return None, "not one of the allowed values of the codebook"
    return None, f"not one of the allowed values {', '.join(col.values)}{_category_hint(v, col)}"


def _category_hint(v: str, col: ColumnSpec) -> str:
    if col.is_identifier:
        return ""
    low = v.strip().lower()
    close = [c for c in col.values if c.lower() == low]
    close = close or [c for c in col.values if low and c.lower().startswith(low)][:1]
    close = close or difflib.get_close_matches(v.strip(), col.values, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_string(v: str, col: ColumnSpec):
    if "\n" in v or "\r" in v:
        return None, "cell contains a line break"
    if col.pattern and not re.match(col.pattern, v):
        return None, f"does not match the pattern {col.pattern}"
    return v, None


CELL_CHECKS = {"integer": check_integer, "number": check_number, "flag": check_flag, "date": check_date,
               "category": check_category, "string": check_string}


def check_range(value, col: ColumnSpec) -> str | None:
    """Numbers and dates inside the codebook's min and max."""
    lo, hi = col.min, col.max
    if col.type == "date":
        lo = dt.date.fromisoformat(str(lo)) if lo is not None else None
        hi = dt.date.fromisoformat(str(hi)) if hi is not None else None
        if lo is not None and value < lo:
            return f"before the earliest allowed date {lo}"
        if hi is not None and value > hi:
            return f"after the latest allowed date {hi}"
        return None
    unit = f" {col.unit}" if col.unit else ""
    if lo is not None and value < lo:
        return f"below the allowed minimum {lo}{unit}"
    if hi is not None and value > hi:
        return f"above the allowed maximum {hi}{unit}"
    return None
