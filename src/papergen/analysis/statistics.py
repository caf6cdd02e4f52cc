"""Statistics that return Values: descriptive summaries and survival estimates.

Each function takes Measures (a per-subject variable that knows its data file,
columns and rows), computes with numpy or papergen.survival, and returns a
Value holding the exact numbers, the printed text in journal style and the
code that made it. The analysis plan gives each Value its key and definition.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from papergen import formatting as fmt
from papergen.analysis import survival as sv
from papergen.errors import AnalysisError
from papergen.values import Source, Value, row_ids
from papergen.versions import package_version

ENGINE_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Measure:
    """One variable per subject (a pandas Series indexed by id) and where it came from."""

    series: "object"
    source: Source
    label: str = ""
    #: the codebook type of the column ("flag", "category", "integer", ...), None for a derived variable
    kind: str | None = None
    #: the codebook's allowed values of a category or flag column, in its order
    levels: tuple = ()

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
        keep = mask.reindex(self.series.index, fill_value=False).astype(bool).to_numpy()
        sub = self.series[keep]
        both = "; ".join(f for f in (self.source.filter, filter) if f)
        src = Source(file=self.source.file, columns=self.source.columns,
                     rows=_subset_rows(self.series.index, keep, sub.index), filter=both,
                     values=self.source.values, derived=self.source.derived)  # as_dict keeps the subgroup's rows
        return Measure(series=sub, source=src, label=self.label, kind=self.kind, levels=self.levels)

    @property
    def name(self) -> str:
        """How messages name the measure: its label and the file's columns."""
        cols = ", ".join(self.source.columns)
        where = f"{self.source.file}: {cols}" if cols else self.source.file
        return f"{self.label} ({where})" if self.label and self.label != cols else where

    @property
    def is_flag(self) -> bool:
        """True for a 0/1 flag of the codebook or a boolean variable (True/False)."""
        return self.kind == "flag" or _is_bool(self.series)


_SUBSETS: list[tuple] = []  # (index, mask hash, row ids) of the last subgroups made by Measure.where


def _subset_rows(index, keep: np.ndarray, sub_index):
    """values.row_ids of a subgroup, made once per index and mask: a Table 1 takes each group of one table
    for every row (the same ids each time). A pandas Index is immutable, so the same object and mask
    mean the same ids."""
    key = hashlib.sha1(keep.view(np.uint8), usedforsecurity=False).digest()
    for known, hashed, rows in _SUBSETS:
        if known is index and hashed == key:
            return rows
    rows = row_ids(sub_index)
    _SUBSETS.insert(0, (index, key, rows))
    del _SUBSETS[16:]
    return rows


def _is_bool(series) -> bool:
    import pandas as pd

    return pd.api.types.is_bool_dtype(series.dtype)


@dataclass
class Survival:
    """Time to event in months with its event flag (1 = event, 0 = censored).

    ``conf_type`` is the scale of every Kaplan-Meier CI computed from it (R
    survfit's conf.type: "log-log", "log" or "plain"), declared once for the
    analysis with ``a.km_ci_transform(...)`` so the methods text prints the same one.
    """

    time: Measure
    event: Measure
    conf_type: str = "log-log"

    def arrays(self):
        """Times and 0/1 events, checked: a missing time or event, an event other than 0/1, no subjects -> one line."""
        for m, what in ((self.time, "time"), (self.event, "event")):
            missing = int(m.series.isna().sum())
            if missing:
                raise AnalysisError(f"{m.name}: {missing} of {len(m.series)} subjects have no {what}; "
                                    f"survival needs a {what} for every subject (filter them out with where())")
        if len(self.time.series) == 0:
            raise AnalysisError(f"{self.time.name}: no subjects (the filter "
                                f"{self.time.source.filter or '(none)'!r} selects nobody)")
        if self.event.kind == "category":
            raise AnalysisError(f"{self.event.name}: a category column is not an event flag; declare a 0/1 flag "
                                "(1 = event, 0 = censored), or pass (column == value)")
        try:
            t = self.time.values().astype(float)
            e_raw = self.event.values().astype(float)
        except (TypeError, ValueError):
            raise AnalysisError(f"{self.time.name} / {self.event.name}: time and event must be numbers") from None
        bad = e_raw[(e_raw != 0) & (e_raw != 1)]
        if bad.size:
            raise AnalysisError(f"{self.event.name}: event must be 1 (event) or 0 (censored), found {bad[0]:g}"
                                " (R's 1 = censored / 2 = event coding? recode it as a 0/1 flag)")
        return t, e_raw.astype(int)

    @property
    def sources(self) -> list[Source]:
        return [self.time.source, self.event.source]

    def where(self, mask, filter: str = "") -> "Survival":
        """Time and event for a subgroup only (one curve of a stratified figure)."""
        return Survival(time=self.time.where(mask, filter), event=self.event.where(mask, filter),
                        conf_type=self.conf_type)


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


def _numeric(m: Measure, what: str) -> np.ndarray:
    """The non-missing values of a continuous measure; flags, categories, dates and no values fail in one line."""
    _not_empty(m)
    if m.is_flag:
        raise AnalysisError(f"{what}() of {m.name}: a 0/1 flag has no {what.replace('_', ' ')}; "
                            "call st.count(...) for the number with the flag (n (%))")
    if m.kind == "category":
        raise AnalysisError(f"{what}() of {m.name}: a category (even one coded as numbers) has no "
                            f"{what.replace('_', ' ')}; call st.category_count(measure, value) for each value")
    try:
        if isinstance(m.series.dtype, np.dtype) and m.series.dtype.kind in "biuf":  # numpy numbers: no Series copy
            x = _present(m.series).astype(float)
        else:
            x = m.series.dropna().to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise AnalysisError(f"{what}() of {m.name}: values are not numbers "
                            f"(dtype {m.series.dtype}); dates need st.date_range") from None
    if x.size == 0:
        raise AnalysisError(f"{what}() of {m.name}: every one of the {len(m.series)} subjects has a missing value")
    return x


def _not_empty(m: Measure) -> None:
    """A measure filtered to nobody has no statistic: say which filter did it."""
    if len(m.series) == 0:
        shown = f" (the filter {m.source.filter!r} selects nobody)" if m.source.filter else ""
        raise AnalysisError(f"{m.name}: no subjects{shown}")


def _missing(m: Measure) -> int:
    return int(m.series.isna().sum())


def _with_missing(exact: dict, missing: int) -> dict:
    """``exact`` with the number of subjects left out for a missing value, when there are any."""
    return {**exact, "missing": missing} if missing else exact


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
    """Number of subjects for whom the measure is true: a flag's 1s, a boolean's Trues, or a value present.

    For a flag the percentage is of the subjects with a value (missing flags
    are left out of the denominator and counted in ``exact["missing"]``). A
    category column, or a derived 0/1 number the codebook does not call a flag,
    fails: counting its values present would count every subject.
    """
    _not_empty(m)
    s = m.series
    if m.kind == "category":
        raise AnalysisError(f"count() of {m.name}: a category column counts every subject with a value; call "
                            "st.category_count(measure, value) for one category, or st.count(measure == value)")
    if m.is_flag and s.dtype == bool:  # numpy booleans: none missing, the Trues counted (as below, without copies)
        n, total, missing = int(np.count_nonzero(s.to_numpy())), len(s), 0
    elif m.is_flag:
        known = s.dropna()
        missing = len(s) - len(known)
        if m.kind == "flag":
            bad = known[~known.isin([0, 1])]
            if len(bad):
                raise AnalysisError(f"count() of {m.name}: a flag must be 0 or 1, found {bad.iloc[0]}")
        n, total = int((known == 1).sum()), int(known.size)
    else:
        if s.dtype.kind in "iuf" and s.notna().any() and bool(s.dropna().isin([0, 1]).all()):
            raise AnalysisError(f"count() of {m.name}: the values are only 0 and 1, so counting the values present "
                                "would count every subject; declare the column `type: flag` in the codebook, or "
                                "pass a boolean (measure == 1)")
        n, total, missing = int(s.notna().sum()), len(s), 0
    if total == 0:
        raise AnalysisError(f"count() of {m.name}: every one of the {len(s)} subjects has a missing value")
    return _value(count, fmt.fmt_number(n), _with_missing({"n": n, "of": total}, missing), [m.source], library=None,
                  count=n, parts=_count_parts(n, total))


def count_present(m: Measure) -> Value:
    """Number of subjects with any value (not missing), whatever the value: "7 of 11 have a death date"."""
    _not_empty(m)
    n, total = int(m.series.notna().sum()), len(m.series)
    return _value(count_present, fmt.fmt_number(n), {"n": n, "of": total}, [m.source], library=None, count=n,
                  parts=_count_parts(n, total))


def _count_parts(n: int, total: int) -> dict:
    """The printed forms of a count out of a total: percent, of, n (%), n = ."""
    return {"percent": fmt.fmt_percent(n, total), "of": fmt.fmt_number(total),
            "n_percent": fmt.fmt_count_percent(n, total), "n_equals": f"n = {fmt.fmt_number(n)}"}


def category_count(m: Measure, category) -> Value:
    """Subjects whose value is ``category``, out of those with a value: "12 (4.8%)" as part n_percent.

    Missing values are left out of the denominator, as in a Table 1 column (and
    counted in ``exact["missing"]``). Numbers compare as numbers (a category
    coded 1/2 read with gaps is 1.0/2.0); a value the codebook does not allow fails.
    """
    _not_empty(m)
    s = _present(m.series)
    if m.levels and str(category) not in {str(v) for v in m.levels}:
        raise AnalysisError(f"category_count() of {m.name}: {category!r} is not one of its values "
                            f"({', '.join(map(str, m.levels))})")
    n, total = int(equals(s, category).sum()), int(s.size)
    if total == 0:
        raise AnalysisError(f"category_count() of {m.name}: every one of the {len(m.series)} subjects "
                            "has a missing value")
    return _value(category_count, fmt.fmt_number(n),
                  _with_missing({"n": n, "of": total, "category": str(category)}, len(m.series) - total),
                  [m.source], library="pandas", count=n, parts=_count_parts(n, total))


def equals(s, category):
    """Rows equal to ``category`` (a codebook value is a text; the column may hold numbers): as numbers when the column holds numbers, else as texts."""
    if s.dtype.kind in "iuf":
        try:
            return s == float(category)
        except (TypeError, ValueError):
            raise AnalysisError(f"category_count(): {category!r} is not a number, but the column holds numbers") from None
    if _all_texts(s):  # str() of a text is the text: the same comparison without a copy of each
        return s == str(category)
    if isinstance(s, np.ndarray):  # pandas' str() of each value, not numpy's fixed-width texts
        import pandas as pd

        return pd.Series(s, dtype=s.dtype).astype(str).to_numpy() == str(category)
    return s.astype(str) == str(category)


def _all_texts(s) -> bool:
    """True when every value of an object Series (or array) is a str (pandas' C loop looks at each once)."""
    import pandas as pd

    values = s if isinstance(s, np.ndarray) else s.to_numpy()
    return values.dtype == object and len(values) > 0 and pd.api.types.infer_dtype(values, skipna=False) == "string"


def _present(series):
    """The values present (what ``series.dropna()`` keeps), as a numpy array when the dtype is numpy's own.

    A Table 1 counts each level in each group: a Series each time would cost a copy of its index and a
    lookup table pandas builds over it (numpy probing the Series' attributes); the array costs neither.
    Extension dtypes (nullable integers) stay a Series, compared as pandas compares them.
    """
    import pandas as pd

    if not isinstance(series.dtype, np.dtype):
        return series.dropna()
    values = series.to_numpy()
    return values[~pd.isna(values)]


def most_common(m: Measure) -> Value:
    """The most frequent category (ties broken by the codebook's order of values, else by first seen)."""
    _not_empty(m)
    if m.is_flag:
        raise AnalysisError(f"most_common() of {m.name}: a 0/1 flag has no most common category; call st.count(...)")
    s = m.series.dropna()
    if s.empty:
        raise AnalysisError(f"most_common() of {m.name}: every subject has a missing value")
    counts = s.value_counts(sort=False)
    order = [c for c in m.levels if c in counts.index] + [c for c in counts.index if c not in set(m.levels)]
    top = max(order, key=lambda c: (counts[c], -order.index(c)))
    n = int(counts[top])
    return _value(most_common, str(top), {"category": str(top), "n": n, "of": int(s.size)}, [m.source],
                  library="pandas", parts={"n_percent": fmt.fmt_count_percent(n, int(s.size))})


def parameter(value, text: str, source: Source) -> Value:
    """A fixed analysis parameter (a laboratory limit, a convention), printed as given but for the
    house style's decimal mark ("30.4375" is "30·4375" in The Lancet)."""
    return _value(parameter, fmt.restyle_decimals(text), {"value": value}, [source], library=None)


def mean_sd(m: Measure, places: int = 1, unit: str | None = None) -> Value:
    """Arithmetic mean ± sample standard deviation (n - 1 denominator), of the subjects with a value."""
    x = _numeric(m, "mean_sd")
    if x.size < 2:
        raise AnalysisError(f"mean_sd() of {m.name}: one value has no standard deviation (n - 1 = 0)")
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    text = fmt.fmt_mean_pm(mean, sd, places, unit)
    return _value(mean_sd, text,
                  _with_missing({"mean": mean, "sd": sd, "n": int(x.size)}, _missing(m)),
                  [m.source], unit=unit,
                  parts={"mean": fmt.fmt_number(mean, places), "sd": fmt.fmt_number(sd, places),
                         "table": fmt.fmt_mean_pm(mean, sd, places), "defined": _defined(text, "sd")})


def mean_label(spread_is: str = "sd") -> str:
    """The words a table row gives a mean's summary in the house style: "mean ± SD" or "mean (SD)"."""
    return fmt.mean_label(spread_is)


def _defined(text: str, spread_is: str, then: str = "") -> str:
    """A mean ± spread with what ± means beside it when the house style prints ± ("... (mean ± SD)"),
    and ``then`` (its CI) in the same parentheses: "... (mean ± SE; 95%CI: 26.9–41.4)"."""
    inside = "; ".join(x for x in (fmt.spread_words(spread_is), then) if x)
    return f"{text} ({inside})" if inside else text


def median_range(m: Measure, places: int = 0, unit: str | None = None) -> Value:
    """Median with minimum and maximum, "4 (range, 2 to 43)", of the subjects with a value."""
    x = _numeric(m, "median_range")
    med, lo, hi = float(np.median(x)), float(x.min()), float(x.max())
    return _value(median_range, fmt.fmt_median_range(med, lo, hi, places, unit),
                  _with_missing({"median": med, "min": lo, "max": hi, "n": int(x.size)}, _missing(m)), [m.source], unit=unit,
                  parts={"median": fmt.fmt_number(med, places), "min": fmt.fmt_number(lo, places),
                         "max": fmt.fmt_number(hi, places),
                         "table": fmt.fmt_median_range(med, lo, hi, places, style="dash")})


def median_iqr(m: Measure, places: int = 0, unit: str | None = None) -> Value:
    """Median with its interquartile range, "34 (IQR, 28 to 45)"; quartiles as R's quantile() type 7.

    numpy's default (linear) percentile is R's type 7, the default of R's
    quantile() and of gtsummary's median (IQR).
    """
    x = _numeric(m, "median_iqr")
    med = float(np.median(x))
    q1, q3 = (float(q) for q in np.percentile(x, [25, 75]))
    return _value(median_iqr, fmt.fmt_median_range(med, q1, q3, places, unit, style="iqr"),
                  _with_missing({"median": med, "q1": q1, "q3": q3, "n": int(x.size)}, _missing(m)), [m.source],
                  unit=unit, parts={"median": fmt.fmt_number(med, places), "q1": fmt.fmt_number(q1, places),
                                    "q3": fmt.fmt_number(q3, places),
                                    "table": fmt.fmt_median_range(med, q1, q3, places, style="dash")})


def date_range(m: Measure) -> Value:
    """First and last date, as month and year: "June 2015 to January 2018"."""
    import pandas as pd

    _not_empty(m)
    s = _present(m.series)
    if not len(s):
        raise AnalysisError(f"date_range() of {m.name}: every subject has a missing date")
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        raise AnalysisError(f"date_range() of {m.name}: values are not dates (dtype {s.dtype}); "
                            "declare the column `type: date` in the codebook")
    first, last = pd.Timestamp(s.min()).date(), pd.Timestamp(s.max()).date()
    return _value(date_range, f"{fmt.fmt_month_year(first)} to {fmt.fmt_month_year(last)}",
                  {"first": first, "last": last}, [m.source], library="pandas",
                  parts={"first": fmt.fmt_month_year(first), "last": fmt.fmt_month_year(last)})


def listing(items: list[str], sources: list[Source], empty: str | None = None) -> Value:
    """Items from the data joined in journal style: "a, b, and c"; ``empty`` is printed when there are none.

    Without ``empty`` an empty list is an error: what a sentence should say when nothing is listed
    ("none", "no complication") is the author's choice, not the engine's.
    """
    items = list(items)
    if not items:
        if empty is None:
            raise AnalysisError("listing() got no items (the data hold none); pass empty=\"...\", the text printed "
                                "when nothing is listed, or leave the value out when the list is empty")
        return _value(listing, str(empty), {"items": []}, sources, library=None)
    return _value(listing, fmt.join_and(items), {"items": items}, sources, library=None)


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
    text = fmt.fmt_mean_pm(r.mean, r.se, places, unit, spread_is="se")
    return _value(km_mean, text, {"mean": r.mean, "se": r.se, "tau": r.tau, "lower": r.lower, "upper": r.upper},
                  s.sources, unit=unit, maths=sv.km_mean,
                  parts={"mean": fmt.fmt_number(r.mean, places), "se": fmt.fmt_number(r.se, places),
                         "tau": fmt.fmt_number(r.tau, places), "ci": fmt.fmt_ci(r.lower, r.upper, places),
                         "ci_full": fmt.fmt_ci_text(r.lower, r.upper, places), "defined": _defined(text, "se"),
                         "defined_ci": _defined(text, "se", fmt.fmt_ci_text(r.lower, r.upper, places))})


def km_median(s: Survival, places: int = 1, unit: str | None = None) -> Value:
    """Kaplan-Meier median with Brookmeyer-Crowley 95% CI: "34.5 months (95%CI: 16.8–44.9)".

    A median not reached keeps the limit that is: "not reached (95%CI: 89.5–not reached)".
    """
    t, e = s.arrays()
    r = sv.km_median(t, e, s.conf_type)
    parts = {"median": fmt.fmt_number(r.median, places) if r.reached else "not reached",
             "ci": _ci_text(r.lower, r.upper, places)}
    head = fmt.with_unit(parts["median"], unit if r.reached else None)
    parts["ci_full"] = parts["ci"] if parts["ci"] == "not estimable" else fmt.ci_label(parts["ci"])
    text = head if parts["ci"] == "not estimable" else f"{head} ({parts['ci_full']})"
    return _value(km_median, text, {"median": r.median, "lower": r.lower, "upper": r.upper, "reached": r.reached,
                                    "conf_type": s.conf_type},
                  s.sources, unit=unit, parts=parts, library="numpy", maths=sv.km_median)


def km_median_range(s: Survival, places: int = 0, unit: str | None = None) -> Value:
    """Kaplan-Meier median with the range of observed times, "8 (range, 2 to 51)"."""
    t, e = s.arrays()
    r = sv.km_median(t, e, s.conf_type)
    if not r.reached:
        raise AnalysisError(f"{s.time.label}: the Kaplan-Meier curve never reaches 0.5, so there is no median to print")
    lo, hi = float(t.min()), float(t.max())
    return _value(km_median_range, fmt.fmt_median_range(r.median, lo, hi, places, unit),
                  {"median": r.median, "min": lo, "max": hi}, s.sources, unit=unit, library="numpy", maths=sv.km_median,
                  parts={"median": fmt.fmt_number(r.median, places), "min": fmt.fmt_number(lo, places),
                         "max": fmt.fmt_number(hi, places)})


def survival_at(s: Survival, at: float, places: int = 1) -> Value:
    """Kaplan-Meier survival at a time point with its 95% CI (on the survival's conf_type scale), as a percentage."""
    t, e = s.arrays()
    r = sv.survival_at(t, e, at, s.conf_type)
    if not r.estimable:
        when = f"{at / 12:g}-year" if at % 12 == 0 else f"{at:g}-month"
        return _value(survival_at, "not estimable", {"t": at, "estimable": False}, s.sources,
                      parts={"survival": "not estimable", "ci": "", "when": when}, library="numpy", maths=sv.survival_at)
    pct = fmt.percent_text(fmt.fmt_number(100 * r.survival, places))
    degenerate = r.lower is None or r.upper is None or r.lower == r.upper  # S = 1 or 0: no interval
    ci = "not estimable" if degenerate else _ci_text(100 * r.lower, 100 * r.upper, places)
    text = f"{pct} ({fmt.ci_label(ci)})" if ci != "not estimable" else pct
    when = f"{at / 12:g}-year" if at % 12 == 0 else f"{at:g}-month"
    return _value(survival_at, text, {"t": at, "survival": r.survival, "lower": r.lower, "upper": r.upper,
                                       "n_risk": r.n_risk, "estimable": True, "conf_type": s.conf_type},
                  s.sources, unit="%", library="numpy", maths=sv.survival_at, parts={"survival": pct, "ci": ci, "when": when,
                                                                     "ci_full": ci if degenerate else fmt.ci_label(ci)})


def followup_median(s: Survival, places: int = 1, unit: str | None = None) -> Value:
    """Median follow-up by the reverse Kaplan-Meier method (censoring as the event)."""
    t, e = s.arrays()
    r = sv.reverse_km_median_followup(t, e, s.conf_type)
    parts = {"median": fmt.fmt_number(r.median, places) if r.reached else "not reached",
             "ci": _ci_text(r.lower, r.upper, places)}
    text = fmt.with_unit(parts["median"], unit if r.reached else None)
    return _value(followup_median, text, {"median": r.median, "lower": r.lower, "upper": r.upper,
                                          "conf_type": s.conf_type},
                  s.sources, unit=unit, parts=parts, library="numpy", maths=sv.reverse_km_median_followup)


def events(s: Survival) -> Value:
    """Number of events (deaths, progressions) among the subjects."""
    _, e = s.arrays()
    n = int(e.sum())
    return _value(events, fmt.fmt_number(n), {"n": n, "of": int(e.size)}, [s.event.source], library=None, count=n,
                  parts=_count_parts(n, int(e.size)))


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
    if not any(e.sum() for e in events):
        raise AnalysisError(f"logrank of {', '.join(label for label, _ in curves)}: no events in any group, "
                            "so there is nothing to compare")
    r = multivariate_logrank_test(np.concatenate(times), np.array(labels), np.concatenate(events))
    p, chi2, df = float(r.p_value), float(r.test_statistic), int(r.degrees_of_freedom)
    sources = [src for _, surv in curves for src in surv.sources]
    return _value(logrank, fmt.fmt_p(p), {"p": p, "chi2": chi2, "df": df}, sources, library="lifelines",
                  parts={"p": fmt.fmt_p(p), "chi2": fmt.fmt_number(chi2, 2), "df": str(df)})


def _ci_text(lo, hi, places) -> str:
    """ "16.8–44.9", "89.5–not reached" when only the upper limit is not reached, else "not estimable"."""
    if lo is None or hi is None or not np.isfinite(lo) or not np.isfinite(hi):
        if lo is not None and np.isfinite(lo):
            return f"{fmt.fmt_number(lo, places)}{fmt.active().dash}not reached"
        return "not estimable"
    return fmt.fmt_ci(lo, hi, places)


# --- comparing groups (Table 1 P values and SMDs) -------------------------------------

#: test name -> (papergen.models function, words for the footnote and definition)
TESTS = {
    "wilcoxon": ("wilcoxon_rank_sum", "Wilcoxon rank-sum test"),
    "kruskal": ("kruskal_wallis", "Kruskal-Wallis test"),
    "welch": ("welch_t", "Welch's t test"),
    "t": ("student_t", "Student's t test"),
    "anova": ("anova", "one-way analysis of variance"),
    "chisq": ("chi_square", "chi-square test"),
    "fisher": ("fisher_exact", "Fisher's exact test"),
}
CONTINUOUS_TESTS, CATEGORICAL_TESTS = ("wilcoxon", "kruskal", "welch", "t", "anova"), ("chisq", "fisher")


def is_categorical(m: Measure) -> bool:
    """Flags, booleans and categories are compared as counts; numbers as distributions."""
    return m.is_flag or m.kind == "category" or m.series.dtype == object


def compare(m: Measure, groups: list[Group], test: str = "auto") -> Value:
    """P value of a difference between groups, by gtsummary's rule unless ``test`` names one.

    The rule (gtsummary add_p defaults): a number -> Wilcoxon rank-sum (2 groups)
    or Kruskal-Wallis (3 or more); a category or flag -> chi-square without
    continuity correction, or Fisher's exact test when an expected count is
    below 5. Subjects with a missing value are left out; levels no subject has
    are left out of the contingency table (R's table() of a factor would keep
    them and chisq.test would return NaN).
    """
    from papergen import models

    if len(groups) < 2:
        raise AnalysisError(f"compare() of {m.name}: a P value needs at least two groups, got {len(groups)}")
    parts = [m.where(g.mask, g.filter) for g in groups]
    for g, part in zip(groups, parts):
        if part.series.notna().sum() == 0:
            raise AnalysisError(f"compare() of {m.name}: group {g.label!r} has no subject with a value")
    if is_categorical(m):
        table, levels = _contingency(m, parts)
        if test == "auto":
            test = "fisher" if _min_expected(table) < 5 else "chisq"
        if test not in CATEGORICAL_TESTS:
            raise AnalysisError(f"compare() of {m.name}: {test!r} is not a test for counts ({', '.join(CATEGORICAL_TESTS)})")
        if table.shape[0] < 2:
            raise AnalysisError(f"compare() of {m.name}: every subject has the same value, so there is nothing to test")
        fn = getattr(models, TESTS[test][0])
        r = fn(table) if test == "fisher" else fn(table, correction=False)
        exact = {"p": float(r.p), "test": test, "table": table.tolist(), "levels": [str(v) for v in levels]}
    else:
        arrays = [_numeric(part, "compare") for part in parts]
        if test == "auto":
            test = "wilcoxon" if len(groups) == 2 else "kruskal"
        if test not in CONTINUOUS_TESTS:
            raise AnalysisError(f"compare() of {m.name}: {test!r} is not a test for numbers ({', '.join(CONTINUOUS_TESTS)})")
        if test in ("wilcoxon", "welch", "t") and len(arrays) != 2:
            raise AnalysisError(f"compare() of {m.name}: the {TESTS[test][1]} compares two groups, got {len(arrays)}")
        r = getattr(models, TESTS[test][0])(*arrays)
        exact = {"p": float(r.p), "test": test}
    statistic = getattr(r, "statistic", None)
    if statistic is not None:
        exact["statistic"] = float(statistic)
    if not np.isfinite(exact["p"]):
        raise AnalysisError(f"compare() of {m.name}: the {TESTS[test][1]} gave no P value")
    return _value(compare, fmt.fmt_p(exact["p"]), exact, [p.source for p in parts], library=_models_library(test),
                  parts={"p": fmt.fmt_p(exact["p"]), "test": TESTS[test][1],
                         "table": fmt.fmt_p_table(exact["p"])},
                  maths=getattr(models, TESTS[test][0]))


def smd(m: Measure, groups: list[Group], places: int = 2) -> Value:
    """Standardised mean difference of two groups (tableone's and cobalt's definitions), "0.12".

    Numbers: (mean1 - mean2) / sqrt((var1 + var2) / 2), sample variances; its
    absolute value is printed, as tableone prints it. Categories and flags: the
    multivariate form of Yang and Dalton over the levels.
    """
    from papergen import models

    if len(groups) != 2:
        raise AnalysisError(f"smd() of {m.name}: a standardised mean difference compares two groups, got {len(groups)}")
    parts = [m.where(g.mask, g.filter) for g in groups]
    if is_categorical(m):
        table, _ = _contingency(m, parts)
        r = models.smd_categorical(table)
        fn = models.smd_categorical
    else:
        a, b = (_numeric(p, "smd") for p in parts)
        r = models.smd(a, b)
        fn = models.smd
    d = float(getattr(r, "smd", r))
    if not np.isfinite(d):
        raise AnalysisError(f"smd() of {m.name}: not defined (no variation in either group)")
    return _value(smd, fmt.fmt_number(abs(d), places), {"smd": d}, [p.source for p in parts],
                  library=_models_library("smd"), parts={"smd": fmt.fmt_number(abs(d), places)}, maths=fn)


def _contingency(m: Measure, parts: list[Measure]):
    """Levels x groups counts (missing left out; levels nobody has dropped), and the levels kept."""
    known = _present(m.series)
    levels = [v for v in m.levels if equals(known, v).any()] if m.levels else \
        sorted(m.series.dropna().unique(), key=str)
    present = [_present(p.series) for p in parts]  # once per group, not once per level
    table = np.array([[int(equals(k, v).sum()) for k in present] for v in levels], dtype=float)
    return table, levels


def _min_expected(table: np.ndarray) -> float:
    total = table.sum()
    return float((np.outer(table.sum(axis=1), table.sum(axis=0)) / total).min()) if total else 0.0


def _models_library(test: str) -> str:
    """scipy does the arithmetic of the rank and t tests; chi-square, Fisher and SMD are papergen.models' numpy."""
    return "scipy" if test in ("wilcoxon", "kruskal", "welch", "t", "anova") else "numpy"
