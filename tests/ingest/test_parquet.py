"""Parquet files written by pyarrow: the schema's types read as the texts a CSV export holds; a truncated file."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from papergen.ingest.load import read_raw
from papergen.ingest.parquet import read_parquet
from studycopy import copy_study, csv_to_parquet, run_build


def test_types_from_the_schema_become_csv_texts(tmp_path):
    table = pa.table({"id": pa.array(["A", "B", None]), "n": pa.array([1, None, 30], pa.int64()),
                      "x": pa.array([8.5, 15.0, 1e-05]), "day": pa.array([dt.date(2020, 1, 5), None, None]),
                      "flag": pa.array([True, False, None])})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)  # two row groups: chunks are joined
    header, rownums, columns, variables = read_parquet(tmp_path / "t.parquet", "t.parquet")
    assert header == ["id", "n", "x", "day", "flag"] and list(rownums) == [1, 2, 3]
    assert [list(c) for c in columns] == [["A", "B", ""], ["1", "", "30"], ["8.5", "15", "0.00001"],
                                          ["2020-01-05", "", ""], ["1", "0", ""]]
    assert variables["n"]["type"] == "int64" and variables["day"]["type"] == "date32[day]"


def test_truncated_parquet_is_one_line(tmp_path):
    pq.write_table(pa.table({"id": ["A", "B"]}), tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    raw = read_raw("t", tmp_path / "t.parquet", "data/t.parquet")
    assert not raw.usable and len(raw.problems) == 1
    assert str(raw.problems[0]).startswith("data/t.parquet: not a readable Parquet file (")


def test_study_from_parquet_builds(tmp_path):
    study = copy_study(tmp_path / "study")
    for name in ("patients", "lesions", "labs", "complications"):
        csv_to_parquet(study, name)
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
