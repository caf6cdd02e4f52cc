"""The k-group log-rank test equal to R's ``survdiff(Surv(time, event) ~ group)`` (rho = 0).

Hand-written (numpy) after survival's src/survdiff2.c and R/survdiff.R, because
R's rules are specific: groups whose expected count is 0 are left out, the
chi-square is (O - E)' V^-1 (O - E) over the remaining groups but the first,
and times are first merged as ``aeqSurv`` does.  (lifelines'
``multivariate_logrank_test`` gives the same statistic and is the
independent check in the tests.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

from papergen.models._inputs import as_float, check_aligned, check_binary, check_rows, floats
from papergen.models.cox import aeq_times
from papergen.models.errors import EmptyGroupError, InvalidInputError, NoEventsError, TooFewGroupsError

__all__ = ["LogrankResult", "logrank"]


@dataclass(frozen=True)
class LogrankResult:
    """Observed and expected events per group (in ``groups`` order), chi-square, df and P."""

    groups: tuple
    n: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    chisq: float
    df: int
    p: float

    @property
    def statistic(self) -> float:
        return self.chisq


def _group_codes(model: str, labels: np.ndarray, groups) -> tuple[tuple, np.ndarray]:
    """Labels in the order asked for (default: sorted) and each row's index into them."""
    labels = pd.Series(labels)
    present = list(pd.unique(labels))
    if groups is None:
        try:
            order = tuple(sorted(present))
        except TypeError:
            raise InvalidInputError(model, "group", "group labels of mixed types cannot be sorted; "
                                                    "pass groups= in the order wanted") from None
    else:
        order = tuple(groups)
        if len(set(order)) != len(order):
            raise InvalidInputError(model, "groups", "groups lists a label twice")
        unknown = [g for g in present if g not in order]
        if unknown:
            rows = int(labels.isin(unknown).sum())
            raise InvalidInputError(model, "group", f"{rows} rows have a group not in groups "
                                                    f"({', '.join(map(repr, unknown[:3]))})")
        empty = [g for g in order if g not in present]
        if empty:
            raise EmptyGroupError(model, str(empty[0]), f"group {empty[0]!r} has no observations")
    if len(order) < 2:
        raise TooFewGroupsError(model, "group", f"needs at least 2 groups, found {len(order)} "
                                                f"({', '.join(map(repr, order))})")
    codes = pd.Categorical(labels, categories=list(order)).codes
    return order, codes.astype(int)


def logrank(time, event, group, groups=None) -> LogrankResult:
    """Log-rank test of k groups as R's survdiff; ``groups`` fixes their order (default: sorted labels).

    A group with no events still counts (its expected number is > 0), as in R;
    no events at all, a missing group label, or a listed group without rows raise.
    """
    model = "logrank"
    check_aligned(model, time=time, event=event, group=group)
    t = as_float(time, model, "time")
    e = as_float(event, model, "event")
    labels = group.to_numpy(dtype=object) if isinstance(group, pd.Series) else np.asarray(group, dtype=object)
    if labels.ndim != 1:
        raise InvalidInputError(model, "group", f"group must be one-dimensional (got shape {labels.shape})")
    check_rows(model, {"time": t, "event": e, "group": np.where(pd.isna(labels), np.nan, 0.0)})
    check_binary(model, "event", e)
    if (t < 0).any():
        raise InvalidInputError(model, "time", f"time must be >= 0 (smallest is {t.min():g})")
    order, code = _group_codes(model, labels, groups)
    if e.sum() == 0:
        raise NoEventsError(model, "event", "there are no events in any group; the log-rank test is undefined")
    k = len(order)
    t = aeq_times(t)
    times, tidx = np.unique(t, return_inverse=True)
    ntimes = times.size
    # per distinct time and group: subjects with that time, and deaths among them
    at = np.zeros((ntimes, k))
    dead = np.zeros((ntimes, k))
    np.add.at(at, (tidx, code), 1.0)
    np.add.at(dead, (tidx, code), e)
    risk = at[::-1].cumsum(axis=0)[::-1]          # at risk at each time, per group
    n_risk = risk.sum(axis=1)
    d = dead.sum(axis=1)
    use = d > 0
    risk, n_risk, d = risk[use], n_risk[use], d[use]
    observed = dead.sum(axis=0)
    expected = (d[:, None] * risk / n_risk[:, None]).sum(axis=0)
    # hypergeometric variance per event time: d (N - d) / (N - 1) * (diag(s) - s s'), s = shares at risk
    several = n_risk > 1
    share = risk[several] / n_risk[several, None]
    c = d[several] * (n_risk[several] - d[several]) / (n_risk[several] - 1)
    var = np.diag(c @ share) - (share * c[:, None]).T @ share
    keep = np.flatnonzero(expected > 0)
    df = keep.size - 1
    if df < 1:
        raise NoEventsError(model, "group", "fewer than 2 groups have subjects at risk at an event time")
    diff = (observed - expected)[keep][1:]
    chisq = float(diff @ np.linalg.solve(var[np.ix_(keep, keep)][1:, 1:], diff))
    return LogrankResult(groups=tuple(g.item() if isinstance(g, np.generic) else g for g in order),
                         n=tuple(int(v) for v in at.sum(axis=0)), observed=floats(observed),
                         expected=floats(expected), chisq=chisq, df=int(df), p=float(chi2.sf(chisq, df)))
