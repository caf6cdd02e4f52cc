"""Regression models in the analysis plan: one fit, one registered Value per term, a table from them.

``a.cox(key, survival, table, covariates)`` codes the covariates from the
codebook (a flag as 0/1, a category as one 0/1 column per level against its
reference level, a number as it is), fits papergen.models.cox_ph once and
registers each term's hazard ratio as a value (parts ``hr``, ``ci``, ``p``,
``table``; text "HR 0.69; 95%CI: 0.55–0.88; P = 0.002"). Numbers printed from
one fit share it. ``a.cox_table(...)`` puts univariable and multivariable
fits side by side, reference levels as "1 (reference)", the PH test in a footnote.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from papergen import formatting as fmt
from papergen.analysis import statistics as st
from papergen.errors import AnalysisError
from papergen.values import Value, key_part


@dataclass
class Term:
    """One covariate column of a fit: its key part, its printed label, and the level it stands for."""

    column: str
    name: str          # the model's term name: "age", "tgrade:II"
    key: str           # the value key's last parts: "age", "tgrade.ii"
    label: str         # "Age, yr", "II"
    level: object = None
    reference: object = None
    reference_label: str = ""


@dataclass
class Fit:
    """A fitted model and the values registered from it, by term name."""

    key: str
    result: object
    terms: list[Term]
    values: dict[str, Value] = field(default_factory=dict)
    ph: dict[str, Value] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Value:
        return self.values[name]


def design(a, table: str, covariates: list, reference: dict | None = None, labels: dict | None = None,
           level_labels: dict | None = None):
    """Covariates as numeric columns (pandas), the Terms that name them, and the codebook levels nobody has.

    Missing values fail.

    ``level_labels`` ({column: {value: printed}}) names a category's levels in tables and figures.
    """
    import pandas as pd

    frame, reference, labels = a.data[table], reference or {}, labels or {}
    unobserved = []  # codebook levels no subject has: no term, and the definition says so
    shown = lambda column, level: str((level_labels or {}).get(column, {}).get(level, level))  # noqa: E731
    columns, terms = {}, []
    for column in covariates:
        m = a.column(table, column)
        missing = int(m.series.isna().sum())
        if missing:
            raise AnalysisError(f"{a.file_of(table)}: covariate {column!r} is missing for {missing} subjects; a model "
                                "needs complete data: filter them out (and say so) before fitting")
        label = labels.get(column, column)
        if m.kind == "category" or (m.series.dtype == object and not m.is_flag):
            levels = [v for v in (m.levels or sorted(m.series.unique(), key=str)) if st.equals(m.series, v).any()]
            unobserved += [f"{column} = {v}" for v in m.levels if v not in levels]
            ref = reference.get(column, levels[0])
            if ref not in levels:
                raise AnalysisError(f"covariate {column!r}: reference level {ref!r} is not one of its observed "
                                    f"levels ({', '.join(map(str, levels))})")
            for level in levels:
                if level == ref:
                    continue
                name = f"{column}:{level}"
                columns[name] = st.equals(frame[column], level).astype(float)  # 1 matches 1.0
                terms.append(Term(column, name, f"{key_part(column)}.{key_part(level)}", shown(column, level), level, ref,
                                  shown(column, ref)))
        else:
            columns[column] = m.series.astype(float)
            terms.append(Term(column, column, key_part(column), label))
    return pd.DataFrame(columns, index=frame.index), terms, unobserved


def cox(a, key: str, survival: st.Survival, table: str, covariates: list, *, ties: str = "efron",
        reference: dict | None = None, labels: dict | None = None, ph_test: bool = True,
        level_labels: dict | None = None) -> Fit:
    """Fit one Cox model and register each term's hazard ratio under ``key.<term>`` (and the PH test)."""
    from papergen import models

    x, terms, unobserved = design(a, table, covariates, reference, labels, level_labels)
    t, e = survival.arrays()
    if list(x.index) != list(survival.time.series.index):
        x = x.reindex(survival.time.series.index)
        if x.isna().any().any():
            raise AnalysisError(f"cox {key!r}: the covariates of {table!r} do not cover the subjects of the survival")
    r = models.cox_ph(t, e, x, ties=ties)
    fit = Fit(key, r, terms)
    described = ", ".join(dict.fromkeys(covariates))
    model = (f"Cox proportional-hazards model of {survival.time.label} on {described} ({ties} ties; "
             f"{r.n} subjects, {r.events} events){_unobserved(unobserved)}")
    sources = survival.sources + [a.source(table, list(covariates))]
    method = st.method_of(models.cox_ph, "papergen.models (checked against R survival, tests/test_models.py)")
    _register_terms(a, fit, r.hr, sources, method, model, "HR", "Hazard ratio",
                    {"n": r.n, "events": r.events, "ties": ties})
    if ph_test:
        ph = r.ph_test()
        for i, name in enumerate(ph.terms):
            v = Value(key="", text=fmt.fmt_p(ph.p[i]),
                      exact={"chisq": ph.chisq[i], "df": ph.df[i], "p": ph.p[i], "transform": "km"},
                      inputs=list(sources), method=dict(method),
                      parts={"p": fmt.fmt_p(ph.p[i]), "chisq": fmt.fmt_number(ph.chisq[i], 2), "df": str(ph.df[i])})
            part = "global" if name == "GLOBAL" else next(t.key for t in terms if t.name == name)
            fit.ph[name] = a.value(f"{key}.ph.{part}", v, f"Proportional-hazards test (R cox.zph, KM transform, "
                                   f"survival >= 3.0) of {'the whole model' if name == 'GLOBAL' else name}: {model}")
    return fit


def logistic(a, key: str, outcome: st.Measure, table: str, covariates: list, *,
             reference: dict | None = None, labels: dict | None = None, level_labels: dict | None = None) -> Fit:
    """Fit one logistic model of a 0/1 outcome; each term's odds ratio a value ``key.<term>`` (Wald CI as R)."""
    from papergen import models

    if not outcome.is_flag:
        raise AnalysisError(f"logistic {key!r}: the outcome {outcome.name} must be a 0/1 flag or a boolean")
    x, terms, unobserved = design(a, table, covariates, reference, labels, level_labels)
    y = outcome.series.reindex(x.index)
    r = models.logistic(y.astype(float), x)
    fit = Fit(key, r, terms)
    model = (f"logistic regression of {outcome.label} on {', '.join(dict.fromkeys(covariates))} "
             f"({r.n} subjects, {r.events} with the outcome){_unobserved(unobserved)}")
    method = st.method_of(models.logistic, "papergen.models on statsmodels (checked against R glm, tests/test_models.py)")
    # the intercept is not an odds ratio of a covariate: terms line up with r.terms[1:]
    shifted = SimpleNamespace(**{k: getattr(r, k)[1:] for k in ("coef", "se", "lower", "upper", "p")})
    _register_terms(a, fit, r.odds_ratio[1:], [outcome.source, a.source(table, list(covariates))], method, model,
                    "OR", "Odds ratio", {"n": r.n, "events": r.events, "aic": r.aic}, result=shifted)
    return fit


def _register_terms(a, fit: Fit, ratios, sources, method, model: str, short: str, long: str, extra: dict,
                    result=None) -> None:
    """One value per term of a fit: "HR 0.69; 95%CI: 0.55–0.88; P = 0.002" with parts ratio, ci, p, table."""
    r = result or fit.result
    for i, term in enumerate(fit.terms):
        ratio, lo, hi, p = ratios[i], r.lower[i], r.upper[i], r.p[i]
        if not all(np.isfinite(v) for v in (ratio, lo, hi, p)):
            raise AnalysisError(f"{fit.key!r}: the {long.lower()} of {term.name} is not finite")
        ci = fmt.fmt_ci(lo, hi, 2)
        text = f"{short} {fmt.fmt_number(ratio, 2)}; {fmt.ci_label(ci)}; {fmt.fmt_p(p)}"
        v = Value(key="", text=text, exact={"coef": r.coef[i], "se": r.se[i], short.lower(): ratio, "lower": lo,
                                            "upper": hi, "p": p, **extra},
                  inputs=list(sources), method=dict(method),
                  parts={short.lower(): fmt.fmt_number(ratio, 2), "ci": ci, "ci_full": fmt.ci_label(ci), "p": fmt.fmt_p(p),
                         "table": f"{fmt.fmt_number(ratio, 2)} ({ci})", "p_table": fmt.fmt_p_table(p)})
        what = term.column if term.level is None else f"{term.column} {term.level} (reference {term.reference})"
        fit.values[term.name] = a.value(f"{fit.key}.{term.key}", v, f"{long} of {what}: {model}")


def cox_table(a, key: str, caption: str, survival: st.Survival, table: str, covariates: list, *,
              labels: dict | None = None, reference: dict | None = None, ties: str = "efron",
              multivariable: bool = True, level_labels: dict | None = None):
    """Univariable Cox fits of each covariate and one multivariable fit, side by side (HR (95% CI), P)."""
    labels = labels or {}
    coding = {"reference": reference, "labels": labels, "level_labels": level_labels}
    uni = {c: cox(a, f"{key}.uni", survival, table, [c], ties=ties, ph_test=False, **coding) for c in covariates}
    multi = cox(a, f"{key}.multi", survival, table, covariates, ties=ties, **coding) if multivariable else None
    notes = ["HR: hazard ratio; CI: confidence interval (Wald)."]
    if multi:
        notes.append(("Proportional-hazards assumption of the multivariable model (scaled Schoenfeld residuals "
                      "against the Kaplan-Meier transform of time, global test): ", multi.ph["GLOBAL"].part("p")))
    return uni, multi, _side_by_side(a, key, caption, covariates, labels, uni, multi, "HR", notes)


def logistic_table(a, key: str, caption: str, outcome: st.Measure, table: str, covariates: list, *,
                   labels: dict | None = None, reference: dict | None = None, multivariable: bool = True,
                   level_labels: dict | None = None):
    """Univariable logistic fits of each covariate and one multivariable fit, side by side (OR (95% CI), P)."""
    labels = labels or {}
    coding = {"reference": reference, "labels": labels, "level_labels": level_labels}
    uni = {c: logistic(a, f"{key}.uni", outcome, table, [c], **coding) for c in covariates}
    multi = logistic(a, f"{key}.multi", outcome, table, covariates, **coding) if multivariable else None
    notes = ["OR: odds ratio; CI: confidence interval (Wald, as R's confint.default)."]
    return uni, multi, _side_by_side(a, key, caption, covariates, labels, uni, multi, "OR", notes)


def _side_by_side(a, key, caption, covariates, labels, uni, multi, short, notes):
    """The regression table: a row per covariate (a heading, "1 (reference)" and a row per level for a category)."""
    ci = fmt.ci_label("").rstrip(":, ")  # the house style's label: "95%CI", "95% CI"
    header = ["Characteristic", f"Univariable {short} ({ci})", fmt.active().p_label]
    header += [f"Multivariable {short} ({ci})", fmt.active().p_label] if multi else []
    t = a.table(key, caption, header)
    for c in covariates:
        fits = [uni[c]] + ([multi] if multi else [])
        terms = list(uni[c].terms)
        if len(terms) == 1 and terms[0].level is None:
            cells = [x for f in fits for x in (f[terms[0].name].part("table"), f[terms[0].name].part("p_table"))]
            t.row(labels.get(c, c), *cells)
            continue
        t.row(labels.get(c, c))
        t.row(terms[0].reference_label, *(["1 (reference)", ""] * len(fits)), indent=1)
        for term in terms:
            cells = [x for f in fits for x in (f[term.name].part("table"), f[term.name].part("p_table"))]
            t.row(term.label, *cells, indent=1)
    for note in notes:
        t.footnote(note)
    return t


def _unobserved(levels: list[str]) -> str:
    """The note for codebook levels that no subject has (they get no term): '; no subject has grade = IV'."""
    return f"; no subject has {', '.join(levels)}, so it has no term" if levels else ""


def forest_rows(fit: Fit, labels: dict) -> tuple[list[dict], list]:
    """The rows of a forest plot of ``fit`` (papergen.forest) and the (value, text) pairs printed in it."""
    rows, notes, seen = [], [], []
    for term in fit.terms:
        if term.column not in seen:
            seen.append(term.column)
            if term.level is not None:
                rows.append({"label": labels.get(term.column, term.column), "kind": "heading"})
                rows.append({"label": term.reference_label, "kind": "reference", "text": "1 (reference)", "indent": 1})
        v = fit.values[term.name]
        label = term.label if term.level is not None else labels.get(term.column, term.column)
        rows.append({"label": label, "kind": "term", "estimate": v.exact.get("hr", v.exact.get("or")), "lower": v.exact["lower"],
                     "upper": v.exact["upper"], "text": v.parts["table"], "indent": int(term.level is not None)})
        notes.append((v, v.parts["table"]))
    return rows, notes
