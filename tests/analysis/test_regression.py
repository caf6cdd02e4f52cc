"""Cox models in the plan: codebook-coded covariates, one value per term, refusals in one line."""
from __future__ import annotations

import pytest

from papergen.errors import AnalysisError, PlanError
from test_table_one import run, tables


def body(covariates, **extra):
    options = "".join(f", {k}={v!r}" for k, v in extra.items())
    return ('import pandas as pd\n'
            'pts = a.data["patients"]\n'
            't = a.measure(pd.Series(range(1, len(pts) + 1), index=pts.index, dtype=float), "patients", ["age"], "time")\n'
            'e = a.measure((pd.Series(range(len(pts)), index=pts.index) % 4 != 0).astype(int), "patients", ["male"], "event")\n'
            f'a.cox("cox", a.survival(t, e), "patients", {covariates!r}{options})\n')


def test_each_term_is_a_value_and_a_category_is_coded_against_its_reference(tmp_path):
    a = run(tmp_path, body(["arm", "grade"], reference={"grade": "II"}, ph_test=False), tables())
    keys = [k for k in a.registry.keys() if k.startswith("cox.")]
    assert keys == ["cox.arm.b", "cox.grade.i", "cox.grade.iii"]
    v = a.registry["cox.grade.i"]
    assert v.text.startswith("HR ") and "95%CI: " in v.text and "; P " in v.text
    assert "reference II" in v.definition and "efron ties" in v.definition


def test_a_missing_covariate_fails_naming_it(tmp_path):
    with pytest.raises(PlanError, match="covariate 'age' is missing for 1 subjects"):
        run(tmp_path, body(["age"]), tables())


def test_an_unknown_reference_level_fails(tmp_path):
    with pytest.raises(AnalysisError, match="reference level 'IV' is not one of its observed levels"):
        run(tmp_path, body(["grade"], reference={"grade": "IV"}), tables())


def test_a_logistic_outcome_that_is_not_a_flag_fails(tmp_path):
    with pytest.raises(PlanError, match="the outcome .* must be a 0/1 flag or a boolean"):
        run(tmp_path, 'a.logistic("lr", a.column("patients", "grade"), "patients", ["arm"])', tables())


def test_perfect_separation_in_logistic_fails_naming_the_covariate(tmp_path):
    body = 'a.logistic("lr", a.measure(a.data["patients"]["arm"] == "a", "patients", ["arm"], "arm a"), "patients", ["arm"])'
    with pytest.raises(PlanError, match="analysis_plan.py:3: .*arm"):
        run(tmp_path, body, tables())


def test_a_category_coded_as_numbers_is_coded_like_its_text(tmp_path):
    """grade stored as 1.0/2.0/3.0 (read with gaps) must give the same HR as grade I/II/III, not a zero column."""
    from papergen.codebook import ColumnSpec

    text = run(tmp_path, body(["grade"], ph_test=False), tables())
    numeric = tables()
    frame, spec = numeric["patients"].frame, numeric["patients"].spec
    frame["grade"] = frame["grade"].map({"I": 1.0, "II": 2.0, "III": 3.0})
    spec.columns["grade"] = ColumnSpec("grade", "category", values=("1", "2", "3"))
    coded = run(tmp_path / "n", body(["grade"], ph_test=False), numeric)
    assert coded.registry["cox.grade.2"].exact["hr"] == pytest.approx(text.registry["cox.grade.ii"].exact["hr"], rel=1e-12)


def test_logistic_table_puts_univariable_and_multivariable_ors_side_by_side(tmp_path):
    body = ('import pandas as pd\n'
            'pts = a.data["patients"]\n'
            'y = a.measure(pd.Series([i % 5 in (0, 2) for i in range(len(pts))], index=pts.index), "patients", ["age"], "y")\n'
            'a.logistic_table("lt", "Odds ratios", y, "patients", ["grade", "arm"], reference={"grade": "I"})\n')
    a = run(tmp_path, body, tables())
    t = a.tables["lt"]
    assert t.header == ["Characteristic", "Univariable OR (95%CI)", "P", "Multivariable OR (95%CI)", "P"]  # the default style's CI label
    assert [r.label for r in t.rows] == ["grade", "I", "II", "III", "arm", "a", "b"]
    assert t.rows[1].cells[0] == "1 (reference)"
    assert a.registry["lt.multi.grade.ii"].text.startswith("OR ")
    assert "odds ratio" in t.footnotes[0]


def test_level_labels_name_the_levels_and_the_reference_row(tmp_path):
    body = ('import pandas as pd\n'
            'pts = a.data["patients"]\n'
            'y = a.measure(pd.Series([i % 5 in (0, 2) for i in range(len(pts))], index=pts.index), "patients", ["age"], "y")\n'
            'a.logistic_table("lt", "Odds ratios", y, "patients", ["grade"], reference={"grade": "I"},\n'
            '                 level_labels={"grade": {"I": "Grade 1", "II": "Grade 2", "III": "Grade 3"}})\n')
    t = run(tmp_path, body, tables()).tables["lt"]
    assert [r.label for r in t.rows] == ["grade", "Grade 1", "Grade 2", "Grade 3"]


def test_a_codebook_level_no_subject_has_gets_no_term_and_the_definition_says_so(tmp_path):
    from papergen.codebook import ColumnSpec

    data = tables()
    data["patients"].spec.columns["grade"] = ColumnSpec("grade", "category", values=("I", "II", "III", "IV"))
    a = run(tmp_path, body(["grade"], ph_test=False), data)
    assert "cox.grade.iv" not in a.registry
    assert "no subject has grade = IV, so it has no term" in a.registry["cox.grade.ii"].definition
