"""Notation against the house style (papergen.publish.notation) on small manuscripts read by pandoc."""
from __future__ import annotations

import json

from papergen.formatting import house
from papergen.publish import journal, notation

SECTIONS = {"Core Tip"}


def _parts(tmp_path, markdown: str):
    md = tmp_path / "m.md"
    md.write_text(markdown, encoding="utf-8")
    ast = journal.read_ast(md)
    return ast, journal.outline(ast, SECTIONS)


def _ledger(tmp_path, values: dict):
    path = tmp_path / "numbers.json"
    path.write_text(json.dumps({"values": {k: {"exact": v} for k, v in values.items()}}), encoding="utf-8")
    return path


def test_a_section_printing_plus_minus_must_define_it_itself(tmp_path):
    ast, parts = _parts(tmp_path, "# Abstract\n\nTime was [405.6 ± 39.4 min]{.pg-value data-key=\"op\"}.\n\n"
                                  "# RESULTS\n\nTime was [405.6 ± 39.4 min]{.pg-value data-key=\"op\"} (mean ± SD); "
                                  "survival [34.1 ± 3.7]{.pg-value data-key=\"os\"}.\n\n"
                                  "**Core Tip:** Survival [34.1 ± 3.7]{.pg-value data-key=\"os\"} (mean ± standard error).\n")
    ledger = json.loads(_ledger(tmp_path, {"op": {"mean": 1, "sd": 1}, "os": {"mean": 1, "se": 1}}).read_text())["values"]
    # the abstract never says what ± is; the results define SD but not SE; the core tip defines SE
    assert notation.undefined_plus_minus(parts, ledger) == ["Abstract (SD)", "RESULTS (SE)"]


def test_a_label_or_p_value_in_another_style_is_named(tmp_path):
    text = "HR 0.7 (95% CI, 0.5-0.9; P=.03), and 95%CI: 1.2-3.4, P = 0.002, the 95% confidence interval"
    assert notation.foreign_forms(text, house.shipped("wjcc")) == ["95% CI", "P=.03"]
    assert notation.foreign_forms(text, house.shipped("jama")) == ["95%CI", "P = 0.002", "P=.03"]  # JAMA spaces it


def test_rows_give_each_house_rule_and_the_checks(tmp_path):
    ast, parts = _parts(tmp_path, "# RESULTS\n\nTime [405.6 ± 39.4]{.pg-value data-key=\"op\"} (95% CI 1-2).\n")
    rows = notation.rows(house.shipped("wjcc"), ast, parts, _ledger(tmp_path, {"op": {"mean": 1, "sd": 1}}))
    by_rule = {r[0]: r for r in rows}
    assert by_rule["numbers: P values"][1] == "italic P = 0.003; P < 0.001"
    assert by_rule["notation"][2:] == ("95% CI", False)
    assert by_rule["\u00b1 defined"][2:] == ("undefined in RESULTS (SD)", False)
    assert "\u00b1 defined" not in {r[0] for r in notation.rows(house.shipped("jama"), ast, parts, tmp_path / "none")}
