"""Check raw data against the codebook before any statistics, then type it.

Each check_<property> function tests one rule and returns the problems it
found as DataError objects (file, spreadsheet row, column, value, rule), so the
author sees every problem of every file at once, one line each. Values of
direct identifiers are never shown. Only clean data become typed tables, and
identifier columns are dropped from them, so no analysis can print one.

Files are checked column-wise (colcheck.py): every distinct text of a column
is judged once by cells.check_cell, rules, keys and references run on whole arrays,
and only a row that breaks something is walked cell by cell to word its
problems, in the order the author reads the file.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field, replace

import numpy as np

from papergen.ingest import colcheck, colrules
from papergen.ingest.cells import check_cell
from papergen.codebook import Codebook, FileSpec, RuleSpec
from papergen.errors import SHOWN_WHOLE, DataError, DataErrors, cut_text
from papergen.ingest.identifiers import header_kind, value_kind
from papergen.ingest.load import RawTable

WITHHELD = "value withheld: the column is a direct identifier"


@dataclass
class Table:
    """A validated data file: typed pandas frame plus where it came from."""

    name: str
    shown_as: str
    spec: FileSpec
    frame: "object"  # pandas.DataFrame, indexed by the primary key when there is one
    #: foreign key column -> Link: each row's row number in the referenced file, as validation found it
    links: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """Where each row's foreign key (lesions.patient_id) is in the referenced file, from the reader's codes:
    ``rows_of_texts[k]`` is the row of distinct text k there (-1: none), ``codes`` each row's distinct text.
    Analysis.linked_rows checks it against the frames before handing it out."""

    codes: np.ndarray
    rows_of_texts: np.ndarray
    target_rows: int  # rows of the referenced file

    def rows(self) -> np.ndarray:
        return self.rows_of_texts[self.codes]


# --- the file's shape ---------------------------------------------------------------

def check_header(raw: RawTable, spec: FileSpec, skip: set[str] = frozenset()) -> list[DataError]:
    """Every codebook column present once, no unknown column, the header in row 1, some data rows."""
    need = max(1, len(spec.columns) // 2)
    if len(set(raw.header) & set(spec.columns)) < need:
        for rownum, cells in ((raw.rownums[k], raw.row(k)) for k in range(min(10, raw.nrows))):
            if len({c.strip() for c in cells} & set(spec.columns)) >= need:
                return [DataError(raw.shown_as, rownum, None, None,
                                  f"the header is in row {rownum}, not row 1; delete the row(s) above it "
                                  "(a title or notes) so that the column names are in row 1")]
    errs, seen = [], set()
    for h in raw.header:
        if h in seen:
            errs.append(DataError(raw.shown_as, 1, h, h, "column appears twice in the header"))
        seen.add(h)
        if h == "":
            errs.append(DataError(raw.shown_as, 1, None, "", "a column has no name in the header; "
                                  "name it as in the codebook or delete the column"))
        elif h not in spec.columns and h not in skip:
            close = difflib.get_close_matches(h, spec.columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "; add it to the codebook or delete the column"
            errs.append(DataError(raw.shown_as, 1, h, h, f"column is not in the codebook{hint}"))
    for c in spec.columns:
        if c not in seen:
            errs.append(DataError(raw.shown_as, 1, c, None, "required column is missing from the header"))
    if not raw.nrows and not errs:
        errs.append(DataError(raw.shown_as, None, None, None, "file has a header but no data rows"))
    return errs


def check_row_width(raw: RawTable, rownum: int, cells: list[str]) -> DataError | None:
    """A row has as many cells as the header (a stray or missing comma shifts every value)."""
    n = len(raw.header)
    if len(cells) > n and any(c.strip() for c in cells[n:]):
        return DataError(raw.shown_as, rownum, None, None,
                         f"row has {len(cells)} cells but the header has {n} columns (a stray comma, "
                         "or a value to the right of the last column?)")
    if len(cells) < n and raw.path.suffix.lower() not in (".xlsx", ".xlsm"):
        return DataError(raw.shown_as, rownum, None, None,
                         f"row has {len(cells)} cells but the header has {n} columns (a missing comma?)")
    return None


def check_identifiers(raw: RawTable, spec: FileSpec,
                      columns: "colcheck.FileColumns") -> tuple[list[DataError], set[str]]:
    """A column that looks like a direct identifier must be declared ``role: identifier`` (or pseudonym).

    Returns the problems (one per column, never showing a value) and the names
    of the columns flagged, whose values are then withheld from every message.
    The distinct values are looked at in order of first appearance, so the row
    named is the first row holding a value that looks like an identifier.
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
        codes, uniques = columns.factorised(i)
        for j in np.flatnonzero(colcheck.might_identify(uniques, columns.arrow(i))):
            kind = value_kind(uniques[j])
            if kind:
                rownum = raw.rownums[int(np.argmax(codes == j))]
                errs.append(DataError(raw.shown_as, rownum, h, None,
                                      f"value looks like {kind}, a direct identifier (not shown here); declare "
                                      "the column in the codebook with role: identifier or delete it"))
                flagged.add(h)
                break
    return errs, flagged


# --- keys ---------------------------------------------------------------------------

def check_primary_key(raw: RawTable, spec: FileSpec, checked: "colcheck.FileColumns",
                      hidden=frozenset()) -> list[DataError]:
    """The primary key identifies one row (rows with an empty key cell, or a width error, are not compared).
    A key of a column flagged as looking like an identifier (``hidden``) is not shown."""
    if not spec.primary_key:
        return []
    cols = spec.primary_key
    errs = []
    for k, first in colrules.duplicate_keys([checked[c] for c in cols], checked.typed):
        key = tuple(checked[c].value(k) for c in cols)
        shown = str(key[0]) if len(key) == 1 else " / ".join(map(str, key))
        what = f"duplicate {cols[0]}" if len(key) == 1 else f"duplicate {' + '.join(cols)}"
        withheld = bool(set(cols) & set(hidden))
        errs.append(DataError(raw.shown_as, raw.rownums[k], cols[-1], None if withheld else shown,
                              f"{what}; first used in row {raw.rownums[first]} (rule primary_key"
                              + (f"; {WITHHELD})" if withheld else ")")))
    return errs


def check_references(raw: RawTable, spec: FileSpec, checked: "colcheck.FileColumns", skip: np.ndarray,
                     known: dict[str, "colcheck.Known"], shown: dict[str, str]) -> list[DataError]:
    """Every foreign key (e.g. lesions.patient_id) names a row that exists in the file it references.

    ``known`` holds the values of every column that passed its own checks ("patients.patient_id" -> ids);
    a reference into a column with problems is checked on the next run, not guessed at now. Rows in
    ``skip`` already have a problem reported.
    """
    errs = []
    for col in spec.columns.values():
        if not col.references or col.references not in known:
            continue
        target, _, tcol = col.references.partition(".")
        column = checked[col.name]
        target_values, texts = known[col.references], column.text_values()
        if target_values.arrow is not None and texts is not None:  # texts against texts: pyarrow looks them up
            found = column.positions_in(target_values.arrow) >= 0
        else:
            found = np.fromiter(map(target_values.values.__contains__, column.values), dtype=bool,
                                count=len(column.values))
        missing = column.has_u & ~found
        rows = missing[column.codes] & column.present() & checked.typed & ~skip
        for k in np.flatnonzero(rows):
            if column.spec.is_identifier:  # declared, or flagged as looking like one
                errs.append(DataError(raw.shown_as, raw.rownums[k], col.name, None,
                                      f"no such {tcol} in {shown[target]} (rule references; {WITHHELD})"))
                continue
            errs.append(DataError(raw.shown_as, raw.rownums[k], col.name, column.value(k),
                                  f"no such {tcol} in {shown[target]} (rule references)"))
    return errs


# --- cross-column rules: one check per kind; each returns (column, message) or None -----

# ``hidden``: the columns whose values are withheld (direct identifiers); a message names them, never their value

def check_before(rule: RuleSpec, rec: dict, hidden=frozenset()):
    """Columns in strictly increasing order: operation_date < discharge_date."""
    return _ordered(rule, rec, strict=True, hidden=hidden)


def check_not_after(rule: RuleSpec, rec: dict, hidden=frozenset()):
    """Columns in non-decreasing order: progression_date <= last_followup_date."""
    return _ordered(rule, rec, strict=False, hidden=hidden)


def _ordered(rule: RuleSpec, rec: dict, strict: bool, hidden):
    for a, b in zip(rule.columns, rule.columns[1:]):
        va, vb = rec.get(a), rec.get(b)
        if va is None or vb is None or (va < vb if strict else va <= vb):
            continue
        if rule.column == a:
            return a, f"must be {'before' if strict else 'on or before'} {b} ({_show(vb, b in hidden)})"
        return b, f"must be {'after' if strict else 'on or after'} {a} ({_show(va, a in hidden)})"
    return None


def check_present_iff(rule: RuleSpec, rec: dict, hidden=frozenset()):
    """The column has a value if and only if the flag is 1: progression_date iff progressed == 1."""
    col, flag = rule.columns[0], rule.flag
    f = rec.get(flag)
    if f is None:
        return None
    present = rec.get(col) is not None
    if f == 1 and not present:
        return col, f"required when {flag} is 1"
    if f == 0 and present:
        return col, f"must be empty when {flag} is 0"
    return None


def check_equal_when(rule: RuleSpec, rec: dict, hidden=frozenset()):
    """The two columns are equal when the flag is 1: last_followup_date = death_date when dead."""
    a, b = rule.columns
    if rec.get(rule.flag) != 1 or rec.get(a) is None or rec.get(b) is None or rec[a] == rec[b]:
        return None
    if rule.column == a:
        return a, f"must equal {b} ({_show(rec[b], b in hidden)}) when {rule.flag} is 1"
    return b, f"must equal {a} ({_show(rec[a], a in hidden)}) when {rule.flag} is 1"


def check_starts_with(rule: RuleSpec, rec: dict, hidden=frozenset()):
    """The second column's text starts with the first's: lesion_id P01-L02 belongs to patient P01."""
    a, b = rule.columns
    va, vb = rec.get(a), rec.get(b)
    if va is None or vb is None or str(vb).startswith(str(va)):
        return None
    return b, f"must start with {a} ({_show(va, a in hidden)})"


ROW_RULES = {"before": check_before, "not_after": check_not_after, "present_iff": check_present_iff,
             "equal_when": check_equal_when, "starts_with": check_starts_with}


def check_covers(raw: RawTable, rule: RuleSpec, checked: "colcheck.FileColumns | None",
                 known: "colcheck.Known") -> list[DataError]:
    """Every key of the referenced file has rows with each listed value (e.g. bilirubin on days 0 and 1).

    A file whose cells could not be read as columns (``checked`` None) has no rows, so no key is covered.
    """
    key_col, col = rule.columns
    if checked is not None and _all_covered(rule, checked, known):
        return []
    keys = known.values
    have = {str(v): set() for v in rule.values}
    if checked is not None:
        keyc, valc = checked[key_col], checked[col]
        texts = valc.texts()  # str() of each distinct typed value
        for v in have:
            rows = (texts == v)[valc.codes]
            if valc.bad_rows is not None:  # a cell load reported has no value: str(None)
                rows[valc.bad_rows] = v == "None"
            have[v] = keyc.distinct_values(rows & checked.typed)
    short = set().union(*(keys - h for h in have.values()))
    errs = []
    hidden = checked is not None and checked[key_col].spec.is_identifier
    for k in sorted(short, key=str):
        missing = [str(v) for v in rule.values if k not in have[str(v)]]
        errs.append(DataError(raw.shown_as, None, col, None,
                              f"{key_col} {_show(k, hidden)} has no row with {col} {' or '.join(missing) if len(missing) == 1 else ', '.join(missing)}"
                              f" (rule {rule.id})"))
    return errs


def _all_covered(rule: RuleSpec, checked: "colcheck.FileColumns", known: "colcheck.Known") -> bool:
    """Whether every key has rows with each listed value, told by pyarrow when keys and the key column are texts
    (no set of a million keys); False when it cannot tell so (check_covers then looks, and words what is short)."""
    key_col, col = rule.columns
    keyc, valc = checked[key_col], checked[col]
    texts = keyc.text_values()
    if known.arrow is None or texts is None or valc.bad_rows is not None:
        return False
    at = known.positions_in(texts)  # each key's distinct value in the key column
    if not len(at) or (at < 0).any():
        return False  # a key with no rows at all
    shown = valc.texts()
    for v in rule.values:
        rows = (shown == str(v))[valc.codes] & checked.typed
        covered = np.bincount(keyc.codes[rows], minlength=len(keyc.values)) > 0
        if not covered[at].all():
            return False
    return True


def _show(v, withheld: bool = False) -> str:
    if withheld:
        return "value withheld"
    return v.isoformat() if isinstance(v, dt.date) else cut_text(v)


def identifier_columns(spec: FileSpec, flagged=frozenset()) -> set[str]:
    """The columns of a file whose values no message shows: declared ``role: identifier``, or flagged as looking like one."""
    return {name for name, col in spec.columns.items() if col.is_identifier} | set(flagged)


def _withheld(e: DataError, hidden: set[str]) -> DataError:
    """A problem found before the codebook was applied (load's Excel cells), its value withheld if its column is hidden."""
    if e.column not in hidden or e.value is None:
        return e
    return DataError(e.file, e.row, e.column, None, f"{e.rule} ({WITHHELD})")


# --- one file, then the whole study --------------------------------------------------------

def validate_file(raw: RawTable, spec: FileSpec) -> tuple[colcheck.FileColumns | None, list[DataError]]:
    """All checks of one file; its checked columns plus every problem found, in the order of the file."""
    if not raw.usable:
        return None, list(raw.problems)
    columns = colcheck.FileColumns(raw)
    ident_errs, flagged = check_identifiers(raw, spec, columns)
    header_errs = check_header(raw, spec, skip=flagged)
    hidden = identifier_columns(spec, flagged)
    errs = [_withheld(e, hidden) for e in raw.problems] + ident_errs + header_errs
    if set(spec.columns) - set(raw.header) or not raw.nrows:
        return None, errs  # cells cannot be matched to columns (or there are none)
    index = {h: i for i, h in enumerate(raw.header)}
    for name, col in spec.columns.items():
        col = replace(col, role="identifier") if name in flagged else col  # its problems show no value either
        columns.checked[name] = colcheck.Column(name, col, *columns.factorised(index[name]), check_cell,
                                                arrow=columns.arrow(index[name]))
    position = {r: k for k, r in enumerate(raw.rownums)} if raw.bad_cells else {}
    for rownum, i in raw.bad_cells:  # a formula or Excel error, reported by load
        name = raw.header[i] if i < len(raw.header) else None
        if name in columns.checked and index[name] == i and rownum in position:
            column = columns.checked[name]
            if column.bad_rows is None:
                column.bad_rows = np.zeros(raw.nrows, dtype=bool)
            column.bad_rows[position[rownum]] = True
    width_errs = {k: e for k in sorted(raw.ragged) if (e := check_row_width(raw, raw.rownums[k], raw.row(k)))}
    columns.typed[list(width_errs)] = False
    slow = ~columns.typed
    for column in columns.checked.values():
        slow |= column.problem_rows()
    slow |= colrules.broken_rules(spec, columns.checked, ROW_RULES) & ~slow
    for k in np.flatnonzero(slow):
        if k in width_errs:
            errs.append(width_errs[k])
            continue
        errs += _row_problems(raw, spec, columns, int(k), hidden)
    errs += check_primary_key(raw, spec, columns, hidden)
    return columns, errs


def _row_problems(raw: RawTable, spec: FileSpec, columns: colcheck.FileColumns, k: int,
                  hidden: set) -> list[DataError]:
    """The problems of one row that broke a check, worded cell by cell and rule by rule."""
    rownum, errs, rec, blamed = raw.rownums[k], [], {}, set()
    for name, col in spec.columns.items():
        column = columns[name]
        if column.bad_rows is not None and column.bad_rows[k]:
            rec[name] = None
            blamed.add(name)
            continue
        j = column.codes[k]
        problem = column.problems[j]
        if problem:
            withheld = name in hidden
            errs.append(DataError(raw.shown_as, rownum, name, None if withheld else column.uniques[j],
                                  f"{problem} ({WITHHELD})" if withheld else problem))
            blamed.add(name)
        rec[name] = column.values[j]
    return errs + _row_rules(raw, spec, rownum, rec, blamed, hidden)


def _row_rules(raw: RawTable, spec: FileSpec, rownum: int, rec: dict, blamed: set,
               hidden: set | None = None) -> list[DataError]:
    """Cross-column rules of one row; a value already blamed on this row is not blamed again.
    ``hidden``: the columns whose values are withheld (default: the declared identifiers)."""
    hidden = identifier_columns(spec) if hidden is None else hidden
    errs = []
    for rule in spec.rules:
        check = ROW_RULES.get(rule.kind)
        involved = set(rule.columns) | ({rule.flag} if rule.flag else set())
        if check is None or involved & blamed:
            continue
        broken = check(rule, rec, hidden)
        if broken:
            col, message = broken
            shown = rec.get(col)
            if col in hidden:
                errs.append(DataError(raw.shown_as, rownum, col, None, f"{message} (rule {rule.id}; {WITHHELD})"))
            else:
                errs.append(DataError(raw.shown_as, rownum, col, "" if shown is None else _show(shown),
                                      f"{message} (rule {rule.id})"))
            blamed |= involved
    return errs


def validate(book: Codebook, raws: dict[str, RawTable]) -> dict[str, Table]:
    """Validate every file; raise DataErrors listing all problems, else typed Tables."""
    errs, checked = [], {}
    for name, spec in book.files.items():
        checked[name], file_errs = validate_file(raws[name], spec)
        errs += file_errs
    shown = {name: raws[name].shown_as for name in book.files}
    wanted = {col.references for spec in book.files.values() for col in spec.columns.values() if col.references}
    known = {}  # "file.column" -> its values, for referenced columns whose every cell passed
    for name, spec in book.files.items():
        bad = {e.column for e in errs if e.file == shown[name]}
        if checked[name] is not None and checked[name].typed.any() and None not in bad:
            for c in spec.columns:
                if c not in bad and f"{name}.{c}" in wanted:
                    known[f"{name}.{c}"] = checked[name].values_of_typed_rows(c)
    for name, spec in book.files.items():
        raw = raws[name]
        if checked[name] is not None:
            reported = {e.row for e in errs if e.file == shown[name]}  # one line per problem: a row once
            rows = [r for r in reported if r is not None]
            skip = np.isin(np.asarray(raw.rownums), rows) if rows else np.zeros(raw.nrows, dtype=bool)
            errs += check_references(raw, spec, checked[name], skip, known, shown)
        bad = {e.column for e in errs if e.file == shown[name]}
        for rule in spec.rules:
            target = spec.columns[rule.columns[0]].references
            if rule.kind == "covers" and target in known and not bad & (set(rule.columns) | {None}):
                errs += check_covers(raw, rule, checked[name], known[target])
    if errs:
        raise DataErrors(list({str(e): e for e in errs}.values()))  # a problem of a file two tables share, once
    tables = {name: _table(raws[name], spec, checked[name]) for name, spec in book.files.items()}
    for name, spec in book.files.items():
        tables[name].links.update(_links(spec, checked))  # every file is clean here
    return tables


def _links(spec: FileSpec, checked: dict) -> dict:
    """Link of each foreign key of a clean file whose values and target are the reader's texts (text_values) and
    whose target has each text once: the pyarrow lookup of the distinct texts that checked the reference, where
    a plan's pandas lookup (get_indexer) hashes every row again (four million lesions at a million patients)."""
    links = {}
    for col in spec.columns.values():
        target, _, tcol = (col.references or "").partition(".")
        if not col.references or col.is_identifier or checked.get(target) is None:
            continue
        child, parent = checked[spec.name][col.name], checked[target][tcol]
        texts, targets = child.text_values(), parent.text_values()
        if texts is None or targets is None or len(parent.codes) != len(targets):
            continue  # a value missing, typed values that are not the texts, or a target text on several rows
        at = child.positions_in(targets)  # what check_references looked up, when it did
        row_of = np.empty(len(targets), dtype=np.intp)
        row_of[parent.codes] = np.arange(len(parent.codes))  # the row of each distinct text of the target
        links[col.name] = Link(child.codes, np.where(at >= 0, row_of[at], -1), len(parent.codes))
    return links


def _joined_key(columns: list) -> "object":
    """Each row's key as one text ("P01 / total_bilirubin / 0"): the distinct values written once, joined by pyarrow.

    The index keeps pyarrow's strings (pandas' "string[pyarrow]"), not a Python str per row: at a million patients
    the labs' four million keys as Python objects took 1-2 s to make and a quarter of the build's fresh memory.
    Row ids and digests read these strings as they are (values.arrow_texts), with the same texts and bytes.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [_shown_texts(c).take(pa.array(c.codes)) for c in columns]
    return pd.Index(pd.arrays.ArrowStringArray(pc.binary_join_element_wise(*parts, " / ")))


def _shown_texts(column: colcheck.Column):
    """_show of each distinct typed value, as a pyarrow array: a text column's own texts when every one has a
    value and none is long enough to be cut (the reader's array, no Python call per text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = column.spec.type == "string" or (column.spec.type == "category" and not column.spec.labels)
    if plain and column.arrow is not None and column.has_u.all() and len(column.arrow) \
            and pc.max(pc.utf8_length(column.arrow)).as_py() <= SHOWN_WHOLE:
        return column.arrow  # its values are its texts (check_cell accepted each unchanged), shown whole
    return pa.array(np.array([_show(v) for v in column.values], dtype=object))


def _table(raw: RawTable, spec: FileSpec, checked: colcheck.FileColumns) -> Table:
    """Typed frame of a clean file, without its direct identifiers, indexed by a one-column key."""
    import pandas as pd  # only once the data are known to be clean

    columns = [c for c, col in spec.columns.items() if not col.is_identifier]
    # copy=False: the columns are new arrays already, and one block per column spares a copy of every cell
    frame = pd.DataFrame({c: checked[c].frame_column() for c in columns}, columns=columns, copy=False)
    if len(spec.primary_key) == 1:
        frame.set_index(spec.primary_key[0], drop=False, inplace=True)  # in place: no deep copy of the frame
        frame.index.name = None
    elif spec.primary_key:  # row ids the author can find: "P01 / 2" (record, repeat instance)
        frame.index = _joined_key([checked[c] for c in spec.primary_key])
    return Table(name=raw.name, shown_as=raw.shown_as, spec=spec, frame=frame)
