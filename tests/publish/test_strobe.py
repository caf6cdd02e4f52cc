"""STROBE checklist filled from the templates' {## strobe: ... ##} declarations (papergen.strobe)."""
from __future__ import annotations

import re

import docx
import pytest

from conftest import ROOT
from papergen.publish import strobe
from papergen.errors import TemplateError

COHORT_ITEMS = ["1a", "1b", "2", "3", "4", "5", "6a", "6b", "7", "8", "9", "10", "11", "12a", "12b", "12c",
                "12d", "12e", "13a", "13b", "13c", "14a", "14b", "14c", "15", "16a", "16b", "16c", "17", "18",
                "19", "20", "21", "22"]


def test_item_file_lists_the_cohort_items_in_order():
    items = strobe.load_items()
    assert [i.item for i in items] == COHORT_ITEMS
    assert all(i.topic and len(i.text) > 20 for i in items)


def test_declarations_map_items_to_sections_and_subheadings(tmp_path):
    (tmp_path / "methods.md.j2").write_text(
        "# MATERIALS AND METHODS\n\n## Patients\n\n{## strobe: 6a, 12 ##}\nText.\n", encoding="utf-8")
    (tmp_path / "intro.md.j2").write_text("# INTRODUCTION\n{## strobe: 2 ##}\nWhy.\n", encoding="utf-8")
    decls = strobe.declarations(tmp_path, {"methods.md.j2": "Methods", "intro.md.j2": "Introduction"})
    assert decls == [(["2"], "Introduction", "templates/intro.md.j2:2"),
                     (["6a", "12"], "Methods: Patients", "templates/methods.md.j2:5")]
    items = {i.item: i.places for i in strobe.fill(strobe.load_items(), decls)}
    assert items["6a"] == ["Methods: Patients"] and items["2"] == ["Introduction"]
    # "12" without a letter covers all of 12a-12e
    assert all(items[k] == ["Methods: Patients"] for k in ("12a", "12b", "12c", "12d", "12e"))
    assert items["6b"] == [] and items["22"] == []


def test_unknown_item_names_the_template_line(tmp_path):
    (tmp_path / "a.md.j2").write_text("x\n\n{## strobe: 6a, 23 ##}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^templates/a\.md\.j2:3: unknown STROBE item '23'"):
        strobe.fill(strobe.load_items(), strobe.declarations(tmp_path, {}))


def _declared_in_templates() -> set[str]:
    """Items declared in the repository's templates, read with a plain regex (independent of papergen)."""
    out = set()
    for path in (ROOT / "templates").glob("*.j2"):
        for body in re.findall(r"\{##\s*strobe:\s*([^#]*?)\s*##\}", path.read_text(encoding="utf-8")):
            for raw in re.split(r"[\s,]+", body):
                out |= {i for i in COHORT_ITEMS if i == raw or re.fullmatch(rf"{raw}[a-z]", i)}
    return out


def test_build_writes_the_checklist_as_a_real_table(built):
    declared = _declared_in_templates()
    assert len(declared) >= 20
    d = docx.Document(str(built.outputs.dir / "strobe-checklist.docx"))
    [table] = d.tables
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["Item", "Topic", "Recommendation (paraphrased)", "Addressed in"]
    assert [r[0] for r in rows[1:]] == COHORT_ITEMS
    for item, _, _, where in rows[1:]:
        assert (where == "missing") == (item not in declared), item
    assert dict((r[0], r[3]) for r in rows[1:])["4"] == "Materials and methods: Patients"
    md = (built.outputs.dir / "strobe-checklist.md").read_text(encoding="utf-8")
    assert f"Items addressed: {len(declared)} of {len(COHORT_ITEMS)}" in md


def test_missing_items_are_in_the_build_report(tmp_path):
    from conftest import copy_study
    from papergen.pipeline.build import build_manuscript

    study = copy_study(tmp_path / "study")
    methods = study / "templates" / "methods.md.j2"
    text = methods.read_text(encoding="utf-8")
    assert "{## strobe: 6b ##}" in text
    methods.write_text(text.replace("{## strobe: 6b ##}", ""), encoding="utf-8")
    result = build_manuscript(study, out_dir=tmp_path / "out", echo=lambda *_: None)
    note = next(w for w in result.warnings if w.startswith("STROBE"))
    assert note.endswith(": 6b"), note


def test_declarations_do_not_reach_the_manuscript(built):
    text = built.outputs.markdown.read_text(encoding="utf-8")
    assert "strobe:" not in text.lower() and "{##" not in text


# --- the checklist follows the design: STROBE, CONSORT 2010, CARE ------------------------------------

CONSORT_ITEMS = ["1a", "1b", "2a", "2b", "3a", "3b", "4a", "4b", "5", "6a", "6b", "7a", "7b", "8a", "8b", "9", "10",
                 "11a", "11b", "12a", "12b", "13a", "13b", "14a", "14b", "15", "16", "17a", "17b", "18", "19", "20",
                 "21", "22", "23", "24", "25"]


def test_consort_and_care_item_files_list_their_items_in_order():
    assert [i.item for i in strobe.load_items(strobe.GUIDELINES["consort"][0])] == CONSORT_ITEMS
    care = [i.item for i in strobe.load_items(strobe.GUIDELINES["care"][0])]
    assert care[:6] == ["1", "2", "3a", "3b", "3c", "3d"] and care[-2:] == ["12", "13"] and len(care) == 30


def _with_design(tmp_path, design: str, old: str, new: str):
    from conftest import copy_study

    study = copy_study(tmp_path / "study")
    settings = study / "study" / "study.yaml"
    settings.write_text(f"design: {design}\n" + settings.read_text(encoding="utf-8"), encoding="utf-8")
    for path in (study / "templates").glob("*.j2"):
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return study


def test_a_randomised_trial_gets_the_consort_checklist_not_strobe(tmp_path):
    from papergen.pipeline.build import build_manuscript

    study = _with_design(tmp_path, "randomized trial", "{## strobe: 1a, 1b ##}", "{## consort: 4a ##}")
    for path in (study / "templates").glob("*.j2"):  # keep that one CONSORT declaration, drop the STROBE ones
        path.write_text(re.sub(r"\{## strobe:[^#]*##\}", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    result = build_manuscript(study, out_dir=tmp_path / "out", echo=lambda *_: None)
    assert not any(w.startswith("STROBE") for w in result.warnings)
    note = next(w for w in result.warnings if w.startswith("CONSORT"))
    assert note.startswith("CONSORT: 36 of 37 items declared by no template") and " 4a" not in note
    table = docx.Document(str(tmp_path / "out" / "consort-checklist.docx")).tables[0]
    assert [r.cells[0].text for r in table.rows][1:] == CONSORT_ITEMS
    assert not (tmp_path / "out" / "strobe-checklist.docx").exists()


def test_a_strobe_declaration_in_a_trial_is_an_error_naming_the_line(tmp_path):
    from papergen.pipeline.build import build_manuscript

    study = _with_design(tmp_path, "randomised trial", "", "")
    with pytest.raises(TemplateError, match=r"templates/\S+\.md\.j2:\d+: declares STROBE items, but the study's "
                                            r"design asks for CONSORT"):
        build_manuscript(study, out_dir=tmp_path / "out", echo=lambda *_: None)


def test_an_unknown_design_is_one_line(tmp_path):
    from papergen.errors import StudyLayoutError
    from papergen.study import Study

    study = _with_design(tmp_path, "meta-analysis", "", "")
    with pytest.raises(StudyLayoutError, match="design 'meta-analysis' is not one of cohort, case-control"):
        Study(study).guideline
