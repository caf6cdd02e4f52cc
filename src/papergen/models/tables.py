"""Tests on contingency tables equal to R's chisq.test and fisher.test, and tableone's categorical SMD.

Hand-written, because scipy does not compute them the way R does:

* ``chi_square``: R's Yates correction subtracts min(0.5, |O - E|) and only for
  2 x 2 tables (scipy subtracts 0.5 whenever df = 1);
* ``fisher_exact``, 2 x 2: R's conditional maximum likelihood odds ratio and its
  95% interval are roots found by ``uniroot`` (Brent's method, tolerance
  1.2e-4), so R's digits are those of that search; it is ported here
  (R's src/library/stats/src/zeroin.c) to give R's numbers, not the exact root
  scipy's ``contingency.odds_ratio`` gives;
* ``fisher_exact``, r x c: scipy only simulates; here every table with the
  observed margins is enumerated (as R's FEXACT network algorithm, with
  bounds that prune whole sub-trees) and the P value sums the tables no more
  probable than the observed one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln
from scipy.stats import chi2, hypergeom

from papergen.models.errors import (
    EmptyGroupError, InvalidInputError, MissingValuesError, TooFewGroupsError,
)

REL_ERR = 1 + 1e-7                 # fisher.test: tables within this factor of the observed count as "as likely"
MAX_WORK = 20_000_000              # partial tables the r x c enumeration may extend (R's FEXACT also gives up)

__all__ = ["ChiSquareResult", "FisherResult", "chi_square", "fisher_exact", "smd_categorical"]


@dataclass(frozen=True)
class ChiSquareResult:
    """Pearson's chi-square test of independence; ``expected`` has the table's shape."""

    chisq: float
    df: int
    p: float
    expected: tuple[tuple[float, ...], ...]
    correction: bool                 # True when Yates' correction was applied (2 x 2 only)

    @property
    def statistic(self) -> float:
        return self.chisq


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test; for 2 x 2 tables R's conditional MLE odds ratio and its 95% interval, else None."""

    p: float
    odds_ratio: float | None
    lower: float | None
    upper: float | None

    @property
    def statistic(self) -> float | None:
        return self.odds_ratio


def _label(labels, i) -> str:
    return str(labels[i]) if labels is not None else str(i + 1)


def _counts(model: str, table, *, integer: bool) -> np.ndarray:
    """A two-way table of counts (list of lists, array or DataFrame) as a float array; problems raise."""
    rows = cols = None
    if isinstance(table, pd.DataFrame):
        rows, cols = list(table.index), list(table.columns)
        table = table.to_numpy(dtype=float, na_value=np.nan)
    try:
        x = np.asarray(table, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(model, "table", "table must hold numbers (counts)") from None
    if x.ndim != 2:
        raise InvalidInputError(model, "table", f"table must be two-way (rows x columns), got shape {x.shape}")
    if min(x.shape) < 2:
        raise TooFewGroupsError(model, "table", f"table must have at least 2 rows and 2 columns, got "
                                                f"{x.shape[0]} x {x.shape[1]}")
    if np.isnan(x).any():
        k = int(np.isnan(x).sum())
        raise MissingValuesError(model, "table", k, f"table has {k} missing cell(s)")
    if (x < 0).any() or not np.isfinite(x).all():
        raise InvalidInputError(model, "table", "table counts must be finite and >= 0")
    if integer and (x != np.round(x)).any():
        raise InvalidInputError(model, "table", "table counts must be whole numbers")
    for axis, labels, what in ((1, rows, "row"), (0, cols, "column")):
        empty = np.flatnonzero(x.sum(axis=axis) == 0)
        if empty.size:
            name = _label(labels, empty[0])
            raise EmptyGroupError(model, name, f"table {what} {name!r} has no observations; drop that level")
    return x


def chi_square(table, correction: bool = False) -> ChiSquareResult:
    """Pearson's chi-square test as R's ``chisq.test(table, correct=correction)``.

    With ``correction=True`` Yates' continuity correction is applied to 2 x 2
    tables only (R subtracts min(0.5, |O - E|)); larger tables are never corrected.
    """
    x = _counts("chi_square", table, integer=False)
    expected = np.outer(x.sum(axis=1), x.sum(axis=0)) / x.sum()
    yates = min(0.5, np.abs(x - expected).min()) if correction and x.shape == (2, 2) else 0.0
    chisq = float(((np.abs(x - expected) - yates) ** 2 / expected).sum())
    df = (x.shape[0] - 1) * (x.shape[1] - 1)
    return ChiSquareResult(chisq=chisq, df=df, p=float(chi2.sf(chisq, df)),
                           expected=tuple(tuple(float(v) for v in row) for row in expected),
                           correction=bool(yates > 0))


def _zeroin(f, ax: float, bx: float, fa: float, fb: float, tol: float, maxit: int = 1000) -> float:
    """R's R_zeroin2 (Brent's root finder), step for step, so roots carry R's digits."""
    eps = np.finfo(float).eps
    a, b, c, fc = ax, bx, ax, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _uniroot(f, lower: float, upper: float) -> float:
    """R's ``uniroot(f, c(lower, upper))`` with its default tolerance .Machine$double.eps^0.25."""
    return _zeroin(f, lower, upper, f(lower), f(upper), np.finfo(float).eps ** 0.25)


class _Fisher2x2:
    """R's fisher.test for a 2 x 2 table: the noncentral hypergeometric law of the top-left cell."""

    def __init__(self, x: np.ndarray):
        self.m, self.n = int(x[:, 0].sum()), int(x[:, 1].sum())
        self.k, self.x = int(x[0, :].sum()), int(x[0, 0])
        self.lo, self.hi = max(0, self.k - self.n), min(self.k, self.m)
        self.support = np.arange(self.lo, self.hi + 1)
        self.logdc = hypergeom.logpmf(self.support, self.m + self.n, self.m, self.k)

    def density(self, ncp: float) -> np.ndarray:
        d = self.logdc + np.log(ncp) * self.support
        d = np.exp(d - d.max())
        return d / d.sum()

    def mean(self, ncp: float) -> float:
        if ncp == 0:
            return self.lo
        if ncp == np.inf:
            return self.hi
        return float((self.support * self.density(ncp)).sum())

    def cdf(self, ncp: float, upper: bool = False) -> float:
        """P(X <= x) (or P(X >= x) when upper) at odds ratio ncp, with R's special cases."""
        q = self.x
        if ncp == 1:
            law = hypergeom(self.m + self.n, self.m, self.k)
            return float(law.sf(q - 1) if upper else law.cdf(q))
        if ncp == 0:
            return float(q <= self.lo if upper else q >= self.lo)
        if ncp == np.inf:
            return float(q <= self.hi if upper else q >= self.hi)
        d = self.density(ncp)
        return float(d[self.support >= q].sum() if upper else d[self.support <= q].sum())

    def p_value(self) -> float:
        d = self.density(1.0)
        return float(d[d <= d[self.x - self.lo] * REL_ERR].sum())

    def _solve(self, g, target: float) -> float:
        """The odds ratio t where g(t) = target (g increasing), searched on [0, 1] or through 1/t as R does."""
        at_one = g(1.0)
        if at_one > target:
            return _uniroot(lambda t: g(t) - target, 0.0, 1.0)
        if at_one < target:
            return 1.0 / _uniroot(lambda t: g(1.0 / t) - target, np.finfo(float).eps, 1.0)
        return 1.0

    def odds_ratio(self) -> float:
        if self.x == self.lo:
            return 0.0
        if self.x == self.hi:
            return np.inf
        return self._solve(self.mean, self.x)

    def interval(self, alpha: float = 0.025) -> tuple[float, float]:
        # _solve expects g increasing in t: P(X >= x) is, P(X <= x) is decreasing (negated; Brent's
        # steps are the same for -f as for f)
        lower = 0.0 if self.x == self.lo else self._solve(lambda t: self.cdf(t, upper=True), alpha)
        upper = np.inf if self.x == self.hi else self._solve(lambda t: -self.cdf(t), -alpha)
        return lower, upper


def _column_vectors(caps: tuple[int, ...], total: int):
    """Every vector x with sum(x) == total and 0 <= x[i] <= caps[i]."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest = sum(caps[1:])
    for first in range(max(0, total - rest), min(caps[0], total) + 1):
        for tail in _column_vectors(caps[1:], total - first):
            yield (first,) + tail


def _most_even(caps: tuple[int, ...], total: int) -> list[int]:
    """The column of sum ``total`` within ``caps`` spread most evenly: the most probable column (water-filling)."""
    x = [0] * len(caps)
    order = sorted(range(len(caps)), key=lambda i: caps[i])
    left, rows = total, len(caps)
    for i in order:
        x[i] = min(caps[i], left // rows)
        left, rows = left - x[i], rows - 1
    for i in reversed(order):                 # the remainder, one each, to rows with room (largest caps first)
        if left == 0:
            break
        if x[i] < caps[i]:
            x[i] += 1
            left -= 1
    return x


def _most_uneven(caps: tuple[int, ...], total: int) -> list[int]:
    """The column of sum ``total`` within ``caps`` filled largest cap first: the least probable column."""
    x = [0] * len(caps)
    for i in sorted(range(len(caps)), key=lambda i: -caps[i]):
        x[i] = min(caps[i], total)
        total -= x[i]
    return x


def _fisher_rxc(x: np.ndarray) -> float:
    """Exact P for an r x c table: the total probability of the tables no more probable than x.

    Columns are filled one at a time; a node is the multiset of row totals
    still to fill, holding the log-probability terms (and counts) of the
    partial tables that reach it.  With an upper and a lower bound on what the
    remaining columns can add, a partial table all of whose completions are at
    most as probable as x is added whole (the sum over completions has a closed
    form), and one none of whose completions can be is dropped; the rest are
    extended by every possible next column.
    """
    x = x.astype(int)
    if x.shape[0] > x.shape[1]:
        x = x.T
    rows, cols = x.sum(axis=1), np.sort(x.sum(axis=0))[::-1]
    total = int(x.sum())
    lf = gammaln(np.arange(total + 1) + 1.0)
    const = lf[rows].sum() + lf[cols].sum() - lf[total]
    threshold = -lf[x].sum() + np.log(REL_ERR)
    nodes = {tuple(sorted(rows)): (np.zeros(1), np.ones(1))}
    p, work = 0.0, 0
    for k, c in enumerate(cols):
        future = cols[k:]
        following: dict = {}
        for state, (past, count) in nodes.items():
            log_all = lf[sum(state)] - lf[list(state)].sum() - lf[future].sum()
            # bounds on what the remaining columns add: each column alone at its most and least probable
            upper = sum(-lf[_most_even(state, int(cj))].sum() for cj in future)
            lower = sum(-lf[_most_uneven(state, int(cj))].sum() for cj in future)
            whole = past + upper <= threshold
            p += float((count[whole] * np.exp(const + past[whole] + log_all)).sum())
            live = ~whole & (past + lower <= threshold)
            if not live.any():
                continue
            past, count = past[live], count[live]
            for v in _column_vectors(state, int(c)):
                work += past.size
                new_state = tuple(sorted(s - vi for s, vi in zip(state, v)))
                following.setdefault(new_state, []).append((past - lf[list(v)].sum(), count))
            if work > MAX_WORK:
                raise InvalidInputError("fisher_exact", "table", "table too large for the exact r x c test; use "
                                                                 "chi_square")
        nodes = {}
        for state, parts in following.items():      # partial tables with equal terms are merged
            past = np.concatenate([q for q, _ in parts])
            count = np.concatenate([n for _, n in parts])
            keys, first, where = np.unique(np.round(past, 9), return_index=True, return_inverse=True)
            nodes[state] = (past[first], np.bincount(where.ravel(), weights=count))
    for past, count in nodes.values():               # all columns filled (rarely reached: the bounds decide)
        p += float((count[past <= threshold] * np.exp(const + past[past <= threshold])).sum())
    return float(min(1.0, max(0.0, p)))


def fisher_exact(table) -> FisherResult:
    """Fisher's exact test as R's ``fisher.test(table)``: two-sided P; for 2 x 2 also R's odds ratio and 95% CI.

    The odds ratio is the conditional maximum likelihood estimate (0 or inf
    when a cell makes it so, as R gives), not the sample odds ratio ad/bc.
    An r x c table whose enumeration would take more than MAX_WORK steps
    raises InvalidInputError (R's FEXACT stops with "LDSTP too small" on such
    tables unless given more workspace).
    """
    x = _counts("fisher_exact", table, integer=True)
    if x.shape == (2, 2):
        law = _Fisher2x2(x)
        lower, upper = law.interval()
        return FisherResult(p=law.p_value(), odds_ratio=float(law.odds_ratio()),
                            lower=float(lower), upper=float(upper))
    return FisherResult(p=_fisher_rxc(x), odds_ratio=None, lower=None, upper=None)


def smd_categorical(table, b=None) -> float:
    """tableone's standardised difference of a categorical variable between two groups (Yang & Dalton 2012).

    sqrt((p1 - p2)' S^+ (p1 - p2)), p the level proportions of each group without
    the first level, S = (S1 + S2) / 2 with S = diag(p) - p p' (multinomial
    covariance), S^+ the Moore-Penrose inverse (MASS::ginv), as tableone's
    StdDiffMulti.  Give two vectors of level counts (group a, group b), or a
    table of levels (rows) x the 2 groups (columns), as Table 1 shows it and
    ``pd.crosstab(x, group)`` makes it; a 2 x k table with k > 2 is read as
    groups x levels (tableone's ``table(group, x)``).
    """
    model = "smd_categorical"
    if b is not None:
        a, b = np.asarray(table, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
        if a.size != b.size:
            raise InvalidInputError(model, "b", "the two count vectors differ in length")
        table = np.column_stack([a, b])
    x = np.asarray(table.to_numpy(dtype=float) if isinstance(table, pd.DataFrame) else table, dtype=float)
    if x.ndim == 2 and x.shape[0] == 2 and x.shape[1] > 2:
        x = x.T
    if x.ndim != 2 or x.shape[1] != 2:
        raise InvalidInputError(model, "table", f"give levels (rows) x 2 groups (columns), got shape {x.shape}")
    if np.isnan(x).any():
        raise MissingValuesError(model, "table", int(np.isnan(x).sum()), "table has missing counts")
    if (x < 0).any():
        raise InvalidInputError(model, "table", "counts must be >= 0")
    sizes = x.sum(axis=0)
    if (sizes == 0).any():
        raise EmptyGroupError(model, "table", f"group {int(np.flatnonzero(sizes == 0)[0]) + 1} has no observations")
    props = (x / sizes).T                      # groups x levels
    if props.shape[1] > 1:
        props = props[:, 1:]
    cov = [np.diag(pr) - np.outer(pr, pr) for pr in props]
    pooled = (cov[0] + cov[1]) / 2
    diff = props[0] - props[1]
    if np.all(pooled == 0):
        return 0.0 if np.all(diff == 0) else float("nan")
    inverse = np.linalg.pinv(pooled, rcond=np.sqrt(np.finfo(float).eps))
    return float(np.sqrt(max(0.0, diff @ inverse @ diff)))
