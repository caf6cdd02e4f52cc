"""House styles (papergen.formatting.house): each shipped profile's forms, and one study built under two.

The study built under the WJCC and the JAMA profiles must differ exactly in the
numbers' style: the same exact numbers, the same prose once every printed value
is replaced by its key, and every styled number restyled.
"""
from __future__ import annotations

import json
import re

import pytest

from papergen import formatting as fmt
from papergen.formatting import house
from studycopy import copy_study

SPAN = re.compile(r'\[((?:[^\[\]]|\[[^\]]*\])*)\]\{\.pg-value data-key="([^"]+)"[^}]*\}')


@pytest.mark.parametrize("name, p, p_small, ci, mean_sd, median, big", [
    ("wjcc", "P = 0.003", "P < 0.001", "95%CI: 1.2\u20133.4", "405.6 (\u00b1 39.4) min", "4 (range, 2 to 43)", "3000"),
    ("jama", "P = .003", "P < .001", "95% CI, 1.2-3.4", "405.6 (SD, 39.4) min", "4 (range, 2-43)", "3,000"),
    ("ama", "P = .003", "P < .001", "95% CI, 1.2-3.4", "405.6 (SD, 39.4) min", "4 (range, 2-43)", "3,000"),
    ("lancet", "p=0\u00b7003", "p<0\u00b70001", "95% CI 1\u00b72\u20133\u00b74", "405\u00b76 (SD 39\u00b74) min",
     "4 (range 2\u201343)", "3000"),
    ("nejm", "P=0.003", "P<0.001", "95% CI, 1.2 to 3.4", "405.6\u00b139.4 min", "4 (range, 2 to 43)", "3000"),
])
def test_each_shipped_profile_prints_its_forms(name, p, p_small, ci, mean_sd, median, big):
    with house.using(house.shipped(name)):
        assert fmt.fmt_p(0.0031) == p
        assert fmt.fmt_p(0.00001) == p_small
        assert fmt.fmt_ci_text(1.2, 3.4) == ci
        assert fmt.fmt_mean_pm(405.63, 39.39, unit="min") == mean_sd
        assert fmt.fmt_median_range(4, 2, 43) == median
        assert fmt.fmt_number(3000) == big
    assert fmt.fmt_p(0.0031) == "P = 0.003"  # outside the block: papergen's default again


def test_lancet_groups_five_digits_with_a_thin_space_and_keeps_p_rules():
    with house.using(house.shipped("lancet")):
        assert fmt.fmt_number(12345.6, 1) == "12\u2009345\u00b76"
        assert fmt.fmt_p(0.0004) == "p=0\u00b70004"
        assert fmt.fmt_p(0.0499) == "p=0\u00b70499"  # never rounds up to the 0.05 threshold
        assert fmt.fmt_percent(1, 8, 1) == "12\u00b75%"
        assert fmt.fmt_ci(-1.25, 3.4) == "-1\u00b73 to 3\u00b74"  # a negative bound: "to", never a dash


def test_units_follow_the_profile():
    with house.using(house.shipped("wjcc")):
        assert fmt.with_unit("34.1", "months") == "34.1 mo"
    with house.using(house.shipped("jama")):
        assert fmt.with_unit("3", "d") == "3 days"


def test_an_unknown_profile_or_rule_is_named():
    with pytest.raises(ValueError, match="'vancouver' is not shipped.*jama"):
        house.shipped("vancouver")
    with pytest.raises(ValueError, match="unknown house-style rule 'p_colour'"):
        house.DEFAULT.with_rules({"p_colour": "red"})


@pytest.fixture(scope="module")
def jama(tmp_path_factory):
    """The study copied and built under the JAMA profile."""
    from papergen.pipeline.build import build_manuscript

    folder = copy_study(tmp_path_factory.mktemp("jama") / "study")
    profile = folder / "study" / "journal.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("house_style: wjcc", "house_style: jama"),
                       encoding="utf-8")
    return build_manuscript(folder, echo=lambda *_: None)


def _ledger(result) -> dict:
    return json.loads(result.outputs.ledger.read_text(encoding="utf-8"))["values"]


def _prose(result) -> list[str]:
    """The manuscript with every printed value replaced by its key: what the author wrote."""
    return SPAN.sub(lambda m: f"<{m.group(2)}>", result.outputs.markdown.read_text(encoding="utf-8")).splitlines()


def test_two_profiles_differ_exactly_in_the_numbers_style(built, jama):
    wjcc, other = _ledger(built), _ledger(jama)
    assert wjcc.keys() == other.keys()
    for key in wjcc:  # the same numbers: only their printing changes
        assert wjcc[key]["exact"] == other[key]["exact"], key
    changed = {k for k in wjcc if wjcc[k]["text"] != other[k]["text"]}
    styled = {k for k, v in wjcc.items() if re.search(r"\u00b1|%CI|range,|IQR|\bP [=<>]| mo\b| d\b| yr\b|\d{4}", v["text"])
              and not k.startswith(("study.", "software.", "statement.", "period", "followup.cutoff", "method."))}
    assert styled and styled <= changed, sorted(styled - changed)
    # the differences, listed: each is a restyled number, never a changed one
    assert wjcc["os.mean"]["text"] == "34.1 (\u00b1 3.7) mo" and other["os.mean"]["text"] == "34.1 (SE, 3.7) months"
    assert wjcc["surgery.op_time"]["text"] == "405.6 (\u00b1 39.4) min"
    assert other["surgery.op_time"]["text"] == "405.6 (SD, 39.4) min"
    assert other["surgery.blood_loss"]["text"] == "600 mL (range, 50-3,000)"
    assert other["os.median"]["text"] == "34.5 months (95% CI, 16.8-44.9)"
    assert other["postop.fever_days"]["text"] == "3 days (range, 0-21)"
    assert other["os.y3"]["text"] == "43.6% (95% CI, 14.7-69.9)"
    # the prose is the same but for the one table label that names the summary in the house's words
    a, b = _prose(built), _prose(jama)
    assert len(a) == len(b)
    assert [(x, y) for x, y in zip(a, b) if x != y] == [
        ("| Operation time, min, mean \u00b1 SD | <surgery.op_time> |",
         "| Operation time, min, mean (SD) | <surgery.op_time> |")]


def test_under_jama_no_wjcc_form_is_left_in_the_docx(jama):
    from conftest import docx_text

    text = docx_text(jama.outputs.docx)
    assert "95%CI" not in text and "\u00b1" not in text and " mo " not in text
    assert "(SE, 3.7) months" in text and "95% CI, 16.8-44.9" in text


def test_under_the_lancet_every_decimal_is_a_mid_dot_figures_included(tmp_path):
    from pypdf import PdfReader

    from papergen.pipeline.build import build_manuscript

    folder = copy_study(tmp_path / "study")
    profile = folder / "study" / "journal.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("house_style: wjcc", "house_style: lancet"),
                       encoding="utf-8")
    result = build_manuscript(folder, echo=lambda *_: None)
    values = _ledger(result)
    assert values["os.mean"]["text"] == "34\u00b71 (SE 3\u00b77) months"
    assert values["method.days_per_month"]["text"] == "30\u00b74375"  # a parameter's typed text too
    dotted = {k: v["text"] for k, v in values.items() if re.search(r"\d\.\d", v["text"])
              and not k.startswith(("software.", "study.", "statement."))}
    assert dotted == {}
    axes = PdfReader(str(result.outputs.figures / "os.pdf")).pages[0].extract_text()
    assert "0\u00b72" in axes and "0.2" not in axes
