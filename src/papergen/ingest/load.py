"""Read raw data files (CSV or Excel) into rows of text, exactly as the author typed them.

Nothing is converted here: validate.py checks every cell against the codebook
and only then turns the cells into typed tables. Row numbers are the ones the
author sees in the spreadsheet (the header is row 1). Problems with the file
itself (encoding, separator, formulas, merged cells) are collected on the
RawTable, so that every problem of every file can be reported at once.

Cells are kept column by column (one list of texts per header column), so
that a 100,000-patient file is checked with vectorised operations; a CSV
without quotes is split at once by plaincsv.py (its cells kept as bytes of
the file until asked for), any other CSV goes through the csv module.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from papergen.codebook import SUFFIX_FORMATS
from papergen.errors import DataError

#: cap on the problems collected from one file's cells (formulas, error values)
MAX_CELL_PROBLEMS = 50
#: read plain CSV files with pyarrow (arrowcsv); False: plaincsv's splitter, for the benchmark's comparison
USE_ARROW = True
#: a study whose data files hold this many bytes in all has them read two at a time (read_all)
PARALLEL_BYTES = 32 << 20


class _Unreadable(Exception):
    """Several problems that each make the file unreadable (e.g. merged cells)."""

    def __init__(self, problems: list[DataError]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass
class RawTable:
    """A data file as text cells, column by column, with each row's spreadsheet row number.

    ``rownums`` is a list, or a range when a reader numbers every row (Parquet; CSV without skipped rows).
    ``columns[j]`` holds the text of header column j in every row ("" where a
    short row has no such cell), as a list or a plaincsv.ByteColumn; ``ragged`` keeps the full cell list of each
    row (by position) whose width differs from the header's. ``problems`` are
    the file's own defects; ``usable`` is False when the file could not be
    read at all (then header and rows are empty).
    """

    name: str
    path: Path
    shown_as: str
    header: list[str]
    rownums: list[int] = field(default_factory=list)
    columns: list[list[str]] = field(default_factory=list)
    ragged: dict[int, list[str]] = field(default_factory=dict)
    problems: list[DataError] = field(default_factory=list)
    usable: bool = True
    bad_cells: set[tuple[int, int]] = field(default_factory=set)  # (row, 0-based column) already in problems
    variables: dict[str, dict] = field(default_factory=dict)  # what a typed format says of each column (draft)

    @property
    def nrows(self) -> int:
        return len(self.rownums)

    def row(self, k: int) -> list[str]:
        """The cells of the k-th data row, as the file has them."""
        if k in self.ragged:
            return self.ragged[k]
        return [col[k] for col in self.columns]

    @property
    def rows(self) -> list[tuple[int, list[str]]]:
        """Every data row as (spreadsheet row, cells): the row-wise view, for small files and tests."""
        return [(r, self.row(k)) for k, r in enumerate(self.rownums)]


def from_rows(name: str, path: Path, shown_as: str, header: list[str], rows: list[tuple[int, list[str]]],
              **extra) -> RawTable:
    """A RawTable from row lists (the csv module's or openpyxl's records)."""
    n = len(header)
    ragged = {k: cells for k, (_, cells) in enumerate(rows) if len(cells) != n}
    columns = [[cells[j] if j < len(cells) else "" for _, cells in rows] for j in range(n)]
    return RawTable(name=name, path=path, shown_as=shown_as, header=header, rownums=[r for r, _ in rows],
                    columns=columns, ragged=ragged, **extra)


def read_all(jobs: dict[str, tuple], shared=None) -> dict[str, RawTable]:
    """read_raw of each file (``jobs``: name -> (path, shown_as, spec, dictionary)), in the order given.

    When the study's files are large (PARALLEL_BYTES in all), two are read at a time: pyarrow parses, decodes and
    compares in its own code, without holding Python's lock, so the second core works while the first makes
    Python's strings. Each file's RawTable is the same either way (``shared`` hands out its strings under a lock).
    """
    sizes = [_size(job[0]) for job in jobs.values()]
    if len(jobs) < 2 or sum(sizes) < PARALLEL_BYTES:
        return {name: read_raw(name, *job, shared=shared) for name, job in jobs.items()}
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="papergen read")
    try:
        # the largest first, so that the two threads end together
        order = sorted(range(len(jobs)), key=lambda k: -sizes[k])
        names = list(jobs)
        futures = {names[k]: pool.submit(read_raw, names[k], *jobs[names[k]], shared=shared) for k in order}
        return {name: futures[name].result() for name in jobs}
    finally:  # after Ctrl-C (or a reader's bug) the files not yet begun are not read; the two under way end
        pool.shutdown(wait=True, cancel_futures=True)


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # read_raw says what is wrong with it


def read_raw(name: str, path: Path, shown_as: str, spec=None, dictionary: tuple[Path, str] | None = None,
             shared=None) -> RawTable:
    """Read one data file as text: CSV (UTF-8, comma-separated), .xlsx (one sheet with data), Parquet, SPSS, Stata,
    SAS, or a REDCap export (``spec.format``, by default the suffix's; ``dictionary``: the REDCap data dictionary
    and how messages name it). ``shared`` (coded.SharedTexts): the strings of the study's files read before, which
    a Parquet or plain CSV column with the same distinct texts holds too."""
    path = Path(path)
    fmt = spec.format if spec is not None else SUFFIX_FORMATS.get(path.suffix.lower(), "csv")
    try:
        if not path.exists():
            raise DataError(shown_as, None, None, None, "file not found; the codebook lists it, so it must exist")
        if path.is_dir():
            raise DataError(shown_as, None, None, None, "is a folder, not a file; the codebook lists a data file here")
        if fmt == "redcap":
            return _read_redcap(name, path, shown_as, spec, dictionary)
        if fmt == "parquet":
            from papergen.ingest.parquet import read_parquet

            header, rownums, columns, variables = read_parquet(path, shown_as, shared)
            return RawTable(name=name, path=path, shown_as=shown_as, header=header, rownums=rownums,
                            columns=columns, variables=variables)
        if fmt in ("spss", "stata", "sas"):
            return _read_statfile(name, path, shown_as, fmt, spec)
        if fmt == "xlsx" and path.suffix.lower() in (".xlsx", ".xlsm"):
            header, rows, problems, bad_cells = _read_xlsx(path, shown_as)
            return from_rows(name, path, shown_as, header, rows, problems=problems, bad_cells=bad_cells)
        if fmt == "csv" and path.suffix.lower() in (".csv", ".txt", ""):
            return _read_csv(name, path, shown_as, shared)
        # .xls, .ods, .numbers ...
        raise DataError(shown_as, None, None, path.suffix, "data files are read as CSV (UTF-8), .xlsx, Parquet, "
                        "SPSS, Stata, SAS or a REDCap export; save this one as .xlsx or 'CSV UTF-8'")
    except OSError as exc:  # unreadable: permissions, a device, a broken disk
        problem = DataError(shown_as, None, None, None, f"cannot be read ({exc.strerror or type(exc).__name__})")
        return RawTable(name=name, path=path, shown_as=shown_as, header=[], problems=[problem], usable=False)
    except DataError as exc:
        return RawTable(name=name, path=path, shown_as=shown_as, header=[], problems=[exc], usable=False)
    except _Unreadable as exc:
        return RawTable(name=name, path=path, shown_as=shown_as, header=[], problems=exc.problems, usable=False)


def _read_csv(name: str, path: Path, shown_as: str, shared=None) -> RawTable:
    """A plain CSV by pyarrow's reader (arrowcsv); one it cannot read line for line by plaincsv or the csv module."""
    from papergen.ingest.arrowcsv import read_plain  # pyarrow and numpy: only when data are really read
    from papergen.ingest.plaincsv import split_plain

    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    plain = read_plain(data[3:] if bom else data, shared) if USE_ARROW else None
    if plain is not None:
        header, rownums, columns = plain
        return RawTable(name=name, path=path, shown_as=shown_as, header=header, rownums=rownums, columns=columns)
    text, data = _csv_text(path, shown_as)
    fast = split_plain(text, data, lazy=True)
    if fast is None:
        header, rows = _read_csv_records(text, shown_as)
        return from_rows(name, path, shown_as, header, rows)
    header, rownums, columns, ragged = fast
    return RawTable(name=name, path=path, shown_as=shown_as, header=header, rownums=rownums,
                    columns=columns, ragged=ragged)


def _read_statfile(name: str, path: Path, shown_as: str, fmt: str, spec) -> RawTable:
    """An SPSS, Stata or SAS file; its value labels checked against the codebook's when it gives them."""
    from papergen.ingest.statfiles import check_labels, read_statfile

    header, rownums, columns, variables, _ = read_statfile(path, shown_as, fmt)
    problems = []
    if spec is not None:
        key = spec.primary_key[0] if spec.primary_key and spec.primary_key[0] in header else None
        ids = columns[header.index(key)] if key else None
        problems = check_labels(shown_as, header, columns, variables, spec,
                                lambda k: ids[k] if ids is not None else k + 1)
    return RawTable(name=name, path=path, shown_as=shown_as, header=header, rownums=rownums, columns=columns,
                    problems=problems, variables=variables)


def _read_redcap(name: str, path: Path, shown_as: str, spec, dictionary: tuple[Path, str] | None) -> RawTable:
    """One table of a REDCap export (the records, or a repeating instrument's instances), with its dictionary."""
    from papergen.ingest.redcap import read_dictionary, redcap_table

    if dictionary is None:
        raise DataError(shown_as, None, None, None, "a REDCap export is read with its data dictionary "
                        "(codebook: dictionary:)")
    export = _read_csv(name, path, shown_as)
    if export.problems:
        raise _Unreadable(export.problems)
    fields = read_dictionary(*dictionary)
    header, rownums, columns, ragged, problems, bad_cells, variables = redcap_table(export, spec, fields,
                                                                                    dictionary[1])
    return RawTable(name=name, path=path, shown_as=shown_as, header=header, rownums=rownums, columns=columns,
                    ragged=ragged, problems=problems, bad_cells=bad_cells, variables=variables)


# --- CSV ---------------------------------------------------------------------------

def _csv_text(path: Path, shown: str) -> tuple[str, bytes]:
    """The file's text and bytes (without a BOM), after the checks of the whole file (encoding, separator)."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a BOM from Excel's "CSV UTF-8" export is harmless; accept it
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(shown, None, None, None, "file is UTF-16 (Excel 'Unicode text'); save it as 'CSV UTF-8'")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(shown, line, None, f"byte 0x{data[exc.start]:02x}",
                        "file is not UTF-8 (Latin-1, GBK or another Windows encoding?); "
                        "save it as 'CSV UTF-8'") from None
    if not text.strip():
        raise DataError(shown, None, None, None, "file is empty; expected a header row and one row per record")
    first = _first_line(text)
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if sep in first and "," not in first:
            raise DataError(shown, 1, None, first[:60], f"columns are separated by {name}; "
                            "save the file as comma-separated CSV")
    return text, data


#: every character str.splitlines() breaks a line at
_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _first_line(text: str) -> str:
    """``text.splitlines()[0]`` without splitting a whole large file."""
    m = _LINE_BREAK.search(text)
    return text[:m.start()] if m else text


def _read_csv_records(text: str, shown: str):
    """Header and rows by the csv module: for files with quotes, lone carriage returns or ragged headers."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    try:
        for cells in reader:
            records.append(cells)
    except csv.Error as exc:
        raise _csv_error(text, shown, len(records) + 1, records[0] if records else [], exc) from None
    header = [h.strip() for h in records[0]]
    while header and header[-1] == "":
        header.pop()  # trailing separators after the last column name
    rows = []
    for i, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line, e.g. at the end of a spreadsheet export
        rows.append((i, cells))
    return header, rows


def _csv_error(text: str, shown: str, row: int, header: list[str], exc: csv.Error) -> DataError:
    """The csv module's failure at a record, as the row (and, for a cell too long, the column) it happened in."""
    limit = csv.field_size_limit()
    if "field larger than field limit" not in str(exc):
        return DataError(shown, row, None, None, f"not a well-formed CSV file ({exc}); check for an unclosed quote "
                         "in this row or the one before")
    rule = f"a cell of more than {limit:,} characters (a pasted document, or values without commas between them?)"
    if '"' in text:  # the csv module's record may span lines: the row is known, the column is not
        return DataError(shown, row, None, None, f"a cell of more than {limit:,} characters (a quote left open, "
                         "or a pasted document?)")
    line = text.split("\n", row)[row - 1]
    cells = line.split(",")
    j = max(range(len(cells)), key=lambda k: len(cells[k]))
    column = header[j].strip() if j < len(header) else None
    return DataError(shown, row, column, cells[j], rule)


# --- Excel -------------------------------------------------------------------------

def _read_xlsx(path: Path, shown: str):
    import openpyxl  # only when the study really uses Excel

    try:
        wb = openpyxl.load_workbook(path, read_only=False, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise DataError(shown, None, None, None,
                        f"cannot be opened as an Excel workbook ({type(exc).__name__})") from None
    sheets = [ws for ws in wb.worksheets if any(c.value is not None for row in ws.iter_rows() for c in row)]
    if len(sheets) > 1:
        names = ", ".join(ws.title for ws in sheets)
        raise DataError(shown, None, None, names, "workbook has data on more than one sheet; "
                        "keep one sheet per data file (one codebook entry each)")
    if not sheets:
        raise DataError(shown, None, None, None, "workbook is empty; expected a header row and one row per record")
    ws = sheets[0]
    grid = [list(row) for row in ws.iter_rows()]
    header = [_xlsx_text(c.value).strip() for c in grid[0]] if grid else []
    while header and header[-1] == "":
        header.pop()
    problems = []
    for rng in sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        col = header[rng.min_col - 1] if rng.min_col - 1 < len(header) and rng.min_row > 1 else None
        problems.append(DataError(shown, rng.min_row, col, str(rng),
                                  "merged cells; unmerge them and type the value into every cell"))
    if problems:  # merged cells shift every later check, so report them alone
        raise _Unreadable(problems[:MAX_CELL_PROBLEMS])
    rows, bad_cells = [], set()
    for cells in grid[1:]:
        texts = []
        for cell in cells:
            problem = _cell_problem(cell)
            if problem:
                bad_cells.add((cell.row, cell.column - 1))
                col = header[cell.column - 1] if cell.column - 1 < len(header) else cell.column_letter
                if len(problems) < MAX_CELL_PROBLEMS:
                    problems.append(DataError(shown, cell.row, col, str(cell.value), problem))
            texts.append("" if problem else _xlsx_text(cell.value))
        if any(t.strip() for t in texts) or any(c.value is not None for c in cells):
            rows.append((cells[0].row, texts))
    for cell in grid[0] if grid else []:
        problem = _cell_problem(cell)
        if problem:
            problems.insert(0, DataError(shown, 1, cell.column_letter, str(cell.value), problem))
    return header, rows, problems, bad_cells


def _cell_problem(cell) -> str | None:
    """A cell whose shown value is not a typed value: a formula or an Excel error."""
    if cell.data_type == "f":
        return "cell holds a formula; paste values only (Paste Special > Values)"
    if cell.data_type == "e":
        return "cell shows an Excel error; correct or clear it"
    return None


def _xlsx_text(v) -> str:
    """Excel cell value -> the text the author would have typed (dates as ISO, no float artefacts)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return format(Decimal(repr(v)), "f")  # 1e-05 -> 0.00001, 8.5 -> 8.5
    return str(v)
