"""Logistic regression equal to R's ``glm(y ~ ., family = binomial)``, fitted by statsmodels.

statsmodels' GLM runs the same IRLS as R's glm.fit: the same start,
mu = (y + 0.5) / 2, at most 25 iterations, and here the same stopping rule,
|deviance change| <= 1e-8 * |deviance| + 1e-9.  Hand-written is only what
neither library checks the way a paper needs: separation is decided exactly
instead of R's warning "fitted probabilities numerically 0 or 1 occurred" after
a huge coefficient. A fit whose score equations hold with every fitted
probability inside (0, 1) is itself the proof that no separating direction
exists (``mle_exists``, Stiemke's lemma), so the linear program that finds
one (a direction b with (2y - 1) * x'b >= 0 for every row, as the
detectseparation package does) runs only when that proof fails.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.special import ndtr

from papergen.models._inputs import (
    as_float, check_aligned, check_binary, check_not_constant, check_rows, columns_of, floats,
)
from papergen.models.cox import Z975
from papergen.models.errors import (
    CollinearCovariatesError, NoEventsError, NotConvergedError, SeparationError,
)

INTERCEPT = "(Intercept)"
MAXIT = 25                              # glm.control(): maxit
EPSILON = 1e-8                          # glm.control(): epsilon
MU_EPS = 10 * np.finfo(float).eps       # glm.fit's "numerically 0 or 1"

__all__ = ["LogisticResult", "logistic"]


@dataclass(frozen=True)
class LogisticResult:
    """A fitted logistic model; tuples follow ``terms``, which starts with "(Intercept)".

    ``lower``/``upper`` are the Wald 95% limits of the odds ratio, exp of R's
    ``confint.default``; ``coef_lower``/``coef_upper`` are confint.default itself.
    """

    terms: tuple[str, ...]
    coef: tuple[float, ...]
    se: tuple[float, ...]
    odds_ratio: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    p: tuple[float, ...]
    aic: float
    deviance: float
    null_deviance: float
    n: int
    events: int
    iterations: int

    @property
    def z(self) -> tuple[float, ...]:
        return tuple(c / s for c, s in zip(self.coef, self.se))

    @property
    def coef_lower(self) -> tuple[float, ...]:
        return tuple(c - Z975 * s for c, s in zip(self.coef, self.se))

    @property
    def coef_upper(self) -> tuple[float, ...]:
        return tuple(c + Z975 * s for c, s in zip(self.coef, self.se))


def _collinear_column(x: np.ndarray) -> int | None:
    """The first column that is (numerically) a linear combination of the columns before it.

    One QR decomposition: |R[j, j]| is the norm of column j's residual on the columns before it, and a
    residual within 1e-7 of the column's norm is R's (dqrdc2's) tolerance for a dependent column.
    """
    resid = np.abs(np.diag(np.linalg.qr(x, mode="r")))
    dependent = np.nonzero(resid[1:] <= 1e-7 * np.linalg.norm(x[:, 1:], axis=0))[0]
    return int(dependent[0]) + 1 if dependent.size else None


def mle_exists(x: np.ndarray, y: np.ndarray, mu: np.ndarray) -> bool:
    """Whether fitted probabilities ``mu`` prove that no direction separates y on x's (full-rank) columns.

    With z_i = (2y_i - 1) x_i and w_i = |y_i - mu_i|, the score equations say z'w = 0. Stiemke's lemma: a
    w > 0 with z'w = 0 exists exactly when no b has z b >= 0 with z b != 0 (no complete or quasi-complete
    separation). The fit's w is corrected to solve z'w = 0 exactly (the least-squares correction z (z'z)^-1 z'w);
    when the correction is smaller than half the smallest w_i, the corrected w is still positive: proof.
    """
    w = np.abs(y - mu)
    if not np.isfinite(w).all() or w.min() <= 0:
        return False
    z = x * (2 * y - 1)[:, None]
    correction = z @ np.linalg.solve(x.T @ x, z.T @ w)
    return bool(np.abs(correction).max() < 0.5 * w.min())


def separating_direction(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """A direction b (on x's columns) that separates y, or None when the maximum likelihood estimate exists.

    Maximises sum((2y - 1) * x'b) subject to (2y - 1) * x'b >= 0 and -1 <= b <= 1:
    the optimum is 0 exactly when no such direction exists (Konis 2007).
    """
    scale = np.abs(x).max(axis=0)
    z = (x / scale) * (2 * y - 1)[:, None]
    res = linprog(-z.sum(axis=0), A_ub=-z, b_ub=np.zeros(len(y)), bounds=[(-1, 1)] * x.shape[1],
                  method="highs", options={"primal_feasibility_tolerance": 1e-10,
                                           "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:
        return None
    margin = z @ res.x
    if margin.max() > 1e-6 and margin.min() >= -1e-8:
        return res.x / scale
    return None


def logistic(outcome, covariates) -> LogisticResult:
    """Fit a logistic model of a 0/1 outcome (bool accepted) on the numeric columns of ``covariates``.

    Raises a ``ModelError`` subclass naming the covariate for missing values,
    a constant or collinear covariate, an outcome with one value only,
    separation, or non-convergence.
    """
    import statsmodels.api as sm   # imported here: only plans that fit a logistic model pay for it

    model = "logistic"
    check_aligned(model, outcome=outcome, covariates=covariates)
    names, cols = columns_of(covariates, model)
    y = as_float(outcome, model, "outcome")
    labels = {name: (name if name != "outcome" else "covariate outcome") for name in names}
    check_rows(model, {"outcome": y, **{labels[k]: cols[k] for k in names}})
    check_binary(model, "outcome", y)
    events = int(y.sum())
    if events in (0, y.size):
        raise NoEventsError(model, "outcome", f"the outcome is {int(y[0])} in every row; a logistic model "
                                              "needs both outcomes")
    check_not_constant(model, names, cols)
    terms = (INTERCEPT,) + names
    x = np.column_stack([np.ones(y.size)] + [cols[k] for k in names])
    j = _collinear_column(x)
    if j is not None:
        raise CollinearCovariatesError(model, terms[j], f"covariate {terms[j]!r} is a linear combination of "
                                                        "the covariates before it (R gives NA); drop it")
    with warnings.catch_warnings():  # a separated fit overflows and warns; separation is decided below
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Binomial()).fit(maxiter=MAXIT, tol=EPSILON, atol=EPSILON / 10,
                                                              rtol=EPSILON)
    if not (fit.converged and mle_exists(x, y, np.asarray(fit.fittedvalues))):
        direction = separating_direction(x, y)
        if direction is not None:
            size = np.abs(direction[1:]) * np.abs(x[:, 1:]).max(axis=0)
            culprits = [names[i] for i in np.argsort(-size) if size[i] > 1e-6] or list(names)
            raise SeparationError(model, culprits[0],
                                  f"covariate {', '.join(map(repr, culprits))} separates the outcome (perfect or "
                                  "quasi-perfect separation: the odds ratio is infinite); merge sparse levels "
                                  "or use a penalised (Firth) model")
    if not fit.converged:
        raise NotConvergedError(model, names[0], f"IRLS did not converge in {MAXIT} iterations "
                                                 f"(covariates {', '.join(map(repr, names))})")
    mu = fit.fittedvalues
    if (mu < MU_EPS).any() or (mu > 1 - MU_EPS).any():
        raise SeparationError(model, names[0], "fitted probabilities numerically 0 or 1 occurred (R's warning); "
                                               "the odds ratios are not estimable")
    coef, se = np.asarray(fit.params), np.asarray(fit.bse)
    with np.errstate(over="ignore"):  # an odds ratio past 1e308 (a covariate in tiny units) is inf: the
        return LogisticResult(         # registry refuses it, naming the plan line, instead of a warning here
            terms=terms, coef=floats(coef), se=floats(se), odds_ratio=floats(np.exp(coef)),
            lower=floats(np.exp(coef - Z975 * se)), upper=floats(np.exp(coef + Z975 * se)),
            p=floats(2 * ndtr(-np.abs(coef / se))), aic=float(fit.aic), deviance=float(fit.deviance),
            null_deviance=float(fit.null_deviance), n=int(y.size), events=events,
            iterations=int(fit.fit_history["iteration"]))
