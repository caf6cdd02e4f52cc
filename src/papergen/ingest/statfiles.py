"""Read SPSS (.sav, .zsav, .por), Stata (.dta) and SAS (.sas7bdat, .xpt) files with pyreadstat, keeping their metadata.

pyreadstat (ReadStat) reads the values with what the format knows of them:
dates from their display formats, user-defined missing values (SPSS 999 and
ranges, Stata .a-.z) as no value, and per variable its label, value labels and
missing-value codes, kept on the RawTable (``variables``) for ``codebook draft``.
When the codebook labels a category, the file's value labels must agree with it
(``check_labels``): a variable whose value label set is missing, or whose label
differs, is named before any statistic.
"""
from __future__ import annotations

import re
from pathlib import Path

from papergen.errors import DataError
from papergen.ingest.coded import from_values, text_of

#: (format, suffix) -> pyreadstat's reader
READERS = {".sav": "read_sav", ".zsav": "read_sav", ".por": "read_por", ".dta": "read_dta",
           ".sas7bdat": "read_sas7bdat", ".xpt": "read_xport"}
KIND = {"spss": "an SPSS", "stata": "a Stata", "sas": "a SAS"}
#: SAS's own display formats (no width): a SAS file names its variables' formats where SPSS and Stata name value
#: label sets, so these are not label sets the file fails to define (dates and times are recognised by their values)
SAS_BUILTIN_FORMATS = frozenset({"", "F", "BEST", "COMMA", "COMMAX", "DOLLAR", "DOLLARX", "PERCENT", "PERCENTN", "E",
                                 "Z", "NUMX", "NLNUM", "NLPCT", "HEX", "BINARY", "OCTAL", "$", "$CHAR", "$ASCII",
                                 "$HEX", "$UPCASE", "$QUOTE"})
#: the compression signatures a SAS file writes into its first pages (ReadStat reads both)
SAS_COMPRESSION = {b"SASYZCRL": "RLE (COMPRESS=CHAR)", b"SASYZCR2": "RDC (COMPRESS=BINARY)"}


def read_statfile(path: Path, shown: str, fmt: str):
    """(header, row numbers, columns, variables, metadata) of an SPSS, Stata or SAS file; a DataError if unreadable."""
    import pyreadstat

    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(shown, None, None, path.suffix, f"{KIND[fmt]} file is read from "
                        f"{', '.join(s for s in READERS)}; save it in one of these")
    try:
        frame, meta = getattr(pyreadstat, reader)(str(path))
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, UnicodeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        compression = _sas_compression(path) if fmt == "sas" else None
        if compression or "compress" in message.lower():
            how = f"{compression} compression" if compression else "a compression"
            raise DataError(shown, None, None, None, f"{KIND[fmt]} file with {how} whose rows pyreadstat cannot "
                            f"decompress ({message}); write it again uncompressed (SAS: options compress=no) or as .xpt") from None
        raise DataError(shown, None, None, None, f"cannot be read as {KIND[fmt]} file ({message}); "
                        "the file may be truncated or of another format") from None
    header = [str(c) for c in frame.columns]
    columns = [from_values(frame[c]) for c in frame.columns]
    return header, list(range(1, len(frame) + 1)), columns, variables_of(meta, frame, fmt), meta


def _sas_compression(path: Path) -> str | None:
    """The compression a SAS file declares in its first pages (where its column text lives), or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4 << 20)
    except OSError:
        return None
    return next((name for sig, name in SAS_COMPRESSION.items() if sig in head), None)


def _is_label_set(name: str, fmt: str) -> bool:
    """Whether a format name the file gives a variable is a value label set (SAS: not one of SAS's own formats)."""
    return fmt != "sas" or re.sub(r"[0-9.]+$", "", name.upper()) not in SAS_BUILTIN_FORMATS


def variables_of(meta, frame, fmt: str = "spss") -> dict[str, dict]:
    """What the file says of each variable: label, value labels, missing-value codes, format, storage."""
    import pandas as pd

    out = {}
    labels = meta.variable_value_labels or {}
    for c in frame.columns:
        var = {"label": (meta.column_names_to_labels or {}).get(c) or "",
               "format": (meta.original_variable_types or {}).get(c, ""),
               "storage": (meta.readstat_variable_types or {}).get(c, "")}
        if c in labels:
            var["labels"] = {text_of(k): str(v) for k, v in labels[c].items()}
        ranges = (getattr(meta, "missing_ranges", None) or {}).get(c)
        if ranges:
            var["missing"] = [text_of(r["lo"]) if r["lo"] == r["hi"] else f"{text_of(r['lo'])} to {text_of(r['hi'])}"
                              for r in ranges]
        s = frame[c]
        var["date"] = bool(len(s.dropna())) and all(hasattr(v, "isoformat") for v in s.dropna().head(50))
        var["integer"] = pd.api.types.is_numeric_dtype(s) and bool(((s.dropna() % 1) == 0).all())
        named = (meta.variable_to_label or {}).get(c)
        if named and c not in labels and not var["date"] and _is_label_set(named, fmt):
            var["label_set_missing"] = named
        out[c] = var
    return out


def check_labels(shown: str, header: list[str], columns: list, variables: dict, spec, record_ids) -> list[DataError]:
    """The codebook's labelled categories against the file's value labels: the set exists, each label agrees,
    every code in the data has a label. ``record_ids``: the id of each row, to name the record."""
    errs = []
    for name, col in spec.columns.items():
        if not col.labels or name not in variables:
            continue
        var = variables[name]
        if "labels" not in var:
            named = var.get("label_set_missing")
            set_name = f" (it names the set {named!r}, which the file does not define)" if named else ""
            errs.append(DataError(shown, None, name, None, f"the file has no value label set for this variable"
                                  f"{set_name}, but the codebook labels its codes; attach the labels in the source "
                                  "program and save again (rule value_labels)"))
            continue
        for code, text in col.labels.items():
            have = var["labels"].get(code)
            if have is not None and have != text:
                errs.append(DataError(shown, None, name, code, f"the file labels this code {have!r}, the codebook "
                                      f"{text!r}; make them agree (rule value_labels)"))
        column = columns[header.index(name)]
        codes, texts = column.factorise()
        for j, t in enumerate(texts):
            if t and t not in var["labels"]:
                k = int((codes == j).argmax())
                errs.append(DataError(shown, k + 1, name, t, f"record {record_ids(k)}: code has no label in the "
                                      "file's value label set (rule value_labels)"))
    return errs
