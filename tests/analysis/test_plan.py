"""The analysis plan runner: declarations carry the plan line, inputs carry file, columns and rows."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from papergen.codebook import ColumnSpec, FileSpec
from papergen.analysis.plan import run_plan
from papergen.errors import AnalysisError, PapergenError, PlanError
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


# --- a plan's mistakes are reported at its line ----------------------------------------------------

def flag_tables():
    frame = pd.DataFrame({"patient_id": ["P01", "P02", "P03"], "male": [1, 0, 1], "arm": ["a", "b", "a"],
                          "months": [3.0, 5.0, 8.0], "dead": [1, 0, 1]}, index=["P01", "P02", "P03"])
    spec = FileSpec(name="patients", path="patients.csv", primary_key=("patient_id",),
                    columns={"patient_id": ColumnSpec("patient_id", "string"),
                             "male": ColumnSpec("male", "flag", values=(0, 1)),
                             "arm": ColumnSpec("arm", "category", values=("a", "b")),
                             "months": ColumnSpec("months", "number"), "dead": ColumnSpec("dead", "flag", values=(0, 1))})
    return {"patients": Table(name="patients", shown_as="data/patients.csv", spec=spec, frame=frame)}


def test_count_of_a_codebook_flag_column_counts_its_ones(tmp_path):
    a = run_plan(plan(tmp_path, 'a.value("male", st.count(a.column("patients", "male")), "Men.")\n'),
                 flag_tables(), tmp_path, {})
    assert a.registry["male"].parts["n_percent"] == "2 (67%)"  # was "3 (100%)": every row with a value


def test_a_statistic_that_cannot_be_right_fails_at_its_plan_line(tmp_path):
    path = plan(tmp_path, 'x = 1\na.value("arm", st.count(a.column("patients", "arm")), "Arm.")\n')
    with pytest.raises(PlanError, match=r"^study/analysis_plan.py:5: count\(\) of data/patients.csv: arm: .*category_count"):
        run_plan(path, flag_tables(), tmp_path, {})


def test_a_python_error_in_the_plan_names_the_plan_line_and_a_hint(tmp_path):
    path = plan(tmp_path, 'pts = a.data["patients"]\nx = pts["group"]\n')
    with pytest.raises(PlanError) as err:
        run_plan(path, flag_tables(), tmp_path, {})
    msg = str(err.value)
    assert msg.startswith("study/analysis_plan.py:5: KeyError: 'group'") and "\n" not in msg
    assert "columns: patients: patient_id, male, arm" in msg


def test_an_error_inside_a_helper_of_the_plan_names_the_innermost_plan_line(tmp_path):
    path = tmp_path / "study" / "analysis_plan.py"
    path.parent.mkdir()
    path.write_text("from papergen import statistics as st\n\n\ndef helper():\n    return [1].index(2)\n\n\n"
                    "def analysis(a):\n    helper()\n")
    with pytest.raises(PlanError, match=r"^study/analysis_plan.py:5: ValueError: 2 is not in list$"):
        run_plan(path, flag_tables(), tmp_path, {})


def test_a_value_and_a_group_of_the_same_name_fail_with_both_plan_lines(tmp_path):
    body = ('m = a.column("patients", "months")\n'
            'a.value("cox.uni", st.median_range(m), "Median.")\n'
            'a.value("cox.uni.lev", st.median_range(m), "Median.")\n')
    with pytest.raises(PlanError, match=r"'cox.uni.lev' \(study/analysis_plan.py:6\) puts a group under 'cox.uni', "
                                        r"which is a value \(study/analysis_plan.py:5\)"):
        run_plan(plan(tmp_path, body), flag_tables(), tmp_path, {})


def test_source_without_rows_names_every_row_of_its_table(tmp_path):
    body = 'a.value("p", st.parameter(30, "30", a.source("patients", [])), "A parameter.")\n'
    a = run_plan(plan(tmp_path, body), flag_tables(), tmp_path, {})
    assert a.registry["p"].inputs[0].rows == ("P01", "P02", "P03")  # was (): "0 rows"


def test_the_declared_ci_transform_is_used_and_registered(tmp_path):
    body = ('a.km_ci_transform("log")\n'
            's = a.survival(a.column("patients", "months"), a.column("patients", "dead"))\n'
            'a.value("med", st.km_median(s), "Median.")\n')
    a = run_plan(plan(tmp_path, body), flag_tables(), tmp_path, {})
    assert a.registry["method.km_ci"].text == "log" and a.registry["med"].exact["conf_type"] == "log"
    assert a.registry["method.km_ci"].part("words") == "log transformed"


def test_without_a_declaration_the_default_transform_is_still_a_value(tmp_path):
    body = ('s = a.survival(a.column("patients", "months"), a.column("patients", "dead"))\n'
            'a.value("med", st.km_median(s), "Median.")\n')
    a = run_plan(plan(tmp_path, body), flag_tables(), tmp_path, {})
    assert a.registry["method.km_ci"].text == "log-log"
    assert "default" in a.registry["method.km_ci"].definition


def test_a_transform_declared_after_the_curves_fails(tmp_path):
    body = ('s = a.survival(a.column("patients", "months"), a.column("patients", "dead"))\n'
            'a.km_ci_transform("plain")\n')
    with pytest.raises(PlanError, match=r"^study/analysis_plan.py:5: km_ci_transform\('plain'\) comes after"):
        run_plan(plan(tmp_path, body), flag_tables(), tmp_path, {})


def test_a_figure_takes_one_column_or_two(tmp_path):
    from papergen.analysis.plan import FigureSpec

    assert FigureSpec("os", 1, [], {}, None).columns == 2  # the page's width unless the plan says
    assert FigureSpec("os", 1, [], {}, None, columns=1).columns == 1
    with pytest.raises(AnalysisError, match="figure 'os': columns=3; a figure takes 1 column or 2"):
        FigureSpec("os", 1, [], {}, None, columns=3)


def test_the_plans_caches_are_emptied_once_it_has_run(tmp_path):
    """Indexes, subgroups' row ids and Kaplan-Meier tables are cached while a plan runs (the plan checks
    them), not after it: watch and preview build again in one process, and at registry scale they hold
    hundreds of MB."""
    from papergen.analysis import plan as plans, statistics, survival

    body = ('import papergen.analysis.plan as p, papergen.analysis.statistics as s, papergen.analysis.survival as v\n'
            'old = a.data["patients"]["age"] > 55\n'
            'a.value("old", st.median_range(a.column("patients", "age").where(old)), "Older.")\n'
            'time = a.measure(a.data["patients"]["age"] / 10.0, "patients", ["age"], "time")\n'
            'event = a.measure(old.astype(int), "patients", ["age"], "event")\n'
            'a.value("km", st.km_median(a.survival(time, event)), "Median.")\n'
            'assert p._INDEXES and s._SUBSETS and v._TABLES, "the caches are used while the plan runs"\n')
    a = run_plan(plan(tmp_path, body), tables(), tmp_path, {})
    assert a.registry["km"].exact["conf_type"] == "log-log"
    assert not plans._INDEXES and not statistics._SUBSETS and not survival._TABLES


# --- Analysis.linked_rows: each row's row in the table its foreign key references -----------------

@pytest.fixture()
def demo():
    """The demonstration study's tables as validation makes them, in an Analysis."""
    from papergen.analysis.plan import Analysis
    from papergen.pipeline.stages import load_data
    from papergen.study import Study
    from studycopy import ROOT

    study = Study(ROOT)
    tables = load_data(study)
    book = tables.pop("_codebook")
    return Analysis(tables, study.paths.plan, study.root, study.settings, book)


def test_linked_rows_are_pandas_lookup_of_every_id_without_running_it(demo, monkeypatch):
    """On the frames as read, validation's rows are handed out (no pandas lookup runs) and they are what
    get_indexer gives on the referenced column; a lesion's row names its own patient."""
    import numpy as np

    ids = demo.data["patients"].index
    expected = {t: ids.get_indexer(demo.data[t]["patient_id"]) for t in ("lesions", "labs", "complications")}

    def refuse(*args, **kwargs):
        raise AssertionError("looked up again")

    monkeypatch.setattr(pd.Index, "get_indexer", refuse)
    for table, rows in expected.items():
        got = demo.linked_rows(table, "patient_id")
        assert np.array_equal(got, rows) and (got >= 0).all()
    les = demo.data["lesions"]
    assert list(ids[demo.linked_rows("lesions", "patient_id")]) == list(les["patient_id"])


def test_linked_rows_follow_a_column_the_plan_changed(demo):
    """A lesion moved to another patient, or the patients in another order: looked up again, still right."""
    import numpy as np

    les = demo.data["lesions"].copy()
    pts = demo.data["patients"]
    les.iloc[0, les.columns.get_loc("patient_id")] = pts.index[-1]
    demo.data["lesions"] = les
    rows = demo.linked_rows("lesions", "patient_id")
    assert rows[0] == len(pts) - 1 and np.array_equal(rows, pts.index.get_indexer(les["patient_id"]))
    demo.data["patients"] = pts.iloc[::-1]
    assert np.array_equal(demo.linked_rows("lesions", "patient_id"),
                          demo.data["patients"].index.get_indexer(les["patient_id"]))


def test_linked_rows_refuse_a_column_without_references_and_a_repeated_target(demo):
    with pytest.raises(AnalysisError, match=r"^linked_rows\('patients', 'sex'\): the codebook declares no references"):
        demo.linked_rows("patients", "sex")
    les = demo.data["lesions"]
    demo.data["lesions"] = les.assign(patient_id=["ZZ"] * 2 + list(les["patient_id"][2:]))
    with pytest.raises(AnalysisError, match=r"2 rows name no row of patients.patient_id \(the first: 'ZZ'\)"):
        demo.linked_rows("lesions", "patient_id")
    demo.data["lesions"] = les
    pts = demo.data["patients"]
    demo.data["patients"] = pd.concat([pts, pts.iloc[:1]])
    with pytest.raises(AnalysisError, match=r"patients.patient_id holds a value on more than one row"):
        demo.linked_rows("lesions", "patient_id")
