"""The row-by-row reading and validation papergen used before it checked columns at once (reference for tests).

Frozen copy of the per-row path (``git show 62f1d0f:src/papergen/validate.py``):
every row becomes a dict, every cell is checked in a Python loop. It reads
CSV files with the csv module only (``load._read_csv_records``, the path the
column reader falls back to; Excel files and unreadable ones as load.read_raw
does), and reuses the per-cell and per-row checks of papergen.validate, which
the column-wise validator uses unchanged to word every problem. Slow on big
files: for equivalence tests only.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from papergen.ingest import load
from papergen.codebook import Codebook, FileSpec, RuleSpec
from papergen.errors import DataError, DataErrors
from papergen.ingest.identifiers import header_kind, value_kind
from papergen.ingest.load import _csv_text, _read_csv_records
from papergen.ingest.cells import check_cell
from papergen.ingest.validate import (WITHHELD, Table, _row_rules, _show, _withheld, check_header, check_row_width,
                                      identifier_columns)


@dataclass
class OldRaw:
    """The RawTable of the row-wise path: header and a list of (spreadsheet row, cells)."""

    name: str
    path: Path
    shown_as: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    problems: list[DataError] = field(default_factory=list)
    usable: bool = True
    bad_cells: set[tuple[int, int]] = field(default_factory=set)

    # what validate.check_header reads (the first rows, when the header is not in row 1)
    @property
    def nrows(self) -> int:
        return len(self.rows)

    @property
    def rownums(self) -> list[int]:
        return [r for r, _ in self.rows]

    def row(self, k: int) -> list[str]:
        return self.rows[k][1]


def read_raw(name: str, path: Path, shown_as: str) -> OldRaw:
    """The old read_raw: the csv module for every CSV file (load.read_raw's checks of the file itself)."""
    raw = load.read_raw(name, path, shown_as)
    if raw.usable and Path(path).suffix.lower() in (".csv", ".txt", ""):
        header, rows = _read_csv_records(_csv_text(Path(path), shown_as)[0], shown_as)
        return OldRaw(name=name, path=Path(path), shown_as=shown_as, header=header, rows=rows)
    return OldRaw(name=name, path=raw.path, shown_as=shown_as, header=raw.header, rows=raw.rows,
                  problems=raw.problems, usable=raw.usable, bad_cells=raw.bad_cells)


def check_identifiers(raw: OldRaw, spec: FileSpec) -> tuple[list[DataError], set[str]]:
    """A column that looks like a direct identifier must be declared ``role: identifier`` (or pseudonym).

    Returns the problems (one per column, never showing a value) and the names
    of the columns flagged, whose values are then withheld from every message.
    """
    errs, flagged = [], set()
    for i, h in enumerate(raw.header):
        col = spec.columns.get(h)
        if col is not None and col.role is not None:
            continue
        kind = header_kind(h)
        if kind:
            errs.append(DataError(raw.shown_as, 1, h, None,
                                  f"column name suggests {kind}, a direct identifier; declare it in the codebook "
                                  "with role: identifier (checked, never printed) or delete the column"))
            flagged.add(h)
            continue
        seen = set()  # a value already looked at (most repeat) needs no second look
        for rownum, cells in raw.rows:
            text = cells[i] if i < len(cells) else None
            if text is None or text in seen:
                continue
            seen.add(text)
            kind = value_kind(text)
            if kind:
                errs.append(DataError(raw.shown_as, rownum, h, None,
                                      f"value looks like {kind}, a direct identifier (not shown here); declare "
                                      "the column in the codebook with role: identifier or delete it"))
                flagged.add(h)
                break
    return errs, flagged


def check_primary_key(raw: OldRaw, spec: FileSpec, typed: list[tuple[int, dict]]) -> list[DataError]:
    """The primary key identifies one row."""
    if not spec.primary_key:
        return []
    errs, first = [], {}
    cols = spec.primary_key
    for rownum, rec in typed:
        k = tuple(rec.get(c) for c in cols)
        if any(v is None for v in k):
            continue
        if k in first:
            shown = str(k[0]) if len(k) == 1 else " / ".join(map(str, k))
            what = f"duplicate {cols[0]}" if len(k) == 1 else f"duplicate {' + '.join(cols)}"
            errs.append(DataError(raw.shown_as, rownum, cols[-1], shown,
                                  f"{what}; first used in row {first[k]} (rule primary_key)"))
        else:
            first[k] = rownum
    return errs


def check_references(raw: OldRaw, spec: FileSpec, typed: list[tuple[int, dict]],
                     known: dict[str, set], shown: dict[str, str]) -> list[DataError]:
    """Every foreign key (e.g. lesions.patient_id) names a row that exists in the file it references.

    ``known`` holds the values of every column that passed its own checks ("patients.patient_id" -> ids);
    a reference into a column with problems is checked on the next run, not guessed at now.
    """
    errs = []
    for col in spec.columns.values():
        if not col.references or col.references not in known:
            continue
        target, _, tcol = col.references.partition(".")
        for rownum, rec in typed:
            v = rec.get(col.name)
            if v is not None and v not in known[col.references]:
                errs.append(DataError(raw.shown_as, rownum, col.name, v,
                                      f"no such {tcol} in {shown[target]} (rule references)"))
    return errs


def check_covers(raw: OldRaw, rule: RuleSpec, typed: list[tuple[int, dict]], keys: set) -> list[DataError]:
    """Every key of the referenced file has rows with each listed value (e.g. bilirubin on days 0 and 1)."""
    key_col, col = rule.columns
    have: dict = {}
    for _, rec in typed:
        have.setdefault(rec.get(key_col), set()).add(str(rec.get(col)))
    errs = []
    for k in sorted(keys, key=str):
        missing = [str(v) for v in rule.values if str(v) not in have.get(k, set())]
        if missing:
            errs.append(DataError(raw.shown_as, None, col, None,
                                  f"{key_col} {k} has no row with {col} {' or '.join(missing) if len(missing) == 1 else ', '.join(missing)}"
                                  f" (rule {rule.id})"))
    return errs


def validate_file(raw: OldRaw, spec: FileSpec) -> tuple[list[tuple[int, dict]], list[DataError]]:
    """All checks of one file; typed records (spreadsheet row, values) plus every problem found."""
    if not raw.usable:
        return [], list(raw.problems)
    ident_errs, flagged = check_identifiers(raw, spec)
    header_errs = check_header(raw, spec, skip=flagged)
    withheld = identifier_columns(spec, flagged)
    errs = [_withheld(e, withheld) for e in raw.problems] + ident_errs + header_errs
    if set(spec.columns) - set(raw.header) or not raw.rows:
        return [], errs  # cells cannot be matched to columns (or there are none)
    index = {h: i for i, h in enumerate(raw.header)}
    typed = []
    parsed = {name: {} for name in spec.columns}  # per column: cell text -> check_cell(text), which is pure
    for rownum, cells in raw.rows:
        width = check_row_width(raw, rownum, cells)
        if width:
            errs.append(width)
            continue
        rec, blamed = {}, set()
        for name, col in spec.columns.items():
            col = replace(col, role="identifier") if name in flagged else col
            i = index[name]
            text = cells[i] if i < len(cells) else ""
            if (rownum, i) in raw.bad_cells:  # a formula or Excel error, reported by load
                rec[name] = None
                blamed.add(name)
                continue
            known = parsed[name].get(text)
            if known is None:
                known = parsed[name][text] = check_cell(text, col)
            value, problem = known
            if problem:
                hidden = col.is_identifier or name in flagged
                errs.append(DataError(raw.shown_as, rownum, name, None if hidden else text,
                                      f"{problem} ({WITHHELD})" if hidden else problem))
                blamed.add(name)
            rec[name] = value
        errs += _row_rules(raw, spec, rownum, rec, blamed, withheld)
        typed.append((rownum, rec))
    errs += check_primary_key(raw, spec, typed)
    return typed, errs


def validate(book: Codebook, raws: dict[str, OldRaw]) -> dict[str, Table]:
    """Validate every file; raise DataErrors listing all problems, else typed Tables."""
    errs, typed = [], {}
    for name, spec in book.files.items():
        typed[name], file_errs = validate_file(raws[name], spec)
        errs += file_errs
    shown = {name: raws[name].shown_as for name in book.files}
    known = {}  # "file.column" -> its values, for columns whose every cell passed
    for name, spec in book.files.items():
        bad = {e.column for e in errs if e.file == shown[name]}
        if typed[name] and None not in bad:
            known.update({f"{name}.{c}": {rec[c] for _, rec in typed[name]} for c in spec.columns if c not in bad})
    for name, spec in book.files.items():
        reported = {e.row for e in errs if e.file == shown[name]}  # one line per problem: a row once
        errs += check_references(raws[name], spec, [(r, rec) for r, rec in typed[name] if r not in reported],
                                 known, shown)
        bad = {e.column for e in errs if e.file == shown[name]}
        for rule in spec.rules:
            target = spec.columns[rule.columns[0]].references
            if rule.kind == "covers" and target in known and not bad & (set(rule.columns) | {None}):
                errs += check_covers(raws[name], rule, typed[name], known[target])
    if errs:
        raise DataErrors(errs)
    return {name: _table(raws[name], spec, [rec for _, rec in typed[name]]) for name, spec in book.files.items()}


def _table(raw: OldRaw, spec: FileSpec, records: list[dict]) -> Table:
    """Typed frame of a clean file, without its direct identifiers, indexed by a one-column key."""
    import pandas as pd  # only once the data are known to be clean

    columns = [c for c, col in spec.columns.items() if not col.is_identifier]
    frame = pd.DataFrame([{c: r[c] for c in columns} for r in records], columns=columns)
    for cname in columns:
        if spec.columns[cname].type == "date":
            frame[cname] = pd.to_datetime(frame[cname])
    if len(spec.primary_key) == 1:
        frame = frame.set_index(spec.primary_key[0], drop=False)
        frame.index.name = None
    elif spec.primary_key:  # since issue 17 (not in the frozen copy): row ids "P01 / total_bilirubin / 0"
        frame.index = pd.Index([" / ".join(_show(r[c]) for c in spec.primary_key) for r in records], dtype=object)
    return Table(name=raw.name, shown_as=raw.shown_as, spec=spec, frame=frame)
