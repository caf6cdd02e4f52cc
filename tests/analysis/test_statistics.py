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
    assert st.km_median(never).text == "not reached"
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
