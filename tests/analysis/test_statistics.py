"""Statistics that return Values: exact numbers and printed text against hand computations."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from papergen.analysis import statistics as st
from papergen.errors import AnalysisError
from papergen.values import Source


def measure(values, ids=None, label="x"):
    ids = ids or [f"P{i:02d}" for i in range(1, len(values) + 1)]
    s = pd.Series(values, index=ids)
    return st.Measure(series=s, source=Source("data/t.csv", ("x",), tuple(ids)), label=label)


def test_mean_sd_uses_sample_sd_and_half_up_rounding():
    v = st.mean_sd(measure([1, 2, 3, 4]), places=1, unit="min")
    # mean 10/4 = 2.5; sample variance ((1.5^2)*2 + (0.5^2)*2)/3 = 5/3, sd = 1.2910
    assert v.exact["mean"] == 2.5
    assert math.isclose(v.exact["sd"], math.sqrt(5 / 3))
    assert v.text == "2.5 ± 1.3 min"
    assert v.parts["table"] == "2.5 ± 1.3"


def test_median_range_even_count_and_missing_values_dropped():
    v = st.median_range(measure([4.0, None, 1.0, 3.0, 10.0]), places=1)
    # values 1, 3, 4, 10: median (3 + 4) / 2 = 3.5
    assert (v.exact["median"], v.exact["min"], v.exact["max"], v.exact["n"]) == (3.5, 1.0, 10.0, 4)
    assert v.text == "3.5 (range, 1.0 to 10.0)"
    assert v.parts["table"] == "3.5 (1.0–10.0)"


def test_count_of_flags_gives_percent_and_words():
    v = st.count(measure([True, True, False, True]))
    assert v.count == 3 and v.exact == {"n": 3, "of": 4}
    assert v.parts["n_percent"] == "3 (75%)"
    assert str(v.phrase("patient", start=True)) == "Three patients"
    assert str(v.share("patient")) == "three of 4 patients"


def test_count_share_all_and_none():
    assert str(st.count(measure([True, True])).share("patient")) == "all patients"
    assert str(st.count(measure([False, False])).share("patient")) == "none of the patients"


def test_date_range_month_year():
    v = st.date_range(measure(pd.to_datetime(["2016-03-01", "2015-06-16", "2018-01-09"]).tolist()))
    assert v.text == "June 2015 to January 2018"


def test_most_common_category_tie_goes_to_first_seen():
    v = st.most_common(measure(["rectum", "pancreas", "pancreas", "rectum", "stomach"]))
    assert v.text == "rectum"  # 2 each; rectum appears first
    assert v.parts["n_percent"] == "2 (40%)"


def survival(times, events):
    return st.Survival(time=measure(times, label="t"), event=measure(events, label="e"))


def test_km_mean_without_censoring_is_sample_mean_with_plugin_se():
    v = st.km_mean(survival([1.0, 2.0, 3.0], [1, 1, 1]), unit="months")
    # mean 2; SE = sqrt(sum (x - 2)^2) / n = sqrt(2) / 3 = 0.4714
    assert math.isclose(v.exact["mean"], 2.0)
    assert math.isclose(v.exact["se"], math.sqrt(2) / 3)
    assert v.text == "2.0 ± 0.5 months"


def test_km_median_range_and_not_reached():
    s = survival([2.0, 3.0, 5.0, 8.0, 9.0], [1, 1, 1, 0, 0])
    # S drops to 4/5 at 2, 3/5 at 3, 2/5 at 5 -> median 5; observed range 2 to 9
    assert st.km_median_range(s).text == "5 (range, 2 to 9)"
    never = survival([2.0, 3.0, 5.0, 8.0], [1, 0, 0, 0])
    # the lower limit is reached (R: median NA, lower 2, upper NA): it is printed, not dropped
    assert st.km_median(never).text == "not reached (95%CI: 2.0\u2013not reached)"
    with pytest.raises(AnalysisError):
        st.km_median_range(never)


def test_survival_at_one_has_no_interval_and_beyond_data_is_not_estimable():
    s = survival([13.0, 20.0, 30.0], [1, 1, 0])
    assert st.survival_at(s, 12).text == "100.0%"
    assert st.survival_at(s, 12).parts["when"] == "1-year"
    assert st.survival_at(s, 60).text == "not estimable"


def test_survival_at_with_interval():
    s = survival([1.0, 2.0, 3.0, 4.0], [1, 1, 0, 0])
    # S(2.5) = 3/4 * 2/3 = 0.5 -> "50.0%" with a log-log CI strictly inside (0, 1)
    v = st.survival_at(s, 2.5)
    assert v.text.startswith("50.0% (95%CI: ")
    assert 0 < v.exact["lower"] < 0.5 < v.exact["upper"] < 1


def test_method_points_at_the_code():
    v = st.median_range(measure([1, 2, 3]))
    assert v.method["function"] == "papergen.analysis.statistics.median_range"
    path, line = v.method["code"].rsplit(":", 1)
    assert path.endswith("src/papergen/analysis/statistics.py") and int(line) > 0
    assert v.method["library"].startswith("numpy ")


def test_empty_measure_is_an_analysis_error():
    with pytest.raises(AnalysisError):
        st.mean_sd(measure([None, None]))


# --- no silent wrong number: flags, booleans, categories as numbers, missing values, empty groups ----

def typed(values, kind, levels=(), label="sex"):
    m = measure(values, label=label)
    m.kind, m.levels = kind, tuple(levels)
    return m


def test_count_of_a_flag_column_counts_its_ones():
    v = st.count(typed([1, 0, 0, 1, 1], "flag", (0, 1)))
    assert (v.count, v.exact["of"], v.parts["n_percent"]) == (3, 5, "3 (60%)")


def test_count_of_a_flag_with_missing_values_uses_those_with_a_value():
    v = st.count(typed([1.0, None, 0.0, 1.0], "flag", (0, 1)))
    assert v.exact == {"n": 2, "of": 3, "missing": 1} and v.parts["percent"] == "67%"


def test_count_of_a_boolean_counts_trues():
    assert st.count(measure([True, False, False])).count == 1


def test_count_of_a_nullable_boolean_counts_trues_among_known():
    v = st.count(measure(pd.array([True, None, False, True], dtype="boolean")))
    assert v.exact == {"n": 2, "of": 3, "missing": 1}


def test_count_of_a_flag_outside_0_1_fails():
    with pytest.raises(AnalysisError, match="a flag must be 0 or 1, found 2"):
        st.count(typed([1, 2, 0], "flag"))


def test_count_of_a_category_column_fails_and_says_what_to_call():
    with pytest.raises(AnalysisError, match=r"count\(\) of sex .*st.category_count\(measure, value\)"):
        st.count(typed(["male", "female"], "category", ("male", "female")))


def test_count_of_an_undeclared_0_1_number_fails():
    with pytest.raises(AnalysisError, match="only 0 and 1.*type: flag"):
        st.count(measure([0, 1, 1, 0]))


def test_count_present_counts_values_whatever_they_are():
    assert st.count_present(measure([0, None, 1, 0])).exact == {"n": 3, "of": 4}


def test_count_of_nobody_fails_naming_the_filter():
    m = measure([1.0, 2.0]).where(pd.Series([False, False], index=["P01", "P02"]), "arm = new")
    with pytest.raises(AnalysisError, match="no subjects \\(the filter 'arm = new' selects nobody\\)"):
        st.count(m)


def test_category_count_of_numbers_read_with_gaps_compares_numbers():
    # a category coded 1/2 with a missing value is read as 1.0/2.0: "1" must still match
    v = st.category_count(typed([1.0, 2.0, None, 1.0], "category", ("1", "2")), "1")
    assert v.exact["n"] == 2 and v.exact["of"] == 3


def test_category_count_of_a_value_the_codebook_does_not_allow_fails():
    with pytest.raises(AnalysisError, match="'Male' is not one of its values \\(male, female\\)"):
        st.category_count(typed(["male", "female"], "category", ("male", "female")), "Male")


@pytest.mark.parametrize("stat", [st.mean_sd, st.median_range])
def test_continuous_summaries_refuse_flags_booleans_and_categories(stat):
    with pytest.raises(AnalysisError, match="0/1 flag has no .*st.count"):
        stat(typed([0, 1, 1], "flag"))
    with pytest.raises(AnalysisError, match="0/1 flag"):
        stat(measure([True, False, True]))
    with pytest.raises(AnalysisError, match="category .* st.category_count"):
        stat(typed([1, 2, 2], "category", ("1", "2")))


@pytest.mark.parametrize("stat", [st.mean_sd, st.median_range])
def test_continuous_summaries_of_missing_or_nobody_fail(stat):
    with pytest.raises(AnalysisError, match="every one of the 2 subjects has a missing value"):
        stat(measure([None, None]))
    with pytest.raises(AnalysisError, match="no subjects"):
        stat(measure([1.0]).where(pd.Series([False], index=["P01"])))


def test_continuous_summaries_record_missing_values():
    assert st.mean_sd(measure([1.0, None, 3.0])).exact["missing"] == 1


def test_mean_sd_of_one_value_fails_instead_of_printing_nan():
    with pytest.raises(AnalysisError, match="one value has no standard deviation"):
        st.mean_sd(measure([4.0]))


def test_most_common_breaks_ties_by_the_codebook_order_and_refuses_flags():
    assert st.most_common(typed(["b", "a", "a", "b"], "category", ("a", "b"))).text == "a"
    with pytest.raises(AnalysisError, match="0/1 flag"):
        st.most_common(typed([0, 1], "flag"))


def test_date_range_refuses_values_that_are_not_dates():
    with pytest.raises(AnalysisError, match="not dates"):
        st.date_range(measure(["2020-01-01", "2021-01-01"]))


def test_survival_with_a_missing_time_or_event_fails_naming_the_measure():
    s = st.Survival(time=measure([1.0, None, 3.0], label="os time"), event=measure([1, 0, 1], label="death"))
    with pytest.raises(AnalysisError, match="os time .*1 of 3 subjects have no time"):
        st.km_median(s)
    s = st.Survival(time=measure([1.0, 2.0, 3.0], label="t"), event=measure([1.0, None, 1.0], label="death"))
    with pytest.raises(AnalysisError, match="death .*no event"):
        st.events(s)  # events() used to count NaN as an integer


def test_events_coded_1_2_as_in_r_fail_instead_of_being_summed():
    s = st.Survival(time=measure([1.0, 2.0, 3.0], label="t"), event=measure([1, 2, 2], label="status"))
    with pytest.raises(AnalysisError, match="event must be 1 \\(event\\) or 0 \\(censored\\), found 2"):
        st.events(s)


def test_survival_of_a_group_filtered_to_nobody_fails():
    s = survival([1.0, 2.0], [1, 0])
    empty = s.where(pd.Series([False, False], index=["P01", "P02"]), "arm = new")
    for stat in (st.km_median, st.km_mean, st.events, st.followup_median):
        with pytest.raises(AnalysisError, match="no subjects"):
            stat(empty)


def test_logrank_with_no_events_fails():
    a, b = survival([1.0, 2.0], [0, 0]), survival([1.5, 3.0], [0, 0])
    with pytest.raises(AnalysisError, match="no events in any group"):
        st.logrank([("a", a), ("b", b)])


def test_km_values_record_and_use_the_declared_ci_transform():
    s = survival([2.0, 3.0, 5.0, 8.0, 9.0, 12.0], [1, 1, 1, 0, 1, 0])
    loglog, log = st.km_median(s), st.km_median(st.Survival(s.time, s.event, conf_type="log"))
    assert loglog.exact["conf_type"] == "log-log" and log.exact["conf_type"] == "log"
    assert (loglog.exact["lower"], log.exact["lower"]) == (2.0, 3.0)  # so the choice shows in the text


def test_median_iqr_uses_r_type_7_quartiles():
    # R: quantile(c(1, 2, 4, 7, 11, 16), c(.25, .5, .75)) -> 2.5, 5.5, 10.0 (type 7: 1 + (n - 1) p)
    v = st.median_iqr(measure([16.0, 1.0, 7.0, 2.0, 11.0, 4.0]), places=1)
    assert (v.exact["q1"], v.exact["median"], v.exact["q3"]) == (2.5, 5.5, 10.0)
    assert v.text == "5.5 (IQR, 2.5 to 10.0)" and v.parts["table"] == "5.5 (2.5\u201310.0)"
    with pytest.raises(AnalysisError, match="0/1 flag"):
        st.median_iqr(typed([0, 1], "flag"))


def test_listing_of_no_items_prints_its_empty_text_or_fails():
    src = [Source("data/t.csv", ("x",), ())]
    assert st.listing(["a", "b", "c"], src).text == "a, b, and c"
    empty = st.listing([], src, empty="none")
    assert empty.text == "none" and empty.exact == {"items": []}
    with pytest.raises(AnalysisError, match=r"listing\(\) got no items .* pass empty="):
        st.listing([], src)


def test_counts_and_categories_take_their_short_paths_with_the_same_numbers():
    """count() of a numpy boolean and category_count() of texts skip copies (no dropna, no astype(str)):
    the same n, total and missing as the general path gives for the same data as objects."""
    import numpy as np

    flags = [True, False, True, True, False]
    fast = st.count(measure(np.array(flags)))
    coded = measure([int(f) for f in flags])
    coded.kind = "flag"  # the same as a codebook flag (0/1): the general path
    with_gap = measure([int(f) for f in flags] + [None])
    with_gap.kind = "flag"
    assert (fast.exact, fast.count, fast.parts) == (st.count(coded).exact, 3, st.count(coded).parts)
    assert fast.exact == {"n": 3, "of": 5}
    assert st.count(with_gap).exact == {"n": 3, "of": 5, "missing": 1}
    texts = ["male", "female", "male", None, "male"]
    assert st.category_count(measure(texts), "male").exact == {"n": 3, "of": 4, "category": "male", "missing": 1}
    mixed = pd.Series(["1", 1, "2", 2.5], dtype=object)  # not all texts: compared as str() prints each, as before
    assert st.equals(mixed, "1").tolist() == [True, True, False, False]
    assert not st._all_texts(mixed) and st._all_texts(pd.Series(["a", "b"], dtype=object))
    assert st.equals(pd.Series(["a", "b", "a"], dtype=object), "a").tolist() == [True, False, True]


def test_table_one_counts_from_arrays_give_what_series_give():
    """category_count and compare's contingency table count the values present as numpy arrays
    (statistics._present): the same numbers as Series.dropna() and equals() on Series, for texts, numbers
    coded as categories (with gaps), booleans and a nullable integer column (kept a Series)."""
    import numpy as np

    ids = [f"P{i:03d}" for i in range(12)]
    group = pd.Series([i % 2 == 0 for i in range(12)], index=ids)
    arms = [st.Group("a", "A", group), st.Group("b", "B", ~group)]
    columns = {
        "texts": (["x", "y", None, "x", "z", "y", "x", None, "y", "x", "z", "x"], ("x", "y", "z")),
        "coded": ([1.0, 2.0, np.nan, 1.0, 2.0, 2.0, 1.0, 1.0, np.nan, 2.0, 1.0, 2.0], ("1", "2")),
        "nullable": (pd.array([1, 2, None, 1, 2, 2, 1, 1, None, 2, 1, 2], dtype="Int64"), ("1", "2")),
    }
    for name, (values, levels) in columns.items():
        m = st.Measure(series=pd.Series(values, index=ids), source=Source("data/t.csv", (name,), tuple(ids)),
                       label=name, kind="category", levels=levels)
        for level in levels:
            v = st.category_count(m, level)
            known = m.series.dropna()
            n = int(st.equals(known, level).sum())
            assert v.exact == {"n": n, "of": len(known), "category": level,
                               **({"missing": 12 - len(known)} if len(known) < 12 else {})}, (name, level)
        table, kept = st._contingency(m, [m.where(g.mask) for g in arms])
        by_hand = [[int(st.equals(m.where(g.mask).series.dropna(), v).sum()) for g in arms] for v in kept]
        assert table.tolist() == by_hand and list(kept) == list(levels), name
    flags = np.array([True, False, True])
    assert st.equals(flags, "True").tolist() == st.equals(pd.Series(flags), "True").tolist() == [True, False, True]


def test_numbers_and_dates_present_are_taken_as_arrays_with_the_same_results():
    """_numeric and date_range take the values present as numpy arrays: the same numbers as dropna() gave,
    missing values left out, and the same one-line refusals."""
    import numpy as np

    ages = measure([61.0, np.nan, 47.0, 70.0, 58.0])
    assert st._numeric(ages, "median_range").tolist() == ages.series.dropna().to_numpy(dtype=float).tolist()
    assert st.median_range(ages).exact == {"median": 59.5, "min": 47.0, "max": 70.0, "n": 4, "missing": 1}
    dates = measure(pd.to_datetime(["2016-03-02", None, "2015-06-30", "2018-01-15"]))
    v = st.date_range(dates)
    assert v.exact == {"first": pd.Timestamp("2015-06-30").date(), "last": pd.Timestamp("2018-01-15").date()}
    assert v.text == "June 2015 to January 2018"
    with pytest.raises(AnalysisError, match="every subject has a missing date"):
        st.date_range(measure(pd.to_datetime([None, None])))
    with pytest.raises(AnalysisError, match="values are not dates"):
        st.date_range(measure([1.0, 2.0]))
