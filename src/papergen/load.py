"""Read raw data files (CSV or Excel) into rows of text, exactly as the author typed them.

Nothing is converted here: validate.py checks every cell against the codebook
and only then turns the rows into typed tables. Row numbers are the ones the
author sees in the spreadsheet (the header is row 1).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from papergen.errors import DataError


@dataclass
class RawTable:
    """A data file as text cells: header, and rows with their spreadsheet row numbers."""

    name: str
    path: Path
    shown_as: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_raw(name: str, path: Path, shown_as: str) -> RawTable:
    """Read one data file as text; CSV (UTF-8, comma) or .xlsx (first and only sheet)."""
    if not path.exists():
        raise DataError(shown_as, None, None, None, "file not found; the codebook lists it, so it must exist")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(path, shown_as)
    else:
        header, rows = _read_csv(path, shown_as)
    return RawTable(name=name, path=path, shown_as=shown_as, header=header, rows=rows)


def _read_csv(path: Path, shown: str):
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a BOM from Excel's "CSV UTF-8" export is harmless; accept it
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(shown, line, None, data[exc.start: exc.start + 1].hex(),
                        "file is not UTF-8 (Latin-1 or Windows encoding?); save it as 'CSV UTF-8'") from None
    if not text.strip():
        raise DataError(shown, None, None, None, "file is empty; expected a header row and one row per record")
    first = text.splitlines()[0]
    if ";" in first and "," not in first:
        raise DataError(shown, 1, None, first[:60], "header is separated by ';'; save the file as comma-separated CSV")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader)]
    rows = []
    for i, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line at the end of a spreadsheet export
        rows.append((i, cells))
    return header, rows


def _read_xlsx(path: Path, shown: str):
    import openpyxl  # only when the study really uses Excel

    try:
        wb = openpyxl.load_workbook(path, read_only=False, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise DataError(shown, None, None, None, f"cannot be opened as an Excel workbook ({type(exc).__name__})") from None
    if len(wb.worksheets) != 1:
        names = ", ".join(ws.title for ws in wb.worksheets)
        raise DataError(shown, None, None, names, "workbook has more than one sheet; keep one sheet per data file")
    ws = wb.worksheets[0]
    if ws.merged_cells.ranges:
        rng = sorted(str(r) for r in ws.merged_cells.ranges)[0]
        raise DataError(shown, None, rng, None, "merged cells; unmerge them so every cell holds one value")
    header, rows = None, []
    for r, row in enumerate(ws.iter_rows(), start=1):
        cells = []
        for cell in row:
            v = cell.value
            if isinstance(v, str) and v.startswith("="):
                raise DataError(shown, r, cell.column_letter, v, "cell holds a formula; paste values instead")
            cells.append(_xlsx_text(v, cell))
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if any(c.strip() for c in cells):
            rows.append((r, cells))
    if header is None:
        raise DataError(shown, None, None, None, "sheet is empty; expected a header row and one row per record")
    while header and header[-1] == "":
        header.pop()
    return header, [(r, c[: len(header)]) for r, c in rows]


def _xlsx_text(v, cell) -> str:
    """Excel cell -> the text the author would have typed (dates as ISO)."""
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and cell.number_format in ("General", "0"):
        return str(int(v))
    return str(v)
