"""Benchmark: papergen.models against lifelines and statsmodels on the same fits, in the same run.

    python benchmarks/bench_models.py [--patients 100000] [--runs 3]

Prints a table of median seconds per fit: a Cox model with 10 covariates
(papergen.models.cox_ph with and without its concordance and PH test,
lifelines CoxPHFitter, statsmodels PHReg) and a logistic model with 10
covariates (papergen.models.logistic, statsmodels Logit). Target (issue 14):
papergen within 2 x the library's time. Exit 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd


def data(n: int, seed: int = 20261201):
    """Synthetic cohort: 10 covariates (4 binary, 6 continuous), exponential times, 30% censored, some ties."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({f"b{i}": rng.integers(0, 2, n).astype(float) for i in range(4)} |
                     {f"c{i}": rng.normal(0, 1, n) for i in range(6)})
    beta = np.linspace(-0.4, 0.4, 10)
    t = np.round(rng.exponential(1 / np.exp(x.to_numpy() @ beta)) * 365) + 1  # whole days: tied times
    e = (rng.random(n) > 0.3).astype(float)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x.to_numpy() @ beta)))).astype(float)
    return t, e, x, y


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import statsmodels.api as sm
    from lifelines import CoxPHFitter

    from papergen import models

    t, e, x, y = data(args.patients)
    frame = x.assign(time=t, event=e)
    rows = {
        "papergen cox_ph (fit, SE, concordance)": lambda: models.cox_ph(t, e, x),
        "papergen cox_ph + ph_test()": lambda: models.cox_ph(t, e, x).ph_test(),
        "lifelines CoxPHFitter (Efron)": lambda: CoxPHFitter().fit(frame, "time", "event"),
        "statsmodels PHReg (Efron)": lambda: sm.PHReg(t, x.to_numpy(), status=e, ties="efron").fit(),
        "papergen logistic": lambda: models.logistic(y, x),
        "statsmodels Logit": lambda: sm.Logit(y, sm.add_constant(x.to_numpy())).fit(disp=0),
    }
    seconds = {name: median_time(fn, args.runs) for name, fn in rows.items()}
    print(f"{args.patients:,} patients, 10 covariates, median of {args.runs} runs")
    print("| fit | median s |\n|---|---:|")
    for name, s in seconds.items():
        print(f"| {name} | {s:.3f} |")
    cox = seconds["papergen cox_ph (fit, SE, concordance)"] / seconds["lifelines CoxPHFitter (Efron)"]
    logit = seconds["papergen logistic"] / seconds["statsmodels Logit"]
    print(f"\npapergen / lifelines (Cox): {cox:.2f} x (target <= 2); papergen / statsmodels (logistic): {logit:.2f} x "
          "(target <= 2; papergen also checks separation and collinearity)")
    return 0 if cox <= 2 and logit <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
