"""A codebook.yaml draft from data files: what their metadata says, checked against the values they hold.

``draft_codebook`` reads each file as a build would (load.read_raw), takes
from its format what it knows (REDCap's dictionary, SPSS/Stata/SAS labels,
formats and missing values, Parquet's schema), and from the values what they
show (types, ranges and categories seen, empty cells, missing-value markers,
columns that look like direct identifiers). Where the two disagree (a value
outside the dictionary's choices or range, a code without a label) the
column's line says so in a comment. The draft is marked ``draft: true``; a
build refuses it until the author has reviewed it and deleted that line.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from papergen.codebook import SUFFIX_FORMATS, FileSpec
from papergen.errors import DataErrors
from papergen.ingest import colcheck
from papergen.ingest.cells import DATE_RE, INT_RE, MISSING_MARKERS, NUM_RE
from papergen.ingest.identifiers import header_kind, value_kind
from papergen.ingest.load import RawTable, read_raw
from papergen.ingest.redcap import DICTIONARY_COLUMNS, MISSING_CODES, read_dictionary

#: at most this many distinct texts (and at most half the rows) make a text column a category
CATEGORY_LIMIT = 20
#: REDCap's text validation types -> the codebook's type
REDCAP_TYPES = {"date_ymd": "date", "date_mdy": "date", "date_dmy": "date", "integer": "integer"}


@dataclass
class Drafted:
    """One column's draft entry and the comments the author should read."""

    spec: dict
    notes: list[str] = field(default_factory=list)
    latest: str | None = None  # the latest date the column holds


def draft_codebook(files: list[Path], codebook_dir: Path, shown=lambda p: str(p)) -> str:
    """The text of a codebook.yaml draft for the given data files (paths written relative to ``codebook_dir``)."""
    tables, latest = [], []
    for source, raw, fmt, extra in _tables(files, shown):
        problems = [p for p in raw.problems if "rule redcap_choices" not in p.rule]
        if problems or not raw.usable:
            raise DataErrors(problems or raw.problems)
        columns = {h: _column(raw, i, h, fmt) for i, h in enumerate(raw.header)}
        latest += [c.latest for c in columns.values() if c.spec.get("type") == "date" and c.latest]
        tables.append((source, raw, fmt, extra, columns))
    cutoff = max(latest) if latest else None
    lines = ["# DRAFT codebook written by `python build.py codebook draft` from the files' metadata and the values",
             "# they hold. Review every line (types, ranges, required, roles; the comments say where the",
             "# metadata and the data disagree), then delete the line 'draft: true': a build refuses a draft.",
             "draft: true", ""]
    if cutoff:
        lines += ["conventions:",
                  f"  cutoff_date: '{cutoff}'   # the latest date in the data: write the study's data cut-off here;",
                  "                              # date columns' max refers to it, so moving it is one edit", ""]
    keys = [_key(raw, columns, extra) for _, raw, _, extra, columns in tables]
    _draft_references(tables, keys)
    lines.append("files:")
    for (source, raw, fmt, extra, columns), key in zip(tables, keys):
        lines += _file_lines(source, raw, fmt, extra, columns, codebook_dir, cutoff, key)
    return "\n".join(lines) + "\n"


def _draft_references(tables: list, keys: list[list[str]]) -> None:
    """A column named for another table's one-column key whose every value is one of that key's (lesions.patient_id
    -> patients.patient_id) gets ``references``: the build then checks each value is there, and the plan can count
    per patient (Analysis.linked_rows). Texts are compared as read, so ids typed differently are not matched."""
    named = {}  # key column -> [(table, its distinct texts)]
    for (_, raw, _, extra, _), key in zip(tables, keys):
        if len(key) == 1:
            named.setdefault(key[0], []).append((extra.get("instrument") or raw.name,
                                                 _texts_of(raw, raw.header.index(key[0]))))
    for (_, raw, _, extra, columns), key in zip(tables, keys):
        me = extra.get("instrument") or raw.name
        for i, cname in enumerate(raw.header):
            spec = columns[cname].spec
            if cname not in named or spec.get("references") or spec.get("role") == "identifier" or \
                    key == [cname] or cname == extra.get("record_id"):  # a REDCap record id: linked in _file_lines
                continue
            mine = _texts_of(raw, i)
            for target, theirs in named[cname]:
                if target != me and mine and mine <= theirs:
                    spec["references"] = f"{target}.{cname}"
                    columns[cname].notes.append(f"drafted: every value is one of {target}.{cname}")
                    break


def _texts_of(raw: RawTable, i: int) -> set[str]:
    """The distinct non-empty texts of column i."""
    return {str(u) for u in colcheck.factorise(raw.columns[i])[1] if str(u).strip()}


def _tables(files: list[Path], shown):
    """(source file, RawTable, format, extra file keys) of each table the files hold; a REDCap pair gives several."""
    files = [Path(f) for f in files]
    dictionaries = [f for f in files if f.suffix.lower() == ".csv" and _is_dictionary(f)]
    for f in files:
        if f in dictionaries:
            continue
        fmt = SUFFIX_FORMATS.get(f.suffix.lower(), "csv")
        dictionary = next((d for d in dictionaries if _exports_of(d, f)), None)
        if dictionary is None:
            raw = read_raw(_name(f), f, shown(f))
            yield f, raw, fmt, {}
            continue
        fields = read_dictionary(dictionary, shown(dictionary))
        whole = read_raw(_name(f), f, shown(f))
        column = whole.header.index("redcap_repeat_instrument") if "redcap_repeat_instrument" in whole.header else None
        instruments = sorted(set(whole.columns[column]) - {""}) if column is not None else []
        for instrument in [None] + instruments:
            spec = FileSpec(name=instrument or _name(f), path=str(f), primary_key=(), columns={}, format="redcap",
                            dictionary=str(dictionary), instrument=instrument)
            raw = read_raw(spec.name, f, shown(f), spec, (dictionary, shown(dictionary)))
            extra = {"format": "redcap", "dictionary": dictionary, "instrument": instrument,
                     "record_id": fields[0]["Variable / Field Name"]}
            yield f, raw, "redcap", extra


def _is_dictionary(path: Path) -> bool:
    """A REDCap data dictionary: its first column is "Variable / Field Name"."""
    return _first_cell(path) == DICTIONARY_COLUMNS[0]


def _first_cell(path: Path) -> str:
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return next(csv.reader(fh), [""])[0].strip()


def _exports_of(dictionary: Path, export: Path) -> bool:
    """The export's first column is the dictionary's record id field."""
    import csv

    with open(dictionary, encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        next(rows, None)
        first = next(rows, [""])[0].strip()
    return export.suffix.lower() == ".csv" and _first_cell(export) == first


def _name(path: Path) -> str:
    return re.sub(r"[^0-9a-zA-Z_]", "_", path.stem).lower() or "data"


def _column(raw: RawTable, i: int, name: str, fmt: str) -> Drafted:
    """One column's draft entry: the metadata's type and range if the format gives them, else what the values show."""
    codes, uniques = colcheck.factorise(raw.columns[i])
    counts = np.bincount(codes, minlength=len(uniques))
    texts = [str(u) for u in uniques]
    meta = raw.variables.get(name, {})
    markers = [t for t in texts if t.strip().lower() in MISSING_MARKERS or (fmt == "redcap" and t in MISSING_CODES)]
    values = [t for t in texts if t.strip() and t not in markers]
    out = Drafted(_observed(values, counts, texts, raw.nrows))
    spec = out.spec
    out.latest = spec.get("max") if spec["type"] == "date" else None
    if markers:
        out.notes.append(f"missing-value marker(s) {', '.join(repr(m) for m in markers)} seen")
        spec["missing"] = markers
    spec["required"] = not any(not t.strip() or t in markers for t in texts)
    if fmt == "redcap" and meta:
        _from_redcap(out, meta, values, texts, counts)
    elif meta.get("labels") is not None or meta.get("date") or meta.get("label"):
        _from_statfile(out, meta, values, texts, counts)
    elif meta.get("type"):
        _from_schema(out, meta["type"])
    if meta.get("label"):
        spec["description"] = meta["label"]
    kind = header_kind(name) or next((k for v in values[:2000] if (k := value_kind(v))), None)
    if kind or meta.get("identifier"):
        spec["role"] = "identifier"
        out.notes.append(f"looks like {kind}, a direct identifier: checked, never printed" if kind else
                         "the dictionary marks it an identifier: checked, never printed")
    return out


def _observed(values: list[str], counts, texts: list[str], nrows: int) -> dict:
    """The type and range the values show."""
    if not values:
        return {"type": "string"}
    if set(values) <= {"0", "1"}:
        return {"type": "flag"}
    if all(INT_RE.match(v) for v in values):
        nums = [int(v) for v in values]
        return {"type": "integer", "min": min(nums), "max": max(nums)}
    if all(NUM_RE.match(v) for v in values):
        nums = [float(v) for v in values]
        return {"type": "number", "min": min(nums), "max": max(nums)}
    if all(DATE_RE.match(v) for v in values):
        try:
            days = sorted(dt.date.fromisoformat(v) for v in values)
            return {"type": "date", "min": days[0].isoformat(), "max": days[-1].isoformat()}
        except ValueError:
            pass
    if len(values) <= CATEGORY_LIMIT and len(values) * 2 <= nrows:
        return {"type": "category", "values": sorted(values)}
    return {"type": "string"}


def _from_redcap(out: Drafted, meta: dict, values: list[str], texts: list[str], counts) -> None:
    """A REDCap field: its type, validation, range, choices and required flag, against the values exported."""
    spec, kind = out.spec, meta["field_type"]
    seen = spec.copy()
    spec.pop("min", None), spec.pop("max", None), spec.pop("values", None)
    spec["required"] = meta["required"]
    if kind in ("yesno", "truefalse", "checkbox_choice"):
        spec["type"] = "flag"
    elif meta.get("choices"):
        spec["type"] = "category"
        spec["values"] = list(meta["choices"])
        spec["labels"] = dict(meta["choices"])
        extra = [v for v in values if v not in meta["choices"]]
        if extra:
            out.notes.append(f"disagrees with the dictionary: {', '.join(repr(v) for v in extra)} "
                             "seen, not one of the field's choices")
    elif kind == "text" and meta["validation"] in REDCAP_TYPES or meta["validation"].startswith("number"):
        spec["type"] = REDCAP_TYPES.get(meta["validation"], "number")
        for bound in ("min", "max"):
            given = meta[bound]
            if given and given.lower() not in ("today", "now"):
                spec[bound] = given if spec["type"] == "date" else int(given) if INT_RE.match(given) else float(given)
        _outside(out, seen, spec, "the dictionary's")
    elif kind == "calc":
        spec["type"] = "number"
    elif kind == "slider":
        spec.update(type="integer", min=0, max=100)
    else:
        spec["type"] = "string"
    if meta["validation"] in ("email", "phone") and "role" not in spec:
        spec["role"] = "identifier"
        out.notes.append(f"validated as {meta['validation']}, a direct identifier: checked, never printed")


def _from_statfile(out: Drafted, meta: dict, values: list[str], texts: list[str], counts) -> None:
    """An SPSS, Stata or SAS variable: value labels, date format, user-missing codes, against the values."""
    spec = out.spec
    if meta.get("labels") is not None:
        seen = list(values)
        spec.pop("min", None), spec.pop("max", None)
        spec["type"] = "category"
        spec["values"] = list(dict.fromkeys(list(meta["labels"]) + seen))
        spec["labels"] = dict(meta["labels"])
        extra = [v for v in seen if v not in meta["labels"]]
        if extra:
            out.notes.append(f"disagrees with the file's value labels: code(s) {', '.join(extra)} have no label")
    elif meta.get("label_set_missing"):
        out.notes.append(f"the file names value label set {meta['label_set_missing']!r} but does not define it")
    if meta.get("missing"):
        out.notes.append(f"the file's user-missing value(s) {', '.join(meta['missing'])} are read as no value")


def _from_schema(out: Drafted, arrow_type: str) -> None:
    """A Parquet column: the schema's type where the values agree with it."""
    spec = out.spec
    if arrow_type.startswith("date") and spec["type"] != "date":
        out.notes.append(f"the schema says {arrow_type}; the values read as {spec['type']}")
    if arrow_type == "bool":
        spec["type"] = "flag"
    elif arrow_type.startswith(("int", "uint")) and spec["type"] not in ("integer", "flag"):
        out.notes.append(f"the schema says {arrow_type}; the values read as {spec['type']}")
    elif arrow_type in ("double", "float") and spec["type"] == "integer":
        spec["type"] = "number"


def _outside(out: Drafted, seen: dict, spec: dict, whose: str) -> None:
    for bound, worse in (("min", lambda s, d: s < d), ("max", lambda s, d: s > d)):
        if seen.get(bound) is not None and spec.get(bound) is not None and seen["type"] == spec["type"] and \
                worse(seen[bound], spec[bound]):
            out.notes.append(f"disagrees with {whose} {bound} {spec[bound]}: {seen[bound]} seen")


def _file_lines(source: Path, raw: RawTable, fmt: str, extra: dict, columns: dict[str, Drafted],
                codebook_dir: Path, cutoff: str | None, key: list[str]) -> list[str]:
    name = extra.get("instrument") or raw.name
    lines = [f"  {name}:", f"    path: {_rel(source, codebook_dir)}"]
    if fmt == "redcap":
        lines.append("    format: redcap")
        lines.append(f"    dictionary: {_rel(extra['dictionary'], codebook_dir)}")
        if extra["instrument"]:
            lines.append(f"    instrument: {extra['instrument']}")
    if key:
        lines.append(f"    primary_key: {_flow(key if len(key) > 1 else key[0])}")
    markers = sorted({m for c in columns.values() for m in c.spec.pop("missing", [])})
    if markers:
        lines.append(f"    missing: {_flow(markers)}   # seen in the data: cells holding these mean 'no value'")
    lines.append("    columns:")
    for cname, col in columns.items():
        spec = col.spec
        if cname in key and spec.get("role") != "identifier" and spec["type"] == "string":
            spec["role"] = "pseudonym"
        if extra.get("instrument") and cname == extra["record_id"]:
            spec["references"] = f"{_name(Path(source))}.{cname}"  # the records' table, named for the export
        if spec["type"] == "date" and cutoff and (spec.get("max") is None or spec["max"] >= cutoff):
            spec["max"] = "cutoff_date"  # no date after the data cut-off, written once in conventions
        if cname in key:
            spec["required"] = True
            if cname == "redcap_repeat_instance":
                spec.pop("max", None)
        order = ("type", "values", "labels", "min", "max", "required", "role", "references", "description")
        entry = {k: spec[k] for k in order if k in spec}
        comment = f"   # {'; '.join(col.notes)}" if col.notes else ""
        lines.append(f"      {_flow_key(cname)}: {_flow(entry)}{comment}")
    return lines + [""]


def _key(raw: RawTable, columns: dict, extra: dict) -> list[str]:
    """The record id (and instance, event) of a REDCap table; else the first column whose values are all distinct."""
    if extra.get("record_id"):
        key = [extra["record_id"]] + [c for c in ("redcap_event_name", "redcap_repeat_instance") if c in raw.header]
        return key
    for i, h in enumerate(raw.header):
        codes, uniques = colcheck.factorise(raw.columns[i])
        if len(uniques) == raw.nrows and all(str(u).strip() for u in uniques) and \
                columns[h].spec.get("role") != "identifier":
            return [h]
    return []


def _rel(path, base: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(base).resolve())).as_posix()


def _flow(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10 ** 6, allow_unicode=True, sort_keys=False).strip()
    return text[:-4].rstrip() if text.endswith("\n...") else text  # a plain scalar ends its document


def _flow_key(name: str) -> str:
    return _flow(name)

