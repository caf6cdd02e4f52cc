"""The public API: what an analysis plan imports from ``papergen``, and the stratified statistics."""
from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import papergen
from papergen import statistics as st
from papergen.errors import AnalysisError, StudyLayoutError
from papergen.values import Source


# --- the import surface ------------------------------------------------------------

def test_import_papergen_is_light():
    code = ("import sys, papergen; heavy = [m for m in ('pandas', 'numpy', 'matplotlib', 'lifelines', 'jinja2') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", papergen.__all__)
def test_public_name_is_documented_and_is_the_module_object(name):
    obj = getattr(papergen, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip() and not doc.startswith(f"{name}("), f"papergen.{name} has no docstring of its own"
    module = sys.modules[papergen._WHERE[name]]
    assert getattr(module, name) is obj


def test_plan_facing_names_are_exported():
    for name in ("Analysis", "build_manuscript", "km_median", "km_mean", "category_count", "logrank",
                 "median_range", "fmt_p", "km_figure", "TableBuilder", "literal"):
        assert name in papergen.__all__


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        papergen.nope  # noqa: B018


# --- subgroups of Measures and Survival ----------------------------------------------

def measure(values, ids=None, file="data/x.csv", filter=""):
    s = pd.Series(values, index=ids or [f"P{i}" for i in range(1, len(values) + 1)])
    return st.Measure(series=s, source=Source(file=file, columns=("c",), rows=tuple(s.index), filter=filter), label="c")


def test_measure_where_keeps_rows_and_records_the_filter():
    m = measure([1, 2, 3, 4], filter="days / 30")
    sub = m.where(pd.Series([True, False, True, False], index=m.series.index), "arm = a")
    assert list(sub.series) == [1, 3]
    assert sub.source.rows == ("P1", "P3") and sub.source.filter == "days / 30; arm = a"
    assert m.source.rows == ("P1", "P2", "P3", "P4")  # the original is untouched


def test_category_count_leaves_missing_values_out_of_the_denominator():
    v = st.category_count(measure(["II", "I", None, "II", "III"]), "II")
    assert v.exact == {"n": 2, "of": 4, "category": "II", "missing": 1}
    assert v.part("n_percent") == "2 (50%)" and v.count == 2


def test_category_count_of_nothing_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="every one of the 2 subjects has a missing value"):
        st.category_count(measure([None, None]), "a")


def _surv(time, event):
    return st.Survival(time=measure(time), event=measure(event))


def test_km_mean_with_tau_is_the_restricted_mean_of_lifelines():
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    t = [2.0, 3.5, 3.5, 5.0, 7.0, 8.5, 11.0, 12.0]
    e = [1, 1, 0, 1, 0, 1, 1, 0]
    v = st.km_mean(_surv(t, e), tau=6.0, unit="months")
    expected = restricted_mean_survival_time(KaplanMeierFitter().fit(t, e), t=6.0)
    assert v.exact["tau"] == 6.0 and v.exact["mean"] == pytest.approx(expected, rel=1e-9)
    # by hand: S = 1 on [0,2), 7/8 on [2,3.5), 7/8*6/7 on [3.5,5), 7/8*6/7*4/5 on [5,6]
    s1, s2, s3 = 7 / 8, 7 / 8 * 6 / 7, 7 / 8 * 6 / 7 * 4 / 5
    assert v.exact["mean"] == pytest.approx(2 + 1.5 * s1 + 1.5 * s2 + 1 * s3, rel=1e-12)


def test_logrank_matches_lifelines_two_group_test():
    from lifelines.statistics import logrank_test

    a_t, a_e = [3.0, 5.0, 6.0, 9.0, 12.0, 15.0], [1, 1, 0, 1, 1, 0]
    b_t, b_e = [7.0, 10.0, 14.0, 18.0, 20.0, 22.0], [1, 0, 1, 0, 1, 0]
    v = st.logrank([("A", _surv(a_t, a_e)), ("B", _surv(b_t, b_e))])
    ref = logrank_test(a_t, b_t, a_e, b_e)
    assert v.exact["p"] == pytest.approx(ref.p_value, rel=1e-12)
    assert v.exact["chi2"] == pytest.approx(ref.test_statistic, rel=1e-12) and v.exact["df"] == 1
    assert v.text.startswith("P ")


def test_logrank_needs_two_groups():
    with pytest.raises(AnalysisError, match="two groups"):
        st.logrank([("A", _surv([1.0], [1]))])


# --- Analysis.groups and Analysis.stratified on a real (template) study --------------

@pytest.fixture()
def analysis(tmp_path):
    from papergen.analysis.plan import Analysis
    from papergen.commands.new import create_study
    from papergen.pipeline.stages import load_data
    from papergen.study import Study

    study = Study(create_study(tmp_path / "study"))
    tables = load_data(study)
    book = tables.pop("_codebook")
    return Analysis(tables, study.paths.plan, study.root, study.settings, book)


def test_groups_follow_the_codebook_order_with_labels_and_keys(analysis):
    groups = analysis.groups("patients", "group", labels={"new": "New"}, keys={"standard": "std"})
    assert [(g.key, g.label) for g in groups] == [("std", "standard"), ("new", "New")]
    frame = analysis.data["patients"]
    assert groups[1].mask.sum() == (frame["group"] == "new").sum() and groups[1].filter == "group = new"


def test_stratified_declares_one_value_per_group_and_overall(analysis):
    groups = analysis.groups("patients", "group")
    ages = analysis.stratified("baseline.age", st.median_range, analysis.column("patients", "age_years"), groups,
                               "Median age", unit="yr")
    frame = analysis.data["patients"]
    assert [v.key for v in ages] == ["baseline.age.standard", "baseline.age.new", "baseline.age.all"]
    for v, rows in zip(ages, [frame[frame["group"] == "standard"], frame[frame["group"] == "new"], frame]):
        assert v.exact["median"] == float(np.median(rows["age_years"]))
        assert v.inputs[0].rows == tuple(str(i) for i in rows.index)
    assert ages[0].definition == "Median age (standard)" and ages[0].declared_at == ""  # not called from the plan file
    assert "baseline.age.all" in analysis.registry


def test_stratified_passes_options_to_survival_statistics(analysis):
    groups = analysis.groups("patients", "group")
    os_ = analysis.survival(analysis.column("patients", "time_months"), analysis.column("patients", "event"))
    rmst = analysis.stratified("os.rmst", st.km_mean, os_, groups, "RMST", tau=12.0, overall=False)
    assert [v.key for v in rmst] == ["os.rmst.standard", "os.rmst.new"]
    assert all(v.exact["tau"] == 12.0 for v in rmst)
    with pytest.raises(AnalysisError, match="needs a definition"):
        analysis.stratified("os.x", st.events, os_, groups, " ")


# --- tables: text and values in one cell ---------------------------------------------

def test_table_cell_can_mix_text_and_values():
    from papergen.analysis.tables import TableBuilder
    from papergen.values import Value

    n = Value(key="n.a", text="12", exact={"n": 12}, parts={"n_equals": "n = 12"})
    ref = Value(key="ref.table_t", text="Table 1", exact={"number": 1})
    t = TableBuilder(key="t", number=1, caption="Demo", header=["X", ("Arm A, ", n.part("n_equals"))], ref=ref)
    t.row("Count", n)
    md = t.to_markdown(lambda v: f"<{v}>")
    assert "| X | Arm A, <n = 12> |" in md and "| Count | <12> |" in md
    assert [v.key for v in t.values()] == ["n.a", "n.a"]


# --- the journal profile's citation style ---------------------------------------------

def test_csl_style_names_and_files(tmp_path):
    from papergen.study import csl_style

    assert csl_style("american-medical-association").name == "american-medical-association.csl"
    (tmp_path / "mine.csl").write_text("<style/>", encoding="utf-8")
    assert csl_style("mine.csl", base=tmp_path) == (tmp_path / "mine.csl").resolve()
    with pytest.raises(StudyLayoutError, match="closest: american-medical-association"):
        csl_style("american-medical-asociation")
    with pytest.raises(StudyLayoutError, match="not found"):
        csl_style("missing.csl", base=tmp_path)
