"""SPSS, Stata and SAS files written by pyreadstat (value labels, user-missing values, date formats, SAS's two row
compressions) read with their metadata; the study built from them gives the numbers it gives from CSV."""
from __future__ import annotations

import json

import pandas as pd
import pyreadstat
import pytest

from papergen.codebook import read_codebook
from papergen.errors import DataErrors
from papergen.ingest.load import read_raw
from papergen.ingest.validate import validate
from studycopy import copy_study, csv_frame, csv_to_sav, run_build, set_codebook_path


@pytest.fixture
def study(tmp_path):
    return copy_study(tmp_path / "study")


def _tables(study):
    book = read_codebook(study / "data" / "codebook.yaml")
    raws = {n: read_raw(n, study / "data" / s.path, f"data/{s.path}", s) for n, s in book.files.items()}
    return validate(book, raws), raws


def test_sav_keeps_labels_dates_and_user_missing_values(tmp_path):
    frame = pd.DataFrame({"id": [1.0, 2.0, 3.0], "sex": [1.0, 2.0, 9.0],
                          "seen": [pd.Timestamp("2020-01-05").date(), None, pd.Timestamp("2020-02-01").date()]})
    path = tmp_path / "t.sav"
    pyreadstat.write_sav(frame, str(path), column_labels=["Patient", "Sex", "Seen on"],
                         variable_value_labels={"sex": {1.0: "female", 2.0: "male"}}, missing_ranges={"sex": [9.0]},
                         variable_format={"seen": "DATE11"})
    raw = read_raw("t", path, "t.sav")
    assert raw.header == ["id", "sex", "seen"] and raw.rownums == [1, 2, 3]
    assert [list(c) for c in raw.columns] == [["1", "2", "3"], ["1", "2", ""], ["2020-01-05", "", "2020-02-01"]]
    assert raw.variables["sex"]["labels"] == {"1": "female", "2": "male"}
    assert raw.variables["sex"]["label"] == "Sex" and raw.variables["seen"]["date"]


def test_study_from_spss_and_stata_gives_the_csv_numbers(study, built):
    csv_to_sav(study, "patients", {"sex": ["female", "male"], "who_grade": ["G1", "G2", "G3"]})
    csv_to_sav(study, "lesions", {"treatment": ["resected", "ablated"]}, suffix=".dta")
    csv_to_sav(study, "labs", {"unit": ["umol/L"]}, suffix=".zsav")
    assert (study / "data" / "labs.zsav").read_bytes()[:4] == b"$FL3"  # the compressed SPSS format
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads((study / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["values"]
    theirs = json.loads(built.outputs.ledger.read_text(encoding="utf-8"))["values"]
    assert {k: v["text"] for k, v in ours.items() if "text" in v} == \
        {k: v["text"] for k, v in theirs.items() if "text" in v}
    assert ours["baseline.age"]["inputs"][0]["file"] == "data/patients.sav"


def _texts(ledger):
    values = json.loads(ledger.read_text(encoding="utf-8"))["values"]
    return {k: v["text"] for k, v in values.items() if "text" in v}


def csv_to_sas(study, name: str, suffix: str = ".sas7bdat", **options):
    """Write data/<name>.csv with pyreadstat's SAS writers (options: compress=True for RDC, row_compress=True for
    RLE) and point the codebook at it."""
    dest = study / "data" / f"{name}{suffix}"
    writer = pyreadstat.write_xport if suffix == ".xpt" else pyreadstat.write_sas7bdat
    writer(csv_frame(study, name), str(dest), **options)
    set_codebook_path(study, name, dest.name)
    return dest


def test_study_from_sas_gives_the_csv_numbers(study, built):
    csv_to_sas(study, "patients", compress=True)  # COMPRESS=BINARY (RDC)
    csv_to_sas(study, "lesions", row_compress=True)  # COMPRESS=CHAR (RLE)
    csv_to_sas(study, "labs", ".xpt")  # SAS transport, version 8
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    assert _texts(study / "manuscript" / "numbers.json") == _texts(built.outputs.ledger)
    raw = read_raw("patients", study / "data" / "patients.sas7bdat", "data/patients.sas7bdat")
    assert raw.variables["operation_date"]["date"] and raw.variables["operation_date"]["format"] == "DATE."
    assert not any("label_set_missing" in v for v in raw.variables.values())  # DATE. is SAS's format, not a label set


def test_sas_rows_that_do_not_decompress_are_one_line(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "n": [1.0, 2.0, 3.0]})
    path = tmp_path / "t.sas7bdat"
    pyreadstat.write_sas7bdat(frame, str(path), compress=True)
    data = path.read_bytes()
    assert data.count(b"SASYZCR2") == 1  # RDC: ReadStat reads it
    assert read_raw("t", path, "t.sas7bdat").usable
    path.write_bytes(data.replace(b"SASYZCR2", b"SASYZCRL"))  # the file now says RLE, its rows are RDC
    raw = read_raw("t", path, "t.sas7bdat")
    assert [str(p) for p in raw.problems] == [
        "t.sas7bdat: a SAS file with RLE (COMPRESS=CHAR) compression whose rows pyreadstat cannot decompress (A row "
        "in the file was not the expected length); write it again uncompressed (SAS: options compress=no) or as .xpt"]


def test_missing_value_label_set_is_one_line(study):
    csv_to_sav(study, "patients", {"sex": ["female", "male"]}, labels=False)
    with pytest.raises(DataErrors) as err:
        _tables(study)
    assert str(err.value) == ("data/patients.sav, column sex: the file has no value label set for this variable, "
                              "but the codebook labels its codes; attach the labels in the source program and save "
                              "again (rule value_labels)")


def test_label_that_disagrees_with_the_codebook_is_named(study):
    csv_to_sav(study, "patients", {"sex": ["female", "male"]})
    book = study / "data" / "codebook.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace("labels: {1: female, 2: male}",
                                                             "labels: {1: male, 2: female}"), encoding="utf-8")
    with pytest.raises(DataErrors) as err:
        _tables(study)
    assert "data/patients.sav, column sex: value '1': the file labels this code 'female', the codebook 'male'" \
        in str(err.value)


def test_unreadable_file_is_one_line(tmp_path):
    path = tmp_path / "t.sas7bdat"
    path.write_bytes(b"\0" * 2000)
    raw = read_raw("t", path, "t.sas7bdat")
    assert not raw.usable and str(raw.problems[0]).startswith("t.sas7bdat: cannot be read as a SAS file (")


def test_stata_extended_missing_and_dates(tmp_path):
    frame = pd.DataFrame({"id": [1.0, 2.0, 3.0], "bp": [120.0, "a", 130.0],
                          "seen": [pd.Timestamp("2020-01-01").date(), pd.Timestamp("2020-02-01").date(), None]})
    path = tmp_path / "t.dta"
    pyreadstat.write_dta(frame, str(path), missing_user_values={"bp": ["a"]}, variable_format={"seen": "%td"})
    raw = read_raw("t", path, "t.dta")
    assert [list(c) for c in raw.columns] == [["1", "2", "3"], ["120", "", "130"], ["2020-01-01", "2020-02-01", ""]]
    assert raw.variables["seen"]["date"] and raw.variables["bp"]["integer"]
