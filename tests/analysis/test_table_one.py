"""Table 1 in one call: rows from codebook types, P values by gtsummary's rule, one-line refusals."""
from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from papergen.codebook import ColumnSpec, FileSpec
from papergen.errors import AnalysisError, PlanError
from papergen.analysis.plan import run_plan
from papergen.ingest.validate import Table


def tables(n=40):
    ids = [f"P{i:02d}" for i in range(n)]
    frame = pd.DataFrame({"patient_id": ids, "arm": ["a" if i % 2 else "b" for i in range(n)],
                          "male": [i % 3 == 0 for i in range(n)], "grade": [["I", "II", "III"][i % 3] for i in range(n)],
                          "age": [40.0 + (i * 7) % 23 if i != 5 else None for i in range(n)]}, index=ids)
    frame["male"] = frame["male"].astype(int)
    spec = FileSpec(name="patients", path="patients.csv", primary_key=("patient_id",), columns={
        "patient_id": ColumnSpec("patient_id", "string"), "arm": ColumnSpec("arm", "category", values=("a", "b")),
        "male": ColumnSpec("male", "flag", values=(0, 1)), "grade": ColumnSpec("grade", "category", values=("I", "II", "III")),
        "age": ColumnSpec("age", "number", required=False)})
    return {"patients": Table(name="patients", shown_as="data/patients.csv", spec=spec, frame=frame)}


def run(tmp_path, body, data=None):
    path = tmp_path / "study" / "analysis_plan.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("def analysis(a):\n    arms = a.groups('patients', 'arm')\n" +
                    "".join(f"    {line}\n" for line in body.splitlines()))
    return run_plan(path, data or tables(), tmp_path, {})


def test_rows_follow_the_codebook_types_with_missing_row_p_and_smd(tmp_path):
    a = run(tmp_path, 'a.table_one("t1", "Characteristics", "patients", arms, ["male", "grade", "age"], smd=True)')
    t = a.tables["t1"]
    labels = [r.label for r in t.rows]
    assert labels == ["male, n (%)", "grade, n (%)", "I", "II", "III", "age, median (IQR)", "Missing"]
    frame = tables()["patients"].frame
    want = stats.mannwhitneyu(frame.loc[frame.arm == "a", "age"].dropna(), frame.loc[frame.arm == "b", "age"].dropna(),
                              method="asymptotic", use_continuity=True).pvalue
    assert a.registry["t1.age.p"].exact["p"] == pytest.approx(want, rel=1e-9)
    assert a.registry["t1.male.a"].exact["n"] == int(frame.loc[frame.arm == "a", "male"].sum())  # the 1s
    assert a.registry["t1.age.missing.all"].count == 1
    assert "Wilcoxon rank-sum test (age)" in t.footnotes[-1]


def test_small_expected_counts_switch_to_fisher(tmp_path):
    a = run(tmp_path, 'a.table_one("t1", "C", "patients", arms, ["male"])', tables(n=8))
    assert a.registry["t1.male.p"].exact["test"] == "fisher"


def test_p_values_for_one_group_fail_at_the_plan_line(tmp_path):
    with pytest.raises(PlanError, match=r"analysis_plan.py:3: table_one\('t1'\): P values need at least two groups"):
        run(tmp_path, 'a.table_one("t1", "C", "patients", arms[:1], ["age"])')


def test_smd_for_three_groups_fails(tmp_path):
    with pytest.raises(AnalysisError, match="SMD column compares two groups, got 3"):
        run(tmp_path, 'g = a.groups("patients", "grade")\na.table_one("t1", "C", "patients", g, ["age"], smd=True)')


def test_an_unknown_summary_fails(tmp_path):
    with pytest.raises(AnalysisError, match="summary 'mode' is not one of"):
        run(tmp_path, 'a.table_one("t1", "C", "patients", arms, ["age"], summary="mode")')


def test_a_category_level_nobody_has_prints_zero_and_is_left_out_of_the_test(tmp_path):
    data = tables()
    data["patients"].spec.columns["grade"] = ColumnSpec("grade", "category", values=("I", "II", "III", "IV"))
    a = run(tmp_path, 'a.table_one("t1", "C", "patients", arms, ["grade"])', data)
    assert a.registry["t1.grade.iv.all"].parts["n_percent"] == "0 (0%)"
    assert a.registry["t1.grade.p"].exact["levels"] == ["I", "II", "III"]
    assert "IV: no subject, left out of the test" in a.registry["t1.grade.p"].definition
