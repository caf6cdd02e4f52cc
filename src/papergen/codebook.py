"""The codebook: what every data file and column must look like (read from YAML).

The codebook is the contract between the people who collect the data and the
analysis: types, units, allowed values, ranges, keys, identifier roles and
machine-checkable cross-column rules. A malformed codebook fails with the
offending key named, before any data file is read.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from papergen.errors import CodebookError
from papergen.yamlfile import line_of, read_yaml

TYPES = {"string", "integer", "number", "category", "date", "flag"}

#: identifier: a direct identifier (name, hospital number); validated, then dropped before the
#: analysis so it can never be printed. pseudonym: a study code (P01) that may appear in the ledger.
ROLES = {"identifier", "pseudonym"}

#: rule kind -> (fewest columns, most columns or None, needs a flag column, needs values)
RULE_KINDS = {
    "before": (2, None, False, False),       # columns in strictly increasing order (a < b < c)
    "not_after": (2, None, False, False),    # columns in non-decreasing order (a <= b <= c)
    "present_iff": (1, 1, True, False),      # the column has a value if and only if flag == 1
    "equal_when": (2, 2, True, False),       # the two columns are equal when flag == 1
    "starts_with": (2, 2, False, False),     # the second column's text starts with the first's
    "covers": (2, 2, False, True),           # every key (first column, a reference) has rows with each value of the second
}

FILE_KEYS = {"path", "description", "primary_key", "columns", "rules", "format", "dictionary", "instrument",
             "missing"}
COLUMN_KEYS = {"type", "description", "unit", "required", "min", "max", "values", "pattern",
               "references", "role", "published", "labels", "missing"}
#: the data formats a file may be read as (``format:``); by default the file's suffix names it
FORMATS = {"csv", "xlsx", "parquet", "spss", "stata", "sas", "redcap"}
SUFFIX_FORMATS = {".csv": "csv", ".txt": "csv", "": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
                  ".parquet": "parquet", ".pq": "parquet", ".sav": "spss", ".zsav": "spss", ".por": "spss",
                  ".dta": "stata", ".sas7bdat": "sas", ".xpt": "sas"}
RULE_KEYS = {"id", "kind", "columns", "flag", "column", "values", "text"}


@dataclass(frozen=True)
class ColumnSpec:
    """One column's contract."""

    name: str
    type: str
    description: str = ""
    unit: str | None = None
    required: bool = True
    min: object = None
    max: object = None
    values: tuple[str, ...] = ()
    pattern: str | None = None
    references: str | None = None
    role: str | None = None
    published: bool = True
    labels: dict[str, str] = field(default_factory=dict)  # category code -> the text analyses and tables show
    missing: tuple[str, ...] = ()  # texts the source writes for "no value" (R's NA, SAS's ".", 999, UNK), its file's too

    @property
    def levels(self) -> tuple[str, ...]:
        """A category's values as the analysis sees them: each code's label where the codebook gives one."""
        return tuple(self.labels.get(v, v) for v in self.values)

    @property
    def is_identifier(self) -> bool:
        """A direct identifier: checked like any column, never shown in messages or outputs."""
        return self.role == "identifier"


@dataclass(frozen=True)
class RuleSpec:
    """A machine-checkable rule across columns, e.g. operation_date before discharge_date."""

    id: str
    kind: str
    columns: tuple[str, ...]
    text: str = ""
    flag: str | None = None
    column: str | None = None      # the column an error names; default: the last of ``columns``
    values: tuple = ()             # for ``covers``: the values every key must have a row for

    @property
    def reported(self) -> str:
        return self.column or self.columns[-1]


@dataclass(frozen=True)
class FileSpec:
    """One data file's contract: path, key and columns in order."""

    name: str
    path: str
    primary_key: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    rules: tuple[RuleSpec, ...] = ()
    description: str = ""
    format: str = "csv"             # how the file is read (FORMATS); from its suffix unless ``format:`` says
    dictionary: str | None = None   # REDCap: the data dictionary CSV exported with the data
    instrument: str | None = None   # REDCap: the repeating instrument whose rows this table is (None: the records)


@dataclass(frozen=True)
class Codebook:
    files: dict[str, FileSpec]
    conventions: dict = field(default_factory=dict)
    cohort: str = ""
    notes: tuple = ()  # study-level rules in words (documentation for data collectors)
    draft: bool = False  # written by ``codebook draft`` and not yet reviewed: a build refuses it

    @property
    def cutoff_date(self) -> dt.date | None:
        """The data cut-off (``conventions.cutoff_date``): no observation is later than this."""
        value = self.conventions.get("cutoff_date")
        if value is None:
            return None
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    def cutoff_epoch(self) -> int | None:
        """The cut-off as seconds since 1970 (midnight UTC), or None when the codebook gives none."""
        day = self.cutoff_date
        return calendar.timegm(day.timetuple()) if day else None


def read_codebook(path: Path, shown: str | None = None) -> Codebook:
    """Parse codebook.yaml into specs, failing with the offending key (and its line) named.

    ``shown``: the path as messages print it (data/codebook.yaml); default ``path``.
    """
    try:
        raw = read_yaml(path, shown, CodebookError)
    except FileNotFoundError:
        raise CodebookError(f"{shown or path}: codebook not found; every study needs data/codebook.yaml") from None
    path = shown or path
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
        raise CodebookError(f"{path}: expected a mapping with a 'files:' section")
    conventions = raw.get("conventions") or {}
    if not isinstance(conventions, dict):
        raise CodebookError(f"{path}: conventions: expected a mapping of names to values")
    files = {name: _file_spec(path, name, spec) for name, spec in raw["files"].items()}
    files = resolve_date_bounds(path, files, conventions)
    for f in files.values():
        for col in f.columns.values():
            if col.references:
                target, _, tcol = col.references.partition(".")
                if target not in files or tcol not in files[target].columns:
                    raise CodebookError(f"{path}: {f.name}.{col.name} references unknown column {col.references!r}")
                if files[target].columns[tcol].is_identifier:
                    raise CodebookError(f"{path}: {f.name}.{col.name} references {col.references}, a direct "
                                        "identifier; link files by a pseudonym (role: pseudonym) instead")
        for rule in f.rules:
            if rule.kind == "covers" and not f.columns[rule.columns[0]].references:
                raise CodebookError(f"{path}: files.{f.name}.rules {rule.id!r}: the first column of a 'covers' "
                                    "rule must reference another file (references: file.column)")
    book = Codebook(files=files, conventions=conventions, cohort=str(raw.get("cohort", "")),
                    notes=tuple(raw.get("rules") or ()), draft=bool(raw.get("draft", False)))
    try:
        book.cutoff_date
    except (TypeError, ValueError):
        raise CodebookError(f"{path}: conventions.cutoff_date {conventions.get('cutoff_date')!r} "
                            "is not a date written YYYY-MM-DD") from None
    return book


def _unknown_keys(path, where: str, given: dict, allowed: set) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        import difflib

        close = difflib.get_close_matches(str(extra[0]), sorted(allowed), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(sorted(allowed))}"
        line = line_of(given, extra[0])
        raise CodebookError(f"{path}{f':{line}' if line else ''}: {where}: unknown key {extra[0]!r}{hint}")


def _file_spec(path, name: str, spec: dict) -> FileSpec:
    if not isinstance(spec, dict) or "path" not in spec or not isinstance(spec.get("columns"), dict):
        raise CodebookError(f"{path}: files.{name} needs 'path' and 'columns'")
    _unknown_keys(path, f"files.{name}", spec, FILE_KEYS)
    file_missing = _markers(path, f"files.{name}.missing", spec.get("missing"))
    fmt = spec.get("format") or SUFFIX_FORMATS.get(Path(str(spec["path"])).suffix.lower(), "csv")
    if fmt not in FORMATS:
        raise CodebookError(f"{path}: files.{name}.format {fmt!r} is not one of {sorted(FORMATS)}")
    if fmt == "redcap" and not spec.get("dictionary"):
        raise CodebookError(f"{path}: files.{name}: a REDCap export needs 'dictionary' (the data dictionary CSV "
                            "downloaded with it)")
    columns = {}
    for c, s in spec["columns"].items():
        if not isinstance(s, dict):
            raise CodebookError(f"{path}: files.{name}.columns.{c}: expected a mapping such as {{type: string}}")
        columns[str(c)] = _column_spec(path, name, str(c), s, line_of(spec["columns"], c), file_missing)
    rules = tuple(_rule_spec(path, name, r, columns) for r in spec.get("rules") or [])
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise CodebookError(f"{path}: files.{name}.rules: rule ids must be unique")
    key = spec.get("primary_key") or ()
    key = (key,) if isinstance(key, str) else tuple(key)
    for k in key:
        if k not in columns:
            raise CodebookError(f"{path}: files.{name}.primary_key {k!r} is not one of its columns")
        if columns[k].is_identifier:
            raise CodebookError(f"{path}: files.{name}.primary_key {k!r} is a direct identifier; row ids are "
                                "printed in numbers.json, so key the file by a pseudonym (role: pseudonym)")
    return FileSpec(name=name, path=str(spec["path"]), primary_key=key, columns=columns,
                    rules=rules, description=spec.get("description", ""), format=fmt,
                    dictionary=spec.get("dictionary"), instrument=spec.get("instrument"))


def _markers(path, where: str, given) -> tuple[str, ...]:
    """Declared missing-value markers as texts (999 and '999' are one marker: cells are text)."""
    if given is None:
        return ()
    if not isinstance(given, list) or any(isinstance(m, (dict, list)) or m is None or m == "" for m in given):
        raise CodebookError(f"{path}: {where}: expected a list of the texts that mean 'no value', e.g. [NA, '.', 999]")
    return tuple(_text(m) for m in given)


def _text(v) -> str:
    """A YAML scalar as the cell text it stands for (999 -> '999', -9.5 -> '-9.5', True -> 'true')."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _column_spec(path, fname: str, cname: str, s: dict, line: int | None = None,
                 file_missing: tuple = ()) -> ColumnSpec:
    where = f"files.{fname}.columns.{cname}"
    _unknown_keys(path, where, s, COLUMN_KEYS)

    def at(key=None) -> str:  # "data/codebook.yaml:25: files.patients.columns.age_years"
        n = line_of(s, key) or line
        return f"{path}:{n}: {where}" if n else f"{path}: {where}"

    ctype = s.get("type")
    if ctype not in TYPES:
        raise CodebookError(f"{at('type')}: type {ctype!r} is not one of {sorted(TYPES)}")
    if ctype == "category" and not s.get("values"):
        raise CodebookError(f"{at('values')}: a category needs 'values' (its allowed values), e.g. values: [female, male]")
    role = s.get("role")
    if role is not None and role not in ROLES:
        raise CodebookError(f"{at('role')}: role {role!r} is not one of {sorted(ROLES)}")
    labels = s.get("labels") or {}
    if not isinstance(labels, dict):
        raise CodebookError(f"{at('labels')}: labels: expected a mapping of codes to texts, e.g. {{1: male, 2: female}}")
    labels = {_text(k): str(v) for k, v in labels.items()}
    if labels and ctype != "category":
        raise CodebookError(f"{at('labels')}: labels are given for categories only (type: category)")
    unknown = [k for k in labels if k not in {_text(v) for v in s.get("values") or ()}]
    if unknown:
        raise CodebookError(f"{at('labels')}: label for {unknown[0]!r}, which is not one of its values")
    bounds = {}
    for bound in ("min", "max"):
        if s.get(bound) is None:
            continue
        if ctype not in ("integer", "number", "date"):
            raise CodebookError(f"{at(bound)}: {bound} applies to integer, number and date columns, not to a {ctype}")
        if ctype == "date" and not isinstance(s[bound], dt.date) and not DATE_TEXT.match(str(s[bound])):
            if not isinstance(s[bound], str):
                raise CodebookError(f"{at(bound)}: {bound} {s[bound]!r} is not a date YYYY-MM-DD, a name of "
                                    "conventions (cutoff_date) or another column's bound (operation_date.min)")
            continue  # a name: resolve_date_bounds makes it a date once every file is read
        if ctype == "date":
            try:
                bounds[bound] = dt.date.fromisoformat(str(s[bound]))
            except ValueError:
                raise CodebookError(f"{at(bound)}: {bound} {s[bound]!r} is not a date YYYY-MM-DD") from None
        elif not isinstance(s[bound], (int, float)) or isinstance(s[bound], bool):
            raise CodebookError(f"{at(bound)}: {bound} {s[bound]!r} is not a number")
        elif not math.isfinite(s[bound]):
            raise CodebookError(f"{at(bound)}: {bound} {s[bound]!r} is not a finite number, so it would check nothing")
        else:
            bounds[bound] = s[bound]
    _check_consistent(s, ctype, bounds, at)
    if s.get("pattern"):
        try:
            re.compile(s["pattern"])
        except re.error as exc:
            raise CodebookError(f"{at('pattern')}: pattern {s['pattern']!r} is not a valid regular expression ({exc})") from None
    return ColumnSpec(
        name=cname, type=ctype, description=s.get("description", ""), unit=s.get("unit"),
        required=bool(s.get("required", True)), min=s.get("min"), max=s.get("max"),
        values=tuple(_text(v) for v in s.get("values") or ()), pattern=s.get("pattern"),
        references=s.get("references"), role=role, published=bool(s.get("published", True)),
        labels=labels, missing=tuple(dict.fromkeys(file_missing + _markers(path, f"{where}.missing", s.get("missing")))),
    )


DATE_TEXT = re.compile(r"\d{4}-\d{1,2}-\d{1,2}$")


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def resolve_date_bounds(path, files: dict[str, FileSpec], conventions: dict) -> dict[str, FileSpec]:
    """Date bounds written as names, made dates: a name of ``conventions`` (``max: cutoff_date``) or another
    date column's bound (``min: operation_date.min``, ``max: patients.discharge_date.max``).

    So the data cut-off is written once, in ``conventions.cutoff_date``, and moving it is one edit.
    """
    resolved: dict[tuple[str, str, str], str | None] = {}

    def bound(fname: str, cname: str, which: str, chain: tuple) -> str | None:
        key = (fname, cname, which)
        if key in resolved:
            return resolved[key]
        if key in chain:
            loop = " -> ".join(f"{f}.{c}.{w}" for f, c, w in chain + (key,))
            raise CodebookError(f"{path}: date bounds refer to each other in a circle: {loop}")
        given = getattr(files[fname].columns[cname], which)
        where = f"files.{fname}.columns.{cname}.{which}"
        if given is None or isinstance(given, dt.date) or DATE_TEXT.match(str(given)):
            out = None if given is None else str(given)
        elif given in conventions:
            out = str(conventions[given])
            if not _is_date(out):
                raise CodebookError(f"{path}: {where}: conventions.{given} {conventions[given]!r} is not a date "
                                    "written YYYY-MM-DD")
        else:
            parts = str(given).split(".")
            if len(parts) == 2:
                parts = [fname] + parts
            if len(parts) != 3 or parts[2] not in ("min", "max") or parts[0] not in files or \
                    parts[1] not in files[parts[0]].columns or files[parts[0]].columns[parts[1]].type != "date":
                names = ", ".join(sorted(str(k) for k in conventions)) or "none"
                raise CodebookError(f"{path}: {where}: {given!r} is neither a date YYYY-MM-DD, a name of conventions "
                                    f"({names}), nor a date column's bound such as operation_date.min")
            out = bound(parts[0], parts[1], parts[2], chain + (key,))
            if out is None:
                raise CodebookError(f"{path}: {where}: {given!r} refers to a bound the codebook does not give")
        resolved[key] = out
        return out

    out = {}
    for fname, f in files.items():
        columns = {}
        for cname, col in f.columns.items():
            if col.type == "date":
                col = replace(col, min=bound(fname, cname, "min", ()), max=bound(fname, cname, "max", ()))
            columns[cname] = col
        out[fname] = replace(f, columns=columns)
    return out


def _check_consistent(s: dict, ctype: str, bounds: dict, at) -> None:
    """The column's own contract holds together: bounds in order, allowed values given once each.

    A reversed range would otherwise be reported as every row's mistake (11 values "below the minimum 100").
    """
    lo, hi = bounds.get("min"), bounds.get("max")
    if lo is not None and hi is not None and lo > hi:
        raise CodebookError(f"{at('max')}: min {s['min']!r} is {'after' if ctype == 'date' else 'above'} "
                            f"max {s['max']!r}, so no value could pass; "
                            "swap them (both bounds are inclusive)")
    values = s.get("values")
    if values is None:
        return
    if not isinstance(values, list) or not values:
        raise CodebookError(f"{at('values')}: values must be a non-empty list of the allowed values, got {values!r}")
    seen = set()
    for v in values:
        if str(v) in seen:
            raise CodebookError(f"{at('values')}: values lists {str(v)!r} twice")
        seen.add(str(v))


def _rule_spec(path, fname: str, r: dict, columns: dict) -> RuleSpec:
    if not isinstance(r, dict) or not r.get("id"):
        raise CodebookError(f"{path}: files.{fname}.rules: every rule needs an 'id'")
    where = f"files.{fname}.rules {r.get('id')!r}"
    _unknown_keys(path, where, r, RULE_KEYS)
    kind = r.get("kind")
    if kind not in RULE_KINDS:
        raise CodebookError(f"{path}: {where}: kind {kind!r} is not one of {sorted(RULE_KINDS)}")
    cols = tuple(r.get("columns") or ())
    fewest, most, needs_flag, needs_values = RULE_KINDS[kind]
    if len(cols) < fewest or (most is not None and len(cols) > most):
        n = str(fewest) if most == fewest else f"{fewest} or more" if most is None else f"{fewest} to {most}"
        raise CodebookError(f"{path}: {where}: a {kind!r} rule takes {n} columns, got {len(cols)}")
    if needs_flag and not r.get("flag"):
        raise CodebookError(f"{path}: {where}: a {kind!r} rule needs 'flag' (a 0/1 column)")
    if needs_values and not r.get("values"):
        raise CodebookError(f"{path}: {where}: a {kind!r} rule needs 'values'")
    named = cols + tuple(c for c in (r.get("flag"), r.get("column")) if c)
    for c in named:
        if c not in columns:
            raise CodebookError(f"{path}: {where}: unknown column {c!r}")
    if r.get("flag") and columns[r["flag"]].type != "flag":
        raise CodebookError(f"{path}: {where}: flag {r['flag']!r} must be a column of type flag")
    if r.get("column") and r["column"] not in cols:
        raise CodebookError(f"{path}: {where}: column {r['column']!r} must be one of the rule's columns")
    return RuleSpec(id=str(r["id"]), kind=kind, columns=cols, text=r.get("text", ""), flag=r.get("flag"),
                    column=r.get("column"), values=tuple(r.get("values") or ()))
