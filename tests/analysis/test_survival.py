"""Tests for papergen.survival.

Expected values are worked out by hand (as fractions, in the comments), taken
from published R output, or computed by an independent implementation
(lifelines, numpy).  None is taken from the module's own output.
"""
import math
from pathlib import Path
from fractions import Fraction as F

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times, restricted_mean_survival_time

from papergen.errors import AnalysisError
from papergen.analysis.survival import (
    km_mean, km_median, km_table, numbers_at_risk, reverse_km_median_followup, survival_at,
)

Z = 1.959963984540054  # qnorm(0.975)

# Example A, used throughout: ties at 2 (one death, one censoring), last time is a death.
#   t  n_risk d c  S(t)
#   1    6    1 0  5/6
#   2    5    1 1  5/6 * 4/5 = 2/3
#   3    3    1 0  2/3 * 2/3 = 4/9
#   4    2    0 1  4/9
#   5    1    1 0  0
TA = [1, 2, 2, 3, 4, 5]
EA = [1, 1, 0, 1, 0, 1]


def close(a, b, tol=1e-12):
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


def random_data(seed, n=60, censor_last=True):
    """Exponential times rounded to 0.1 (so there are ties), ~30% censored."""
    rng = np.random.default_rng(seed)
    t = np.round(rng.exponential(10.0, n), 1) + 0.1
    e = (rng.random(n) > 0.3).astype(int)
    if censor_last:  # keep S > 0 so R and lifelines agree on the CI at the end
        e[t == t.max()] = 0
    return t, e


# --- km_table ------------------------------------------------------------------

def test_km_table_by_hand():
    tab = km_table(TA, EA)
    assert tab.times.tolist() == [1, 2, 3, 4, 5]
    assert tab.n_risk.tolist() == [6, 5, 3, 2, 1]
    assert tab.n_event.tolist() == [1, 1, 1, 0, 1]
    assert tab.n_censor.tolist() == [0, 1, 0, 1, 0]
    for got, want in zip(tab.survival, [F(5, 6), F(2, 3), F(4, 9), F(4, 9), 0]):
        assert close(got, want)


@pytest.mark.parametrize("seed", range(5))
def test_km_table_matches_lifelines(seed):
    t, e = random_data(seed, censor_last=False)
    tab = km_table(t, e)
    kmf = KaplanMeierFitter().fit(t, e)
    et = kmf.event_table.loc[tab.times]
    assert np.array_equal(et["at_risk"].to_numpy(), tab.n_risk)
    assert np.array_equal(et["observed"].to_numpy(), tab.n_event)
    assert np.array_equal(et["censored"].to_numpy(), tab.n_censor)
    assert np.allclose(kmf.survival_function_.loc[tab.times, "KM_estimate"].to_numpy(), tab.survival)


# --- km_mean ---------------------------------------------------------------------

def test_km_mean_uncensored_tiny_by_hand():
    # 2, 3, 7 all deaths; S = 2/3 on [2,3), 1/3 on [3,7).
    # mean = 2*1 + 1*2/3 + 4*1/3 = 4 = sample mean.
    # A(3) = 4*1/3 = 4/3, term (4/3)^2 * 1/(2*1) = 8/9
    # A(2) = 4/3 + 1*2/3 = 2, term 2^2 * 1/(3*2) = 2/3;   A(7) = 0
    # var = 8/9 + 2/3 = 14/9 = sum((x - 4)^2)/n^2 = (4 + 1 + 9)/9.
    r = km_mean([2, 3, 7], [1, 1, 1])
    assert close(r.mean, 4) and close(r.tau, 7)
    assert close(r.se, math.sqrt(14) / 3)


@pytest.mark.parametrize("seed", range(6))
def test_km_mean_uncensored_is_sample_mean_with_population_se(seed):
    # Identity (any ties): with no censoring the KM curve is 1 - ECDF, so its area
    # is the sample mean.  For the SE, let the deaths at t_j leave k = n_j - d_j
    # subjects whose times have mean m_j.  Then A_j = k (m_j - t_j) / n and
    #   A_j^2 d_j / (n_j (n_j - d_j)) = d_j k (m_j - t_j)^2 / (n^2 n_j),
    # which is 1/n^2 times the increase of the sum of squares when d_j points at
    # t_j join k points with mean m_j (the pooled-variance update d k/(d+k) (x-m)^2).
    # Summing from the largest time down builds the whole sum of squares, so
    #   var = sum((x - xbar)^2) / n^2,  se = sqrt(sum((x - xbar)^2)) / n.
    rng = np.random.default_rng(100 + seed)
    x = np.round(rng.gamma(2.0, 5.0, 25 + 10 * seed), 0) + 1  # integers: many ties
    r = km_mean(x, np.ones_like(x))
    assert close(r.mean, x.mean(), 1e-10)
    assert close(r.se, math.sqrt(np.sum((x - x.mean()) ** 2)) / x.size, 1e-10)
    assert close(r.se, np.std(x, ddof=0) / math.sqrt(x.size), 1e-10)


def test_km_mean_censored_with_ties_by_hand():
    # Example A, tau = 5 (largest time).
    # mean = 1*1 + 1*5/6 + 1*2/3 + 1*4/9 + 1*4/9 = 61/18
    mean = F(1) + F(5, 6) + F(2, 3) + F(4, 9) + F(4, 9)
    assert mean == F(61, 18)
    # A_j = area from t_j to 5; h_j = d/(n(n-d)):
    #   t=5: n=d=1 -> 0;  t=3: A=8/9,  h=1/(3*2);  t=2: A=8/9+2/3=14/9, h=1/(5*4)
    #   t=1: A=14/9+5/6=43/18, h=1/(6*5)
    var = F(8, 9) ** 2 / 6 + F(14, 9) ** 2 / 20 + F(43, 18) ** 2 / 30
    assert var == F(287, 648)
    r = km_mean(TA, EA)
    assert close(r.mean, mean) and close(r.tau, 5)
    assert close(r.se, math.sqrt(var))
    assert close(r.lower, mean - Z * math.sqrt(var)) and close(r.upper, mean + Z * math.sqrt(var))


def test_km_mean_largest_time_censored():
    # t = 1,2,2,3,4,6+ (deaths at 1, 2, 3; censored at 2, 4, 6). S = 4/9 from 3 on.
    # tau = 6 (largest time, censored): mean = 1 + 5/6 + 2/3 + 3*4/9 = 23/6
    # A(3) = 3*4/9 = 4/3, A(2) = 4/3+2/3 = 2, A(1) = 2+5/6 = 17/6
    t, e = [1, 2, 2, 3, 4, 6], [1, 1, 0, 1, 0, 0]
    var = F(4, 3) ** 2 / 6 + F(2) ** 2 / 20 + F(17, 6) ** 2 / 30
    assert var == F(55, 72)
    r = km_mean(t, e)
    assert close(r.tau, 6) and close(r.mean, F(23, 6)) and close(r.se, math.sqrt(var))
    assert km_mean(t, e, tau=6) == r


def test_km_mean_explicit_tau_inside_and_beyond_data():
    t, e = [1, 2, 2, 3, 4, 6], [1, 1, 0, 1, 0, 0]
    # tau = 2.5: mean = 1 + 5/6 + 0.5*2/3 = 13/6; A(2) = 1/3, A(1) = 1/3+5/6 = 7/6
    r = km_mean(t, e, tau=2.5)
    assert close(r.tau, 2.5) and close(r.mean, F(13, 6))
    assert close(r.se, math.sqrt(F(1, 3) ** 2 / 20 + F(7, 6) ** 2 / 30))  # sqrt(11/216)
    # tau = 8 (beyond the data; R extends the last step S = 4/9):
    # mean = 23/6 + 2*4/9 = 85/18; A(3) = 5*4/9 = 20/9, A(2) = 26/9, A(1) = 67/18
    r = km_mean(t, e, tau=8)
    assert close(r.mean, F(85, 18))
    var = F(20, 9) ** 2 / 6 + F(26, 9) ** 2 / 20 + F(67, 18) ** 2 / 30
    assert var == F(1103, 648)
    assert close(r.se, math.sqrt(var))
    # tau exactly at a death time: that death's A is 0.  tau = 3 ->
    # mean = 1 + 5/6 + 2/3 = 5/2; A(2) = 2/3, A(1) = 2/3+5/6 = 3/2
    r = km_mean(t, e, tau=3)
    assert close(r.mean, F(5, 2))
    assert close(r.se, math.sqrt(F(2, 3) ** 2 / 20 + F(3, 2) ** 2 / 30))


def test_km_mean_all_censored_is_tau_with_zero_se():
    r = km_mean([2, 5, 9], [0, 0, 0])
    assert (r.mean, r.se, r.tau) == (9.0, 0.0, 9.0)


@pytest.mark.parametrize("seed", range(6))
def test_km_mean_area_matches_lifelines_rmst(seed):
    t, e = random_data(seed, n=80, censor_last=bool(seed % 2))
    kmf = KaplanMeierFitter().fit(t, e)
    for tau in (None, float(np.median(t)), float(t.max()), 3.0):
        r = km_mean(t, e, tau=tau)
        want = restricted_mean_survival_time(kmf, t=r.tau)
        assert close(r.mean, want, 1e-9)


def test_km_mean_matches_published_r_output():
    # Source: R print(survfit(Surv(time,status)~1, conf.type="log-log"), rmean="common")
    # in https://github.com/WenDai-MPH/Regression_HW2/blob/587676bd68612f481e02fe0f598a616687ceb7c2/Regression_HW2.md
    #   n events rmean* se(rmean) median 0.95LCL 0.95UCL
    #  10      6   7.94      1.12    8.5     1.5      NA   (upper limit = 11.5)
    # Same times, all deaths:
    #  10     10    6.3     0.892      6     1.5     8.5
    # By hand: mean = 1.5 + 3*9/10 + 1*63/80 + 3*21/32 + 3*21/64 = 2541/320 = 7.940625.
    t = [1.5, 3.5, 4.5, 4.5, 5.5, 6.5, 8.5, 8.5, 8.5, 11.5]
    e = [1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
    r = km_mean(t, e)
    assert close(r.mean, F(2541, 320)) and r.tau == 11.5
    assert round(r.se, 2) == 1.12
    r = km_mean(t, [1] * 10)
    assert close(r.mean, 6.3) and round(r.se, 3) == 0.892


def test_km_mean_and_median_lung_by_sex():
    # R survival's lung data (shipped with lifelines), common upper limit 1022:
    #   sex=1 138 112 rmean 326 se 22.9 median 270
    #   sex=2  90  53 rmean 461 se 34.7 median 426
    # Numbers as printed by print(survfit(Surv(time, status) ~ sex, lung), rmean="common")
    # and reproduced in the docs of a Python port of R survival (code index id 70318522734);
    # the medians 270 and 426 are R's widely quoted values.
    from lifelines.datasets import load_lung
    lung = load_lung()
    for sex, mean, se, med in [(1, 326, 22.9, 270), (2, 461, 34.7, 426)]:
        d = lung[lung["sex"] == sex]
        r = km_mean(d["time"], d["status"], tau=1022)
        assert round(r.mean) == mean and round(r.se, 1) == se
        assert km_median(d["time"], d["status"]).median == med


# --- km_median -------------------------------------------------------------------

def test_km_median_not_reached():
    # S = 3/4 after t=1 and never drops again.  Its lower log-log limit does fall
    # below 1/2: Greenwood sum 1/(4*3) = 1/12, w = z*sqrt(1/12)/log(4/3) ~ 1.97,
    # (3/4)^exp(w) ~ 0.13 < 1/2, so the lower limit of the median is t = 1.
    assert (3 / 4) ** math.exp(Z * math.sqrt(1 / 12) / math.log(4 / 3)) < 0.5
    r = km_median([1, 2, 3, 4], [1, 0, 0, 0])
    assert (r.median, r.lower, r.upper, r.reached) == (None, 1.0, None, False)


def test_km_median_exact_half_plateau_takes_midpoint():
    # All deaths at 1,2,3,4: S = 1/2 on [2,3) -> midpoint (2+3)/2 = 5/2 (the sample median).
    assert km_median([1, 2, 3, 4], [1, 1, 1, 1]).median == 2.5
    # R print.survfit output above: all-death data, S = 5/10 on [5.5, 6.5) -> 6, CI (1.5, 8.5)
    r = km_median([1.5, 3.5, 4.5, 4.5, 5.5, 6.5, 8.5, 8.5, 8.5, 11.5], [1] * 10)
    assert (r.median, r.lower, r.upper, r.reached) == (6.0, 1.5, 8.5, True)


def test_km_median_plateau_at_half_running_to_the_end():
    # S = 1/2 from t=2 to the last (censored) time 4: R quantile.survfit takes (2 + 4)/2 = 3.
    assert km_median([1, 2, 3, 4], [1, 1, 0, 0]).median == 3.0


def test_km_median_with_ties():
    # Deaths at 2 tie with a censoring: n=5, d=2 -> S = 5/6 * 3/5 = 1/2 exactly;
    # next drop at 3 (S = 1/4) -> median (2+3)/2 = 5/2.
    assert km_median([1, 2, 2, 2, 3, 5], [1, 1, 1, 0, 1, 0]).median == 2.5
    # All deaths, triple tie at 2: S = 5/6 then 2/6 -> first S <= 1/2 at 2.
    assert km_median([1, 2, 2, 2, 3, 5], [1] * 6).median == 2.0


def test_km_median_published_r_output():
    # Same R source as test_km_mean_matches_published_r_output: median 8.5, CI (1.5, NA).
    t = [1.5, 3.5, 4.5, 4.5, 5.5, 6.5, 8.5, 8.5, 8.5, 11.5]
    e = [1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
    r = km_median(t, e)
    assert (r.median, r.lower, r.upper, r.reached) == (8.5, 1.5, None, True)


def test_km_median_matches_lifelines():
    compared = 0
    for seed in range(40):
        t, e = random_data(seed, n=50)
        kmf = KaplanMeierFitter().fit(t, e)
        ci = kmf.confidence_interval_
        if np.any(np.isclose(kmf.survival_function_.to_numpy(), 0.5, atol=1e-9)) or \
                np.any(np.isclose(ci.to_numpy(), 0.5, atol=1e-9)):
            continue  # lifelines has no midpoint rule for an exact 0.5
        r = km_median(t, e)
        want = kmf.median_survival_time_
        assert (r.median is None) if np.isinf(want) else close(r.median, want)
        lo, hi = median_survival_times(ci).iloc[0]
        assert (r.lower is None) if np.isinf(lo) else close(r.lower, lo)
        assert (r.upper is None) if np.isinf(hi) else close(r.upper, hi)
        compared += 1
    assert compared >= 30


# --- survival_at -----------------------------------------------------------------

def test_survival_at_greenwood_by_hand():
    # Example A at t = 3: S = 4/9; Greenwood sum = 1/(6*5) + 1/(5*4) + 1/(3*2) = 1/4,
    # so var(S) = S^2/4 = 4/81 (SE 2/9) and se(log S) = 1/2.
    # log-log: w = z * (1/2) / |log(4/9)|; lower = (4/9)^exp(w), upper = (4/9)^exp(-w).
    assert F(1, 30) + F(1, 20) + F(1, 6) == F(1, 4)
    w = Z * 0.5 / math.log(9 / 4)
    r = survival_at(TA, EA, 3)
    assert r.estimable and r.n_risk == 3 and close(r.survival, F(4, 9))
    assert close(r.lower, (4 / 9) ** math.exp(w)) and close(r.upper, (4 / 9) ** math.exp(-w))
    # Between times the curve is flat: t = 3.5 has the same S and CI, 2 at risk (4, 5).
    r2 = survival_at(TA, EA, 3.5)
    assert (r2.survival, r2.lower, r2.upper, r2.n_risk) == (r.survival, r.lower, r.upper, 2)


def test_survival_at_edges():
    r = survival_at(TA, EA, 0.5)  # before the first death
    assert (r.survival, r.lower, r.upper, r.n_risk, r.estimable) == (1.0, 1.0, 1.0, 6, True)
    r = survival_at(TA, EA, 5)  # S = 0: log-log CI undefined (R gives NA)
    assert (r.survival, r.lower, r.upper, r.n_risk, r.estimable) == (0.0, None, None, 1, True)
    r = survival_at(TA, EA, 5.5)  # beyond the largest observed time
    assert (r.survival, r.lower, r.upper, r.n_risk, r.estimable) == (None, None, None, 0, False)
    assert r.t == 5.5


def test_survival_at_published_r_output():
    # summary(fit) from the R source above (conf.type="log-log"):
    #  time n.risk survival lower 95% CI upper 95% CI
    #   1.5     10    0.900       0.4730        0.985
    #   4.5      8    0.787       0.3809        0.943
    #   5.5      6    0.656       0.2604        0.876
    #   8.5      4    0.328       0.0509        0.659
    t = [1.5, 3.5, 4.5, 4.5, 5.5, 6.5, 8.5, 8.5, 8.5, 11.5]
    e = [1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
    for at, n, s, lo, hi in [(1.5, 10, 0.900, 0.4730, 0.985), (4.5, 8, 0.787, 0.3809, 0.943),
                             (5.5, 6, 0.656, 0.2604, 0.876), (8.5, 4, 0.328, 0.0509, 0.659)]:
        r = survival_at(t, e, at)
        assert r.n_risk == n and round(r.survival, 3) == s
        assert round(r.lower, 4) == lo and round(r.upper, 3) == hi


@pytest.mark.parametrize("seed", range(5))
def test_survival_at_matches_lifelines(seed):
    t, e = random_data(seed, n=70)
    kmf = KaplanMeierFitter().fit(t, e)
    ci = kmf.confidence_interval_
    grid = np.concatenate([np.unique(t), np.unique(t)[:-1] + 0.05, [0.05]])
    for at in grid:
        r = survival_at(t, e, at)
        assert close(r.survival, kmf.survival_function_at_times(at).iloc[0])
        row = ci[ci.index <= at].iloc[-1]
        assert close(r.lower, row.iloc[0], 1e-9) and close(r.upper, row.iloc[1], 1e-9)
        assert r.n_risk == int(np.sum(t >= at))


# --- reverse KM follow-up ----------------------------------------------------------

def test_reverse_km_follow_up_by_hand():
    # Example A reversed (censorings are the events; deaths count as censored):
    #  t=1: n=6, d'=0 -> 1;  t=2: n=5 (the death at 2 still at risk), d'=1 -> 4/5
    #  t=3: n=3, d'=0 -> 4/5;  t=4: n=2, d'=1 -> 2/5;  t=5: n=1, d'=0
    #  -> median follow-up 4.
    assert reverse_km_median_followup(TA, EA).median == 4.0


def test_reverse_km_tie_convention():
    # Three deaths and one censoring at 1, one censoring at 2.
    # Standard convention (deaths at 1 are censored *at* 1, so still at risk):
    #   t=1: n=5, d'=1 -> 4/5;  t=2: n=1, d'=1 -> 0  -> median 2.
    # (Removing the deaths first would give n=2 at t=1, S = 1/2 on [1,2), median 1.5.)
    r = reverse_km_median_followup([1, 1, 1, 1, 2], [1, 1, 1, 0, 0])
    assert r.median == 2.0 and r.reached


def test_reverse_km_matches_lifelines():
    for seed in range(10):
        t, e = random_data(seed, n=60, censor_last=False)
        kmf = KaplanMeierFitter().fit(t, 1 - e)
        if np.any(np.isclose(kmf.survival_function_.to_numpy(), 0.5, atol=1e-9)):
            continue
        r = reverse_km_median_followup(t, e)
        want = kmf.median_survival_time_
        assert (r.median is None) if np.isinf(want) else close(r.median, want)


# --- numbers at risk ----------------------------------------------------------------

def test_numbers_at_risk_by_hand():
    # times 1,2,2,3,4,5: at 0 -> 6, at 2 -> 5 (2,2,3,4,5), at 2.5 -> 3, at 5 -> 1, at 6 -> 0
    assert numbers_at_risk(TA, EA, [0, 2, 2.5, 5, 6]).tolist() == [6, 5, 3, 1, 0]


def test_numbers_at_risk_are_the_times_at_or_after_each_point():
    """Read from the life table, they are the count of times >= g, ties and points between times included."""
    rng = np.random.default_rng(3)
    for n in (1, 5, 200, 10_000):
        t = np.round(rng.exponential(20, n), 1) + 0.1  # rounded: many ties
        e = rng.integers(0, 2, n)
        grid = np.concatenate(([0, 0.05, t.min(), t.max(), t.max() + 1, 1e9], rng.choice(t, 20),
                               rng.uniform(0, 100, 20)))
        want = [int((t >= g).sum()) for g in grid]
        assert numbers_at_risk(t, e, grid).tolist() == want


# --- validation -----------------------------------------------------------------------

@pytest.mark.parametrize("time, event, fragment", [
    ([], [], "empty"),
    ([1, 2, 3], [1, 0], "3 values but event has 2"),
    ([1, 0, 3], [1, 0, 1], "> 0"),
    ([1, -2, 3], [1, 0, 1], "> 0"),
    ([1, np.nan, 3], [1, 0, 1], "missing or infinite"),
    ([1, np.inf, 3], [1, 0, 1], "missing or infinite"),
    ([1, 2, 3], [1, 2, 0], "0 (censored) or 1"),
    ([1, 2, 3], [1, 0.5, 0], "0 (censored) or 1"),
    ([1, 2, 3], [1, np.nan, 0], "0 (censored) or 1"),
    (["a", "b"], [1, 0], "numeric"),
    ([[1, 2]], [[1, 0]], "one-dimensional"),
])
@pytest.mark.parametrize("fn", [
    km_table, km_mean, km_median, reverse_km_median_followup,
    lambda t, e: survival_at(t, e, 1.0), lambda t, e: numbers_at_risk(t, e, [1.0]),
])
def test_validation_errors(fn, time, event, fragment):
    with pytest.raises(AnalysisError) as exc:
        fn(time, event)
    assert fragment in str(exc.value)


def test_validation_of_tau_t_and_grid():
    with pytest.raises(AnalysisError):
        km_mean(TA, EA, tau=0)
    with pytest.raises(AnalysisError):
        km_mean(TA, EA, tau=float("nan"))
    with pytest.raises(AnalysisError):
        survival_at(TA, EA, -1)
    with pytest.raises(AnalysisError):
        numbers_at_risk(TA, EA, [1, np.inf])


def test_booleans_accepted_and_results_frozen():
    r = km_mean(TA, [bool(x) for x in EA])
    assert r == km_mean(TA, EA)
    with pytest.raises(AttributeError):
        r.mean = 0.0  # frozen dataclass
    with pytest.raises(ValueError):
        km_table(TA, EA).survival[0] = 0.0  # read-only arrays


# --- the CI transform is a declared choice (R survfit conf.type) -------------------

def _r_conf_type_fixture():
    """tests/fixtures/km_conf_types_r.txt, written by tests/r/km_conf_types.R (survival::aml)."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / "km_conf_types_r.txt"
    data, surv, med = {}, [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if not f or f[0] == "#":
            continue
        if f[0] == "data":
            data.setdefault(f[1], {})[f[2]] = [float(x) for x in f[3].split(",")]
        elif f[0] == "surv":
            surv.append((f[1], f[2], float(f[3]), *(None if x in ("NA", "NaN") else float(x) for x in f[4:7])))
        elif f[0] == "median":
            med.append((f[1], f[2], *(None if x == "NA" else float(x) for x in f[3:6])))
    return data, surv, med


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_ci_transforms_match_r(conf_type):
    data, surv, med = _r_conf_type_fixture()
    checked = 0
    for group, ct, at, s, lo, hi in surv:
        if ct != conf_type:
            continue
        r = survival_at(data[group]["time"], data[group]["status"], at, conf_type)
        assert r.survival == pytest.approx(s, rel=1e-12)
        want = tuple(None if x is None else pytest.approx(x, rel=1e-9) for x in (lo, hi))
        assert (r.lower, r.upper) == want, (group, at)
        checked += 1
    for group, ct, m, lo, hi in med:
        if ct != conf_type:
            continue
        r = km_median(data[group]["time"], data[group]["status"], conf_type)
        assert (r.median, r.lower, r.upper) == (m, lo, hi), (group, ct)
        checked += 1
    assert checked == 24


def test_the_transforms_give_different_limits_so_the_choice_matters():
    data, _, _ = _r_conf_type_fixture()
    t, e = data["Nonmaintained"]["time"], data["Nonmaintained"]["status"]
    assert km_median(t, e, "log-log").lower == 5 and km_median(t, e, "log").lower == 8
    assert km_median(t, e, "log-log").upper == 33 and km_median(t, e, "log").upper is None


def test_an_unknown_transform_is_one_line():
    with pytest.raises(AnalysisError, match="'arcsine' is not one of log-log, log, plain"):
        survival_at([1.0, 2.0], [1, 0], 1.5, "arcsine")


def test_median_ci_matches_r_on_random_data():
    """300 random data sets with ties and censoring: median and CI equal R's under every conf.type."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / "km_median_random_r.txt"
    data, checked, mismatches = {}, 0, []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if f[0] == "data":
            data[f[1]] = ([float(x) for x in f[2].split(",")], [int(x) for x in f[3].split(",")])
        elif f[0] == "median":
            want = tuple(None if x in ("NA", "NaN") else float(x) for x in f[3:6])
            r = km_median(*data[f[1]], f[2])
            checked += 1
            if (r.median, r.lower, r.upper) != want:
                mismatches.append((f[1], f[2], (r.median, r.lower, r.upper), want))
    assert checked == 900 and mismatches == []


def test_ci_curve_is_the_band_of_the_limits_survival_at_reports():
    from papergen.analysis.survival import ci_curve

    data, _, _ = _r_conf_type_fixture()
    t, e = data["all"]["time"], data["all"]["status"]
    for conf_type in ("log-log", "log", "plain"):
        times, lower, upper = ci_curve(t, e, conf_type)
        for k in (2, 5, 9):
            r = survival_at(t, e, times[k], conf_type)
            assert (lower[k], upper[k]) == (pytest.approx(r.lower, rel=1e-15), pytest.approx(r.upper, rel=1e-15))


def test_km_table_is_made_once_per_curve_and_anew_for_other_data():
    """km_table keeps the tables of the last curves by content: equal data (new arrays) give the same
    table, one changed time another; each equals the table computed afresh."""
    from papergen.analysis import survival

    rng = np.random.default_rng(7)
    t = rng.exponential(20, 500).round(1) + 0.1
    e = (rng.random(500) < 0.6).astype(int)
    first = km_table(t, e)
    assert km_table(t.copy(), list(e)) is first
    moved = t.copy()
    moved[3] += 1.0
    other = km_table(moved, e)
    assert other is not first and not np.array_equal(other.survival, first.survival)
    for tab, times in ((first, t), (other, moved)):
        fresh = survival.life_table(*survival._arrays(times, e))
        for name in ("times", "n_risk", "n_event", "n_censor", "survival"):
            assert np.array_equal(getattr(tab, name), getattr(fresh, name))
    assert not first.survival.flags.writeable  # shared between values: nobody may change it
