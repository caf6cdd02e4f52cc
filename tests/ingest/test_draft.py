"""codebook draft: what each format's metadata says, checked against the values, written as a reviewable draft."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import yaml

from papergen.ingest.draft import draft_codebook
from studycopy import REDCAP_EXAMPLE, ROOT


def _draft(files, folder):
    text = draft_codebook(files, folder)
    return text, yaml.safe_load(text)


def test_redcap_pair_gives_a_table_per_instrument(tmp_path):
    text, book = _draft([REDCAP_EXAMPLE / "redcap_export.csv", REDCAP_EXAMPLE / "redcap_dictionary.csv"],
                        REDCAP_EXAMPLE)
    assert book["draft"] is True and set(book["files"]) == {"redcap_export", "followup_visit"}
    records = book["files"]["redcap_export"]
    assert records["format"] == "redcap" and records["dictionary"] == "redcap_dictionary.csv"
    cols = records["columns"]
    assert cols["group"] == {"type": "category", "values": ["1", "2"], "labels": {"1": "standard", "2": "new"},
                             "required": True, "description": "Treatment group"}
    assert cols["initials"]["role"] == "identifier" and cols["comorbidity___2"]["type"] == "flag"
    assert cols["age_years"]["min"] == 18 and cols["start_date"]["max"] == "cutoff_date"
    visits = book["files"]["followup_visit"]
    assert visits["primary_key"] == ["patient_id", "redcap_repeat_instance"] and visits["missing"] == ["UNK"]
    assert book["conventions"]["cutoff_date"] == "2017-11-01"  # the latest date in the export


def test_redcap_value_outside_the_choices_is_said(tmp_path):
    export = tmp_path / "redcap_export.csv"
    export.write_text((REDCAP_EXAMPLE / "redcap_export.csv").read_text(encoding="utf-8")
                      .replace("P03,,,EF,1,66,2", "P03,,,EF,1,66,3"), encoding="utf-8")
    (tmp_path / "redcap_dictionary.csv").write_bytes((REDCAP_EXAMPLE / "redcap_dictionary.csv").read_bytes())
    text, _ = _draft([export, tmp_path / "redcap_dictionary.csv"], tmp_path)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("sex:"))
    assert line.endswith("# disagrees with the dictionary: '3' seen, not one of the field's choices")


def test_spss_labels_dates_and_user_missing(tmp_path):
    frame = pd.DataFrame({"pid": ["A1", "A2", "A3"], "arm": [1.0, 2.0, 3.0], "age": [50.0, 61.0, 999.0],
                          "seen": [dt.date(2019, 1, 2), dt.date(2019, 3, 4), None]})
    path = tmp_path / "trial.sav"
    pyreadstat.write_sav(frame, str(path), column_labels=["Patient", "Arm", "Age", "Seen"],
                         variable_value_labels={"arm": {1.0: "placebo", 2.0: "drug"}},
                         missing_ranges={"age": [999.0]})
    text, book = _draft([path], tmp_path)
    cols = book["files"]["trial"]["columns"]
    assert book["files"]["trial"]["primary_key"] == "pid" and cols["pid"]["role"] == "pseudonym"
    assert cols["arm"]["values"] == ["1", "2", "3"] and cols["arm"]["labels"] == {"1": "placebo", "2": "drug"}
    assert "code(s) 3 have no label" in text
    assert cols["age"] == {"type": "integer", "min": 50, "max": 61, "required": False, "description": "Age"}
    assert cols["seen"]["type"] == "date" and cols["seen"]["max"] == "cutoff_date"


def test_parquet_schema_types(tmp_path):
    pq.write_table(pa.table({"id": ["a", "b", "c", "d"], "dose": pa.array([1.0, 2.0, 2.0, 1.0]),
                             "ok": [True, False, True, True], "email": ["x@y.org", "", "", ""]}), tmp_path / "r.parquet")
    _, book = _draft([tmp_path / "r.parquet"], tmp_path)
    cols = book["files"]["r"]["columns"]
    assert cols["dose"]["type"] == "number" and cols["ok"]["type"] == "flag"
    assert cols["email"]["role"] == "identifier"


def test_csv_with_r_nas(tmp_path):
    (tmp_path / "d.csv").write_text("id,grp,v\nP1,a,1.5\nP2,b,NA\nP3,a,2\nP4,b,3\n", encoding="utf-8")
    _, book = _draft([tmp_path / "d.csv"], tmp_path)
    f = book["files"]["d"]
    assert f["missing"] == ["NA"] and f["columns"]["v"]["type"] == "number"
    assert f["columns"]["grp"]["values"] == ["a", "b"]


def test_the_study_data_draft_reads_back():
    text = draft_codebook([ROOT / "data" / "patients.csv"], ROOT / "data")
    book = yaml.safe_load(text)
    cols = book["files"]["patients"]["columns"]
    assert cols["death_date"]["required"] is False and cols["sex"]["values"] == ["female", "male"]


def test_longitudinal_redcap_keys_records_by_event(tmp_path):
    rows = (REDCAP_EXAMPLE / "redcap_export.csv").read_text(encoding="utf-8").splitlines()
    events = ["redcap_event_name"] + ["baseline_arm_1"] * (len(rows) - 1)
    lines = [f"{r.split(',', 1)[0]},{e},{r.split(',', 1)[1]}" for r, e in zip(rows, events)]
    (tmp_path / "redcap_export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "redcap_dictionary.csv").write_bytes((REDCAP_EXAMPLE / "redcap_dictionary.csv").read_bytes())
    _, book = _draft([tmp_path / "redcap_export.csv", tmp_path / "redcap_dictionary.csv"], tmp_path)
    assert book["files"]["redcap_export"]["primary_key"] == ["patient_id", "redcap_event_name"]
    assert book["files"]["followup_visit"]["primary_key"] == ["patient_id", "redcap_event_name",
                                                                "redcap_repeat_instance"]


def test_a_column_named_for_another_files_key_references_it_when_every_value_is_there(tmp_path):
    """lesions.patient_id holds only patients' ids: references drafted, said in a comment. A column whose values
    are not all there (visits naming a patient the patients file lacks) is left for the author."""
    (tmp_path / "patients.csv").write_text("patient_id,age\nP1,50\nP2,61\nP3,70\n", encoding="utf-8")
    (tmp_path / "lesions.csv").write_text("lesion_id,patient_id,size\nL1,P1,2\nL2,P1,3\nL3,P3,1\n", encoding="utf-8")
    (tmp_path / "visits.csv").write_text("visit_id,patient_id\nV1,P2\nV2,P9\n", encoding="utf-8")
    text, book = _draft([tmp_path / f"{n}.csv" for n in ("patients", "lesions", "visits")], tmp_path)
    assert book["files"]["lesions"]["columns"]["patient_id"]["references"] == "patients.patient_id"
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("patient_id:") and "references" in ln)
    assert line.endswith("# drafted: every value is one of patients.patient_id")
    assert "references" not in book["files"]["visits"]["columns"]["patient_id"]
    assert "references" not in book["files"]["patients"]["columns"]["patient_id"]
