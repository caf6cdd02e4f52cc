"""Number accounting: every numeral in the DOCX and PDF is a generated value or known structure."""
from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from conftest import ROOT, copy_study, docx_text
from papergen.trace import accounting as acc


def journal_texts(outputs) -> dict[str, str]:
    """Plain text of the DOCX (paragraphs, then table cells) and of the PDF without its page numbers."""
    pages = [p.extract_text() for p in PdfReader(str(outputs.pdf)).pages]
    return {"docx": docx_text(outputs.docx), "pdf": " ".join(acc.strip_page_numbers(pages))}


def account(outputs, study_root) -> dict[str, list[acc.Unaccounted]]:
    values = json.loads(outputs.ledger.read_text(encoding="utf-8"))["values"]
    refs = acc.reference_list(study_root / "study" / "references.bib", study_root / "templates")
    literals = acc.literals_in_templates(study_root / "templates")
    # the PDF embeds the vector figures, whose ticks and at-risk tables are text
    figures = [" ".join(p.extract_text() for p in PdfReader(str(f)).pages) for f in sorted(outputs.figures.glob("*.pdf"))]
    return {fmt: acc.unaccounted(text, values, literals=literals, references=refs, figures=figures)
            for fmt, text in journal_texts(outputs).items()}


# --- the built manuscript ----------------------------------------------------------

@pytest.fixture(scope="module")
def findings(built):
    return account(built.outputs, ROOT)


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_every_numeral_is_a_value_or_structure(findings, fmt):
    assert findings[fmt] == [], f"{fmt.upper()}: numbers no value printed:\n" + "\n".join(map(str, findings[fmt]))


def test_the_texts_are_full_of_numbers(built):
    # guards the test above against an empty or unreadable text passing trivially
    for fmt, text in journal_texts(built.outputs).items():
        assert len(acc.NUMERAL.findall(text)) > 300, fmt
        assert "34.1 (± 3.7) mo" in text and "Kaplan EL, Meier P" in text, fmt


def test_a_typed_number_in_a_template_or_the_plan_is_reported(tmp_path, monkeypatch):
    study = copy_study(tmp_path / "study")
    results = study / "templates" / "results.md.j2"
    results.write_text(results.read_text(encoding="utf-8").rstrip("\n")
                       + "\n\nThe operating register also listed 42.7 for this series.\n", encoding="utf-8")
    plan = study / "study" / "analysis_plan.py"
    old = "SD: standard deviation."
    assert plan.read_text(encoding="utf-8").count(old) == 1
    plan.write_text(plan.read_text(encoding="utf-8").replace(old, "SD: standard deviation (61.9 typed)."),
                    encoding="utf-8")
    # The template lint would stop this build first (as it should); switch it off to show that
    # accounting alone still catches the typed numbers, including the one in the plan no lint reads.
    from papergen.write import lint as checks
    from papergen.pipeline.build import build_manuscript

    monkeypatch.setattr(checks, "assert_no_typed_numbers", lambda *a, **k: None)
    result = build_manuscript(study, out_dir=tmp_path / "out", echo=lambda *_: None)
    values = json.loads(result.outputs.ledger.read_text(encoding="utf-8"))["values"]
    printed = " ".join(t for e in values.values() for t in [e["text"], *e["parts"].values()])
    assert "42.7" not in printed and "61.9" not in printed  # neither number is a value's text
    for fmt, found in account(result.outputs, study).items():
        assert sorted(f.numeral for f in found) == ["42.7", "61.9"], (fmt, found)
        typed = next(f for f in found if f.numeral == "42.7")
        assert "operating register also listed 42.7 for this series" in typed.context, typed
        assert "42.7" in str(typed)


# --- the accounting rules on small hand-made texts ---------------------------------

VALUES = {
    "os.mean": {"text": "34.1 ± 3.7 months", "parts": {"se": "3.7"},
                "places": [{"printed": "34.1 ± 3.7 months"}]},
    "table.n": {"text": "11", "parts": {}, "places": [{"printed": "n = 11"}]},
}
REFS = acc.ReferenceList(heading="REFERENCES", count=2, digits=frozenset({"2008", "26", "3063", "3072"}))


def test_values_citations_and_literals_are_accounted():
    text = "Mean 34.1 ± 3.7\nmonths (n = 11) by Ki-67 [1,2] and [1–2]."
    assert acc.unaccounted(text, VALUES, literals=["Ki-67"], references=REFS) == []


def test_typed_numbers_citations_beyond_the_list_and_parts_of_numbers_are_reported():
    text = "Mean 34.1 ± 3.7 months, median 34.15, typed 42.7, cited [3], and 134.1."
    found = acc.unaccounted(text, VALUES, references=REFS)
    assert [f.numeral for f in found] == ["34.15", "42.7", "3", "134.1"]
    assert "median 34.15, typed 42.7, cited [3]" in found[1].context


def test_reference_list_numbers_only_inside_the_list():
    text = "Body 2008 here. REFERENCES 1 Yao JC. J Clin Oncol 2008; 26: 3063-3072. 2 Other 1999. Table 1 x"
    found = acc.unaccounted(text, {"ref.t": {"text": "Table 1", "parts": {}, "places": []}}, references=REFS)
    assert [f.numeral for f in found] == ["2008", "1999"]
    assert found[0].context.startswith("Body 2008")


def test_page_numbers_are_removed_page_by_page():
    pages = ["Title page text\n1", "2 Dasari A. text ends 7\n2", "last page 31"]
    assert acc.strip_page_numbers(pages) == ["Title page text", "2 Dasari A. text ends 7", "last page 31"]


def test_reference_list_reads_the_bibliography_with_pandoc():
    refs = acc.reference_list(ROOT / "study" / "references.bib", ROOT / "templates")
    assert refs.heading == "REFERENCES" and refs.count == 22
    assert {"3063", "3072", "2008", "26"} <= refs.digits  # yao2008: pages 3063--3072, volume 26
