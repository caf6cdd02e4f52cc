"""Tests for papergen.formatting. Every expected value is written out by hand."""
import datetime
import math
from decimal import Decimal

import numpy as np
import pytest

from papergen.formatting import (
    capitalize_first, count_phrase, fmt_ci, fmt_count_percent, fmt_date, fmt_mean_pm,
    fmt_median_range, fmt_month_year, fmt_number, fmt_p, fmt_percent, join_and,
    number_to_words, round_half_up, spell_out,
)


# --- round_half_up / fmt_number -------------------------------------------

@pytest.mark.parametrize("x, places, expected", [
    (0.125, 2, "0.13"),        # binary 0.125 is exact; half-even would give 0.12
    (2.675, 2, "2.68"),        # binary 2.675 is 2.67499999...; round() gives 2.67
    (0.5, 0, "1"),
    (1.5, 0, "2"),
    (2.5, 0, "3"),             # half-even would give 2
    (-2.5, 0, "-3"),           # half away from zero
    (-0.125, 2, "-0.13"),
    (0.045, 2, "0.05"),
    (405.6363636, 1, "405.6"),
    (39.39, 1, "39.4"),
    (39.35, 1, "39.4"),
    (1e-7, 2, "0.00"),
    (1e-7, 7, "0.0000001"),
    (0, 0, "0"),
    (0, 2, "0.00"),
    (5, 2, "5.00"),
    (1234567.891, 0, "1234568"),
    (1234567.891, 2, "1234567.89"),
    (1e30, 2, "1000000000000000000000000000000.00"),
])
def test_fmt_number_rounds_half_up(x, places, expected):
    assert fmt_number(x, places) == expected


@pytest.mark.parametrize("x", [0.0, -0.0, -0.04, -0.049, Decimal("-0.0"), Decimal("-0.01")])
def test_fmt_number_never_prints_negative_zero(x):
    assert fmt_number(x, 1) == "0.0"


def test_round_half_up_returns_decimal_without_negative_zero():
    r = round_half_up(2.675, 2)
    assert isinstance(r, Decimal) and r == Decimal("2.68")
    assert str(round_half_up(-0.04, 1)) == "0.0"
    assert str(round_half_up(-0.05, 1)) == "-0.1"


@pytest.mark.parametrize("x, places, thousands, expected", [
    (1234.5, 1, True, "1,234.5"),
    (1234567.891, 2, True, "1,234,567.89"),
    (-1234, 0, True, "-1,234"),
    (999, 0, True, "999"),
    (1234.5, 1, False, "1234.5"),
])
def test_fmt_number_thousands(x, places, thousands, expected):
    assert fmt_number(x, places, thousands=thousands) == expected


@pytest.mark.parametrize("x, places, expected", [
    (Decimal("2.675"), 2, "2.68"),
    (Decimal("-0.05"), 1, "-0.1"),
    (Decimal("12"), 1, "12.0"),
    (np.float64(2.675), 2, "2.68"),
    (np.float64(0.125), 2, "0.13"),
    (np.float64(405.6363636), 1, "405.6"),
    (np.int64(7), 1, "7.0"),
])
def test_fmt_number_decimal_and_numpy(x, places, expected):
    assert fmt_number(x, places) == expected


@pytest.mark.parametrize("bad", [True, False, None, "1.5", np.bool_(True)])
def test_fmt_number_rejects_non_numbers(bad):
    with pytest.raises(TypeError):
        fmt_number(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan"), Decimal("NaN")])
def test_fmt_number_rejects_non_finite(bad):
    with pytest.raises(ValueError):
        fmt_number(bad, 1)


def test_places_must_be_non_negative_int():
    with pytest.raises(ValueError):
        round_half_up(1.5, -1)
    with pytest.raises(TypeError):
        round_half_up(1.5, True)
    with pytest.raises(TypeError):
        round_half_up(1.5, 1.0)


# --- mean ± SD, median (range), CI -----------------------------------------

def test_fmt_mean_pm():
    assert fmt_mean_pm(405.6363636, 39.39) == "405.6 \u00b1 39.4"
    assert fmt_mean_pm(405.6363636, 39.35, unit="min") == "405.6 \u00b1 39.4 min"
    assert fmt_mean_pm(2.675, 0.125, places=2) == "2.68 \u00b1 0.13"
    with pytest.raises(ValueError):
        fmt_mean_pm(10, -1)


def test_fmt_median_range():
    assert fmt_median_range(600, 50, 3000) == "600 (range, 50 to 3000)"
    assert fmt_median_range(600, 50, 3000, unit="mL") == "600 mL (range, 50 to 3000)"
    assert fmt_median_range(600, 50, 3000, style="dash") == "600 (50\u20133000)"
    assert fmt_median_range(600, 50, 3000, unit="mL", style="dash") == "600 mL (50\u20133000)"
    assert fmt_median_range(2.5, 1.25, 10, places=1) == "2.5 (range, 1.3 to 10.0)"
    assert fmt_median_range(0, -2, 3, style="dash") == "0 (-2 to 3)"


def test_fmt_median_range_rejects_bad_input():
    with pytest.raises(ValueError):
        fmt_median_range(5000, 50, 3000)
    with pytest.raises(ValueError):
        fmt_median_range(600, 50, 3000, style="bogus")


def test_fmt_ci():
    assert fmt_ci(12.34, 45.65) == "12.3\u201345.7"
    assert fmt_ci(0.125, 0.5, places=2) == "0.13\u20130.50"
    assert fmt_ci(-1.25, 3.4) == "-1.3 to 3.4"
    assert fmt_ci(-3, -1, places=0) == "-3 to -1"
    assert fmt_ci(-0.04, 2) == "0.0\u20132.0"   # prints as 0.0, so the dash is unambiguous
    with pytest.raises(ValueError):
        fmt_ci(5, 1)


# --- percentages -------------------------------------------------------------

@pytest.mark.parametrize("count, total, expected", [
    (10, 11, "91%"),
    (1, 8, "13%"),        # 12.5 exactly -> half up
    (2, 3, "67%"),
    (0, 5, "0%"),
    (5, 5, "100%"),
    (50, 99, "51%"),
    (50, 100, "50.0%"),   # total >= 100 -> one decimal
    (123, 1000, "12.3%"),
    (1, 400, "0.3%"),     # 0.25 exactly -> half up
    (1, 200, "0.5%"),
])
def test_fmt_percent(count, total, expected):
    assert fmt_percent(count, total) == expected


def test_fmt_percent_explicit_places():
    assert fmt_percent(10, 11, places=1) == "90.9%"
    assert fmt_percent(123, 1000, places=0) == "12%"


@pytest.mark.parametrize("count, total", [(1, 0), (6, 5), (-1, 5)])
def test_fmt_percent_rejects_bad_counts(count, total):
    with pytest.raises(ValueError):
        fmt_percent(count, total)


def test_fmt_percent_rejects_non_integers():
    with pytest.raises(TypeError):
        fmt_percent(1.0, 5)
    with pytest.raises(TypeError):
        fmt_percent(True, 5)


def test_fmt_count_percent():
    assert fmt_count_percent(10, 11) == "10 (91%)"
    assert fmt_count_percent(123, 1000) == "123 (12.3%)"
    assert fmt_count_percent(np.int64(1), 8) == "1 (13%)"


# --- P values ----------------------------------------------------------------

@pytest.mark.parametrize("p, expected", [
    (0.0, "P < 0.001"),
    (0.0009999, "P < 0.001"),
    (0.001, "P = 0.001"),
    (0.004, "P = 0.004"),
    (0.0049999, "P = 0.005"),
    (0.005, "P = 0.005"),
    (0.0096, "P = 0.01"),     # would be 0.010 at three decimals
    (0.01, "P = 0.01"),
    (0.045, "P = 0.045"),     # below 0.05 never prints as 0.05
    (0.0499, "P = 0.0499"),
    (0.0449, "P = 0.04"),
    (0.05, "P = 0.05"),
    (0.125, "P = 0.13"),
    (0.43, "P = 0.43"),
    (0.99, "P = 0.99"),
    (0.985, "P = 0.99"),
    (0.991, "P > 0.99"),
    (0.995, "P > 0.99"),
    (1.0, "P > 0.99"),
    (Decimal("0.0045"), "P = 0.005"),
    (np.float64(0.0049999), "P = 0.005"),
])
def test_fmt_p(p, expected):
    assert fmt_p(p) == expected


@pytest.mark.parametrize("bad", [-0.01, 1.01])
def test_fmt_p_out_of_range(bad):
    with pytest.raises(ValueError):
        fmt_p(bad)


# --- numbers in words ------------------------------------------------------

WORDS_0_12 = ["zero", "one", "two", "three", "four", "five", "six", "seven",
              "eight", "nine", "ten", "eleven", "twelve"]
RUNNING_0_12 = ["zero", "one", "two", "three", "four", "five", "six", "seven",
                "eight", "nine", "10", "11", "12"]
START_0_12 = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven",
              "Eight", "Nine", "Ten", "Eleven", "Twelve"]


@pytest.mark.parametrize("n", range(13))
def test_spell_out_0_to_12(n):
    assert number_to_words(n) == WORDS_0_12[n]
    assert spell_out(n) == RUNNING_0_12[n]
    assert spell_out(n, sentence_start=True) == START_0_12[n]


@pytest.mark.parametrize("n, words, running, start", [
    (21, "twenty-one", "21", "Twenty-one"),
    (43, "forty-three", "43", "Forty-three"),
    (101, "one hundred one", "101", "One hundred one"),
    (1234, "one thousand two hundred thirty-four", "1234", "One thousand two hundred thirty-four"),
])
def test_spell_out_larger(n, words, running, start):
    assert number_to_words(n) == words
    assert spell_out(n) == running
    assert spell_out(n, sentence_start=True) == start


def test_number_to_words_negative_and_numpy():
    assert number_to_words(-5) == "minus five"
    assert number_to_words(np.int64(21)) == "twenty-one"


def test_spell_out_rejects_bad_input():
    with pytest.raises(ValueError):
        spell_out(-1)
    with pytest.raises(TypeError):
        spell_out(2.0)


@pytest.mark.parametrize("args, kwargs, expected", [
    ((11, "patient"), {"sentence_start": True}, "Eleven patients"),
    ((11, "patient"), {}, "11 patients"),
    ((1, "patient"), {}, "one patient"),
    ((1, "patient"), {"sentence_start": True}, "One patient"),
    ((0, "patient"), {}, "no patient"),
    ((0, "patient"), {"sentence_start": True}, "No patient"),
    ((0, "patient"), {"zero": "zero"}, "zero patients"),
    ((0, "patient"), {"zero": "zero", "sentence_start": True}, "Zero patients"),
    ((10, "patient"), {}, "10 patients"),
    ((10, "patient"), {"sentence_start": True}, "Ten patients"),
    ((3, "patient"), {}, "three patients"),
    ((2, "child", "children"), {}, "two children"),
    ((1, "child", "children"), {}, "one child"),
    ((21, "case"), {"sentence_start": True}, "Twenty-one cases"),
])
def test_count_phrase(args, kwargs, expected):
    assert count_phrase(*args, **kwargs) == expected


# --- lists, dates, capitalization ---------------------------------------------

def test_join_and():
    assert join_and(["pneumonia"]) == "pneumonia"
    assert join_and(["a", "b"]) == "a and b"
    assert join_and(["a", "b"], oxford=False) == "a and b"
    assert join_and(["respiratory failure", "renal insufficiency", "pneumonia"]) == \
        "respiratory failure, renal insufficiency, and pneumonia"
    assert join_and(["a", "b", "c"], oxford=False) == "a, b and c"
    assert join_and(s for s in ("a", "b", "c", "d")) == "a, b, c, and d"


def test_join_and_rejects_bad_input():
    with pytest.raises(ValueError):
        join_and([])
    with pytest.raises(TypeError):
        join_and(["a", 1])


def test_dates():
    assert fmt_month_year(datetime.date(2015, 6, 1)) == "June 2015"
    assert fmt_month_year(datetime.date(2020, 1, 31)) == "January 2020"
    assert fmt_month_year(datetime.date(2019, 12, 1)) == "December 2019"
    assert fmt_date(datetime.date(2021, 7, 6)) == "July 6, 2021"
    assert fmt_date(datetime.datetime(2018, 9, 30, 14, 5)) == "September 30, 2018"
    with pytest.raises(TypeError):
        fmt_date("2021-07-06")
    with pytest.raises(TypeError):
        fmt_month_year(None)


def test_capitalize_first():
    assert capitalize_first("twenty-one MRI scans") == "Twenty-one MRI scans"
    assert capitalize_first("eCRF data") == "ECRF data"
    assert capitalize_first("") == ""
    with pytest.raises(TypeError):
        capitalize_first(None)


# --- bool is refused everywhere ------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: round_half_up(True, 1),
    lambda: fmt_number(False),
    lambda: fmt_mean_pm(True, 1.0),
    lambda: fmt_mean_pm(1.0, True),
    lambda: fmt_median_range(True, 0, 3),
    lambda: fmt_percent(1, True),
    lambda: fmt_count_percent(True, 5),
    lambda: fmt_p(True),
    lambda: number_to_words(True),
    lambda: spell_out(True),
    lambda: count_phrase(True, "patient"),
    lambda: join_and([True]),
    lambda: fmt_month_year(True),
    lambda: fmt_date(False),
    lambda: fmt_ci(False, True),
    lambda: capitalize_first(True),
])
def test_bool_is_type_error(call):
    with pytest.raises(TypeError):
        call()
