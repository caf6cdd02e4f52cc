"""REDCap: the example's export and data dictionary (written in REDCap's own layouts, see
examples/redcap/data/make_redcap_export.py: dictionary of REDCap 8+, raw-data CSV export of REDCap 13/14)
split into the records' table and the repeating instrument's, checked against each other."""
from __future__ import annotations

import csv
import shutil

import pytest

from papergen.codebook import read_codebook
from papergen.errors import DataErrors
from papergen.ingest.load import read_raw
from papergen.ingest.redcap import DICTIONARY_COLUMNS, choices, read_dictionary
from papergen.ingest.validate import validate
from studycopy import ROOT

EXAMPLE = ROOT / "examples" / "redcap"


@pytest.fixture
def study(tmp_path):
    dest = tmp_path / "redcap"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("manuscript", ".papergen", "__pycache__"))
    return dest


def _read(study):
    book = read_codebook(study / "data" / "codebook.yaml")
    data = study / "data"
    raws = {n: read_raw(n, data / s.path, f"data/{s.path}", s, (data / s.dictionary, f"data/{s.dictionary}"))
            for n, s in book.files.items()}
    return book, raws


def _edit(path, change):
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_dictionary_has_redcaps_columns_and_choices(study):
    header = next(csv.reader((study / "data" / "redcap_dictionary.csv").open(encoding="utf-8")))
    assert tuple(header) == DICTIONARY_COLUMNS and len(header) == 18
    fields = read_dictionary(study / "data" / "redcap_dictionary.csv", "d.csv")
    group = next(f for f in fields if f["Variable / Field Name"] == "group")
    assert choices(group) == {"1": "standard", "2": "new"}


def test_export_splits_into_records_and_repeating_instances(study):
    book, raws = _read(study)
    tables = validate(book, raws)
    patients, visits = tables["patients"].frame, tables["followup_visit"].frame
    assert len(patients) == 12 and len(visits) == 24
    assert "initials" not in patients  # "Identifier?" y: checked, then dropped
    assert list(patients["group"].unique()) == ["standard", "new"]  # codes analysed by their labels
    assert patients.loc["P04", "comorbidity___1"] == 1 and patients.loc["P04", "comorbidity___3"] == 0
    assert list(visits.index[:2]) == ["P01 / 1", "P01 / 2"]  # row ids: record and repeat instance
    assert visits["weight_kg"].isna().sum() == 1  # UNK, a declared missing-data code
    assert raws["followup_visit"].rownums[:2] == [3, 4]  # the export's own spreadsheet rows


def test_field_in_one_and_not_the_other_is_named(study):
    _edit(study / "data" / "redcap_export.csv", lambda rows: [r.append("x") for r in rows])
    _edit(study / "data" / "redcap_dictionary.csv",
          lambda rows: rows.insert(5, ["bmi", "baseline", "", "text", "BMI", "", "", "number"] + [""] * 10))
    book, raws = _read(study)
    with pytest.raises(DataErrors) as err:
        validate(book, raws)
    lines = str(err.value).splitlines()
    assert any(ln.startswith("data/redcap_export.csv, row 1, column x: value 'x': column is not a field of "
                             "the data dictionary data/redcap_dictionary.csv") for ln in lines), lines
    assert any(ln.startswith("data/redcap_dictionary.csv, row 6, column bmi: field of the data dictionary "
                             "is not in the export data/redcap_export.csv") for ln in lines), lines


def test_choice_code_not_in_the_dictionary_names_the_record(study):
    _edit(study / "data" / "redcap_export.csv", lambda rows: rows[7].__setitem__(6, "3"))  # P03's sex
    book, raws = _read(study)
    with pytest.raises(DataErrors) as err:
        validate(book, raws)
    assert str(err.value) == ("data/redcap_export.csv, row 8, column sex: value '3': record P03: choice code is "
                              "not in the data dictionary's choices for sex (1, female | 2, male) (rule redcap_choices)")


def test_undeclared_missing_data_code_is_a_problem(study):
    book = study / "data" / "codebook.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace("    missing: [UNK]", ""), encoding="utf-8")
    book, raws = _read(study)
    with pytest.raises(DataErrors) as err:
        validate(book, raws)
    assert "column weight_kg: value 'UNK': expected a number" in str(err.value)


def test_dictionary_outside_the_study_is_never_read(study):
    from studycopy import run_build

    book = study / "data" / "codebook.yaml"
    outside = "dictionary: " + "../" * 20 + "etc/passwd"
    text = book.read_text(encoding="utf-8").replace("dictionary: redcap_dictionary.csv", outside, 1)
    book.write_text(text, encoding="utf-8")
    proc = run_build(study)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0].startswith(
        "error: data/codebook.yaml: files.patients.dictionary ")
    assert "etc/passwd': resolves to /etc/passwd, outside the study folder" in proc.stderr
