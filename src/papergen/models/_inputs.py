"""Input checks shared by every model: numbers only, equal lengths, no missing values, 0/1 events.

Each check raises the one error class for that problem, naming the model and the
column.  Missing values are counted and reported, never dropped.  A bool column
(or pandas' nullable boolean) is the same as a 0/1 column.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from papergen.models.errors import (
    ConstantCovariateError, InvalidInputError, MissingValuesError, NotBinaryError,
)


def _show(values) -> str:
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values)


def as_float(values, model: str, name: str) -> np.ndarray:
    """One column as a 1-D float array (NaN where missing); a non-numeric value raises."""
    if isinstance(values, pd.DataFrame):
        raise InvalidInputError(model, name, f"{name} must be one column, not a data frame")
    if not isinstance(values, pd.Series) and np.ndim(values) != 1:
        raise InvalidInputError(model, name, f"{name} must be one-dimensional (got shape {np.shape(values)})")
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or pd.api.types.is_timedelta64_dtype(series.dtype):
        raise InvalidInputError(model, name, f"{name} holds dates or durations; give numbers (e.g. months)")
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    present = series[series.notna()]
    numbers = pd.to_numeric(present.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v),
                            errors="coerce")
    bad = present[numbers.isna()]
    if len(bad):
        raise InvalidInputError(model, name, f"{name} is not numeric (values like {_show(bad.unique()[:3])}); "
                                             "code it as numbers (0/1 for a category) first")
    out = np.full(len(series), np.nan)
    out[series.notna().to_numpy()] = numbers.to_numpy(dtype=float)
    return out


def columns_of(covariates, model: str) -> tuple[tuple[str, ...], dict[str, np.ndarray]]:
    """The covariate frame as (names in order, name -> float column)."""
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame(name=covariates.name if covariates.name is not None else "x")
    if not isinstance(covariates, pd.DataFrame):
        raise InvalidInputError(model, "covariates", "covariates must be a pandas DataFrame with one named "
                                                     "column per covariate")
    if covariates.shape[1] == 0:
        raise InvalidInputError(model, "covariates", "covariates has no columns")
    names = tuple(str(c) for c in covariates.columns)
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError(model, twice[0], f"covariate name {twice[0]!r} is used twice")
    return names, {n: as_float(covariates.iloc[:, i], model, f"covariate {n!r}") for i, n in enumerate(names)}


def check_aligned(model: str, **inputs) -> None:
    """pandas inputs are used by position: their row labels must be the same, in the same order."""
    indexed = [(name, value.index) for name, value in inputs.items() if isinstance(value, (pd.Series, pd.DataFrame))]
    for name, index in indexed[1:]:
        if len(index) == len(indexed[0][1]) and not index.equals(indexed[0][1]):
            raise InvalidInputError(model, name, f"{name} and {indexed[0][0]} have different row labels (index); "
                                                 "align them (rows are matched by position)")


def check_rows(model: str, columns: dict[str, np.ndarray]) -> int:
    """Equal lengths, no missing and no infinite values; returns the number of rows."""
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise InvalidInputError(model, next(iter(columns)), f"inputs differ in length ({shown})")
    n = next(iter(lengths.values()))
    if n == 0:
        raise InvalidInputError(model, next(iter(columns)), "no observations (the inputs are empty)")
    missing = {name: np.isnan(col) for name, col in columns.items()}
    any_missing = np.logical_or.reduce(list(missing.values()))
    if any_missing.any():
        rows = int(any_missing.sum())
        per = {name: int(m.sum()) for name, m in missing.items() if m.any()}
        shown = ", ".join(f"{name}: {k}" for name, k in per.items())
        raise MissingValuesError(model, next(iter(per)), rows,
                                 f"{rows} of {n} rows have a missing value ({shown}); remove or impute them "
                                 "before fitting (rows are never dropped silently)")
    for name, col in columns.items():
        if not np.isfinite(col).all():
            raise InvalidInputError(model, name, f"{name} has infinite values")
    return n


def check_binary(model: str, name: str, values: np.ndarray) -> np.ndarray:
    """A 0/1 indicator (bool accepted) as a float array; any other value raises."""
    bad = np.unique(values[(values != 0) & (values != 1)])
    if bad.size:
        raise NotBinaryError(model, name, f"{name} must be 0/1 (or False/True), found {_show(bad[:3])}"
                                          f"{' ...' if bad.size > 3 else ''}; recode it")
    return values


def check_not_constant(model: str, names, columns: dict[str, np.ndarray]) -> None:
    """Each covariate must take at least two values in the data."""
    for name in names:
        col = columns[name]
        if np.all(col == col[0]):
            raise ConstantCovariateError(model, name, f"covariate {name!r} is constant (every row is "
                                                      f"{col[0]:g}); its effect cannot be estimated, drop it")


def floats(values) -> tuple[float, ...]:
    """A result field: a tuple of Python floats (frozen, hashable, prints plainly)."""
    return tuple(float(v) for v in values)
