"""Two- and k-sample tests on numeric samples, equal to R's t.test, oneway.test, kruskal.test, wilcox.test.

All come from scipy.stats (the arithmetic is the same as R's); what is written
here is R's choice between them, e.g. wilcox.test's rule for the exact test
(both samples below 50 and no ties) and its continuity correction, and one
clear error for an empty sample or a single group.  ``smd`` is tableone's
standardised mean difference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from papergen.models._inputs import as_float, check_rows
from papergen.models.errors import (
    ConstantCovariateError, EmptyGroupError, TooFewGroupsError, TooFewObservationsError,
)

__all__ = ["TTestResult", "AnovaResult", "KruskalResult", "WilcoxonResult",
           "welch_t", "student_t", "anova", "kruskal_wallis", "wilcoxon_rank_sum", "smd"]


@dataclass(frozen=True)
class TTestResult:
    """t statistic (mean of a minus mean of b), its degrees of freedom and two-sided P."""

    t: float
    df: float
    p: float
    mean_a: float
    mean_b: float
    method: str

    @property
    def statistic(self) -> float:
        return self.t


@dataclass(frozen=True)
class AnovaResult:
    """One-way ANOVA F test: ``df`` is (between groups, within groups)."""

    f: float
    df: tuple[float, float]
    p: float

    @property
    def statistic(self) -> float:
        return self.f


@dataclass(frozen=True)
class KruskalResult:
    """Kruskal-Wallis rank sum test: ``h`` is R's "Kruskal-Wallis chi-squared" (tie-corrected)."""

    h: float
    df: int
    p: float

    @property
    def statistic(self) -> float:
        return self.h


@dataclass(frozen=True)
class WilcoxonResult:
    """Wilcoxon rank sum (Mann-Whitney) test: ``w`` is R's W, the rank sum of a minus n_a(n_a + 1)/2."""

    w: float
    p: float
    exact: bool
    correction: bool

    @property
    def statistic(self) -> float:
        return self.w


def _samples(model: str, groups, minimum: int = 1) -> list[np.ndarray]:
    """Each group as a float array; missing values, empty groups or too few groups raise."""
    if len(groups) < 2:
        raise TooFewGroupsError(model, "groups", f"needs at least 2 groups, got {len(groups)}")
    names = [chr(ord("a") + i) if len(groups) == 2 else f"group {i + 1}" for i in range(len(groups))]
    arrays = [as_float(g, model, name) for g, name in zip(groups, names)]
    for arr, name in zip(arrays, names):
        if arr.size == 0:
            raise EmptyGroupError(model, name, f"{name} has no observations")
        check_rows(model, {name: arr})
        if arr.size < minimum:
            raise TooFewObservationsError(model, name, f"{name} has {arr.size} value(s); the test needs at "
                                                       f"least {minimum}")
    return arrays


def _not_constant(model: str, arrays, within: bool) -> None:
    """R: 'data are essentially constant' (t-tests: within every group; rank tests: overall)."""
    pooled = np.concatenate(arrays)
    constant = all(np.ptp(a) == 0 for a in arrays) if within else np.ptp(pooled) == 0
    if constant:
        raise ConstantCovariateError(model, "values", "the values are constant "
                                                      f"{'within every group' if within else '(all equal)'}; "
                                                      "the test statistic is undefined")


def welch_t(a, b) -> TTestResult:
    """Welch two-sample t-test (R ``t.test(a, b)``, unequal variances)."""
    x, y = _samples("welch_t", (a, b), minimum=2)
    _not_constant("welch_t", (x, y), within=True)
    res = stats.ttest_ind(x, y, equal_var=False)
    return TTestResult(float(res.statistic), float(res.df), float(res.pvalue), float(x.mean()), float(y.mean()),
                       "Welch two-sample t-test")


def student_t(a, b) -> TTestResult:
    """Student two-sample t-test with pooled variance (R ``t.test(a, b, var.equal=TRUE)``)."""
    x, y = _samples("student_t", (a, b))
    if x.size + y.size < 3:
        raise TooFewObservationsError("student_t", "a", "the two samples have fewer than 3 values together")
    _not_constant("student_t", (x, y), within=True)
    res = stats.ttest_ind(x, y, equal_var=True)
    return TTestResult(float(res.statistic), float(res.df), float(res.pvalue), float(x.mean()), float(y.mean()),
                       "Two-sample t-test")


def anova(*groups) -> AnovaResult:
    """One-way ANOVA (R ``oneway.test(y ~ g, var.equal=TRUE)``, the same F as ``aov``)."""
    arrays = _samples("anova", groups)
    n, k = sum(a.size for a in arrays), len(arrays)
    if n <= k:
        raise TooFewObservationsError("anova", "groups", f"{n} values in {k} groups leave no residual degrees "
                                                         "of freedom")
    _not_constant("anova", arrays, within=True)
    res = stats.f_oneway(*arrays)
    return AnovaResult(float(res.statistic), (float(k - 1), float(n - k)), float(res.pvalue))


def kruskal_wallis(*groups) -> KruskalResult:
    """Kruskal-Wallis rank sum test (R ``kruskal.test``), with R's correction for ties."""
    arrays = _samples("kruskal_wallis", groups)
    _not_constant("kruskal_wallis", arrays, within=False)
    res = stats.kruskal(*arrays)
    return KruskalResult(float(res.statistic), len(arrays) - 1, float(res.pvalue))


def wilcoxon_rank_sum(a, b) -> WilcoxonResult:
    """Wilcoxon rank sum test with R ``wilcox.test(a, b)`` defaults.

    Exact P when both samples have fewer than 50 values and there are no ties;
    otherwise the normal approximation with continuity correction and the tie
    correction of the variance.
    """
    x, y = _samples("wilcoxon_rank_sum", (a, b))
    _not_constant("wilcoxon_rank_sum", (x, y), within=False)
    pooled = np.concatenate([x, y])
    exact = x.size < 50 and y.size < 50 and np.unique(pooled).size == pooled.size
    res = stats.mannwhitneyu(x, y, use_continuity=True, alternative="two-sided",
                             method="exact" if exact else "asymptotic")
    return WilcoxonResult(float(res.statistic), float(min(1.0, res.pvalue)), exact, not exact)


def smd(a, b) -> float:
    """Standardised mean difference (mean(a) - mean(b)) / sqrt((var(a) + var(b)) / 2), sample variances.

    tableone's and cobalt's definition; tableone prints its absolute value.
    """
    x, y = _samples("smd", (a, b), minimum=2)
    pooled = (x.var(ddof=1) + y.var(ddof=1)) / 2
    diff = x.mean() - y.mean()
    if pooled == 0:
        if diff == 0:
            return 0.0   # tableone: one constant in both groups
        raise ConstantCovariateError("smd", "values", "both samples are constant (with different values); "
                                                      "the SMD is infinite")
    return float(diff / np.sqrt(pooled))
