"""The analysis plan runner: declarations carry the plan line, inputs carry file, columns and rows."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from papergen.codebook import ColumnSpec, FileSpec
from papergen.errors import AnalysisError, PapergenError
from papergen.analysis.plan import run_plan
from papergen.ingest.validate import Table


def tables():
    frame = pd.DataFrame({"patient_id": ["P01", "P02", "P03"], "age": [50, 60, 70]},
                         index=["P01", "P02", "P03"])
    spec = FileSpec(name="patients", path="patients.csv", primary_key=("patient_id",),
                    columns={"patient_id": ColumnSpec("patient_id", "string"), "age": ColumnSpec("age", "integer")})
    return {"patients": Table(name="patients", shown_as="data/patients.csv", spec=spec, frame=frame)}


def plan(tmp_path, body):
    path = tmp_path / "study" / "analysis_plan.py"
    path.parent.mkdir()
    path.write_text("from papergen import statistics as st\n\ndef analysis(a):\n" + textwrap.indent(body, "    "))
    return path


def test_value_records_plan_line_and_inputs(tmp_path):
    path = plan(tmp_path, 'a.value("age", st.median_range(a.column("patients", "age")), "Median age.")\n')
    a = run_plan(path, tables(), tmp_path, {})
    v = a.registry["age"]
    assert v.declared_at == "study/analysis_plan.py:4"
    assert v.text == "60 (range, 50 to 70)"
    src = v.inputs[0]
    assert (src.file, src.columns, src.rows) == ("data/patients.csv", ("age",), ("P01", "P02", "P03"))


def test_filtered_column_keeps_only_used_rows(tmp_path):
    body = ('f = a.data["patients"]["age"] > 55\n'
            'a.value("old", st.count(a.column("patients", "age", where=f, filter="age > 55")), "Older.")\n')
    a = run_plan(plan(tmp_path, body), tables(), tmp_path, {})
    assert a.registry["old"].inputs[0].rows == ("P02", "P03")
    assert a.registry["old"].inputs[0].filter == "age > 55"


def test_definition_is_required(tmp_path):
    path = plan(tmp_path, 'a.value("age", st.median_range(a.column("patients", "age")), " ")\n')
    with pytest.raises(AnalysisError, match="needs a definition"):
        run_plan(path, tables(), tmp_path, {})


def test_unknown_column_is_named(tmp_path):
    path = plan(tmp_path, 'a.column("patients", "weight")\n')
    with pytest.raises(AnalysisError, match="patients.weight"):
        run_plan(path, tables(), tmp_path, {})


def test_tables_and_figures_are_numbered_in_order(tmp_path):
    body = ('a.table("one", "First", ["a", "b"])\n'
            'a.table("two", "Second", ["a", "b"])\n')
    a = run_plan(plan(tmp_path, body), tables(), tmp_path, {})
    assert [a.tables[k].ref.text for k in ("one", "two")] == ["Table 1", "Table 2"]


def test_plan_without_analysis_function(tmp_path):
    path = tmp_path / "plan.py"
    path.write_text("x = 1\n")
    with pytest.raises(PapergenError, match="must define a function analysis"):
        run_plan(path, tables(), tmp_path, {})
