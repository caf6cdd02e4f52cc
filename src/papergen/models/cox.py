"""Cox proportional hazards regression equal to R's ``survival::coxph``, with its PH test ``cox.zph``.

Hand-written in numpy, because no Python library computes all of it the way R
does (survival 3.5; the files named are in github.com/therneau/survival):

* the fit: Newton-Raphson from beta = 0 with R's step halving, convergence rule
  (relative change of the log partial likelihood <= 1e-9, at most 20
  iterations) and its check for infinite coefficients (src/coxfit6.c,
  R/coxph.fit.R), so the estimate is R's last iterate (agreement ~1e-13).
  lifelines stops by another rule: up to 1.6e-2 relative off R (veteran's
  diagtime), 6e-6 on GBSG2.  statsmodels' PHReg gets within 5e-8 of R but has
  no check for infinite coefficients and takes 3 x lifelines' time on 100,000
  patients;
* the PH test of survival >= 3.0 (R/cox.zph.R, src/zph1.c): a score test with
  the full 2p x 2p information matrix summed over every event time, and
  g(t) = 1 - KM(t-) (the left-continuous Kaplan-Meier of the outcome, over all
  subjects) centred on its mean over the events.  lifelines'
  ``proportional_hazard_test`` is the older (survival 2.x) test;
* survival's concordance (R/concordance.R, src/concordance3.c).  lifelines'
  ``concordance_index`` applies the same rules (a test checks they agree) but
  takes 4 x as long on 100,000 patients, so the count is vectorised here.

Times first pass through R's ``aeqSurv`` (times closer than sqrt(machine
epsilon) are one time), as coxph and survdiff do.  Published check: the GBSG2
model printed in HSAUR2 (Everitt & Hothorn; cran/HSAUR2,
tests/Ch_survival_analysis.Rout.save) is reproduced to every printed digit
(tests/test_models.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr
from scipy.stats import chi2

from papergen.models._inputs import (
    as_float, check_aligned, check_binary, check_not_constant, check_rows, columns_of, floats,
)
from papergen.models.errors import (
    CollinearCovariatesError, InfiniteEstimateError, InvalidInputError, NoEventsError, NotConvergedError,
)

Z975 = 1.959963984540054            # qnorm(0.975)
EPS = 1e-9                          # coxph.control(): eps
ITER_MAX = 20                       # coxph.control(): iter.max
TOLER_INF = np.sqrt(EPS)            # coxph.control(): toler.inf
TOLER_CHOL = np.finfo(float).eps ** 0.75

__all__ = ["CoxResult", "PHTest", "cox_ph", "aeq_times", "concordance"]


@dataclass(frozen=True)
class PHTest:
    """R's ``cox.zph(fit, transform="km", terms=FALSE)``: one row per term, then "GLOBAL"."""

    terms: tuple[str, ...]
    chisq: tuple[float, ...]
    df: tuple[int, ...]
    p: tuple[float, ...]
    transform: str = "km"


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model; every tuple is in the order of ``terms`` (the covariate columns)."""

    terms: tuple[str, ...]
    coef: tuple[float, ...]
    se: tuple[float, ...]
    hr: tuple[float, ...]
    lower: tuple[float, ...]        # Wald 95%: exp(coef - qnorm(0.975) * se)
    upper: tuple[float, ...]
    p: tuple[float, ...]            # Wald
    loglik: tuple[float, float]     # (null model, fitted model)
    lr_chisq: float
    lr_df: int
    concordance: float
    n: int
    events: int
    ties: str
    iterations: int
    _risk: "_RiskSets" = field(repr=False, compare=False)

    @property
    def z(self) -> tuple[float, ...]:
        return tuple(c / s for c, s in zip(self.coef, self.se))

    @property
    def lr_p(self) -> float:
        return float(chi2.sf(self.lr_chisq, self.lr_df))

    def ph_test(self) -> PHTest:
        """The proportional-hazards test of survival >= 3.0 (``cox.zph``, KM transform, one row per column).

        The score test, at the fitted beta, of adding x * g(t) for each covariate:
        its score is the sum over events of g(t) (x - mean of x in the risk set)
        and its information the full 2p x 2p matrix over all event times.
        """
        risk = self._risk
        p = len(self.terms)
        w, den, a, _, _ = risk.sums(np.array(self.coef))
        g = risk.km_transform()                          # one value per distinct time
        dead = risk.event
        u_g = (g[risk.tidx[dead]][:, None] * risk.x[dead]).sum(axis=0) - (g[risk.e_time][:, None] * a).sum(axis=0)
        i_bb, i_bg, i_gg = (risk.information(w, den, a, g_power) for g_power in (None, g, g ** 2))
        info = np.block([[i_bb, i_bg], [i_bg, i_gg]])
        u = np.concatenate([np.zeros(p), u_g])           # the score of beta itself is 0 at the fit (as cox.zph)
        chisq = []
        for j in range(p):
            keep = list(range(p)) + [p + j]
            chisq.append(float(u[keep] @ np.linalg.solve(info[np.ix_(keep, keep)], u[keep])))
        chisq.append(float(u @ np.linalg.solve(info, u)))
        df = (1,) * p + (p,)
        return PHTest(terms=self.terms + ("GLOBAL",), chisq=tuple(chisq), df=df,
                      p=tuple(float(chi2.sf(c, d)) for c, d in zip(chisq, df)))


def aeq_times(time: np.ndarray) -> np.ndarray:
    """R's ``aeqSurv``: times closer than sqrt(machine epsilon) (absolute or relative) become one time."""
    y = np.unique(time)
    if y.size < 2:
        return time
    tol = np.sqrt(np.finfo(float).eps)
    dy = np.diff(y)
    tied = (dy <= tol) | (dy / np.mean(np.abs(y)) <= tol)
    if not tied.any():
        return time
    cuts = y[np.concatenate([[True], ~tied])]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


class _RiskSets:
    """The data sorted by time, with the sub-events of tied deaths (Efron: fractions j/d; Breslow: 0).

    At a time with d deaths, Efron's approximation uses d risk-set denominators
    R - (j/d) D, j = 0..d-1 (R: all at risk; D: the d deaths), exactly as
    coxfit6.c; Breslow uses R d times.  All sums over risk sets are reverse
    cumulative sums over distinct times, so one evaluation costs O(n p^2).
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, x: np.ndarray, ties: str):
        order = np.argsort(time, kind="stable")
        self.time, self.event = time[order], event[order].astype(bool)
        self.x = x[order] - x.mean(axis=0)      # centring, as coxfit6.c, for stability only
        self.times, self.starts, self.tidx = np.unique(self.time, return_index=True, return_inverse=True)
        self.ntimes = self.times.size
        self.deaths = np.bincount(self.tidx, weights=self.event, minlength=self.ntimes).astype(int)
        death_times = np.flatnonzero(self.deaths)
        d = self.deaths[death_times]
        self.e_time = np.repeat(death_times, d)
        j = np.arange(d.sum()) - np.repeat(np.cumsum(d) - d, d)
        self.e_frac = j / np.repeat(d, d) if ties == "efron" else np.zeros(d.sum())

    def _per_time(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.starts, axis=0)

    def sums(self, beta: np.ndarray):
        """Risk weights, sub-event denominators and means, log partial likelihood and score at beta."""
        eta = self.x @ beta
        shift = eta.max()
        w = np.exp(eta - shift)
        wx = w[:, None] * self.x
        at_risk = self._per_time(w)[::-1].cumsum()[::-1]
        at_risk_x = self._per_time(wx)[::-1].cumsum(axis=0)[::-1]
        dead_w = self._per_time(w * self.event)
        dead_x = self._per_time(wx * self.event[:, None])
        te, fr = self.e_time, self.e_frac
        den = at_risk[te] - fr * dead_w[te]
        a = (at_risk_x[te] - fr[:, None] * dead_x[te]) / den[:, None]
        loglik = eta[self.event].sum() - (np.log(den) + shift).sum()
        score = self.x[self.event].sum(axis=0) - a.sum(axis=0)
        return w, den, a, loglik, score

    def information(self, w, den, a, g=None) -> np.ndarray:
        """Sum over sub-events of g(t) times the weighted covariance of x in the risk set (g = 1: the information)."""
        te, fr = self.e_time, self.e_frac
        ge = np.ones(te.size) if g is None else g[te]
        s1 = np.bincount(te, ge / den, self.ntimes)
        s2 = np.bincount(te, ge * fr / den, self.ntimes)
        v = w * np.cumsum(s1)[self.tidx] - w * self.event * s2[self.tidx]
        return (self.x * v[:, None]).T @ self.x - (a * ge[:, None]).T @ a

    def km_transform(self) -> np.ndarray:
        """cox.zph's transform="km" per distinct time: 1 - KM(t-), centred on its mean over the events."""
        n_risk = self.time.size - self.starts
        km = np.cumprod(1.0 - self.deaths / n_risk)
        g = 1.0 - np.concatenate([[1.0], km[:-1]])
        return g - (self.deaths * g).sum() / self.deaths.sum()


def _singular_columns(info: np.ndarray, scale: np.ndarray) -> list[int]:
    """Columns R's cholesky2 (src/cholesky2.c) finds redundant, on coxfit6's scaled covariates."""
    m = info * np.outer(scale, scale)
    n = m.shape[0]
    tol = TOLER_CHOL * max(m.diagonal().max(), 0) or TOLER_CHOL
    singular = []
    for i in range(n):
        pivot = m[i, i]
        if not np.isfinite(pivot) or pivot < tol:
            singular.append(i)
            continue
        for j in range(i + 1, n):
            temp = m[j, i] / pivot
            m[j, j] -= temp * temp * pivot
            m[j + 1:, j] -= temp * m[j + 1:, i]
            m[j, i] = temp
    return singular


def _dominance_counts(rank: np.ndarray, insert: np.ndarray, query: np.ndarray):
    """For each query item: how many insert items before it have a smaller rank, and how many a rank <=.

    Merge-sort counting, vectorised per level: at width w, the queries in the
    right half of each block of 2w items look up the inserts of the left half.
    """
    m = rank.size
    pos = np.arange(m)
    base = np.int64(rank.max()) + 2
    less = np.zeros(m, dtype=np.int64)
    leq = np.zeros(m, dtype=np.int64)
    width = 1
    while width < m:
        block = (pos // (2 * width)).astype(np.int64)
        right = (pos // width) % 2 == 1
        left = insert & ~right
        keys = np.sort(block[left] * base + rank[left])
        q = query & right
        lo = np.searchsorted(keys, block[q] * base, side="left")
        key = block[q] * base + rank[q]
        less[q] += np.searchsorted(keys, key, side="left") - lo
        leq[q] += np.searchsorted(keys, key, side="right") - lo
        width *= 2
    return less, leq


def concordance(time, event, risk_score) -> float:
    """survival's concordance of a risk score with survival (coxph's printed "Concordance=").

    For each event at time t: the subjects still at risk after it (time > t, or
    censored at t) are compared; a higher score for the earlier event is
    concordant, equal scores count one half, tied event times are not compared
    (R: ``concordancefit(y, lp, reverse=TRUE, timefix=FALSE)``).
    """
    time, event = np.asarray(time, float), np.asarray(event).astype(bool)
    rank = np.unique(np.asarray(risk_score, float), return_inverse=True)[1].astype(np.int64)
    # Walk backwards in time: censored subjects enter the tree first, then each event
    # at that time is compared with the tree (query), then the events enter it.
    item_time = np.concatenate([time, time[event]])
    item_kind = np.concatenate([np.where(event, 2, 0), np.ones(event.sum(), dtype=int)])
    item_rank = np.concatenate([rank, rank[event]])
    order = np.lexsort((item_kind, -item_time))
    kind, rank = item_kind[order], item_rank[order]
    insert, query = kind != 1, kind == 1
    less, leq = _dominance_counts(rank, insert, query)
    before = np.cumsum(insert) - insert
    concordant = less[query].sum()
    tied = (leq - less)[query].sum()
    discordant = (before - leq)[query].sum()
    return float((concordant + tied / 2) / (concordant + discordant + tied))


def _prepare(time, event, covariates, ties):
    model = "cox_ph"
    if ties not in ("efron", "breslow"):
        raise InvalidInputError(model, "ties", f"ties must be 'efron' or 'breslow', not {ties!r}")
    check_aligned(model, time=time, event=event, covariates=covariates)
    names, cols = columns_of(covariates, model)
    t = as_float(time, model, "time")
    e = as_float(event, model, "event")
    labels = {name: (name if name not in ("time", "event") else f"covariate {name}") for name in names}
    check_rows(model, {"time": t, "event": e, **{labels[k]: cols[k] for k in names}})
    check_binary(model, "event", e)
    if (t < 0).any():
        raise InvalidInputError(model, "time", f"time must be >= 0 (smallest is {t.min():g})")
    if e.sum() == 0:
        raise NoEventsError(model, "event", "there are no events (every event value is 0); a Cox model needs "
                                            "at least one")
    check_not_constant(model, names, cols)
    return names, aeq_times(t), e, np.column_stack([cols[k] for k in names])


def _newton_step(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    """info^-1 score; a singular information (far out on a flat likelihood) gets the least-squares step."""
    try:
        return np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(info, score, rcond=None)[0]


def _inverse(info: np.ndarray) -> np.ndarray:
    """The variance matrix; a singular or non-finite information (a runaway fit) gives inf, caught by _runaway."""
    try:
        return np.linalg.inv(info)
    except (np.linalg.LinAlgError, ValueError):
        return np.full(info.shape, np.inf)


def _newton_raphson(risk: _RiskSets, beta, loglik0, score, info):
    """coxfit6.c's iteration: Newton steps, step halving when the likelihood falls, stop at |1 - L_old/L| <= eps.

    Returns (beta, loglik, score, information, iterations); iterations is None
    when ITER_MAX is reached (the values are then those of the best beta).
    """
    best = loglik0
    new = beta + _newton_step(info, score)
    halving = 0
    for iteration in range(1, ITER_MAX + 1):
        w, den, a, loglik, score = risk.sums(new)
        info = risk.information(w, den, a)
        finite = np.isfinite(loglik) and np.isfinite(score).all() and np.isfinite(info).all()
        if finite and abs(1 - best / loglik) <= EPS:
            return new, loglik, score, info, iteration
        if not finite or loglik < best:
            halving += 1
            new = (new + halving * beta) / (halving + 1.0)
        else:
            halving, best, beta = 0, loglik, new
            new = new + _newton_step(info, score)
    w, den, a, loglik, score = risk.sums(beta)
    return beta, loglik, score, risk.information(w, den, a), None


def _runaway(beta: np.ndarray, score: np.ndarray, var: np.ndarray) -> list[int]:
    """R's test for "coefficient may be infinite" (coxph.fit.R): the next Newton step is still large.

    Flagged when |(score' var)_i| > eps and > sqrt(eps) * |beta_i|, or the score is not finite.
    """
    step = np.abs(score @ var)
    return [i for i in range(beta.size)
            if not np.isfinite(score[i]) or not np.isfinite(step[i])
            or (step[i] > EPS and step[i] > TOLER_INF * abs(beta[i]))]


def _fail_names(names, flagged) -> str:
    return ", ".join(repr(names[i]) for i in flagged)


def cox_ph(time, event, covariates, ties: str = "efron") -> CoxResult:
    """Fit a Cox model of (time, event) on the numeric columns of ``covariates`` as R's coxph does.

    ``event`` is 0/1 (bool accepted); categorical covariates must already be
    0/1 dummy columns.  Raises a ``ModelError`` subclass naming the covariate
    for missing values, a constant or collinear covariate, no events,
    non-convergence, or an infinite coefficient (never returns an infinite HR).
    """
    model = "cox_ph"
    names, t, e, x = _prepare(time, event, covariates, ties)
    risk = _RiskSets(t, e, x, ties)
    p = len(names)
    beta = np.zeros(p)
    w, den, a, loglik0, score = risk.sums(beta)
    info = risk.information(w, den, a)
    # coxfit6.c rescales each covariate (0/1 and -1/0/1 columns excepted) before its rank check
    absdev = np.abs(risk.x).sum(axis=0)
    zero_one = np.isin(x, (-1.0, 0.0, 1.0)).all(axis=0)
    scale = np.where(zero_one | (absdev == 0), 1.0, x.shape[0] / np.where(absdev > 0, absdev, 1.0))
    singular = _singular_columns(info, scale)
    if singular:
        raise CollinearCovariatesError(model, names[singular[0]],
                                       f"covariate {names[singular[0]]!r} is a linear combination of the "
                                       "covariates before it (R gives its coefficient as NA); drop it")
    with np.errstate(all="ignore"):      # overflow on the way to an infinite coefficient is handled below
        beta, loglik, score, info, iteration = _newton_raphson(risk, beta, loglik0, score, info)
        var = _inverse(info)
        runaway = _runaway(beta, score, var)
    if iteration is None:
        flagged = runaway or list(range(p))
        raise NotConvergedError(model, names[flagged[0]],
                                f"did not converge in {ITER_MAX} iterations (covariate {_fail_names(names, flagged)}"
                                "; a coefficient may be infinite); simplify the model or merge sparse levels")
    if runaway:
        raise InfiniteEstimateError(model, names[runaway[0]],
                                    f"the coefficient of covariate {_fail_names(names, runaway)} is infinite "
                                    "(monotone likelihood; R warns 'Loglik converged before variable ...; "
                                    "coefficient may be infinite'), typically a level with no events; merge "
                                    "or drop it")
    se = np.sqrt(np.diag(var))
    z = beta / se
    return CoxResult(
        terms=names, coef=floats(beta), se=floats(se), hr=floats(np.exp(beta)),
        lower=floats(np.exp(beta - Z975 * se)), upper=floats(np.exp(beta + Z975 * se)),
        p=floats(2 * ndtr(-np.abs(z))), loglik=(float(loglik0), float(loglik)),
        lr_chisq=float(2 * (loglik - loglik0)), lr_df=p,
        concordance=concordance(risk.time, risk.event, risk.x @ beta),
        n=int(t.size), events=int(e.sum()), ties=ties, iterations=iteration, _risk=risk)
