"""The codebook: what every data file and column must look like (read from YAML).

The codebook is the contract between the people who collect the data and the
analysis: types, units, allowed values, ranges, keys and cross-column rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from papergen.errors import CodebookError

TYPES = {"string", "integer", "number", "category", "date", "flag"}
RULE_KINDS = {"before", "not_after", "present_iff", "equal_when"}


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


@dataclass(frozen=True)
class RuleSpec:
    """A cross-column rule, e.g. operation_date before discharge_date."""

    id: str
    kind: str
    columns: tuple[str, ...]
    text: str
    flag: str | None = None


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


def read_codebook(path: Path) -> Codebook:
    """Parse codebook.yaml into specs, failing with the offending key named."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"{path}: codebook not found; every study needs data/codebook.yaml") from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
        raise CodebookError(f"{path}: expected a mapping with a 'files:' section")
    files = {name: _file_spec(path, name, spec) for name, spec in raw["files"].items()}
    for f in files.values():
        for col in f.columns.values():
            if col.references:
                target, _, tcol = col.references.partition(".")
                if target not in files or tcol not in files[target].columns:
                    raise CodebookError(f"{path}: {f.name}.{col.name} references unknown column {col.references!r}")
    return Codebook(files=files, conventions=raw.get("conventions") or {}, cohort=str(raw.get("cohort", "")),
                    notes=tuple(raw.get("rules") or ()))


def _file_spec(path, name: str, spec: dict) -> FileSpec:
    if not isinstance(spec, dict) or "path" not in spec or not isinstance(spec.get("columns"), dict):
        raise CodebookError(f"{path}: files.{name} needs 'path' and 'columns'")
    columns = {c: _column_spec(path, name, c, s or {}) for c, s in spec["columns"].items()}
    rules = tuple(_rule_spec(path, name, r, columns) for r in spec.get("rules") or [])
    key = spec.get("primary_key") or ()
    key = (key,) if isinstance(key, str) else tuple(key)
    for k in key:
        if k not in columns:
            raise CodebookError(f"{path}: files.{name}.primary_key {k!r} is not one of its columns")
    return FileSpec(name=name, path=spec["path"], primary_key=key, columns=columns,
                    rules=rules, description=spec.get("description", ""))


def _column_spec(path, fname: str, cname: str, s: dict) -> ColumnSpec:
    ctype = s.get("type")
    if ctype not in TYPES:
        raise CodebookError(f"{path}: files.{fname}.columns.{cname}: type {ctype!r} is not one of {sorted(TYPES)}")
    if ctype == "category" and not s.get("values"):
        raise CodebookError(f"{path}: files.{fname}.columns.{cname}: a category needs 'values'")
    return ColumnSpec(
        name=cname, type=ctype, description=s.get("description", ""), unit=s.get("unit"),
        required=bool(s.get("required", True)), min=s.get("min"), max=s.get("max"),
        values=tuple(str(v) for v in s.get("values") or ()), pattern=s.get("pattern"),
        references=s.get("references"), role=s.get("role"), published=bool(s.get("published", True)),
    )


def _rule_spec(path, fname: str, r: dict, columns: dict) -> RuleSpec:
    kind = r.get("kind")
    cols = tuple(r.get("columns") or ())
    if kind not in RULE_KINDS:
        raise CodebookError(f"{path}: files.{fname}.rules {r.get('id')!r}: kind {kind!r} is not one of {sorted(RULE_KINDS)}")
    for c in cols + ((r["flag"],) if r.get("flag") else ()):
        if c not in columns:
            raise CodebookError(f"{path}: files.{fname}.rules {r.get('id')!r}: unknown column {c!r}")
    return RuleSpec(id=str(r.get("id")), kind=kind, columns=cols, text=r.get("text", ""), flag=r.get("flag"))
