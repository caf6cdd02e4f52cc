"""The DOCX and PDF as a production editor checks them: read back with python-docx and pypdf, and
rendered by a real word processor (LibreOffice headless) where Word's behaviour matters."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
import yaml
from docx.oxml.ns import qn
from pypdf import PdfReader

from conftest import ROOT
from libreoffice import convert, need_soffice

STUDY = yaml.safe_load((ROOT / "study" / "study.yaml").read_text(encoding="utf-8"))
PROFILE = yaml.safe_load((ROOT / "study" / "journal.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def document(built):
    return docx.Document(str(built.outputs.docx))


def test_title_in_title_style_and_properties_filled(built, document):
    title = STUDY["facts"]["title"]["text"]
    assert [p.style.name for p in document.paragraphs if p.text == title] == ["Title"]
    props = document.core_properties
    assert (props.title, props.author, props.language) == (title, STUDY["facts"]["authors"]["text"], "en-US")
    assert props.keywords.split("; ")[:2] == ["Neuroendocrine tumor", "Liver metastases"]
    with zipfile.ZipFile(built.outputs.docx) as z:
        app = z.read("docProps/app.xml").decode("utf-8")
    assert "<Application>papergen</Application>" in app and "Microsoft Word" not in app
    words = int(re.search(r"<Words>(\d+)</Words>", app).group(1))
    assert words > 2000  # this manuscript's count, not the template's 83


def test_body_tables_captions_headings_each_get_their_own_look(document):
    styles = document.styles
    normal = styles["Normal"]
    assert (normal.font.name, normal.font.size.pt, normal.paragraph_format.line_spacing) == ("Book Antiqua", 12, 1.5)
    table_text = styles["Table Text"]
    assert (table_text.font.size.pt, table_text.paragraph_format.line_spacing) == (10, 1.0)
    assert styles["Table Caption"].font.size.pt == 10 and styles["Heading 1"].font.size.pt == 12
    assert styles["Title"].font.size.pt == 14


def test_table_cells_compact_indented_by_paragraph_kept_whole_and_wide_enough(document):
    table = document.tables[0]
    labels = [row.cells[0].paragraphs[0] for row in table.rows]
    assert {p.style.name for p in labels} == {"Table Text", "Table Text Indent"}
    male = next(p for p in labels if p.text == "Male")
    assert male.style.name == "Table Text Indent" and male.style.paragraph_format.left_indent > 0
    assert not any(p.text.startswith("\u00a0") for p in labels)  # no indent typed as spaces
    for i, row in enumerate(table.rows):
        assert row._tr.trPr.find(qn("w:cantSplit")) is not None
        keep = row.cells[0].paragraphs[0]._p.pPr.find(qn("w:keepNext"))
        assert (keep is not None) == (i < len(table.rows) - 1)
    styles = {p.style.name for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs}
    assert styles <= {"Table Text", "Table Text Indent", "Table Text Indent 2"}  # an empty cell too
    notes = [p for p in document.paragraphs if p.text.startswith("SD: standard deviation")]
    assert [p.style.name for p in notes] == ["Table Note"] and document.styles["Table Note"].font.size.pt == 10
    widths = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert widths[0] > 2 * widths[1]  # the label column holds "Liver metastases per patient, median (range)"


def test_line_numbers_footer_style_and_references_without_links(built, document):
    sect = document.sections[0]._sectPr
    assert sect.find(qn("w:lnNumType")).get(qn("w:restart")) == "continuous"
    footer = document.sections[0].footer.paragraphs[0]
    assert footer.style.style_id == "Footer" and footer.style.name == "Footer"
    with zipfile.ZipFile(built.outputs.docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    references = xml[xml.index(">REFERENCES<"):]
    references = references[:references.index("Table 1")]
    assert "<w:hyperlink" not in references and references.count("DOI: 10.") > 10


def test_reference_list_prints_pmid_and_doi_in_the_publishers_form(built):
    from conftest import docx_text

    text = docx_text(built.outputs.docx)
    assert "[PMID: 26313798 DOI: 10.1097/MD.0000000000001429]" in text
    assert "[PMID: 23374359 DOI: 10.1111/j.1477-2574.2012.00528.x]" in text  # DOI verified on branch refcheck
    assert "HPB (Oxford)" in text and "J Clin Oncol 2008; 26: 3063-3072." in text  # NLM abbreviation, hyphen


def test_pdf_embeds_vector_figures_and_carries_title_authors_and_key_words(built, document):
    reader = PdfReader(str(built.outputs.pdf))
    assert reader.metadata.title == STUDY["facts"]["title"]["text"]
    assert reader.metadata.author == STUDY["facts"]["authors"]["text"]
    keywords = reader.metadata.get("/Keywords", "").split(", ")
    assert keywords[:2] == ["Neuroendocrine tumor", "Liver metastases"]
    assert keywords == document.core_properties.keywords.split("; ")  # the PDF and the DOCX list the same
    images = [name for page in reader.pages
              for name, obj in (page.get("/Resources", {}).get("/XObject") or {}).items()
              if obj.get_object().get("/Subtype") == "/Image"]
    assert images == []  # the figures are the vector PDFs, not the 300 dpi PNGs
    typ = built.outputs.pdf.with_suffix(".typ").read_text(encoding="utf-8")
    assert 'image("figures/os.pdf"' in typ


def _render(docx_path: Path, folder: Path) -> Path:
    """The DOCX printed to PDF by LibreOffice headless, in its own throw-away profile."""
    return convert(docx_path, "pdf", folder, folder / "profile")


def _pages(pdf: Path) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(str(pdf)).pages]


def test_word_processor_keeps_tables_whole_and_the_title_page_complete(built, tmp_path):
    need_soffice()
    pages = _pages(_render(built.outputs.docx, tmp_path))
    for caption, last_row in (("Table 1 Baseline", "Largest metastasis"), ("Table 2 Operative", "Postoperative hospital stay")):
        start = next(i for i, p in enumerate(pages) if caption in p)
        assert last_row in pages[start], f"{caption} breaks across pages {start + 1} and {start + 2}"
    before_abstract = " ".join(pages[:next(i for i, p in enumerate(pages) if "BACKGROUND" in p)])
    for item in PROFILE["title_page"]["required"]:
        assert item["label"] in before_abstract, item["label"]


def test_word_processor_uses_the_profiles_fonts(built, tmp_path):
    """Book Antiqua is not installed here, so the fonts are checked with two that are: body and tables apart."""
    need_soffice()
    if shutil.which("pdffonts") is None:  # poppler-utils: .ci/run installs it
        (pytest.fail if os.environ.get("CI") else pytest.skip)("pdffonts (poppler-utils) is not installed")
    from papergen.publish.export import to_docx
    from papergen.publish.reference_docx import build_reference_docx

    ref = build_reference_docx(tmp_path / "ref.docx", font="DejaVu Serif", tables={"font": "DejaVu Sans Mono"})
    out = to_docx(built.outputs.markdown, tmp_path / "fonts.docx", resource_path=built.outputs.dir,
                  bibliography=ROOT / "study" / "references.bib", csl=ROOT / "study" / "baishideng-publishing-group.csl",
                  reference_docx=ref, properties={"title": STUDY["facts"]["title"]["text"]})
    fonts = subprocess.run(["pdffonts", str(_render(out, tmp_path / "lo"))], capture_output=True, text=True).stdout
    names = {re.sub(r"^[A-Z]{6}\+", "", line.split()[0]) for line in fonts.splitlines()[2:]}
    assert {"DejaVuSerif", "DejaVuSansMono"} <= names, names
