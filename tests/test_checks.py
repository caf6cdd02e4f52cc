"""Hand-typed number lint (papergen.write.lint) and consistency checks (papergen.analysis.consistency)."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from conftest import ROOT, copy_study
from papergen.analysis import consistency
from papergen.write import lint as checks
from papergen import cli
from papergen.errors import ConsistencyError, HandTypedNumberError
from papergen.analysis.plan import Identity
from papergen.analysis.statistics import Measure
from papergen.values import Source, Value


def found(source: str) -> list[tuple[int, int, str]]:
    return [(f.line, f.column, f.text) for f in checks.lint_source(source, "t.md.j2")]


# --- the lint, on small templates ---------------------------------------------------

def test_digits_in_prose_are_reported_with_line_and_column():
    src = "# RESULTS\n\nThe mean was 34.1 months in 2015.\n"
    # line 3: "The mean was " is 13 characters, so 34.1 starts at column 14; " months in " ends at 28
    assert found(src) == [(3, 14, "34.1"), (3, 29, "2015")]


def test_number_words_and_time_ordinals_are_reported():
    src = "Eleven patients, twenty-one lesions, on the first postoperative day and the third year."
    assert [t for _, _, t in found(src)] == ["Eleven", "twenty-one", "first", "third"]


def test_ordinary_english_is_not_reported():
    src = ("Resection is the treatment of first choice; whichever came first. Both lobes, a single "
           "center, done once, someone, none, phone, often.")
    assert found(src) == []


def test_structure_is_not_prose():
    src = ("Kaplan and Meier[@kaplan1958; @brace2009, p. 33] as @dindo2004 said. "
           "![legend](figures/os2.png){width=100% #fig-1}\n"
           "See https://doi.org/10.1080/01621459.1958.10501452 and doi:10.12998/wjcc.v9.i19.5064.\n"
           "::: {.pagebreak}\n:::\n{## a comment with 42 ##}\n")
    assert found(src) == []


def test_expressions_may_not_hold_typed_numbers_except_in_literal():
    src = ('{{ literal("Ki-67") }} {{ os.y1 }} {{ os.mean.part("ci") }}\n'
           '{{ 34.1 }} {{ x.part("12") }}{% if n > 5 %}yes{% endif %}\n')
    assert found(src) == [(2, 4, "34.1"), (2, 22, "12"), (2, 40, "5")]


def test_a_template_file_name_is_not_a_typed_number():
    src = ('{% include "part2.md.j2" %}{% import "macros3.j2" as m %}{% from "t4.j2" import x %}\n'
           '{% extends "base5.j2" %}{{ x.part("6") }}\n')
    assert found(src) == [(2, 35, "6")]


def test_message_names_place_literal_and_fix():
    [f] = checks.lint_source("\nwas 34.1 months\n", "templates/results.md.j2", hints={"34.1": "os.mean"})
    assert str(f) == ("templates/results.md.j2:2:5: typed number '34.1': print a value from the analysis plan, "
                      'e.g. {{ os.mean }}, or mark non-data with {{ literal("34.1") }}')


def test_a_comment_opener_inside_a_comment_is_reported():
    source = "Intro.\n{## Comments are written {## ... ##}; the rest. ##}\nText.\n"
    found = checks.lint_source(source, "templates/t.md.j2")
    assert [(f.line, f.column, f.where) for f in found] == [(2, 26, "syntax"), (2, 49, "syntax")]
    assert str(found[0]).startswith("templates/t.md.j2:2:26: a comment inside a comment")


def test_windows_line_endings_keep_line_numbers():
    assert found("one line\r\nthen 12\r\n") == [(1, 1, "one"), (2, 6, "12")]


def test_repository_templates_have_no_typed_numbers():
    assert checks.lint_templates(ROOT / "templates") == []


def test_a_template_is_linted_again_once_its_text_changes(tmp_path):
    """watch and preview lint every build; a template's findings are remembered by its text, never longer."""
    (tmp_path / "templates").mkdir()
    tpl = tmp_path / "templates" / "results.md.j2"
    tpl.write_text("Survival was {{ os.mean }}.\n", encoding="utf-8")
    assert checks.lint_templates(tmp_path / "templates") == []
    tpl.write_text("Survival was 34.1 months.\n", encoding="utf-8")
    assert [(f.line, f.text) for f in checks.lint_templates(tmp_path / "templates")] == [(1, "34.1")]
    assert [(f.line, f.text) for f in checks.lint_templates(tmp_path / "templates")] == [(1, "34.1")]
    tpl.write_text("Survival was {{ os.mean }}.\n", encoding="utf-8")
    assert checks.lint_templates(tmp_path / "templates") == []
    tpl.write_text("Survival was <b>long</b>.\n", encoding="utf-8")  # the same text, other markup allowed
    assert [f.where for f in checks.lint_templates(tmp_path / "templates")] == ["raw"]
    assert checks.lint_templates(tmp_path / "templates", allow_raw=frozenset({"html"})) == []


# --- the lint on the build and the check command --------------------------------------

def _type_into_results(root, text: str) -> tuple[int, int]:
    """Append ``text`` to the first prose line of results.md.j2 that has none; return its line and column."""
    path = root / "templates" / "results.md.j2"
    lines = path.read_text(encoding="utf-8").split("\n")
    n = next(i for i, line in enumerate(lines) if line.startswith("In total,"))
    lines[n] = lines[n] + f" The mean was {text} months."
    path.write_text("\n".join(lines), encoding="utf-8")
    return n + 1, len(lines[n]) - len(f"{text} months.") + 1


def test_check_fails_on_a_typed_number_and_passes_once_it_is_removed(tmp_path, capsys):
    root = copy_study(tmp_path)
    original = (root / "templates" / "results.md.j2").read_text(encoding="utf-8")
    line, col = _type_into_results(root, "34.1")
    assert cli.main(["check"], root=root) == 2
    err = capsys.readouterr().err
    assert f"templates/results.md.j2:{line}:{col}: typed number '34.1'" in err
    assert 'literal("34.1")' in err and "Traceback" not in err

    (root / "templates" / "results.md.j2").write_text(original, encoding="utf-8")
    assert cli.main(["check"], root=root) == 0
    out = capsys.readouterr().out
    assert "no hand-typed numbers" in out and "check passed" in out


def test_build_fails_on_a_typed_number_before_reading_data(tmp_path):
    from papergen.pipeline.build import build_manuscript

    root = copy_study(tmp_path)
    _type_into_results(root, "twelve")
    (root / "data" / "patients.csv").unlink()  # a data error would be reported if the lint ran later
    with pytest.raises(HandTypedNumberError, match=r"results\.md\.j2:\d+:\d+: typed number 'twelve'"):
        build_manuscript(root, out_dir=tmp_path / "out", echo=lambda *_: None)


# --- consistency ------------------------------------------------------------------

def _value(key, n, of, source, line):
    return Value(key=key, text=str(n), exact={"n": n, "of": of}, count=n, inputs=[source],
                 method={"function": "papergen.statistics.count"}, declared_at=f"plan.py:{line}")


def test_duplicate_declaration_is_reported_with_both_places():
    from papergen.values import Registry

    data = Source("data/patients.csv", ("patient_id",), ("p1", "p2"), digest="abc")
    other = Source("data/patients.csv", ("patient_id",), ("p1", "p2"), digest="def")  # same rows, other data
    reg = Registry()
    reg.add(_value("n_patients", 2, 2, data, 10))
    reg.add(_value("table.n", 2, 2, data, 50))
    reg.add(_value("baseline.male", 2, 2, other, 60))
    reg.add(Value(key="method.a", text="95", exact={"value": 95}, inputs=[Source("x", ())],
                  method={"function": "papergen.statistics.parameter"}, declared_at="plan.py:3"))
    reg.add(Value(key="method.b", text="95", exact={"value": 95}, inputs=[Source("x", ())],
                  method={"function": "papergen.statistics.parameter"}, declared_at="plan.py:4"))
    assert consistency.duplicate_values(reg) == [
        "plan.py:50: value 'table.n' is the same statistic of the same data as 'n_patients' (plan.py:10); "
        "declare it once and print that value everywhere"]


def test_count_identity_violation_names_both_places():
    src = Source("data/patients.csv", ("sex",))
    n, male, female = _value("n_patients", 11, 11, src, 37), _value("male", 6, 11, src, 46), _value("female", 4, 11, src, 48)
    assert consistency.identity_violations([Identity(n, [male, female], "every patient is male or female", "plan.py:99")]) == [
        "plan.py:99: n_patients = 11 (plan.py:37) but male + female = 10 (plan.py:46, plan.py:48): "
        "every patient is male or female"]
    female.count = 5
    assert consistency.identity_violations([Identity(n, [male, female], "every patient is male or female", "plan.py:99")]) == []


def test_per_subject_identity_names_the_first_subject_that_breaks_it():
    ids = ["P01", "P02", "P03"]
    m = lambda values, label, file: Measure(pd.Series(values, index=ids), Source(file, ("treatment",)), label)  # noqa: E731
    total = m([4, 2, 5], "all lesions", "data/lesions.csv")
    res, abl = m([1, 1, 2], "resected", "data/lesions.csv"), m([3, 1, 2], "ablated", "data/lesions.csv")
    [line] = consistency.identity_violations([Identity(total, [res, abl], "resected plus ablated", "plan.py:70")])
    assert line.startswith("plan.py:70: all lesions (data/lesions.csv treatment) differs from resected + ablated")
    assert "for 1 of 3 subjects, first P03: 5 vs 4: resected plus ablated" in line


def test_the_study_declares_sums_and_no_duplicates(built):
    analysis_keys = set(built.registry.keys())
    assert "table.n" not in analysis_keys  # the table header prints n_patients itself
    plan = (ROOT / "study" / "analysis_plan.py").read_text(encoding="utf-8")
    assert len(re.findall(r"a\.require_sum\(", plan)) >= 5


N_LINE = 'n = a.value("n_patients"'
MALE_LINE = 'male = a.value("baseline.male"'


def _plan_line(root, text: str) -> int:
    lines = (root / "study" / "analysis_plan.py").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _add_to_plan(root, code: str) -> None:
    path = root / "study" / "analysis_plan.py"
    s = path.read_text(encoding="utf-8")
    anchor = "    # --- figures"
    assert s.count(anchor) == 1
    path.write_text(s.replace(anchor, code + anchor), encoding="utf-8")


def test_build_stops_on_a_broken_sum_naming_both_declarations(tmp_path):
    from papergen.pipeline.build import build_manuscript

    root = copy_study(tmp_path)
    _add_to_plan(root, '    a.require_sum(n, [male], "every patient is a man (deliberately wrong)")\n')
    want = (f"study/analysis_plan.py:{_plan_line(root, 'deliberately wrong')}: n_patients = 11 "
            f"(study/analysis_plan.py:{_plan_line(root, N_LINE)}) but baseline.male = 6 "
            f"(study/analysis_plan.py:{_plan_line(root, MALE_LINE)})")
    with pytest.raises(ConsistencyError) as err:
        build_manuscript(root, out_dir=tmp_path / "out", echo=lambda *_: None)
    assert str(err.value).startswith(want)


def test_build_stops_on_a_statistic_declared_twice(tmp_path):
    from papergen.pipeline.build import build_manuscript

    root = copy_study(tmp_path)
    _add_to_plan(root, '    a.value("cohort_size", st.count(a.column("patients", "patient_id", "patients")), "Again.")\n')
    with pytest.raises(ConsistencyError) as err:
        build_manuscript(root, out_dir=tmp_path / "out", echo=lambda *_: None)
    assert str(err.value) == (
        f"study/analysis_plan.py:{_plan_line(root, 'cohort_size')}: value 'cohort_size' is the same statistic of the "
        f"same data as 'n_patients' (study/analysis_plan.py:{_plan_line(root, N_LINE)}); "
        "declare it once and print that value everywhere")


# --- issue 15 item 8: raw markup in a template ---------------------------------------------------

RAW = """# Results

```{=openxml}
<w:fldSimple w:instr="INCLUDETEXT /etc/passwd"/>
```

Inline `#read("/etc/passwd")`{=typst} and <img src=x onerror=alert(true)> and `\\input{x}`{=latex}.

Harmless: `<b>` in code, <!-- a comment -->, <https://example.org>, a <b and \\newpage.

```
<script>in a code block</script>
```
"""


def _raw(allow=frozenset()):
    return [(f.line, f.column, f.text.split(":")[0]) for f in checks.lint_source(RAW, "t.md.j2", allow_raw=allow)
            if f.where == "raw"]


def test_raw_blocks_inlines_and_html_tags_are_refused_with_line_and_column():
    assert _raw() == [(3, 1, "raw openxml block"), (7, 8, "raw typst inline"),
                      (7, 43, "raw html tag <img src=x onerror=alert(true)>"), (7, 79, "raw latex inline")]
    [f] = [f for f in checks.lint_source(RAW, "templates/t.md.j2") if f.where == "raw"][:1]
    assert str(f).startswith("templates/t.md.j2:3:1: raw openxml block: pandoc passes it verbatim into the DOCX")
    assert str(f).endswith("allow it in study/study.yaml with allow_raw: [openxml]")


def test_raw_markup_of_an_allowed_format_passes():
    assert _raw(frozenset({"openxml", "html"})) == [(7, 8, "raw typst inline"), (7, 79, "raw latex inline")]
    assert _raw(frozenset({"openxml", "html", "typst", "latex"})) == []


def test_raw_markup_alone_is_a_raw_markup_error(tmp_path):
    from papergen.errors import RawMarkupError

    (tmp_path / "t.md.j2").write_text("Some <script>x</script> text.\n", encoding="utf-8")
    with pytest.raises(RawMarkupError, match=r"t\.md\.j2:1:6: raw html tag <script>"):
        checks.assert_no_typed_numbers(tmp_path)
    checks.assert_no_typed_numbers(tmp_path, allow_raw=frozenset({"html"}))
