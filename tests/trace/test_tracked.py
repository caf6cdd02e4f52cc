"""changes.docx with Word's own tracked changes: each struck run a w:del, each highlighted run a w:ins, by papergen.

The DOCX is pandoc's (the same call the change report makes); LibreOffice, where
installed, must read the changes as recorded changes it can accept or reject.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from libreoffice import convert, need_soffice  # noqa: E402

from papergen.publish import export  # noqa: E402
from papergen.publish.reference_docx import build_reference_docx  # noqa: E402
from papergen.trace.tracked import track_changes  # noqa: E402
from papergen.trace.wordtext import read_word  # noqa: E402

EPOCH = 1604102400  # 2020-10-31


@pytest.fixture
def report(tmp_path) -> Path:
    md = tmp_path / "changes.md"
    md.write_text("During follow-up ~~five patients~~ [six patients]{.mark} died.\n\n"
                  "Unchanged paragraph.\n\n- `os.deaths`: ~~five~~ (Results)\n", encoding="utf-8")
    ref = build_reference_docx(tmp_path / "reference.docx")
    out = export.to_docx(md, tmp_path / "changes.docx", resource_path=tmp_path, bibliography=None, csl=None,
                         reference_docx=ref, source_date_epoch=EPOCH)
    assert track_changes(out, source_date_epoch=EPOCH) == 3
    return out


def test_struck_and_highlighted_runs_become_tracked_changes(report):
    w = read_word(report.read_bytes())
    assert w.text.splitlines()[0] == "During follow-up six patients died."       # every change accepted
    assert [(c.kind, c.text, c.author, c.date) for c in w.changes] == [
        ("del", "five patients", "papergen", "2020-10-31T00:00:00Z"),
        ("ins", "six patients", "papergen", "2020-10-31T00:00:00Z"),
        ("del", "five", "papergen", "2020-10-31T00:00:00Z")]
    doc = etree.fromstring(__import__("zipfile").ZipFile(report).read("word/document.xml"))
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    assert not doc.xpath("//w:strike | //w:highlight", namespaces=ns)
    rejected = "".join(doc.xpath("(//w:p)[1]//w:t/text() | (//w:p)[1]//w:delText/text()", namespaces=ns))
    assert rejected.replace("six patients", "") == "During follow-up five patients died."


def test_two_runs_are_byte_identical(report, tmp_path):
    first = report.read_bytes()
    md = tmp_path / "changes.md"
    again = export.to_docx(md, tmp_path / "again.docx", resource_path=tmp_path, bibliography=None, csl=None,
                           reference_docx=tmp_path / "reference.docx", source_date_epoch=EPOCH)
    track_changes(again, source_date_epoch=EPOCH)
    assert again.read_bytes() == first


def test_libreoffice_reads_them_as_recorded_changes(report, tmp_path):
    need_soffice()
    fodt = convert(report, "fodt", tmp_path / "lo", tmp_path / "profile")
    root = etree.parse(str(fodt)).getroot()
    ns = {"text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0", "dc": "http://purl.org/dc/elements/1.1/"}
    regions = root.xpath("//text:tracked-changes/text:changed-region", namespaces=ns)
    kinds = [etree.QName(r[0]).localname for r in regions]
    assert sorted(kinds) == ["deletion", "deletion", "insertion"]
    assert set(root.xpath("//text:changed-region//dc:creator/text()", namespaces=ns)) == {"papergen"}
