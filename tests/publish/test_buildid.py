"""The build identifier: a custom document property in the DOCX, the hash of what pandoc wrote."""
from __future__ import annotations

import zipfile

import docx

from papergen.publish import export
from papergen.publish.buildid import PROPERTY, read_build_id, stamp_build_id
from papergen.publish.reference_docx import build_reference_docx

EPOCH = 1604102400


def _pandoc_docx(tmp_path, text="Some text.\n"):
    md = tmp_path / "m.md"
    md.write_text(text, encoding="utf-8")
    ref = build_reference_docx(tmp_path / "reference.docx")
    return export.to_docx(md, tmp_path / "m.docx", resource_path=tmp_path, bibliography=None, csl=None,
                          reference_docx=ref, source_date_epoch=EPOCH)


def test_stamped_id_is_a_custom_property_word_shows(tmp_path):
    path = _pandoc_docx(tmp_path)
    build = stamp_build_id(path, EPOCH)
    assert read_build_id(path.read_bytes()) == build and len(build) == 16
    props = docx.Document(str(path)).part.package.parts  # python-docx opens it: a valid package
    assert any(p.partname == "/docProps/custom.xml" for p in props)
    with zipfile.ZipFile(path) as z:
        assert PROPERTY.encode() in z.read("docProps/custom.xml")


def test_same_input_same_id_and_bytes_other_input_other_id(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    for d in (a, b, c):
        d.mkdir()
    ids = [stamp_build_id(_pandoc_docx(a), EPOCH), stamp_build_id(_pandoc_docx(b), EPOCH),
           stamp_build_id(_pandoc_docx(c, "Other text.\n"), EPOCH)]
    assert ids[0] == ids[1] != ids[2]
    assert (a / "m.docx").read_bytes() == (b / "m.docx").read_bytes()


def test_a_docx_without_custom_properties_gets_them(tmp_path):
    path = tmp_path / "plain.docx"
    d = docx.Document()
    d.add_paragraph("x")
    d.save(str(path))
    with zipfile.ZipFile(path) as z:
        assert "docProps/custom.xml" not in z.namelist()
    assert read_build_id(path.read_bytes()) is None
    build = stamp_build_id(path, EPOCH)
    assert read_build_id(path.read_bytes()) == build
    docx.Document(str(path))  # still a valid package
