"""Tests for papergen.models.

Three kinds of expected values, none taken from the module's own output:

1. R: tests/fixtures/models_r.json, written by tests/r/make_models_fixture.R
   (R 4.2, survival 3.5) from data files in the repository; estimates must agree
   to 1e-6 relative, P values to 1e-5.  Published R output for GBSG2
   (HSAUR2, Everitt & Hothorn) is checked to its printed digits.
2. Independent implementations: lifelines, statsmodels, scipy, and brute-force
   loops written here.
3. Bad input: one test per problem, asserting the error class and that the
   one-line message names the model and the covariate.
"""
from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

import papergen.models as m
from papergen.errors import PapergenError
from papergen.models import cox as cox_module

FIXTURES = ROOT / "tests" / "fixtures"
R = json.loads((FIXTURES / "models_r.json").read_text(encoding="utf-8"))
EST, PVAL = 1e-6, 1e-5          # relative agreement required with R


def close(ours, theirs, rel: float = EST) -> bool:
    """Equal to ``rel`` relative (inf == inf; a value that is 0 in R must be ~0 here)."""
    ours, theirs = np.atleast_1d(np.asarray(ours, float)), np.atleast_1d(np.asarray(theirs, float))
    if ours.shape != theirs.shape:
        return False
    same_inf = np.isinf(ours) & np.isinf(theirs) & (np.sign(ours) == np.sign(theirs))
    with np.errstate(invalid="ignore"):
        ok = np.abs(ours - theirs) <= rel * np.abs(theirs) + 1e-300
    return bool(np.all(same_inf | ok | ((theirs == 0) & (np.abs(ours) < 1e-12))))


# ---- the data sets and the covariate columns (as DESIGNS in the R script) -------------

def _read(name: str) -> pd.DataFrame:
    path = ROOT / "examples" / "gbsg2" / "data" / "gbsg2.csv" if name == "gbsg2" else FIXTURES / f"{name}.csv"
    return pd.read_csv(path)


DATA = {name: _read(name) for name in ("gbsg2", "lung", "veteran", "models_ties")}
DATA["ties"] = DATA.pop("models_ties")
LUNG_COLS = {"lung_basic": ["age", "sex", "ph.ecog"], "lung_more": ["age", "sex", "ph.ecog", "ph.karno", "wt.loss"]}
POLY = {"I": (-1 / math.sqrt(2), 1 / math.sqrt(6)), "II": (0.0, -2 / math.sqrt(6)),     # R's contr.poly(3)
        "III": (1 / math.sqrt(2), 1 / math.sqrt(6))}


def design(name: str) -> pd.DataFrame:
    """The covariate columns of one design, rows as in R (lung: complete cases of the columns used)."""
    g, v = DATA["gbsg2"], DATA["veteran"]
    if name in ("gbsg2_full", "gbsg2_poly"):
        x = pd.DataFrame({"horThyes": (g.horTh == "yes").astype(float), "age": g.age,
                          "menostatPost": (g.menostat == "Post").astype(float), "tsize": g.tsize})
        if name == "gbsg2_full":
            x["tgradeII"] = (g.tgrade == "II").astype(float)
            x["tgradeIII"] = (g.tgrade == "III").astype(float)
        else:
            x["tgrade.L"] = g.tgrade.map(lambda t: POLY[t][0])
            x["tgrade.Q"] = g.tgrade.map(lambda t: POLY[t][1])
        return x.assign(pnodes=g.pnodes, progrec=g.progrec, estrec=g.estrec)
    if name == "gbsg2_horTh":
        return pd.DataFrame({"horThyes": (g.horTh == "yes").astype(float)})
    if name == "gbsg2_small":
        return pd.DataFrame({"horThyes": (g.horTh == "yes").astype(float), "age": g.age, "tsize": g.tsize,
                             "pnodes": g.pnodes, "progrec": g.progrec})
    if name in LUNG_COLS:
        return lung_rows(LUNG_COLS[name])[LUNG_COLS[name]]
    if name == "veteran_full":
        x = v[["trt", "karno", "diagtime", "age", "prior"]].astype(float)
        for level in ("smallcell", "adeno", "large"):
            x[f"celltype{level}"] = (v.celltype == level).astype(float)
        return x
    if name == "veteran_karno":
        return v[["karno"]]
    if name == "ties":
        return DATA["ties"][["x1", "x2"]]
    raise KeyError(name)


def lung_rows(cols) -> pd.DataFrame:
    """lung's complete cases on time, status and cols (R fitted these rows; papergen never drops rows itself)."""
    lung = DATA["lung"]
    return lung[lung[["time", "status", *cols]].notna().all(axis=1)]


def survival_of(data: str, design_name: str | None = None, cols=None):
    """(time, event) of a data set; lung's status is 1/2 in R's file, so event = status - 1."""
    if data == "lung":
        d = lung_rows(cols if cols is not None else LUNG_COLS[design_name])
        return d.time.to_numpy(), (d.status - 1).to_numpy()
    d = DATA[data]
    return d.time.to_numpy(), d[{"gbsg2": "cens", "veteran": "status", "ties": "status"}[data]].to_numpy()


def case_id(case) -> str:
    return "-".join(str(case[k]) for k in ("data", "design", "ties", "group", "name") if k in case)


# ---- 1. against R ------------------------------------------------------------------------

@pytest.mark.parametrize("case", R["cox"], ids=case_id)
def test_cox_matches_r(case):
    time, event = survival_of(case["data"], case["design"])
    fit = m.cox_ph(time, event, design(case["design"]), ties=case["ties"])
    assert fit.terms == tuple(case["terms"])
    for field in ("coef", "se", "hr", "lower", "upper", "loglik"):
        assert close(getattr(fit, field), case[field]), field
    assert close(fit.p, case["p"], PVAL)
    assert close(fit.lr_chisq, case["lr_chisq"]) and fit.lr_df == case["lr_df"]
    assert close(fit.concordance, case["concordance"])
    assert (fit.n, fit.events, fit.iterations) == (case["n"], case["events"], case["iterations"])


@pytest.mark.parametrize("case", R["cox"], ids=case_id)
def test_ph_test_matches_r_cox_zph(case):
    time, event = survival_of(case["data"], case["design"])
    zph = m.cox_ph(time, event, design(case["design"]), ties=case["ties"]).ph_test()
    r = case["ph_test"]
    assert zph.terms == tuple(r["terms"]) and zph.terms[-1] == "GLOBAL"
    assert close(zph.chisq, r["chisq"]) and close(zph.p, r["p"], PVAL) and zph.df == tuple(r["df"])


def test_gbsg2_cox_matches_published_r_output():
    """HSAUR2 (Everitt & Hothorn), chapter "Survival Analysis", coxph(Surv(time, cens) ~ ., data = GBSG2).

    Printed in cran/HSAUR2, tests/Ch_survival_analysis.Rout.save (R 2.9.0);
    tgrade is an ordered factor there, hence the contr.poly columns.
    """
    printed = {  # term: (coef, exp(coef), se(coef))
        "horThyes": ("-0.3462784", "0.7073155", "0.1290747"),
        "age": ("-0.0094592", "0.9905854", "0.0093006"),
        "menostatPost": ("0.2584448", "1.2949147", "0.1834765"),
        "tsize": ("0.0077961", "1.0078266", "0.0039390"),
        "tgrade.L": ("0.5512988", "1.7355056", "0.1898441"),
        "tgrade.Q": ("-0.2010905", "0.8178384", "0.1219654"),
        "pnodes": ("0.0487886", "1.0499984", "0.0074471"),
        "progrec": ("-0.0022172", "0.9977852", "0.0005735"),
        "estrec": ("0.0001973", "1.0001973", "0.0004504"),
    }
    time, event = survival_of("gbsg2")
    fit = m.cox_ph(time, event, design("gbsg2_poly"))

    def agrees(value, text):
        decimals = len(text.split(".")[1])
        return abs(value - float(text)) <= 0.5 * 10 ** -decimals + 1e-12

    for i, term in enumerate(fit.terms):
        coef, hr, se = printed[term]
        assert agrees(fit.coef[i], coef) and agrees(fit.hr[i], hr) and agrees(fit.se[i], se), term
    # exp(cbind(coef(GBSG2_coxph), confint(GBSG2_coxph)))["horThyes", ]
    assert agrees(fit.hr[0], "0.7073155") and agrees(fit.lower[0], "0.5492178") and agrees(fit.upper[0], "0.9109233")
    # "Likelihood ratio test= 104.8  on 9 df": print.summary.coxph shows round(test, 2) to 4 digits
    assert round(fit.lr_chisq, 2) == 104.75 and fit.lr_df == 9


@pytest.mark.parametrize("case", R["logistic"], ids=case_id)
def test_logistic_matches_r(case):
    x = design(case["design"])
    if case["data"] == "lung":
        y = survival_of("lung", case["design"])[1]
    else:
        y = DATA[case["data"]][{"gbsg2": "cens", "veteran": "status", "ties": "y"}[case["data"]]]
    fit = m.logistic(y, x)
    assert fit.terms == tuple(case["terms"])
    for field in ("coef", "se", "odds_ratio", "lower", "upper", "aic", "deviance", "null_deviance"):
        assert close(getattr(fit, field), case[field]), field
    assert close(fit.p, case["p"], PVAL)
    assert fit.iterations == case["iterations"]


@pytest.mark.parametrize("case", R["logrank"], ids=case_id)
def test_logrank_matches_r_survdiff(case):
    if case["data"] == "lung":
        rows = lung_rows([case["group"]])
        time, event = survival_of("lung", cols=[case["group"]])
    else:
        rows = DATA[case["data"]]
        time, event = survival_of(case["data"])
    res = m.logrank(time, event, rows[case["group"]], groups=case["groups"] if case["given_order"] else None)
    assert list(res.groups) == case["groups"]
    assert res.n == tuple(case["n"]) and close(res.observed, case["observed"])
    assert close(res.expected, case["expected"]) and close(res.chisq, case["chisq"])
    assert res.df == case["df"] and close(res.p, case["p"], PVAL)


@pytest.mark.parametrize("case", R["two_sample"], ids=case_id)
def test_two_sample_tests_match_r(case):
    a, b = case["a"], case["b"]
    for fn, r in ((m.welch_t, case["welch"]), (m.student_t, case["student"])):
        res = fn(a, b)
        assert close(res.t, r["t"]) and close(res.df, r["df"]) and close(res.p, r["p"], PVAL), fn.__name__
        assert res.statistic == res.t
    w = m.wilcoxon_rank_sum(a, b)
    assert w.exact == case["wilcoxon"]["exact"]
    assert close(w.w, case["wilcoxon"]["w"]) and close(w.p, case["wilcoxon"]["p"], PVAL)
    assert close(m.smd(a, b), case["smd"])


@pytest.mark.parametrize("case", R["k_sample"], ids=case_id)
def test_k_sample_tests_match_r(case):
    res = m.anova(*case["groups"])
    assert close(res.f, case["anova"]["f"]) and close(res.f, case["anova"]["aov_f"])
    assert close(res.df, case["anova"]["df"]) and close(res.p, case["anova"]["p"], PVAL)
    kw = m.kruskal_wallis(*case["groups"])
    assert close(kw.h, case["kruskal"]["h"]) and kw.df == case["kruskal"]["df"]
    assert close(kw.p, case["kruskal"]["p"], PVAL)


@pytest.mark.parametrize("case", R["tables"], ids=case_id)
def test_table_tests_match_r(case):
    table = case["table"]
    for correction, r in ((False, case["chisq"]), (True, case["chisq_corrected"])):
        res = m.chi_square(table, correction=correction)
        assert close(res.chisq, r["chisq"]) and res.df == r["df"] and close(res.p, r["p"], PVAL)
    f = m.fisher_exact(table)
    assert close(f.p, case["fisher"]["p"], PVAL)
    if "odds_ratio" in case["fisher"]:
        for field in ("odds_ratio", "lower", "upper"):
            assert close(getattr(f, field), case["fisher"][field]), field
    else:
        assert f.odds_ratio is None


@pytest.mark.parametrize("case", R["smd_categorical"], ids=case_id)
def test_smd_categorical_matches_tableone_formula_in_r(case):
    groups_by_levels = np.array(case["table"])                                # R: table(group, x)
    assert close(m.smd_categorical(groups_by_levels.T), case["smd"])          # levels x groups
    assert close(m.smd_categorical(*groups_by_levels), case["smd"])           # two count vectors
    if groups_by_levels.shape[1] > 2:
        assert close(m.smd_categorical(groups_by_levels), case["smd"])        # 2 x k, k > 2: groups x levels


# ---- 2. against independent implementations ------------------------------------------------

@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_agrees_with_statsmodels_phreg(ties):
    from statsmodels.duration.hazard_regression import PHReg

    time, event = survival_of("veteran")
    x = design("veteran_full")
    ours = m.cox_ph(time, event, x, ties=ties)
    theirs = PHReg(time, x.to_numpy(), status=event, ties=ties).fit()
    assert close(ours.coef, theirs.params, 1e-5) and close(ours.se, theirs.bse, 1e-5)
    assert close(ours.loglik[1], theirs.llf, 1e-8)


def test_cox_agrees_with_lifelines():
    from lifelines import CoxPHFitter

    time, event = survival_of("gbsg2")
    x = design("gbsg2_full")
    ours = m.cox_ph(time, event, x)
    cph = CoxPHFitter().fit(x.assign(T=time, E=event), "T", "E")
    assert close(ours.coef, cph.params_[list(x.columns)], 1e-5)
    assert close(ours.se, cph.standard_errors_[list(x.columns)], 1e-5)
    assert close(ours.loglik[1], cph.log_likelihood_, 1e-8)


def brute_concordance(time, event, score) -> float:
    """survival's rule, pair by pair: each event against everyone at risk after it."""
    concordant = discordant = tied = 0
    for i in np.flatnonzero(event):
        later = (time > time[i]) | ((time == time[i]) & (event == 0))
        concordant += np.sum(score[later] < score[i])
        discordant += np.sum(score[later] > score[i])
        tied += np.sum(score[later] == score[i])
    return (concordant + tied / 2) / (concordant + discordant + tied)


@pytest.mark.parametrize("data,design_name", [("ties", "ties"), ("veteran", "veteran_karno"), ("gbsg2", "gbsg2_horTh")])
def test_concordance_equals_pairwise_count(data, design_name):
    time, event = survival_of(data)
    x = design(design_name)
    fit = m.cox_ph(time, event, x)
    score = x.to_numpy(float) @ np.array(fit.coef)
    assert math.isclose(fit.concordance, brute_concordance(time, event, score), rel_tol=1e-12)


def test_concordance_equals_lifelines_concordance_index():
    from lifelines.utils import concordance_index

    rng = np.random.default_rng(11)
    for _ in range(20):     # heavy ties in time, in events at one time, and in the score
        time, event, score = rng.integers(1, 8, 50), rng.integers(0, 2, 50), rng.integers(0, 4, 50)
        assert math.isclose(m.concordance(time, event, score), concordance_index(time, -score, event), rel_tol=1e-12)


def test_efron_and_breslow_differ_only_with_tied_deaths():
    time, event = survival_of("ties")
    x = design("ties")
    efron, breslow = m.cox_ph(time, event, x), m.cox_ph(time, event, x, ties="breslow")
    assert not close(efron.coef, breslow.coef, 1e-3)
    untied = time + np.arange(time.size) * 1e-3          # no two times equal: the methods coincide
    assert close(m.cox_ph(untied, event, x).coef, m.cox_ph(untied, event, x, ties="breslow").coef, 1e-12)


def test_logistic_agrees_with_statsmodels_logit_newton():
    import statsmodels.api as sm

    x = design("gbsg2_small")
    y = DATA["gbsg2"].cens
    ours = m.logistic(y, x)
    theirs = sm.Logit(y.to_numpy(), sm.add_constant(x.to_numpy())).fit(disp=0, method="newton", tol=1e-12)
    # R's (and so our) SEs come from the weights of the last IRLS step, not of the converged estimate:
    # here they differ from the exact inverse Hessian by up to 6e-5 (progrec)
    assert close(ours.coef, theirs.params, 1e-8) and close(ours.se, theirs.bse, 1e-4)
    assert close(ours.aic, theirs.aic, 1e-10)


def test_logrank_agrees_with_lifelines_and_scipy():
    from lifelines.statistics import multivariate_logrank_test
    from scipy.stats import CensoredData, logrank

    v = DATA["veteran"]
    ours = m.logrank(v.time, v.status, v.celltype)
    assert close(ours.chisq, multivariate_logrank_test(v.time, v.celltype, v.status).test_statistic, 1e-10)
    two = m.logrank(v.time, v.status, v.trt)
    sample = [CensoredData(uncensored=v.time[(v.trt == k) & (v.status == 1)],
                           right=v.time[(v.trt == k) & (v.status == 0)]) for k in (1, 2)]
    assert close(two.p, logrank(*sample).pvalue, 1e-10)


def test_group_tests_agree_with_hand_formulas():
    rng = np.random.default_rng(7)
    a, b = rng.normal(0, 1, 30), rng.normal(0.5, 2, 40)
    se2 = a.var(ddof=1) / a.size + b.var(ddof=1) / b.size
    t = (a.mean() - b.mean()) / math.sqrt(se2)
    df = se2 ** 2 / ((a.var(ddof=1) / a.size) ** 2 / (a.size - 1) + (b.var(ddof=1) / b.size) ** 2 / (b.size - 1))
    welch = m.welch_t(a, b)
    assert math.isclose(welch.t, t, rel_tol=1e-12) and math.isclose(welch.df, df, rel_tol=1e-12)
    # rank sum W and its normal approximation with continuity correction (no ties, n >= 50 in one sample)
    b60 = rng.normal(0, 1, 60)
    ranks = pd.Series(np.concatenate([a, b60])).rank().to_numpy()
    w = ranks[: a.size].sum() - a.size * (a.size + 1) / 2
    z = w - a.size * b60.size / 2
    z = (z - math.copysign(0.5, z)) / math.sqrt(a.size * b60.size * (a.size + b60.size + 1) / 12)
    res = m.wilcoxon_rank_sum(a, b60)
    assert not res.exact and res.w == w and math.isclose(res.p, math.erfc(abs(z) / math.sqrt(2)), rel_tol=1e-12)
    assert math.isclose(m.smd(a, b), (a.mean() - b.mean()) / math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))


def test_chi_square_agrees_with_scipy():
    from scipy.stats import chi2_contingency

    for table in ([[12, 30], [25, 18]], [[48, 33], [281, 163], [111, 50]], [[9, 18], [15, 12], [30, 18], [15, 20]]):
        res = m.chi_square(table)
        theirs = chi2_contingency(table, correction=False)
        assert close(res.chisq, theirs.statistic, 1e-12) and res.df == theirs.dof
    # Yates: scipy subtracts 0.5 from every |O - E|, as R does when all |O - E| >= 0.5
    assert close(m.chi_square([[12, 30], [25, 18]], correction=True).chisq,
                 chi2_contingency([[12, 30], [25, 18]], correction=True).statistic, 1e-12)


def brute_fisher_p(table) -> float:
    """Sum the hypergeometric probabilities of all tables with the same margins that are no more probable."""
    x = np.array(table)
    rows, cols = x.sum(axis=1), x.sum(axis=0)
    lf = lambda v: sum(math.lgamma(k + 1) for k in np.ravel(v))  # noqa: E731
    const = lf(rows) + lf(cols) - lf([x.sum()])
    observed = const - lf(x)
    total = 0.0
    r, c = x.shape
    for cells in itertools.product(*[range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]):
        inner = np.array(cells).reshape(r - 1, c - 1)
        last_col = rows[:-1] - inner.sum(axis=1)
        top = np.column_stack([inner, last_col])
        bottom = cols - top.sum(axis=0)
        if (last_col < 0).any() or (bottom < 0).any():
            continue
        full = np.vstack([top, bottom])
        logp = const - lf(full)
        if logp <= observed + 1e-7:
            total += math.exp(logp)
    return total


@pytest.mark.parametrize("table", [[[3, 1, 2], [1, 5, 2], [2, 2, 6]], [[8, 2, 3], [1, 5, 4]], [[2, 0, 1], [0, 3, 1]],
                                   [[4, 1], [2, 3], [0, 4]], [[1, 2, 1, 3], [3, 1, 2, 0]]])
def test_fisher_rxc_equals_brute_force_enumeration(table):
    assert math.isclose(m.fisher_exact(table).p, brute_fisher_p(table), rel_tol=1e-10)


def test_fisher_2x2_agrees_with_scipy():
    from scipy.stats import contingency, fisher_exact

    for table in ([[3, 1], [1, 3]], [[10, 2], [3, 15]], [[12, 30], [25, 18]]):
        ours = m.fisher_exact(table)
        assert math.isclose(ours.p, fisher_exact(table).pvalue, rel_tol=1e-10)
        exact = contingency.odds_ratio(table, kind="conditional")
        ci = exact.confidence_interval(0.95)
        # R stops its root search at uniroot's tolerance (1.2e-4) on t = OR when OR < 1 and on t = 1/OR
        # when OR > 1, so R's estimate and limits differ from the exact roots by up to that much on t
        pairs = ((ours.odds_ratio, exact.statistic), (ours.lower, ci.low), (ours.upper, ci.high))
        for ours_value, exact_value in pairs:
            t = (lambda v: v if exact_value <= 1 else 1 / v)
            assert abs(t(ours_value) - t(exact_value)) <= np.finfo(float).eps ** 0.25


def test_smd_categorical_of_two_levels_is_the_binary_smd():
    p1, p2 = 30 / 50, 20 / 60
    expected = abs(p1 - p2) / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    assert math.isclose(m.smd_categorical([[20, 40], [30, 20]]), expected, rel_tol=1e-12)   # levels x groups
    assert math.isclose(m.smd_categorical([20, 30], [40, 20]), expected, rel_tol=1e-12)


def test_results_are_frozen_hashable_and_plain_floats():
    time, event = survival_of("gbsg2")
    fit = m.cox_ph(time, event, design("gbsg2_horTh"))
    assert all(type(v) is float for v in fit.coef + fit.se + fit.hr + fit.lower + fit.upper + fit.p + fit.loglik)
    hash(fit)
    with pytest.raises(AttributeError):
        fit.coef = (0.0,)
    assert m.cox_ph(time, event, design("gbsg2_horTh")) == fit


# ---- 3. bad input: one error class per problem, one line naming model and covariate ------------

def raises(error, fn, *args, names=(), **kwargs):
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert type(info.value) is error                      # the one class for this problem, not a relative
    assert isinstance(info.value, PapergenError) and isinstance(info.value, m.ModelError)
    assert "\n" not in message and message.startswith(fn.__name__ + ":"), message
    for name in names:
        assert name in message, (name, message)
    return info.value


@pytest.fixture
def ties_data():
    d = DATA["ties"].copy()
    return d.time.to_numpy(), d.status.to_numpy(), d[["x1", "x2"]].copy()


def test_missing_covariate_values_raise_with_count_never_dropped(ties_data):
    time, event, x = ties_data
    x.loc[[2, 5, 7], "x2"] = np.nan
    err = raises(m.MissingValuesError, m.cox_ph, time, event, x, names=("x2", "3 of 24 rows"))
    assert err.rows == 3 and err.covariate == "x2"
    lung = DATA["lung"]                                   # real data with NAs: never dropped silently
    raises(m.MissingValuesError, m.cox_ph, lung.time, lung.status - 1, lung[["age", "wt.loss"]],
           names=("wt.loss", "14 of 228 rows"))
    raises(m.MissingValuesError, m.logistic, DATA["ties"].y, x, names=("x2",))


def test_missing_time_event_group_or_sample_raise():
    time = np.array([5.0, np.nan, 3, 4])
    raises(m.MissingValuesError, m.cox_ph, time, [1, 0, 1, 1], pd.DataFrame({"z": [1, 2, 3, 5]}), names=("time",))
    raises(m.MissingValuesError, m.logrank, [5, 6, 3, 4], [1, 0, 1, 1], ["a", None, "b", "b"], names=("group",))
    raises(m.MissingValuesError, m.logistic, [1, 0, None, 1], pd.DataFrame({"z": [1, 2, 3, 5]}), names=("outcome",))
    raises(m.MissingValuesError, m.welch_t, [1, 2, np.nan], [3, 4, 5], names=("a",))
    raises(m.MissingValuesError, m.chi_square, [[1, np.nan], [3, 4]], names=("table",))


def test_event_coded_1_2_is_not_binary():
    lung = DATA["lung"]
    raises(m.NotBinaryError, m.cox_ph, lung.time, lung.status, lung[["age"]], names=("event", "2"))
    raises(m.NotBinaryError, m.logrank, lung.time, lung.status, lung.sex, names=("event",))
    raises(m.NotBinaryError, m.logistic, lung.status, lung[["age"]], names=("outcome",))


def test_bool_columns_work_as_0_1(ties_data):
    time, event, x = ties_data
    as_ints = m.cox_ph(time, event, x)
    as_bools = m.cox_ph(time, event.astype(bool), x.assign(x1=x.x1.astype(bool)))
    assert as_bools.coef == as_ints.coef and as_bools.concordance == as_ints.concordance
    nullable = x.assign(x1=x.x1.astype("boolean"))
    assert m.cox_ph(time, pd.Series(event).astype("boolean"), nullable).coef == as_ints.coef
    y = DATA["ties"].y
    assert m.logistic(y.astype(bool), x.assign(x1=x.x1 == 1)).coef == m.logistic(y, x).coef
    assert m.logrank(time, event.astype(bool), DATA["ties"].grp).chisq == m.logrank(time, event, DATA["ties"].grp).chisq


def test_constant_covariate_raises(ties_data):
    time, event, x = ties_data
    raises(m.ConstantCovariateError, m.cox_ph, time, event, x.assign(site=1.0), names=("site",))
    raises(m.ConstantCovariateError, m.logistic, DATA["ties"].y, x.assign(site=2), names=("site",))


def test_collinear_covariate_raises(ties_data):
    time, event, x = ties_data
    x = x.assign(x3=2 * x.x1 - x.x2)
    raises(m.CollinearCovariatesError, m.cox_ph, time, event, x, names=("x3",))
    raises(m.CollinearCovariatesError, m.logistic, DATA["ties"].y, x, names=("x3",))


def test_no_events_raise(ties_data):
    time, event, x = ties_data
    none = np.zeros_like(event)
    raises(m.NoEventsError, m.cox_ph, time, none, x, names=("event",))
    raises(m.NoEventsError, m.logrank, time, none, DATA["ties"].grp, names=("event",))
    raises(m.NoEventsError, m.logistic, none, x, names=("outcome",))


def test_logrank_group_without_events_still_gives_r_number():
    """survdiff keeps a group with 0 events (its expected count is > 0): in R's cases, group C of the ties data."""
    case = next(c for c in R["logrank"] if c["data"] == "ties")
    assert case["observed"][2] == 0 and case["expected"][2] > 0
    res = m.logrank(DATA["ties"].time, DATA["ties"].status, DATA["ties"].grp)
    assert res.observed[2] == 0 and close(res.chisq, case["chisq"]) and res.df == 2


def test_covariate_level_without_events_is_infinite_not_a_huge_hr(ties_data):
    """R: coef -20.7, HR 1e-9, with "Loglik converged before variable 2; coefficient may be infinite"."""
    time, event, x = ties_data
    x = x.assign(groupC=(DATA["ties"].grp == "C").astype(int))
    err = raises(m.InfiniteEstimateError, m.cox_ph, time, event, x[["x1", "groupC"]], names=("groupC",))
    assert err.covariate == "groupC"


def test_non_convergence_raises(ties_data, monkeypatch):
    time, event, x = ties_data
    # a covariate that orders the deaths perfectly: R "Ran out of iterations and did not converge"
    raises(m.NotConvergedError, m.cox_ph, time, event, pd.DataFrame({"z": -time + 0.1 * event}), names=("z",))
    monkeypatch.setattr(cox_module, "ITER_MAX", 2)
    raises(m.NotConvergedError, m.cox_ph, *survival_of("gbsg2"), design("gbsg2_full"), names=("2 iterations",))


def test_logistic_separation_raises():
    d = DATA["ties"]
    perfect = pd.DataFrame({"x2": d.x2, "score": np.where(d.y == 1, 1.0, -1.0) * (1 + d.x2)})
    raises(m.SeparationError, m.logistic, d.y, perfect, names=("score",))
    quasi = pd.DataFrame({"x2": d.x2, "marker": ((d.y == 1) & (d.x1 == 1)).astype(float)})
    raises(m.SeparationError, m.logistic, d.y, quasi, names=("marker",))


def test_the_fit_proves_no_separation_exactly_when_the_linear_program_finds_none():
    """Stiemke's certificate (mle_exists) against the linear program, on small random data sets of which many
    are separated: a proof never stands beside a separating direction, and an unseparated fit is proved."""
    import importlib

    import statsmodels.api as sm

    lg = importlib.import_module("papergen.models.logistic")
    rng = np.random.default_rng(20261202)
    proved = separated = 0
    for k in range(120):
        n = int(rng.integers(8, 40))
        x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
        y = (rng.random(n) < 1 / (1 + np.exp(-(k % 7) * x[:, 1]))).astype(float)
        if y.min() == y.max() or np.linalg.matrix_rank(x) < 3:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(y, x, family=sm.families.Binomial()).fit(maxiter=25, tol=1e-8)
        proof = fit.converged and lg.mle_exists(x, y, np.asarray(fit.fittedvalues))
        direction = lg.separating_direction(x, y)
        assert not (proof and direction is not None), k
        proved += proof
        separated += direction is not None
        if direction is None and np.abs(fit.params).max() < 10:
            assert proof, k
    assert proved > 20 and separated > 20  # both kinds were drawn


def test_an_odds_ratio_past_the_float_range_is_inf_without_a_warning():
    """A covariate in tiny units (here thousandths of a unit) has a finite coefficient whose odds ratio per unit
    overflows: inf, which the registry refuses naming the plan line, and no RuntimeWarning on the terminal."""
    d = DATA["ties"]
    tiny = pd.DataFrame({"x2": -d.x2 / 1e4, "x1": d.x1})  # the sign that makes exp(coef) overflow
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = m.logistic(d.y, tiny)
    assert math.isfinite(fit.coef[1]) and fit.coef[1] > 710 and math.isinf(fit.odds_ratio[1])


def test_a_proved_fit_does_not_run_the_linear_program(monkeypatch):
    import importlib

    lg = importlib.import_module("papergen.models.logistic")
    d = DATA["ties"]
    expected = m.logistic(d.y, d[["x1", "x2"]]).coef
    monkeypatch.setattr(lg, "separating_direction", lambda *_: pytest.fail("the linear program ran"))
    assert m.logistic(d.y, d[["x1", "x2"]]).coef == expected


def test_empty_group_raises():
    time, event = survival_of("ties")
    raises(m.EmptyGroupError, m.logrank, time, event, DATA["ties"].grp, groups=["A", "B", "C", "D"], names=("D",))
    raises(m.EmptyGroupError, m.welch_t, [], [1, 2, 3], names=("a",))
    raises(m.EmptyGroupError, m.kruskal_wallis, [1, 2], [3, 4], [], names=("group 3",))
    table = pd.DataFrame([[5, 3], [0, 0], [2, 7]], index=["I", "II", "III"], columns=["no", "yes"])
    raises(m.EmptyGroupError, m.chi_square, table, names=("II",))
    raises(m.EmptyGroupError, m.fisher_exact, table, names=("II",))


def test_fewer_than_two_groups_raise():
    time, event = survival_of("ties")
    raises(m.TooFewGroupsError, m.logrank, time, event, ["A"] * time.size, names=("group", "'A'"))
    raises(m.TooFewGroupsError, m.anova, [1, 2, 3], names=("groups",))
    raises(m.TooFewGroupsError, m.chi_square, [[3, 4, 5]], names=("table",))
    raises(m.TooFewGroupsError, m.fisher_exact, [[3], [4]], names=("table",))


def test_too_few_observations_and_constant_samples_raise():
    raises(m.TooFewObservationsError, m.welch_t, [1.0], [2.0, 3.0], names=("a",))
    raises(m.ConstantCovariateError, m.welch_t, [2, 2, 2], [5, 5], names=("values",))
    raises(m.ConstantCovariateError, m.wilcoxon_rank_sum, [1, 1], [1, 1, 1], names=("values",))


def test_wrong_types_raise_invalid_input(ties_data):
    time, event, x = ties_data
    text = x.assign(arm=np.where(x.x1 == 1, "yes", "no"))
    raises(m.InvalidInputError, m.cox_ph, time, event, text, names=("arm", "yes"))
    raises(m.InvalidInputError, m.cox_ph, time[:-1], event, x, names=("time 23",))
    raises(m.InvalidInputError, m.cox_ph, -time, event, x, names=("time",))
    raises(m.InvalidInputError, m.cox_ph, time, event, x, ties="exact", names=("ties",))
    raises(m.InvalidInputError, m.cox_ph, time, event, x.to_numpy(), names=("DataFrame",))
    raises(m.InvalidInputError, m.logrank, time, event, DATA["ties"].grp, groups=["A", "B"], names=("'C'",))
    raises(m.InvalidInputError, m.fisher_exact, [[1.5, 2], [3, 4]], names=("whole numbers",))
    dates = pd.Series(pd.to_datetime(["2020-01-05", "2020-03-01", "2021-07-30"]))
    raises(m.InvalidInputError, m.welch_t, dates, [1.0, 2.0, 4.0], names=("dates",))


def test_pandas_inputs_must_share_row_labels(ties_data):
    """Columns are matched by position; pandas objects whose row labels differ would pair the wrong rows."""
    time, event, x = ties_data
    raises(m.InvalidInputError, m.cox_ph, pd.Series(time), event, x.iloc[::-1], names=("covariates", "row labels"))
    raises(m.InvalidInputError, m.logistic, DATA["ties"].y, x.sample(frac=1, random_state=1), names=("row labels",))
    shuffled = x.sample(frac=1, random_state=1)
    fit = m.cox_ph(time[shuffled.index], event[shuffled.index], shuffled)      # numpy arrays: by position
    assert close(fit.coef, m.cox_ph(time, event, x).coef, 1e-10)


def test_no_warnings_on_the_way_to_an_error(ties_data):
    time, event, x = ties_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(m.NotConvergedError):
            m.cox_ph(time, event, pd.DataFrame({"z": -time + 0.1 * event}))
