"""Kaplan-Meier arithmetic on arrays, with R's survival package conventions.

Plain functions over ``time`` (float, > 0) and ``event`` (0/1) arrays that
return small frozen dataclasses.  Everything is numpy, written out here so
each convention is visible; tests cross-check against lifelines and R output.
Conventions (R survival 3.x, therneau/survival on GitHub):

* ties: deaths at t precede censorings at t (censored at t are at risk at t);
* mean: area under the KM step curve on [0, tau], tau = largest observed
  time by default; its SE is R's ``survmean`` formula (R/print.survfit.R);
* median and its CI: R's ``quantile.survfit`` rule (R/quantile.survfit.R);
* 95% CIs of S(t): Greenwood variance on one of R's transforms, chosen by
  the caller (``conf_type``): "log-log" (lifelines' default, papergen's),
  "log" (R survfit's default) or "plain" (R survfit_confint in R/survfit.R).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from papergen.errors import AnalysisError

Z95 = 1.959963984540054  # qnorm(0.975); prints as 1.959963985 (SPSS)
TOL = np.sqrt(np.finfo(float).eps)  # R's tolerance for "S equals 0.5 exactly"

#: R survfit's conf.type values papergen computes, with the words the methods text prints for each
CONF_TYPES = {"log-log": "log-log transformed", "log": "log transformed", "plain": "untransformed (plain)"}

__all__ = ["CONF_TYPES", "ci_band", "ci_curve", "KMTable", "KMMean", "KMMedian", "SurvivalAt", "km_table", "life_table",
           "km_mean", "km_median", "survival_at", "reverse_km_median_followup", "numbers_at_risk"]


@dataclass(frozen=True)
class KMTable:
    """One row per distinct observed time; ``survival`` is S just after it."""

    times: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    survival: np.ndarray


@dataclass(frozen=True)
class KMMean:
    """Restricted mean survival on [0, tau] with its SE and mean ± 1.96·SE."""

    mean: float
    se: float
    tau: float
    lower: float
    upper: float


@dataclass(frozen=True)
class KMMedian:
    """Median with Brookmeyer-Crowley 95% CI; None where a limit is not reached."""

    median: float | None
    lower: float | None
    upper: float | None
    reached: bool


@dataclass(frozen=True)
class SurvivalAt:
    """S(t) with its 95% CI; all None when t lies beyond the data."""

    t: float
    survival: float | None
    lower: float | None
    upper: float | None
    n_risk: int
    estimable: bool


# --- validation --------------------------------------------------------------

def _arrays(time, event) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert inputs; raise AnalysisError naming the first problem."""
    try:
        t = np.asarray(time, dtype=float)
        e_raw = np.asarray(event, dtype=float)
    except (TypeError, ValueError):
        raise AnalysisError("survival: time and event must be numeric arrays") from None
    if t.ndim != 1 or e_raw.ndim != 1:
        raise AnalysisError("survival: time and event must be one-dimensional")
    if t.size == 0:
        raise AnalysisError("survival: no observations (time is empty)")
    if t.size != e_raw.size:
        raise AnalysisError(f"survival: time has {t.size} values but event has {e_raw.size}")
    if not np.all(np.isfinite(t)):
        raise AnalysisError("survival: time contains missing or infinite values")
    if np.any(t <= 0):
        raise AnalysisError(f"survival: times must be > 0 (smallest is {t.min():g})")
    if not np.all((e_raw == 0) | (e_raw == 1)):
        bad = e_raw[~((e_raw == 0) | (e_raw == 1))][0]
        raise AnalysisError(f"survival: event must be 0 (censored) or 1 (event); found {bad!r}")
    return t, e_raw.astype(int)


def _point(x, name: str) -> float:
    """A finite, non-negative time point."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise AnalysisError(f"survival: {name} must be a number, got {x!r}") from None
    if not np.isfinite(v) or v < 0:
        raise AnalysisError(f"survival: {name} must be finite and >= 0, got {x!r}")
    return v


# --- the curve -----------------------------------------------------------------

_TABLES: dict[tuple, KMTable] = {}  # life tables of the last few curves, by content (km_table)


def km_table(time, event) -> KMTable:
    """The Kaplan-Meier life table at every distinct observed time.

    A plan asks a curve for several values (mean, median, survival at 1, 3 and 5 years): the table of
    the same times and events (hashed as bytes, far cheaper than sorting them) is made once.
    """
    t, e = _arrays(time, event)
    key = (t.size, hashlib.sha1(t.tobytes(), usedforsecurity=False).digest(),
           hashlib.sha1(e.tobytes(), usedforsecurity=False).digest())
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) >= 8:
            _TABLES.clear()
        table = _TABLES[key] = life_table(t, e)
    return table


def life_table(t: np.ndarray, e: np.ndarray) -> KMTable:
    """km_table's arithmetic: n at risk, events, censored and S after each distinct time (read-only arrays).

    Without km_table's checks and memo: for arrays the caller has checked (a figure's curve, whose times may be 0).
    """
    times, idx = np.unique(t, return_inverse=True)
    n_all = np.bincount(idx, minlength=times.size)
    n_event = np.bincount(idx, weights=e, minlength=times.size).astype(int)
    n_risk = t.size - np.concatenate(([0], np.cumsum(n_all)[:-1]))
    survival = np.cumprod(1.0 - n_event / n_risk)
    arrays = (times, n_risk, n_event, n_all - n_event, survival)
    for a in arrays:
        a.setflags(write=False)
    return KMTable(*arrays)


def _greenwood(tab: KMTable) -> np.ndarray:
    """Cumulative Greenwood sum d/(n(n-d)) after each time; inf once n == d."""
    n, d = tab.n_risk.astype(float), tab.n_event.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
    return np.cumsum(term)


def check_conf_type(conf_type: str) -> str:
    """One of CONF_TYPES, or a one-line error listing them."""
    if conf_type not in CONF_TYPES:
        raise AnalysisError(f"survival: conf_type {conf_type!r} is not one of {', '.join(CONF_TYPES)} "
                            "(R survfit's conf.type)")
    return conf_type


def _curve_ci(s: np.ndarray, gw: np.ndarray, conf_type: str = "log-log") -> tuple[np.ndarray, np.ndarray]:
    """95% limits of S on R's ``conf_type`` scale (R survfit_confint); 1 where S == 1, NaN where S == 0.

    ``gw`` is Greenwood's sum, the variance of log S (R's ``std.err`` squared).
    log-log: S ** exp(±z·sqrt(gw)/|log S|); log: S·exp(±z·sqrt(gw)), upper at
    most 1; plain: S ± z·S·sqrt(gw) within [0, 1].
    """
    check_conf_type(conf_type)
    lower, upper = np.full(s.shape, np.nan), np.full(s.shape, np.nan)
    one, mid = s >= 1.0, (s > 0) & (s < 1.0)
    lower[one] = upper[one] = 1.0
    sm, se = s[mid], np.sqrt(gw[mid])
    if conf_type == "log-log":
        log_s = np.log(sm)
        w = Z95 * se / np.abs(log_s)
        lower[mid] = np.exp(log_s * np.exp(w))   # S ** exp(+w)
        upper[mid] = np.exp(log_s * np.exp(-w))  # S ** exp(-w)
    elif conf_type == "log":
        lower[mid] = sm * np.exp(-Z95 * se)
        upper[mid] = np.minimum(sm * np.exp(Z95 * se), 1.0)
    else:
        lower[mid] = np.maximum(sm - Z95 * sm * se, 0.0)
        upper[mid] = np.minimum(sm + Z95 * sm * se, 1.0)
    return lower, upper


def ci_curve(time, event, conf_type: str = "log-log") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pointwise 95% limits of S after each distinct time (the band a figure draws): times, lower, upper."""
    return ci_band(km_table(time, event), conf_type)


def ci_band(tab: KMTable, conf_type: str = "log-log") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ci_curve of a life table already made (km_table, life_table): times, lower, upper."""
    lower, upper = _curve_ci(tab.survival, _greenwood(tab), conf_type)
    return tab.times, lower, upper


# --- mean --------------------------------------------------------------------

def km_mean(time, event, tau=None) -> KMMean:
    """Restricted mean survival time on [0, tau] and its SE, as R survmean/SPSS.

    tau defaults to the largest observed time (event or censored), as SPSS and
    R ``rmean="common"`` do.  A tau beyond the data extends the last step, as R
    does.  Variance = sum over event times t_j <= tau of A_j^2 d_j/(n_j(n_j-d_j)),
    A_j = area under the curve from t_j to tau, terms with n_j == d_j dropped;
    no n/(n-1) factor.  Source: therneau/survival R/print.survfit.R, survmean()
    -> pfun(): ``hh <- ifelse((n.risk-n.event)==0, 0, n.event/(n.risk*(n.risk
    -n.event)))`` and ``varmean <- sum(cumsum(rev(rectangles[-1]))^2 *
    rev(hh)[-1])``.
    """
    tab = km_table(time, event)
    tau = float(tab.times[-1]) if tau is None else _point(tau, "tau")
    if tau <= 0:
        raise AnalysisError("survival: tau must be > 0")
    keep = tab.times <= tau
    edges = np.concatenate(([0.0], tab.times[keep], [tau]))
    heights = np.concatenate(([1.0], tab.survival[keep]))
    rect = np.diff(edges) * heights  # rect[k] = area on [edges[k], edges[k+1]]
    mean = float(rect.sum())
    tail = np.cumsum(rect[::-1])[::-1][1:]  # tail[j] = area from times[j] to tau
    n, d = tab.n_risk[keep].astype(float), tab.n_event[keep].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where((d > 0) & (n > d), d / (n * (n - d)), 0.0)
    se = float(np.sqrt(np.sum(tail ** 2 * hh)))
    return KMMean(mean, se, tau, mean - Z95 * se, mean + Z95 * se)


# --- median ------------------------------------------------------------------

def _crossing(x: np.ndarray, s: np.ndarray, xmax: float) -> float | None:
    """First time the curve s(x) falls to 0.5, exactly as R's findq() (therneau/survival R/quantile.survfit.R).

    Written by hand because no library follows R here. findq works on
    y = 1 - s with (0, 0) in front: it drops repeated y values (keeping the
    first), then finds p = 0.5 with ``approx(y ± tol, 1:n, p, "constant", f=1)``,
    which sorts the points by y. For a falling curve that is the first drop to
    0.5 or below; if s equals 0.5 on a flat, the midpoint of the flat (or of
    the flat and the largest time when it runs to the end). A CI curve that
    rises again (R's "log" upper limit) is searched in y order as R does.
    NaN points (undefined CI) are skipped, as approx skips them.
    """
    xs = np.concatenate(([0.0], np.asarray(x, dtype=float)))
    ys = np.concatenate(([0.0], 1.0 - np.asarray(s, dtype=float)))
    if np.all(np.isnan(ys)) or np.nanmax(ys) < 0.5:
        return None
    keep = np.ones(ys.size, dtype=bool)  # R duplicated(): a repeat of an earlier y (NaN repeats NaN) is dropped
    seen: set = set()
    for i, v in enumerate(ys):
        k = "nan" if np.isnan(v) else v
        keep[i] = k not in seen
        seen.add(k)
    xs, ys = xs[keep], ys[keep]
    i1, i2 = _approx_right(ys + TOL, 0.5), _approx_right(ys - TOL, 0.5)
    if i1 is not None and not np.isnan(ys[-1]) and abs(0.5 - ys[-1]) < TOL:
        return (float(xs[i1]) + xmax) / 2.0
    if i1 is None or i2 is None:
        return None
    return (float(xs[i1]) + float(xs[i2])) / 2.0


def _approx_right(v: np.ndarray, p: float) -> int | None:
    """R ``approx(v, seq_along(v), p, method="constant", f=1)$y - 1`` for distinct v: the index at the
    right end of the interval of sorted v holding p (the point itself on an exact match); None outside."""
    ok = np.nonzero(~np.isnan(v))[0]
    order = ok[np.argsort(v[ok], kind="stable")]
    sv = v[order]
    if sv.size == 0 or p < sv[0] or p > sv[-1]:
        return None
    j = int(np.searchsorted(sv, p, side="left"))  # first sorted v >= p
    return int(order[j])


def _median(tab: KMTable, conf_type: str = "log-log") -> KMMedian:
    """Median and Brookmeyer-Crowley CI from a life table."""
    lo_curve, hi_curve = _curve_ci(tab.survival, _greenwood(tab), conf_type)
    xmax = float(tab.times[-1])
    med = _crossing(tab.times, tab.survival, xmax)
    return KMMedian(med, _crossing(tab.times, lo_curve, xmax), _crossing(tab.times, hi_curve, xmax),
                    med is not None)


def km_median(time, event, conf_type: str = "log-log") -> KMMedian:
    """Median survival with 95% CI by Brookmeyer-Crowley (the limits of the ``conf_type`` CI curves).

    The median is where S first falls to 0.5 or below; if S is exactly 0.5 on
    a flat, the midpoint of the flat (R quantile.survfit, which for complete
    data gives the ordinary sample median).  A flat at 0.5 that runs to the
    end ends at the largest observed time.  Limits are the same rule applied
    to the lower and upper CI curves; None where a curve never gets there.
    """
    return _median(km_table(time, event), conf_type)


def reverse_km_median_followup(time, event, conf_type: str = "log-log") -> KMMedian:
    """Median follow-up by reverse Kaplan-Meier (Schemper & Smith 1996).

    Censoring becomes the event and deaths are censored.  Ties keep the usual
    KM order applied to the swapped indicator: a death at t counts as censored
    *at* t, so it is still in the risk set of the censorings at t.
    """
    t, e = _arrays(time, event)
    return km_median(t, 1 - e, conf_type)


# --- survival at a time ------------------------------------------------------

def survival_at(time, event, t, conf_type: str = "log-log") -> SurvivalAt:
    """S(t) with a Greenwood 95% CI on the ``conf_type`` scale and the number at risk at t.

    Not estimable (None) beyond the largest observed time.  When S(t) == 1 the
    limits are 1; when S(t) == 0 they are None (R gives NA: the
    transforms and Greenwood variance are undefined there).
    """
    check_conf_type(conf_type)
    tab = km_table(time, event)
    at = _point(t, "t")
    n_risk = int(numbers_at_risk(time, event, [at])[0])
    if at > tab.times[-1]:
        return SurvivalAt(at, None, None, None, n_risk, False)
    k = int(np.searchsorted(tab.times, at, side="right"))  # rows with time <= at
    if k == 0:
        return SurvivalAt(at, 1.0, 1.0, 1.0, n_risk, True)
    s = float(tab.survival[k - 1])
    lo, hi = _curve_ci(np.array([s]), _greenwood(tab)[k - 1: k], conf_type)
    lower = None if np.isnan(lo[0]) else float(lo[0])
    upper = None if np.isnan(hi[0]) else float(hi[0])
    return SurvivalAt(at, s, lower, upper, n_risk, True)


def numbers_at_risk(time, event, grid) -> np.ndarray:
    """Number at risk (time >= g) at each grid time, for tables under KM figures.

    Read from the curve's life table (km_table, made once a curve): the n at risk at the first distinct time
    >= g, none past the last; no sort of the times per call."""
    tab = km_table(time, event)
    g = np.asarray(grid, dtype=float).ravel()
    if not np.all(np.isfinite(g)):
        raise AnalysisError("survival: grid times must be finite")
    at_or_after = np.append(tab.n_risk, 0)  # past the last time: none
    return at_or_after[np.searchsorted(tab.times, g, side="left")]
