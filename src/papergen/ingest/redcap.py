"""A REDCap project as tables: the raw-data CSV export split by instrument, read with its data dictionary.

REDCap's "CSV / Microsoft Excel (raw data)" export holds one row per record
(per event in a longitudinal project) and one per instance of a repeating
instrument, told apart by ``redcap_repeat_instrument`` and
``redcap_repeat_instance``; a checkbox field is one 0/1 column per choice
(``field___1``). The data dictionary (Project Setup > Data Dictionary >
Download, REDCap 8 and later: the 18 columns of DICTIONARY_COLUMNS) says each
field's form, type, choices, validation, range, whether it is required and
whether it is an identifier. ``redcap_table`` gives the rows and columns of
one codebook file (``instrument:`` a repeating instrument, or none for the
records) and the dictionary's facts per column (``variables``); the export and
the dictionary must name the same fields, and every choice code in the export
must be one of its field's choices (the codebook's declared missing-data codes,
``missing: [UNK, NASK]``, aside).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from papergen.errors import DataError

#: the data dictionary's columns as REDCap (8.0 and later) writes them, in order
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
#: columns this reader needs (older dictionaries lack the last few of DICTIONARY_COLUMNS)
NEEDED = DICTIONARY_COLUMNS[:11] + ("Required Field?",)
#: the export's own columns besides the fields
SYSTEM_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                  "redcap_data_access_group", "redcap_survey_identifier")
CHOICE_TYPES = {"radio", "dropdown", "checkbox"}
#: fields REDCap does not export
NOT_EXPORTED = {"descriptive"}
#: REDCap's suggested missing-data codes (Project Setup > Additional customizations)
MISSING_CODES = ("NI", "INV", "UNK", "NASK", "ASKU", "NAV", "MSK", "NA", "NAVU", "NP", "QS", "QI", "TRC", "UNC",
                 "DER", "PINF", "NINF", "OTH")


def read_dictionary(path: Path, shown: str) -> list[dict]:
    """The data dictionary's fields in order, each a dict of its columns plus ``_row`` (its spreadsheet row)."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise DataError(shown, None, None, None, "data dictionary not found; the codebook names it "
                        "(dictionary:), download it from REDCap's Data Dictionary page") from None
    except UnicodeDecodeError:
        raise DataError(shown, None, None, None, "data dictionary is not UTF-8; download it again from REDCap") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise DataError(shown, None, None, None, f"data dictionary is not a well-formed CSV file ({exc})") from None
    header = [h.strip() for h in records[0]] if records else []
    missing = [c for c in NEEDED if c not in header]
    if missing:
        raise DataError(shown, 1, missing[0], None, "column of REDCap's data dictionary is missing from the "
                        f"header (expected {', '.join(repr(c) for c in NEEDED[:4])}, ...); download the "
                        "dictionary again from REDCap")
    fields = []
    for i, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        row = {h: (cells[j].strip() if j < len(cells) else "") for j, h in enumerate(header)}
        row["_row"] = i
        fields.append(row)
    if not fields:
        raise DataError(shown, None, None, None, "data dictionary lists no field")
    return fields


def choices(field: dict) -> dict[str, str]:
    """A radio, dropdown or checkbox field's choices, code -> label ("1, Male | 2, Female")."""
    kind = field["Field Type"]
    if kind == "yesno":
        return {"1": "Yes", "0": "No"}
    if kind == "truefalse":
        return {"1": "True", "0": "False"}
    if kind not in CHOICE_TYPES:
        return {}
    out = {}
    for part in field["Choices, Calculations, OR Slider Labels"].split("|"):
        code, _, label = part.partition(",")
        if code.strip():
            out[code.strip()] = label.strip()
    return out


def checkbox_column(name: str, code: str) -> str:
    """The export column of one checkbox choice: field___code (a '-' in the code becomes '_', as REDCap writes it)."""
    return f"{name}___{re.sub('[^0-9a-zA-Z_]', '_', code).lower()}"


def export_columns(field: dict) -> list[str]:
    """The columns the export holds for one field."""
    if field["Field Type"] in NOT_EXPORTED:
        return []
    name = field["Variable / Field Name"]
    if field["Field Type"] == "checkbox":
        return [checkbox_column(name, c) for c in choices(field)]
    return [name]


def variables(fields: list[dict]) -> dict[str, dict]:
    """What the dictionary says of each export column (type, validation, range, choices, required, identifier)."""
    out = {}
    for f in fields:
        name = f["Variable / Field Name"]
        base = {"form": f["Form Name"], "field_type": f["Field Type"], "label": _plain(f["Field Label"]),
                "validation": f["Text Validation Type OR Show Slider Number"], "min": f["Text Validation Min"],
                "max": f["Text Validation Max"], "identifier": f["Identifier?"].lower() == "y",
                "required": f.get("Required Field?", "").lower() == "y", "note": f["Field Note"]}
        if f["Field Type"] == "checkbox":
            for code, label in choices(f).items():
                out[checkbox_column(name, code)] = {**base, "field_type": "checkbox_choice",
                                                    "label": f"{base['label']}: {label}", "required": False}
        elif f["Field Type"] not in NOT_EXPORTED:
            out[name] = {**base, "choices": choices(f)}
    return out


def _plain(label: str) -> str:
    """A field label without the HTML REDCap allows in it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", label)).strip()


def redcap_table(export, spec, fields: list[dict], dictionary_shown: str):
    """(header, row numbers, columns, ragged, problems, bad cells, variables) of one codebook file of the export.

    ``export`` is the whole export read as a CSV (a load.RawTable); the rows are
    those of ``spec.instrument`` (a repeating instrument) or the records' rows.
    """
    shown = export.shown_as
    record_id = fields[0]["Variable / Field Name"]
    index = {h: j for j, h in enumerate(export.header)}
    problems = check_fields(export, fields, dictionary_shown)  # validate reports a problem once for all files
    if record_id not in index:
        raise DataError(shown, 1, record_id, None, f"the record id field (the data dictionary's first field) "
                        "is missing from the export; export the data again with all fields")
    repeat = export.columns[index["redcap_repeat_instrument"]] if "redcap_repeat_instrument" in index else None
    repeating = set(repeat) - {""} if repeat is not None else set()
    if spec.instrument is not None and spec.instrument not in repeating:
        raise DataError(shown, None, "redcap_repeat_instrument", spec.instrument, "no row of the export is an "
                        f"instance of this repeating instrument (rule instrument; instruments found: "
                        f"{', '.join(sorted(repeating)) or 'none'})")
    forms = {spec.instrument} if spec.instrument else {f["Form Name"] for f in fields} - repeating
    wanted = [record_id] + [c for c in ("redcap_event_name", "redcap_data_access_group") if c in index]
    if spec.instrument or (repeat is not None and "redcap_repeat_instance" in index and
                           any(export.columns[index["redcap_repeat_instance"]][k] for k in range(export.nrows)
                               if repeat[k] == "")):
        wanted.append("redcap_repeat_instance")
    for f in fields[1:]:
        if f["Form Name"] in forms:
            wanted += [c for c in export_columns(f) if c in index]
    for form in sorted(forms):
        wanted += [c for c in (f"{form}_timestamp", f"{form}_complete") if c in index and c in spec.columns]
    wanted += [c for c in spec.columns if c in index and c not in wanted]  # e.g. redcap_survey_identifier
    if repeat is None:
        rows = np.arange(export.nrows)
    else:
        rows = np.flatnonzero(np.array([v == (spec.instrument or "") for v in repeat], dtype=bool))
    columns = [_take(export.columns[index[c]], rows) for c in wanted]
    rownums = [export.rownums[k] for k in rows]
    ragged = {i: export.ragged[k] for i, k in enumerate(rows.tolist()) if k in export.ragged}
    facts = variables(fields)
    ids = columns[0]
    bad_cells = set()
    for j, c in enumerate(wanted):
        known = facts.get(c, {}).get("choices")
        if not known:
            continue
        allowed = set(known) | {""} | set(spec.columns[c].missing if c in spec.columns else ())
        listed = " | ".join(f"{k}, {v}" for k, v in known.items())
        codes, texts = _factorise(columns[j])
        bad = np.array([str(t).strip() not in allowed for t in texts], dtype=bool)
        for i in np.flatnonzero(bad[codes]).tolist():  # each distinct text judged once, each bad cell named
            bad_cells.add((rownums[i], j))
            problems.append(DataError(shown, rownums[i], c, columns[j][i], f"record {ids[i]}: choice code is not in "
                                      f"the data dictionary's choices for {c} ({listed}) (rule redcap_choices)"))
    return wanted, rownums, columns, ragged, problems, bad_cells, {c: facts[c] for c in wanted if c in facts}


def check_fields(export, fields: list[dict], dictionary_shown: str) -> list[DataError]:
    """Export and dictionary name the same fields: each export column a field's (or REDCap's own), each field exported."""
    errs = []
    forms = {f["Form Name"] for f in fields}
    expected = set(SYSTEM_COLUMNS) | {f"{form}_{end}" for form in forms for end in ("complete", "timestamp")}
    checkboxes = {f["Variable / Field Name"] for f in fields if f["Field Type"] == "checkbox"}
    for f in fields:
        expected.update(export_columns(f))
    for h in export.header:
        base, sep, _ = h.rpartition("___")
        if h not in expected and not (sep and base in checkboxes):  # field___unk: a missing-data code's column
            errs.append(DataError(export.shown_as, 1, h, h, f"column is not a field of the data dictionary "
                                  f"{dictionary_shown}; export the data and the dictionary again, together "
                                  "(rule redcap_dictionary)"))
    have = set(export.header)
    for f in fields:
        cols = export_columns(f)
        if cols and not set(cols) & have:
            errs.append(DataError(dictionary_shown, f["_row"], f["Variable / Field Name"], None,
                                  f"field of the data dictionary is not in the export {export.shown_as}; export "
                                  "the data and the dictionary again, together (rule redcap_dictionary)"))
    return errs


def _factorise(column):
    """(codes, distinct texts) of a column: a list's by pandas, a ByteColumn's or CodedColumn's its own."""
    if hasattr(column, "factorise"):
        return column.factorise()
    import pandas as pd

    return pd.factorize(np.array(column, dtype=object))


def _take(column, rows: np.ndarray):
    """The given rows of a column (a list, or a ByteColumn that keeps its cells as bytes of the file)."""
    return [column[k] for k in rows.tolist()] if isinstance(column, list) else column.take(rows)
