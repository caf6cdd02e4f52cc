"""Journal profile checks (papergen.journal) on small manuscripts and on the study."""
from __future__ import annotations

import yaml

from conftest import ROOT, copy_study
from papergen import cli
from papergen.publish import journal

PROFILE = {
    "sections": [{"name": "Title page", "label": "Name of journal"}, {"name": "Abstract", "heading": "Abstract"},
                 {"name": "Key Words", "label": "Key Words"}, {"name": "Core Tip", "label": "Core Tip"},
                 {"name": "Introduction", "heading": "INTRODUCTION"}],
    "abstract_headings": ["AIM", "RESULTS"],
    "limits": {"title_words": {"max": 5}, "abstract_words": {"min": 10, "max": 12},
               "core_tip_words": {"max": 8}, "key_words": {"min": 2, "max": 3}},
}

SMALL = """**Name of journal:** Some Journal

# A short title with six words

# Abstract

**AIM**

To test the counting of words here[@kaplan1958].

**RESULTS**

[34.1 ± 3.7 months]{.pg-value data-key="os.mean"} was the mean.

**Key Words:** Survival; Ablation; Hepatectomy; Cohort

**Core Tip:** Eight words are in this core tip, no more.

# INTRODUCTION

Text.
"""


def rules_for(tmp_path, markdown: str, profile: dict = PROFILE) -> dict:
    md = tmp_path / "m.md"
    md.write_text(markdown, encoding="utf-8")
    return {r.rule: r for r in journal.evaluate(profile, journal.read_ast(md), [], "x.csl")}


def test_words_are_counted_on_text_without_markup():
    assert journal.words("34.1 ± 3.7 months") == 3
    assert journal.words("  Kaplan-Meier (range, 2 to 43)  ") == 5


def test_each_rule_reports_limit_and_actual(tmp_path):
    r = rules_for(tmp_path, SMALL)
    assert (r["required sections"].ok, r["required sections"].actual) == (True, "all, in order")
    assert (r["title"].actual, r["title"].ok) == ("6 words", False)      # "A short title with six words"
    assert r["abstract headings"].ok and r["abstract headings"].actual == "AIM/RESULTS"
    # "To test the counting of words here." (7; the citation is not a word) + "34.1 3.7 months was the mean." (6)
    assert (r["abstract"].actual, r["abstract"].limit, r["abstract"].ok) == ("13 words", "10-12 words", False)
    assert (r["core tip"].actual, r["core tip"].ok) == ("9 words", False)
    assert (r["key words"].actual, r["key words"].limit, r["key words"].ok) == ("4", "2-3", False)


def test_missing_and_misplaced_sections_are_named(tmp_path):
    text = SMALL.replace("**Core Tip:** Eight words are in this core tip, no more.\n", "")
    text = text.replace("# INTRODUCTION\n\nText.\n", "")
    text = text.replace("**Name of journal:** Some Journal\n", "") + "\n**Name of journal:** Last\n"
    r = rules_for(tmp_path, text)["required sections"]
    assert not r.ok
    assert r.actual == "missing Core Tip, Introduction; Abstract comes before Title page"


def test_figure_resolution_is_read_from_the_image(tmp_path):
    from PIL import Image

    low, high = tmp_path / "low.png", tmp_path / "high.png"
    Image.new("RGB", (10, 10)).save(low, dpi=(150, 150))
    Image.new("RGB", (10, 10)).save(high, dpi=(300, 300))
    md = tmp_path / "m.md"
    md.write_text("# T\n", encoding="utf-8")
    profile = {"limits": {"figure_dpi": {"min": 300}}}
    [rule] = journal.evaluate(profile, journal.read_ast(md), [high, low], "x.csl")
    assert (rule.actual, rule.ok) == ("150 dpi (lowest of 2)", False)
    [rule] = journal.evaluate(profile, journal.read_ast(md), [high], "x.csl")
    assert rule.ok


def test_the_study_meets_its_profile(built, root):
    from papergen.study import Study

    rules = journal.check(Study(root), built.outputs)
    assert {r.rule for r in rules} >= {"required sections", "title", "abstract", "core tip", "key words",
                                       "figure resolution", "reference style"}
    assert [r.message() for r in rules if not r.ok and r.level == "error"] == []
    # the demonstration edition keeps placeholders for the authors' statements, and the build says so
    advisories = {r.rule: r for r in rules if not r.ok}
    assert "ORCID number" in advisories.pop("authors' statements").actual
    if "figure fonts" in advisories:  # Book Antiqua is not installed here: the figures fell back to DejaVu Serif
        assert advisories.pop("figure fonts").actual == "DejaVuSerif (Book Antiqua is not installed here)"
    assert advisories == {}
    assert {"notation", "\u00b1 defined", "title page", "references", "numbers: P values"} <= {r.rule for r in rules}
    profile = yaml.safe_load((ROOT / "study" / "journal.yaml").read_text(encoding="utf-8"))
    assert profile["limits"]["core_tip_words"]["max"] == 100


def test_overlong_core_tip_prints_in_the_build_table_and_fails_check(tmp_path, capsys):
    from papergen.pipeline.build import build_manuscript

    root = copy_study(tmp_path)
    core = root / "templates" / "core_tip.md.j2"
    core.write_text("**Core Tip:** " + "word " * 120 + "\n", encoding="utf-8")  # 120 words, limit 100
    lines = []
    result = build_manuscript(root, echo=lines.append)  # errors of the profile do not stop a draft build
    table = "\n".join(lines)
    assert "journal profile: World Journal of Clinical Cases" in table
    row = next(line for line in table.splitlines() if line.strip().startswith("core tip"))
    assert row.split()[-5:] == ["100", "words", "120", "words", "NO"]
    assert "journal profile: core tip: 120 words (limit: <= 100 words)" in result.warnings
    again = []
    build_manuscript(root, echo=again.append)  # nothing changed: the table is printed all the same
    assert row in "\n".join(again)

    assert cli.main(["check"], root=root) == 2
    err = capsys.readouterr().err
    assert "error: journal profile: core tip: 120 words (limit: <= 100 words)" in err
    assert cli.main(["pack"], root=root) == 2  # a pack is for submission: it refuses the same error
    assert "core tip: 120 words" in capsys.readouterr().err
    assert not (root / "manuscript" / "submission.zip").exists()


def test_the_figure_text_rule_knows_the_figures_smallest_text(tmp_path):
    from papergen.publish import figures

    rc = figures._RC
    assert journal.FIGURE_TEXT_PT == figures.SMALLEST_FONT_PT == min(
        v for k, v in rc.items() if k.endswith(("size", "labelsize", "fontsize")) and "major" not in k)
