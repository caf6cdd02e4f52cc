"""Statistics that return Values: descriptive summaries and survival estimates.

Each function takes Measures (a per-subject variable that knows its data file,
columns and rows), computes with numpy or papergen.survival, and returns a
Value holding the exact numbers, the printed text in journal style and the
code that made it. The analysis plan gives each Value its key and definition.
"""
from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from papergen import formatting as fmt
from papergen.analysis import survival as sv
from papergen.errors import AnalysisError
from papergen.values import Source, Value
from papergen.versions import package_version

ENGINE_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Measure:
    """One variable per subject (a pandas Series indexed by id) and where it came from."""

    series: "object"
    source: Source
    label: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(str(i) for i in self.series.index)

    def values(self) -> np.ndarray:
        return self.series.to_numpy()

    def where(self, mask, filter: str = "") -> "Measure":
        """The same variable for a subgroup only (``mask``: a boolean Series over the subjects).

        The subgroup's rows and the filter in words are recorded in the source,
        so a per-group value traces back to exactly the rows it used.
        """
        keep = mask.reindex(self.series.index, fill_value=False).astype(bool)
        sub = self.series[keep.to_numpy()]
        both = "; ".join(f for f in (self.source.filter, filter) if f)
        src = Source(file=self.source.file, columns=self.source.columns,
                     rows=tuple(str(i) for i in sub.index), filter=both,
                     values=self.source.values, derived=self.source.derived)  # as_dict keeps the subgroup's rows
        return Measure(series=sub, source=src, label=self.label)


@dataclass
class Survival:
    """Time to event in months with its event flag (1 = event, 0 = censored)."""

    time: Measure
    event: Measure

    def arrays(self):
        return self.time.values().astype(float), self.event.values().astype(int)

    @property
    def sources(self) -> list[Source]:
        return [self.time.source, self.event.source]

    def where(self, mask, filter: str = "") -> "Survival":
        """Time and event for a subgroup only (one curve of a stratified figure)."""
        return Survival(time=self.time.where(mask, filter), event=self.event.where(mask, filter))


@dataclass(frozen=True, eq=False)  # eq=False: a pandas mask has no single truth value
class Group:
    """A subgroup of subjects: a stable key for value names, a label for print, a row mask."""

    key: str
    label: str
    mask: "object"  # boolean pandas Series over the subjects of one table
    filter: str = ""


def version(package: str) -> str:
    """Installed version of a distribution, for the ledger and the methods section."""
    found = package_version(package)
    if found is None:
        raise metadata.PackageNotFoundError(package)
    return found


def method_of(fn, library: str | None) -> dict:
    """Where the code that computed a value lives, and the library that did the maths."""
    path = Path(inspect.getsourcefile(fn)).resolve()
    try:
        shown = path.relative_to(ENGINE_ROOT.parent.parent)
    except ValueError:
        shown = path
    out = {"module": fn.__module__, "function": f"{fn.__module__}.{fn.__qualname__}",
           "code": f"{shown.as_posix()}:{fn.__code__.co_firstlineno}"}
    if library:
        out["library"] = library
    return out


def _lib(name: str) -> str:
    return f"{name} {version(name)}"


def _numeric(m: Measure) -> np.ndarray:
    x = m.series.dropna().to_numpy(dtype=float)
    if x.size == 0:
        raise AnalysisError(f"{m.label or m.source.file}: no values to summarise")
    return x


def _value(fn, text, exact, sources, library="numpy", parts=None, unit=None, count=None, maths=None) -> Value:
    method = method_of(fn, _lib(library) if library else None)
    if maths is not None:  # the function that does the arithmetic, when fn only wraps it
        inner = method_of(maths, None)
        method["maths"] = f"{inner['function']} ({inner['code']})"
        if maths.__module__ == sv.__name__:  # our Kaplan-Meier arithmetic is tested against lifelines
            method["checked_against"] = f"lifelines {version('lifelines')} (tests/test_survival.py)"
    return Value(key="", text=text, exact=exact, unit=unit, inputs=list(sources),
                 method=method, parts=parts or {}, count=count)


# --- descriptive -----------------------------------------------------------

def count(m: Measure) -> Value:
    """Number of subjects for whom the measure is true (or present, for non-flags)."""
    s = m.series
    n = int(s.astype(bool).sum()) if s.dtype == bool else int(s.notna().sum())
    total = len(s)
    return _value(count, str(n), {"n": n, "of": total}, [m.source], library=None, count=n,
                  parts={"percent": fmt.fmt_percent(n, total) if total else "", "of": str(total),
                         "n_percent": fmt.fmt_count_percent(n, total) if total else str(n),
                         "n_equals": f"n = {n}"})


def category_count(m: Measure, category: str) -> Value:
    """Subjects whose value is ``category``, out of those with a value: "12 (4.8%)" as part n_percent.

    Missing values are left out of the denominator, as in a Table 1 column.
    """
    s = m.series.dropna()
    n, total = int((s.astype(str) == str(category)).sum()), int(s.size)
    if total == 0:
        raise AnalysisError(f"{m.label or m.source.file}: no values to count")
    return _value(category_count, str(n), {"n": n, "of": total, "category": str(category)}, [m.source],
                  library="pandas", count=n,
                  parts={"percent": fmt.fmt_percent(n, total), "of": str(total),
                         "n_percent": fmt.fmt_count_percent(n, total), "n_equals": f"n = {n}"})


def most_common(m: Measure) -> Value:
    """The most frequent category (ties broken by the codebook's order of values)."""
    s = m.series.dropna()
    if s.empty:
        raise AnalysisError(f"{m.label or m.source.file}: no values")
    counts = s.value_counts(sort=False)
    top = max(counts.index, key=lambda c: (counts[c], -list(counts.index).index(c)))
    n = int(counts[top])
    return _value(most_common, str(top), {"category": str(top), "n": n, "of": int(s.size)}, [m.source],
                  library="pandas", parts={"n_percent": fmt.fmt_count_percent(n, int(s.size))})


def parameter(value, text: str, source: Source) -> Value:
    """A fixed analysis parameter (a laboratory limit, a convention), printed as given."""
    return _value(parameter, text, {"value": value}, [source], library=None)


def mean_sd(m: Measure, places: int = 1, unit: str | None = None) -> Value:
    """Arithmetic mean ± sample standard deviation (n - 1 denominator)."""
    x = _numeric(m)
    mean, sd = float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else float("nan")
    return _value(mean_sd, fmt.fmt_mean_pm(mean, sd, places, unit), {"mean": mean, "sd": sd, "n": int(x.size)},
                  [m.source], unit=unit,
                  parts={"mean": fmt.fmt_number(mean, places), "sd": fmt.fmt_number(sd, places),
                         "table": fmt.fmt_mean_pm(mean, sd, places)})


def median_range(m: Measure, places: int = 0, unit: str | None = None) -> Value:
    """Median with minimum and maximum, "4 (range, 2 to 43)"."""
    x = _numeric(m)
    med, lo, hi = float(np.median(x)), float(x.min()), float(x.max())
    return _value(median_range, fmt.fmt_median_range(med, lo, hi, places, unit),
                  {"median": med, "min": lo, "max": hi, "n": int(x.size)}, [m.source], unit=unit,
                  parts={"median": fmt.fmt_number(med, places), "min": fmt.fmt_number(lo, places),
                         "max": fmt.fmt_number(hi, places),
                         "table": fmt.fmt_median_range(med, lo, hi, places, style="dash")})


def date_range(m: Measure) -> Value:
    """First and last date, as month and year: "June 2015 to January 2018"."""
    s = m.series.dropna()
    if s.empty:
        raise AnalysisError(f"{m.label or m.source.file}: no dates")
    first, last = s.min().date(), s.max().date()
    return _value(date_range, f"{fmt.fmt_month_year(first)} to {fmt.fmt_month_year(last)}",
                  {"first": first, "last": last}, [m.source], library="pandas",
                  parts={"first": fmt.fmt_month_year(first), "last": fmt.fmt_month_year(last)})


def listing(items: list[str], sources: list[Source]) -> Value:
    """Items from the data joined in journal style: "a, b, and c"."""
    return _value(listing, fmt.join_and(items), {"items": list(items)}, sources, library=None)


def date_value(d: dt.date, source: Source) -> Value:
    """A date read from the data or study settings, printed "October 31, 2020"."""
    return _value(date_value, fmt.fmt_date(d), {"date": d}, [source], library=None)


# --- survival --------------------------------------------------------------

def km_mean(s: Survival, places: int = 1, unit: str | None = None, tau: float | None = None) -> Value:
    """Kaplan-Meier mean ± its SE, as SPSS and R print: the area under the curve up to ``tau``.

    ``tau`` (same unit as the times) restricts the mean to [0, tau], the restricted
    mean survival time (RMST); by default it is the largest observed time.
    """
    t, e = s.arrays()
    r = sv.km_mean(t, e, tau=tau)
    text = fmt.fmt_mean_pm(r.mean, r.se, places, unit)
    return _value(km_mean, text, {"mean": r.mean, "se": r.se, "tau": r.tau, "lower": r.lower, "upper": r.upper},
                  s.sources, unit=unit, maths=sv.km_mean,
                  parts={"mean": fmt.fmt_number(r.mean, places), "se": fmt.fmt_number(r.se, places),
                         "tau": fmt.fmt_number(r.tau, places), "ci": fmt.fmt_ci(r.lower, r.upper, places)})


def km_median(s: Survival, places: int = 1, unit: str | None = None) -> Value:
    """Kaplan-Meier median with Brookmeyer-Crowley 95% CI, or "not reached"."""
    t, e = s.arrays()
    r = sv.km_median(t, e)
    parts = {"median": fmt.fmt_number(r.median, places) if r.reached else "not reached"}
    parts["ci"] = _ci_text(r.lower, r.upper, places)
    text = parts["median"] if not r.reached else f"{parts['median']}{' ' + unit if unit else ''} (95%CI: {parts['ci']})"
    return _value(km_median, text, {"median": r.median, "lower": r.lower, "upper": r.upper, "reached": r.reached},
                  s.sources, unit=unit, parts=parts, library="numpy", maths=sv.km_median)


def km_median_range(s: Survival, places: int = 0, unit: str | None = None) -> Value:
    """Kaplan-Meier median with the range of observed times, "8 (range, 2 to 51)"."""
    t, e = s.arrays()
    r = sv.km_median(t, e)
    if not r.reached:
        raise AnalysisError(f"{s.time.label}: the Kaplan-Meier curve never reaches 0.5, so there is no median to print")
    lo, hi = float(t.min()), float(t.max())
    return _value(km_median_range, fmt.fmt_median_range(r.median, lo, hi, places, unit),
                  {"median": r.median, "min": lo, "max": hi}, s.sources, unit=unit, library="numpy", maths=sv.km_median,
                  parts={"median": fmt.fmt_number(r.median, places), "min": fmt.fmt_number(lo, places),
                         "max": fmt.fmt_number(hi, places)})


def survival_at(s: Survival, at: float, places: int = 1) -> Value:
    """Kaplan-Meier survival at a time point with its log-log 95% CI, as a percentage."""
    t, e = s.arrays()
    r = sv.survival_at(t, e, at)
    if not r.estimable:
        when = f"{at / 12:g}-year" if at % 12 == 0 else f"{at:g}-month"
        return _value(survival_at, "not estimable", {"t": at, "estimable": False}, s.sources,
                      parts={"survival": "not estimable", "ci": "", "when": when}, library="numpy", maths=sv.survival_at)
    pct = lambda p: fmt.fmt_number(100 * p, places)  # noqa: E731
    degenerate = r.lower is None or r.upper is None or r.lower == r.upper  # S = 1 or 0: no interval
    ci = "not estimable" if degenerate else _ci_text(100 * r.lower, 100 * r.upper, places)
    text = f"{pct(r.survival)}% (95%CI: {ci})" if ci != "not estimable" else f"{pct(r.survival)}%"
    when = f"{at / 12:g}-year" if at % 12 == 0 else f"{at:g}-month"
    return _value(survival_at, text, {"t": at, "survival": r.survival, "lower": r.lower, "upper": r.upper,
                                       "n_risk": r.n_risk, "estimable": True},
                  s.sources, unit="%", library="numpy", maths=sv.survival_at, parts={"survival": f"{pct(r.survival)}%", "ci": ci, "when": when})


def followup_median(s: Survival, places: int = 1, unit: str | None = None) -> Value:
    """Median follow-up by the reverse Kaplan-Meier method (censoring as the event)."""
    t, e = s.arrays()
    r = sv.reverse_km_median_followup(t, e)
    parts = {"median": fmt.fmt_number(r.median, places) if r.reached else "not reached",
             "ci": _ci_text(r.lower, r.upper, places)}
    text = parts["median"] + (f" {unit}" if unit and r.reached else "")
    return _value(followup_median, text, {"median": r.median, "lower": r.lower, "upper": r.upper},
                  s.sources, unit=unit, parts=parts, library="numpy", maths=sv.reverse_km_median_followup)


def events(s: Survival) -> Value:
    """Number of events (deaths, progressions) among the subjects."""
    _, e = s.arrays()
    n = int(e.sum())
    return _value(events, str(n), {"n": n, "of": int(e.size)}, [s.event.source], library=None, count=n,
                  parts={"percent": fmt.fmt_percent(n, int(e.size)), "of": str(int(e.size)),
                         "n_percent": fmt.fmt_count_percent(n, int(e.size))})


def logrank(curves: list[tuple[str, Survival]]) -> Value:
    """Log-rank test that two or more survival curves are equal: "P = 0.003" (lifelines).

    ``curves`` is the list of (label, Survival) pairs that a stratified figure draws.
    """
    from lifelines.statistics import multivariate_logrank_test

    if len(curves) < 2:
        raise AnalysisError("logrank: needs at least two groups to compare")
    times, events, labels = [], [], []
    for label, surv in curves:
        t, e = surv.arrays()
        times.append(t)
        events.append(e)
        labels += [label] * t.size
    r = multivariate_logrank_test(np.concatenate(times), np.array(labels), np.concatenate(events))
    p, chi2, df = float(r.p_value), float(r.test_statistic), int(r.degrees_of_freedom)
    sources = [src for _, surv in curves for src in surv.sources]
    return _value(logrank, fmt.fmt_p(p), {"p": p, "chi2": chi2, "df": df}, sources, library="lifelines",
                  parts={"p": fmt.fmt_p(p), "chi2": fmt.fmt_number(chi2, 2), "df": str(df)})


def _ci_text(lo, hi, places) -> str:
    if lo is None or hi is None or not np.isfinite(lo) or not np.isfinite(hi):
        if lo is not None and np.isfinite(lo):
            return f"{fmt.fmt_number(lo, places)} to not reached"
        return "not estimable"
    return fmt.fmt_ci(lo, hi, places)
