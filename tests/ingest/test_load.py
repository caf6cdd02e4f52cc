"""Reading data files as the author typed them: CSV dialect details, Excel cells, spreadsheet row numbers."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest

from papergen.codebook import read_codebook
from papergen.ingest.load import read_raw
from papergen.ingest.validate import validate
from studycopy import ROOT, copy_study, csv_to_xlsx, run_build


def _tables(study):
    book = read_codebook(study / "data" / "codebook.yaml")
    raws = {n: read_raw(n, study / "data" / s.path, f"data/{s.path}") for n, s in book.files.items()}
    return validate(book, raws)


@pytest.fixture
def study(tmp_path):
    return copy_study(tmp_path / "study")


def test_utf8_bom_and_crlf_from_excel_are_accepted(study):
    plain = _tables(study)
    path = study / "data" / "patients.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    raw = read_raw("patients", path, "data/patients.csv")
    assert raw.problems == [] and raw.header[0] == "patient_id"
    assert _tables(study)["patients"].frame.equals(plain["patients"].frame)


def test_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,note\nA,"two\nlines"\n\nB,x\n', encoding="utf-8")
    raw = read_raw("t", path, "t.csv")
    # row 2 spans two text lines but is one spreadsheet row; the blank row 3 is skipped, not renumbered
    assert raw.rows == [(2, ["A", "two\nlines"]), (4, ["B", "x"])]


def test_utf16_export_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("id\nA\n".encode("utf-16"))
    raw = read_raw("t", path, "t.csv")
    assert not raw.usable and "UTF-16" in raw.problems[0].rule


def test_excel_cells_become_the_text_the_author_typed(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b", "c", "d", "e", "f", "g", "h"])
    ws.append([8.5, 15.0, 0.00001, dt.datetime(2016, 5, 19), dt.datetime(2016, 5, 19, 10, 30), True, None, " x "])
    ws["D2"].number_format = "yyyy-mm-dd"
    wb.create_sheet("empty sheet left by Excel")
    wb.save(tmp_path / "t.xlsx")
    raw = read_raw("t", tmp_path / "t.xlsx", "t.xlsx")
    assert raw.problems == [] and raw.header == list("abcdefgh")
    assert raw.rows == [(2, ["8.5", "15", "0.00001", "2016-05-19", "2016-05-19 10:30:00", "TRUE", "", " x "])]


def test_every_formula_cell_is_reported_at_once(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "x", "y"])
    ws.append(["A", "=1+1", 3])
    ws.append(["B", 2, "=B3*2"])
    wb.save(tmp_path / "t.xlsx")
    raw = read_raw("t", tmp_path / "t.xlsx", "t.xlsx")
    assert [(e.row, e.column, e.value) for e in raw.problems] == [(2, "x", "=1+1"), (3, "y", "=B3*2")]
    assert raw.bad_cells == {(2, 1), (3, 2)}


def test_study_built_from_excel_and_a_bom_csv_gives_the_same_numbers(study, built):
    for name in ("patients", "lesions", "labs"):
        csv_to_xlsx(study, name)
    bom = study / "data" / "complications.csv"  # as Excel's "CSV UTF-8" writes it
    bom.write_bytes(b"\xef\xbb\xbf" + bom.read_bytes().replace(b"\n", b"\r\n"))
    assert [p.name for p in (study / "data").glob("*.csv")] == ["complications.csv"]
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads((study / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["values"]
    ref = json.loads(built.outputs.ledger.read_text(encoding="utf-8"))["values"]
    assert set(ours) == set(ref)
    assert {k: (v["text"], v["exact"]) for k, v in ours.items()} == {k: (v["text"], v["exact"]) for k, v in ref.items()}
    files = {s["file"] for v in ours.values() for s in v["inputs"]}
    assert "data/patients.xlsx" in files and "data/patients.csv" not in files


def test_repository_data_are_clean():
    tables = _tables(ROOT)
    assert len(tables["patients"].frame) == 11 and len(tables["lesions"].frame) == 102


# --- a large study's files read two at a time (load.read_all) ------------------------------------------------

@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """12,000 invented patients in Parquet (about 120,000 rows): above SharedTexts' 10,000, below the thresholds."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic_cohort import make_registry

    return make_registry(tmp_path_factory.mktemp("registry") / "study", 12_000, "parquet")


def _loaded(study, monkeypatch, together: bool):
    from papergen.errors import DataErrors
    from papergen.ingest import load
    from papergen.pipeline.stages import load_data
    from papergen.study import Study

    monkeypatch.setattr(load, "PARALLEL_BYTES", 0 if together else 1 << 62)
    try:
        return load_data(Study(study)), None
    except DataErrors as exc:
        return None, [str(e) for e in exc.errors]


def test_files_read_two_at_a_time_give_the_same_tables(registry, monkeypatch):
    import threading

    import pandas as pd
    from papergen.ingest import load

    threads = set()
    read_raw = load.read_raw
    monkeypatch.setattr(load, "read_raw", lambda *a, **k: threads.add(threading.current_thread().name) or
                        read_raw(*a, **k))
    one, _ = _loaded(registry, monkeypatch, together=False)
    assert threads == {threading.current_thread().name}
    two, _ = _loaded(registry, monkeypatch, together=True)
    assert len(threads) >= 2 and all(t.startswith("papergen read") for t in threads - {threading.current_thread().name})
    for name in ("patients", "lesions", "labs", "complications"):
        pd.testing.assert_frame_equal(two[name].frame, one[name].frame, check_exact=True)
    for tables in (one, two):  # the lesions' patient ids are the patients' own strings, whichever file came first
        patients, lesions = tables["patients"].frame, tables["lesions"].frame
        first = lesions["patient_id"].iloc[0]
        assert first is patients.loc[first, "patient_id"]


def test_mistakes_in_files_read_two_at_a_time_are_the_same_lines(registry, tmp_path, monkeypatch):
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    study = tmp_path / "study"
    shutil.copytree(registry, study)
    for name, column, row, value in (("patients", "age_years", 7, -5), ("lesions", "diameter_mm", 11, -3),
                                     ("labs", "value", 5, -1.0)):
        path = study / "data" / f"{name}.parquet"
        table = pq.read_table(path)
        values = table[column].to_pylist()
        values[row] = value
        i = table.schema.get_field_index(column)
        pq.write_table(table.set_column(i, column, pa.array(values, table.schema.field(i).type)), path)
    _, one = _loaded(study, monkeypatch, together=False)
    _, two = _loaded(study, monkeypatch, together=True)
    assert one and two == one
    assert [line.split(",")[0] for line in one] == ["data/patients.parquet", "data/lesions.parquet",
                                                     "data/labs.parquet"], one
