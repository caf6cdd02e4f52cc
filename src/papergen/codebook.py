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
from dataclasses import dataclass, field
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

FILE_KEYS = {"path", "description", "primary_key", "columns", "rules"}
COLUMN_KEYS = {"type", "description", "unit", "required", "min", "max", "values", "pattern",
               "references", "role", "published"}
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


@dataclass(frozen=True)
class Codebook:
    files: dict[str, FileSpec]
    conventions: dict = field(default_factory=dict)
    cohort: str = ""
    notes: tuple = ()  # study-level rules in words (documentation for data collectors)

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
    files = {name: _file_spec(path, name, spec) for name, spec in raw["files"].items()}
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
    conventions = raw.get("conventions") or {}
    book = Codebook(files=files, conventions=conventions, cohort=str(raw.get("cohort", "")),
                    notes=tuple(raw.get("rules") or ()))
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
    columns = {}
    for c, s in spec["columns"].items():
        if not isinstance(s, dict):
            raise CodebookError(f"{path}: files.{name}.columns.{c}: expected a mapping such as {{type: string}}")
        columns[str(c)] = _column_spec(path, name, str(c), s, line_of(spec["columns"], c))
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
                    rules=rules, description=spec.get("description", ""))


def _column_spec(path, fname: str, cname: str, s: dict, line: int | None = None) -> ColumnSpec:
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
    bounds = {}
    for bound in ("min", "max"):
        if s.get(bound) is None:
            continue
        if ctype not in ("integer", "number", "date"):
            raise CodebookError(f"{at(bound)}: {bound} applies to integer, number and date columns, not to a {ctype}")
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
        import re

        try:
            re.compile(s["pattern"])
        except re.error as exc:
            raise CodebookError(f"{at('pattern')}: pattern {s['pattern']!r} is not a valid regular expression ({exc})") from None
    return ColumnSpec(
        name=cname, type=ctype, description=s.get("description", ""), unit=s.get("unit"),
        required=bool(s.get("required", True)), min=s.get("min"), max=s.get("max"),
        values=tuple(str(v) for v in s.get("values") or ()), pattern=s.get("pattern"),
        references=s.get("references"), role=role, published=bool(s.get("published", True)),
    )


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
