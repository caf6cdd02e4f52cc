"""The GBSG2 example (examples/gbsg2): built with its documented command from a fresh copy,
and its numbers checked against lifelines, a hand-coded variance and R's published output."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, docx_text, pdf_text

EXAMPLE = ROOT / "examples" / "gbsg2"
DAYS_PER_MONTH = 365.25 / 12
ARMS = {"no": "no_ht", "yes": "ht"}


def half_up(x: float, places: int) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """Copy the example as a fresh clone would have it and run ``python build.py`` there."""
    folder = tmp_path_factory.mktemp("examples") / "gbsg2"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("manuscript", ".papergen", "__pycache__", ".manuscript.*"))
    run = subprocess.run([sys.executable, "build.py"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = folder / "manuscript"
    ledger = json.loads((out / "numbers.json").read_text(encoding="utf-8"))["values"]
    return {"folder": folder, "out": out, "run": run, "values": ledger,
            "docx": docx_text(out / "gbsg2-example.docx"), "pdf": pdf_text(out / "gbsg2-example.pdf")}


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(EXAMPLE / "data" / "gbsg2.csv")


def exact(example, key):
    return example["values"][key]["exact"]


# --- the documented command and the data --------------------------------------------

def test_documented_command_builds_docx_pdf_figure_and_ledger(example):
    out = example["out"]
    for name in ("gbsg2-example.docx", "gbsg2-example.pdf", "numbers.json", "figures/rfs.png", "figures/rfs.pdf"):
        assert (out / name).stat().st_size > 0, name
    assert "built gbsg2-example.docx" in example["run"].stdout
    assert "python examples/gbsg2/build.py" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_one_column_figure_is_drawn_and_placed_at_one_column(example):
    """The plan asks columns=1 for the Kaplan-Meier figure: 8.4 cm (papergen's style), 300 dpi, placed so."""
    from PIL import Image

    with Image.open(example["out"] / "figures" / "rfs.png") as im:
        assert im.size[0] == round(8.4 / 2.54 * 300)
    with Image.open(example["out"] / "figures" / "forest.png") as im:
        assert im.size[0] == round(17.4 / 2.54 * 300)
    typ = (example["out"] / "gbsg2-example.typ").read_text(encoding="utf-8")
    assert 'image("figures/rfs.pdf", width: 8.4cm)' in typ and 'image("figures/forest.pdf", width: 15.9cm)' in typ
    assert "figure widths" in example["run"].stdout


def test_csv_is_the_lifelines_data_set_and_the_export_is_deterministic(example, data):
    from lifelines.datasets import load_gbsg2

    shipped = load_gbsg2()
    assert list(data["patient"]) == list(range(1, len(shipped) + 1))
    pd.testing.assert_frame_equal(data.drop(columns="patient"), shipped, check_dtype=False)
    committed = (EXAMPLE / "data" / "gbsg2.csv").read_bytes()
    (example["folder"] / "data" / "gbsg2.csv").unlink()
    subprocess.run([sys.executable, "data/export_from_lifelines.py"], cwd=example["folder"], check=True,
                   capture_output=True)
    assert (example["folder"] / "data" / "gbsg2.csv").read_bytes() == committed


def test_build_reads_the_csv_not_lifelines(example):
    """The plan and the build never load lifelines' copy of the data: the ledger traces values to the CSV."""
    plan = (EXAMPLE / "study" / "analysis_plan.py").read_text(encoding="utf-8")
    assert "datasets" not in plan and "load_gbsg2" not in plan
    assert example["values"]["rfs.median.ht"]["inputs"][0]["file"] == "data/gbsg2.csv"


# --- survival statistics against independent computations ---------------------------

def _kmf(data, level):
    from lifelines import KaplanMeierFitter

    g = data[data["horTh"] == level]
    return KaplanMeierFitter().fit(g["time"] / DAYS_PER_MONTH, g["cens"])


@pytest.mark.parametrize("level", sorted(ARMS))
def test_median_and_ci_match_lifelines(example, data, level):
    from lifelines.utils import median_survival_times

    kmf = _kmf(data, level)
    lo, hi = median_survival_times(kmf.confidence_interval_).iloc[0]
    got = exact(example, f"rfs.median.{ARMS[level]}")
    assert got["median"] == pytest.approx(kmf.median_survival_time_, rel=1e-12)
    assert got["lower"] == pytest.approx(lo, rel=1e-12)
    assert (got["upper"] is None) if np.isinf(hi) else got["upper"] == pytest.approx(hi, rel=1e-12)


def _greenwood_rmst_se(time, event, tau):
    """SE of the restricted mean by the Greenwood-type formula, written out with plain loops:
    Var = sum over event times t_j <= tau of A_j**2 * d_j / (n_j * (n_j - d_j)),
    A_j = area under the Kaplan-Meier curve from t_j to tau."""
    pairs = list(zip(time, event))
    rows, s = [], 1.0  # (t, n at risk, deaths, S just after t)
    for t in sorted(set(time)):
        n = sum(1 for u, _ in pairs if u >= t)
        d = sum(1 for u, e in pairs if u == t and e == 1)
        s *= 1 - d / n
        rows.append((t, n, d, s))

    def area(start):
        height = 1.0
        for t, _, _, s_after in rows:
            if t <= start:
                height = s_after
        total, left = 0.0, start
        for t, _, _, s_after in rows:
            if start < t <= tau:
                total += (t - left) * height
                left, height = t, s_after
        return total + (tau - left) * height

    var = sum(area(t) ** 2 * d / (n * (n - d)) for t, n, d, _ in rows if t <= tau and d > 0 and n > d)
    return var ** 0.5


@pytest.mark.parametrize("level", sorted(ARMS))
def test_restricted_mean_and_se_match_independent_values(example, data, level):
    from lifelines.utils import restricted_mean_survival_time

    got = exact(example, f"rfs.rmst.{ARMS[level]}")
    assert got["tau"] == 60
    assert got["mean"] == pytest.approx(restricted_mean_survival_time(_kmf(data, level), t=60), rel=1e-6)
    g = data[data["horTh"] == level]
    se = _greenwood_rmst_se(list(g["time"] / DAYS_PER_MONTH), list(g["cens"]), 60.0)
    assert got["se"] == pytest.approx(se, rel=1e-9)


@pytest.fixture(scope="module")
def r_published():
    """R (survival, prodlim) on GBSG2 with time in days, as printed in a public course script:
    median RFS 1528 (no) and 2018 (yes) days; survdiff events 205 and 94, (O-E)^2/V = 8.56,
    p = 0.003; 5-year RFS 0.437 (no) and 0.581 (yes)."""
    return {"median_days": {"no_ht": 1528, "ht": 2018}, "events": {"no_ht": 205, "ht": 94},
            "chi2": "8.56", "p": "0.003", "y5": {"no_ht": "0.437", "ht": "0.581"}}


def test_against_r_published_output(example, r_published):
    for arm in ARMS.values():
        assert exact(example, f"rfs.median.{arm}")["median"] * DAYS_PER_MONTH == pytest.approx(
            r_published["median_days"][arm], abs=1e-6)
        assert exact(example, f"rfs.events.{arm}")["n"] == r_published["events"][arm]
        assert half_up(exact(example, f"rfs.y5.{arm}")["survival"], 3) == r_published["y5"][arm]
    assert half_up(exact(example, "rfs.logrank")["chi2"], 2) == r_published["chi2"]
    assert half_up(exact(example, "rfs.logrank")["p"], 3) == r_published["p"]


# --- Table 1 and the printed text ----------------------------------------------------

def _pct(n, total):
    return f"{n} ({half_up(100 * n / total, 1)}%)"


def test_table1_counts_match_pandas_and_are_printed(example, data):
    cross = pd.crosstab(data["tgrade"], data["horTh"])
    for level, arm in ARMS.items():
        total = int((data["horTh"] == level).sum())
        for grade in ("I", "II", "III"):
            n = int(cross.loc[grade, level])
            assert exact(example, f"baseline.tgrade.{grade.lower()}.{arm}") == {"category": grade, "n": n, "of": total}
            assert _pct(n, total) in example["docx"]
    ages = data.groupby("horTh")["age"]
    for level, arm in ARMS.items():
        mean, sd = ages.mean()[level], ages.std()[level]
        assert f"{half_up(mean, 1)} ± {half_up(sd, 1)}" in example["docx"]
    assert f"n = {len(data)}" in example["docx"]


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_abstract_numbers_printed_as_computed(example, data, fmt):
    from lifelines.utils import median_survival_times

    text = example[fmt]
    kmf = _kmf(data, "no")
    lo, hi = median_survival_times(kmf.confidence_interval_).iloc[0]
    assert (f"{half_up(kmf.median_survival_time_, 1)} months (95% CI, {half_up(lo, 1)}–{half_up(hi, 1)})") in text
    n_ht = int((data["horTh"] == "yes").sum())
    assert f"Of {len(data)} women, {_pct(n_ht, len(data))} received hormonal therapy" in text
    se = exact(example, "rfs.rmst.ht")
    assert f"{half_up(se['mean'], 1)} ± {half_up(se['se'], 1)} months" in text
    assert "P = 0.003" in text


# --- the comparative paper: Table 1 with P values, Cox models, PH test, equal to R ---------------

def _r_comparative():
    """tests/fixtures/gbsg2_comparative_r.txt, written by tests/r/gbsg2_comparative.R."""
    out = {}
    for line in (ROOT / "tests" / "fixtures" / "gbsg2_comparative_r.txt").read_text(encoding="utf-8").splitlines():
        f = line.split()
        if f and f[0] != "#":
            out[(f[0], f[1])] = [float(x) for x in f[2:]]
    return out


R_TERMS = {"horThyes": "horth.yes", "age": "age", "menostatPost": "menostat.post", "tsize": "tsize",
           "tgradeII": "tgrade.ii", "tgradeIII": "tgrade.iii", "pnodes": "pnodes", "progrec": "progrec",
           "estrec": "estrec"}


def test_multivariable_cox_model_and_ph_test_equal_r(example):
    r = _r_comparative()
    for r_name, key in R_TERMS.items():
        coef, se, p = r[("multi", r_name)]
        v = exact(example, f"cox.multi.{key}")
        assert v["coef"] == pytest.approx(coef, rel=1e-6) and v["se"] == pytest.approx(se, rel=1e-6), key
        assert v["p"] == pytest.approx(p, rel=1e-5), key
        chisq, ph_p = r[("ph", r_name)]
        assert exact(example, f"cox.multi.ph.{key}")["chisq"] == pytest.approx(chisq, rel=1e-6), key
        assert exact(example, f"cox.multi.ph.{key}")["p"] == pytest.approx(ph_p, rel=1e-5), key
    assert exact(example, "cox.multi.ph.global")["p"] == pytest.approx(r[("ph", "GLOBAL")][1], rel=1e-5)
    coef, se, p = r[("uni", "horThyes")]
    assert exact(example, "cox.uni.horth.yes")["coef"] == pytest.approx(coef, rel=1e-6)


def test_cox_model_equals_lifelines(example, data):
    from lifelines import CoxPHFitter

    x = pd.get_dummies(data[["horTh", "age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec"]],
                       dtype=float).drop(columns=["horTh_no", "menostat_Pre", "tgrade_I"])
    x["time"], x["cens"] = data["time"] / 30.4375, data["cens"]
    fit = CoxPHFitter().fit(x, "time", "cens")
    assert exact(example, "cox.multi.horth.yes")["coef"] == pytest.approx(fit.params_["horTh_yes"], rel=1e-5)
    assert exact(example, "cox.multi.tgrade.iii")["coef"] == pytest.approx(fit.params_["tgrade_III"], rel=1e-5)


def test_table_one_p_values_follow_gtsummarys_rule_and_equal_r(example):
    r = _r_comparative()
    for column in ("age", "tsize", "pnodes", "progrec", "estrec", "menostat", "tgrade"):
        v = exact(example, f"baseline.{column}.p")
        assert v["p"] == pytest.approx(r[("p", column)][0], rel=1e-5), column
        assert v["test"] == ("chisq" if column in ("menostat", "tgrade") else "wilcoxon"), column


def test_comparative_paper_prints_its_tables_and_adjusted_hr(example):
    hr = example["values"]["cox.multi.horth.yes"]
    assert hr["parts"]["table"] in example["docx"] and hr["parts"]["table"] in example["pdf"]
    assert "1 (reference)" in example["docx"] and "Multivariable HR (95% CI)" in example["docx"]
    assert "P value" in example["docx"] and "SMD" in example["docx"]
    assert "exact test where an expected count is below five" in example["docx"]
    assert example["values"]["cox.multi.ph.global"]["text"] in example["docx"]


def test_text_on_the_km_plot_comes_from_traced_values(example):
    places = example["values"]["rfs.logrank"]["places"]
    on_plot = [p for p in places if p.get("in") == "text on the plot"]
    assert on_plot and on_plot[0]["printed"] == "Log-rank " + example["values"]["rfs.logrank"]["text"]
    hr = example["values"]["cox.uni.horth.yes"]
    assert any(p.get("in") == "text on the plot" and hr["parts"]["table"] in p["printed"] for p in hr["places"])
    review = (example["out"] / "gbsg2-example.review.html").read_text(encoding="utf-8")
    assert "Log-rank " + example["values"]["rfs.logrank"]["text"] in review


def test_forest_plot_of_the_multivariable_model_is_drawn_and_traced(example):
    assert (example["out"] / "figures" / "forest.png").stat().st_size > 0
    assert (example["out"] / "figures" / "forest.pdf").stat().st_size > 0
    v = example["values"]["cox.multi.tgrade.iii"]
    assert any(p.get("in") == "text on the plot" and p.get("image") == "figures/forest.png" and
               p["printed"] == v["parts"]["table"] for p in v["places"])


def test_logistic_model_in_the_plan_equals_r_glm(tmp_path):
    """a.logistic on the GBSG2 data: odds ratio values per term, equal to R's glm (tests/r/gbsg2_comparative.R)."""
    from papergen.analysis.plan import run_plan
    from papergen.pipeline.stages import load_data
    from papergen.study import Study

    r = _r_comparative()
    plan = tmp_path / "study" / "analysis_plan.py"
    plan.parent.mkdir()
    plan.write_text("def analysis(a):\n"
                    "    a.logistic('lr', a.column('patients', 'cens', 'recurrence'), 'patients', ['horTh', 'age', 'tgrade'],"
                    " reference={'horTh': 'no', 'tgrade': 'I'})\n", encoding="utf-8")
    tables = load_data(Study(EXAMPLE))
    book = tables.pop("_codebook")
    a = run_plan(plan, tables, tmp_path, {}, book)
    for r_name, key in {"horThyes": "horth.yes", "age": "age", "tgradeII": "tgrade.ii", "tgradeIII": "tgrade.iii"}.items():
        coef, se, p = r[("logit", r_name)]
        v = a.registry[f"lr.{key}"]
        assert v.exact["coef"] == pytest.approx(coef, rel=1e-6) and v.exact["se"] == pytest.approx(se, rel=1e-6)
        assert v.exact["p"] == pytest.approx(p, rel=1e-5) and v.text.startswith("OR ")


def test_km_figure_shades_the_bands_on_the_declared_scale(example):
    from papergen.publish.figures import km_figure

    assert example["values"]["method.km_ci"]["text"] == "log-log"
    curves = [{"label": "a", "time": [1.0, 2.0, 3.0, 4.0], "event": [1, 0, 1, 0]}]
    with_band = km_figure(curves, example["folder"] / "band", ci="log-log")["png"].read_bytes()
    without = km_figure(curves, example["folder"] / "plain", ci=None)["png"].read_bytes()
    assert with_band != without  # the band is drawn
