"""Table 1 in one call: the characteristics of the subjects by group, every cell a registered Value.

Rows follow the codebook's column types: flags and categories as n (%),
numbers as the declared summary (median (IQR) by default, as gtsummary);
a "Missing" row where values are missing; a P column by gtsummary's rule
(statistics.compare) with the tests named in a footnote; an optional SMD column.
"""
from __future__ import annotations

from dataclasses import dataclass

from papergen import formatting as fmt
from papergen.analysis import statistics as st
from papergen.errors import AnalysisError
from papergen.analysis.tables import TableBuilder
from papergen.values import key_part

#: summary -> (statistic, words for the row label and the definition)
SUMMARIES = {
    "median_iqr": (st.median_iqr, "median (IQR)", "Median (interquartile range)"),
    "mean_sd": (st.mean_sd, "mean ± SD", "Mean ± sample standard deviation"),
    "median_range": (st.median_range, "median (range)", "Median (range)"),
}
ABBREVIATIONS = {"median_iqr": "IQR: interquartile range", "mean_sd": "SD: standard deviation",
                 "smd": "SMD: standardised mean difference (absolute)"}


@dataclass
class RowSpec:
    """One characteristic: its column, label and (for numbers) summary; ``test`` overrides the P value's rule."""

    column: str
    label: str = ""
    summary: str | None = None
    test: str = "auto"
    places: int | None = None
    levels: dict | None = None  # codebook value -> printed label


def table_one(a, key: str, caption: str, table: str, groups: list, rows: list, *, overall: bool = True,
              p_values: bool = True, smd: bool = False, summary: str = "median_iqr") -> TableBuilder:
    """Declare Table 1: one value per cell under ``key`` (e.g. ``baseline.age.ht``, ``baseline.age.p``).

    ``rows`` are column names, ``(column, label)`` pairs or RowSpec objects.
    """
    if p_values and len(groups) < 2:
        raise AnalysisError(f"table_one({key!r}): P values need at least two groups, got {len(groups)}; "
                            "pass p_values=False for a one-group table")
    if smd and len(groups) != 2:
        raise AnalysisError(f"table_one({key!r}): an SMD column compares two groups, got {len(groups)}")
    if summary not in SUMMARIES:
        raise AnalysisError(f"table_one({key!r}): summary {summary!r} is not one of {', '.join(SUMMARIES)}")
    frame = a.data[table]
    ids = a.measure(frame.index.to_series(index=frame.index), table, list(a.primary_key(table)), "subjects")
    n = a.stratified(f"{key}.n", st.count_present, ids, groups, "Subjects in the column", overall=overall)
    names = [g.label for g in groups] + (["Overall"] if overall else [])
    header = ["Characteristic"] + [(f"{name}, ", v.part("n_equals")) for name, v in zip(names, n)]
    header += (["P value"] if p_values else []) + (["SMD"] if smd else [])
    t = a.table(key, caption, header)
    used_tests: dict[str, list[str]] = {}
    used_summaries = set()
    for spec in map(_spec, rows):
        m = a.column(table, spec.column, spec.label or spec.column)
        label = spec.label or spec.column
        base = f"{key}.{key_part(spec.column)}"
        extra = []
        if p_values:
            result = st.compare(m, groups, spec.test)
            left_out = [str(v) for v in m.levels if str(v) not in result.exact.get("levels", map(str, m.levels))]
            note = f" ({', '.join(left_out)}: no subject, left out of the test)" if left_out else ""
            p = a.value(f"{base}.p", result, f"P value for a difference in {label} between the groups "
                        f"({st.TESTS[result.exact['test']][1]}){note}")
            used_tests.setdefault(p.exact["test"], []).append(label)
            extra.append(p.part("table"))
        if smd:
            extra.append(a.value(f"{base}.smd", st.smd(m, groups), f"Standardised mean difference in {label}"))
        if m.is_flag:
            cells = a.stratified(base, st.count, m, groups, f"Subjects with {label}", overall=overall)
            t.row(f"{label}, n (%)", *[v.part("n_percent") for v in cells], *extra)
        elif st.is_categorical(m):
            t.row(f"{label}, n (%)", *([""] * len(names)), *extra)
            for level in m.levels or sorted(m.series.dropna().unique(), key=str):
                shown = (spec.levels or {}).get(level, str(level))
                cells = a.stratified(f"{base}.{key_part(level)}", st.category_count, m, groups,
                                     f"Subjects whose {label} is {shown}", overall=overall, category=level)
                t.row(shown, *[v.part("n_percent") for v in cells], indent=1)
        else:
            chosen = spec.summary or summary
            if chosen not in SUMMARIES:
                raise AnalysisError(f"table_one({key!r}), row {spec.column}: summary {chosen!r} is not one of "
                                    f"{', '.join(SUMMARIES)}")
            stat, words, definition = SUMMARIES[chosen]
            if chosen == "mean_sd" and not fmt.spread_words("sd"):  # the house style writes "mean (SD)"
                words, definition = "mean (SD)", "Mean (sample standard deviation)"
            used_summaries.add(chosen)
            options = {} if spec.places is None else {"places": spec.places}
            cells = a.stratified(base, stat, m, groups, f"{definition} of {label}", overall=overall, **options)
            t.row(f"{label}, {words}", *[v.part("table") for v in cells], *extra)
        if m.series.isna().any():
            missing = a.measure(frame[spec.column].isna(), table, [spec.column], f"{label} missing")
            cells = a.stratified(f"{base}.missing", st.count, missing, groups, f"Subjects with no {label} recorded",
                                 overall=overall)
            t.row("Missing", *[v.part("n_percent") for v in cells], indent=1)
    t.footnote(_footnote(used_tests, used_summaries, smd))
    return t


def _footnote(used_tests: dict, used_summaries: set, smd: bool) -> str:
    """The tests behind the P column, with the rows each was used for, and the abbreviations."""
    parts = []
    if used_tests:
        tests = "; ".join(f"{st.TESTS[test][1]} ({', '.join(labels)})" for test, labels in used_tests.items())
        parts.append(f"P values: {tests}. Categories are compared by the chi-square test, or by Fisher's exact test "
                     "where an expected count is below five; numbers by rank tests.")
    abbreviations = [ABBREVIATIONS[s] for s in SUMMARIES if s in used_summaries and s in ABBREVIATIONS]
    if smd:
        abbreviations.append(ABBREVIATIONS["smd"])
    if abbreviations:
        parts.append("; ".join(abbreviations) + ".")
    parts.append("Percentages are of the subjects with a value in each column.")
    return " ".join(parts)


def _spec(row) -> RowSpec:
    if isinstance(row, RowSpec):
        return row
    if isinstance(row, str):
        return RowSpec(row)
    if isinstance(row, tuple) and len(row) == 2:
        return RowSpec(*row)
    raise AnalysisError(f"table_one: a row is a column name, a (column, label) pair or a RowSpec, got {row!r}")
