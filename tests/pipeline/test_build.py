"""End to end: build the study and find every published figure, as printed, in the DOCX and PDF."""
from __future__ import annotations

import docx
import pytest

from conftest import ROOT, docx_text, pdf_text

# The 15 figures of ../shared/reference/published-values.md, in the form the journal printed them
# (abstract and highlights), under the study's WJCC house style; "±" is the SD for operation time
# and the SE for the KM mean. One exception of notation: the article writes the unit after the
# median for blood loss and fever ("600 mL (range, ...)", "3 d (range, ...)") but after the range
# for progression-free survival ("8 (range, 2 to 51) mo"); one house style prints one form, the
# first, so that figure is "8 mo (range, 2 to 51)".
PUBLISHED = {
    "n": "Eleven patients",
    "period": "June 2015 to January 2018",
    "nodules": "4 (range, 2 to 43)",
    "resected": "1 (range, 1 to 18)",
    "ablated": "3 (range, 1 to 38)",
    "op_time": "405.6 (± 39.4) min",
    "blood_loss": "600 mL (range, 50 to 3000)",
    "fever_n": "Ten patients",
    "fever_days": "3 d (range, 0 to 21)",
    "bili_elevated": "all patients",
    "bili_pod1": "28.5 µmol/L (range, 10.7 to 98.9)",
    "complication": "respiratory failure, renal insufficiency, and pneumonia",
    "deaths_in_hospital": "No patient died",
    "os_mean": "34.1 (± 3.7) mo",
    "pfs": "8 mo (range, 2 to 51)",
}


@pytest.fixture(scope="module")
def texts(built):
    return {"docx": docx_text(built.outputs.docx), "pdf": pdf_text(built.outputs.pdf)}


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_published_figure_appears_as_printed(texts, fmt, key):
    assert PUBLISHED[key] in texts[fmt], f"{key}: {PUBLISHED[key]!r} not found in the {fmt.upper()}"


def test_outputs_exist(built):
    out = built.outputs
    for p in (out.docx, out.pdf, out.ledger, out.figures / "os.png", out.figures / "os.pdf",
              out.figures / "pfs.png", out.figures / "pfs.pdf"):
        assert p.exists() and p.stat().st_size > 0, p


def test_docx_has_real_tables_with_values(built):
    d = docx.Document(str(built.outputs.docx))
    assert len(d.tables) == 2
    cells = {c.text for t in d.tables for row in t.rows for c in row.cells}
    assert "405.6 (± 39.4)" in cells and "600 (50–3000)" in cells and "n = 11" in cells


def test_docx_uses_journal_styles(built):
    d = docx.Document(str(built.outputs.docx))
    normal = d.styles["Normal"]
    assert normal.font.name == "Book Antiqua"  # the publisher's guideline (study.yaml docx_style)
    assert normal.font.size.pt == 12
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading 1")]
    for section in ("Abstract", "INTRODUCTION", "MATERIALS AND METHODS", "RESULTS", "DISCUSSION",
                    "CONCLUSION", "ARTICLE HIGHLIGHTS", "REFERENCES"):
        assert section in headings, f"missing section heading {section}"


def test_demonstration_label_on_title_page(texts):
    for fmt in ("docx", "pdf"):
        head = texts[fmt][:600]
        assert "Demonstration edition" in head and "no patient data" in head


def test_citations_are_numbered_and_listed(texts, built):
    # Baishideng style: bracketed numbers, reference list with DOIs
    assert "Kaplan EL, Meier P" in texts["docx"]
    assert "10.1080/01621459.1958.10501452" in texts["docx"]
    d = docx.Document(str(built.outputs.docx))
    sup = [r.text for p in d.paragraphs for r in p.runs if r.font.superscript]
    assert "[1]" in sup


def test_figures_embedded_at_print_resolution(built):
    from PIL import Image

    d = docx.Document(str(built.outputs.docx))
    assert len(d.inline_shapes) == 2
    dpi = Image.open(built.outputs.figures / "os.png").info["dpi"]
    assert round(dpi[0]) == 300


def test_no_template_prints_a_bare_statistic(root):
    # every digit in the rendered Markdown outside value spans, citations and structure is a defect
    import re

    text = (root / "templates").glob("*.j2")
    for path in text:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            prose = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{##.*?##\}|\[@[^\]]*\]|\{[^}]*\}", "", line)
            assert not re.search(r"\d", prose), f"{path.name}:{n}: typed digit in {prose.strip()[:80]!r}"


def test_the_page_comes_before_the_rest(built, tmp_path):
    """build_manuscript(on_page=...) (the preview) hands over the review edition before DOCX and PDF exist; the
    build then ends as any build: the same review edition, everything swapped in."""
    from papergen.pipeline.build import build_manuscript

    final, seen = tmp_path / "manuscript", []

    def on_page(out):
        seen.append((out.review.read_bytes(), out.docx.exists(), out.pdf.exists(), final.exists()))

    result = build_manuscript(ROOT, out_dir=final, echo=lambda *_: None, on_page=on_page)
    assert len(seen) == 1
    page, docx_then, pdf_then, final_then = seen[0]
    assert (docx_then, pdf_then, final_then) == (False, False, False)
    assert page == result.outputs.review.read_bytes() == built.outputs.review.read_bytes()
    assert result.outputs.docx.is_file() and result.outputs.pdf.is_file()


def test_a_figure_that_cannot_be_drawn_stops_the_build_in_one_line(tmp_path):
    """The stages that show the figures wait for the drawing (the others start before it ends); a drawing
    the plan's options make impossible is still one line naming the plan line, and manuscript/ stays as it was."""
    from studycopy import copy_study, run_build, tree_hash

    study = copy_study(tmp_path / "study")
    assert run_build(study).returncode == 0
    before = tree_hash(study / "manuscript")
    plan = study / "study" / "analysis_plan.py"
    text = plan.read_text(encoding="utf-8")
    call = 'a.figure("os", [("Overall survival", os_)],'
    assert text.count(call) == 1
    plan.write_text(text.replace(call, call + " xstep=1, columns=1,"), encoding="utf-8")
    proc = run_build(study)
    errors = [line for line in proc.stdout.splitlines() + proc.stderr.splitlines() if line.startswith("error")]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(errors) == 1 and "figure 'os' cannot be drawn: the numbers at risk touch" in errors[0], errors
    assert "study/analysis_plan.py:" in errors[0] and "Traceback" not in proc.stderr
    assert tree_hash(study / "manuscript") == before
