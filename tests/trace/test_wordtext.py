"""The text of a DOCX with Word's tracked changes and comments (real OOXML written by python-docx and Word markup)."""
from __future__ import annotations

import sys
from pathlib import Path

import docx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ooxml import Docx  # noqa: E402

from papergen.errors import CorruptDocxError, ProtectedDocxError  # noqa: E402
from papergen.trace.wordtext import read_word  # noqa: E402


@pytest.fixture
def plain(tmp_path) -> Path:
    d = docx.Document()
    d.add_paragraph("The first paragraph was short.")
    d.add_paragraph("")
    d.add_paragraph("The second paragraph was longer than the first.")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Age", "61 (45-78)"
    path = tmp_path / "plain.docx"
    d.save(str(path))
    return path


def test_paragraphs_and_cells_one_line_each_empty_ones_left_out(plain):
    assert read_word(plain.read_bytes()).text == ("The first paragraph was short.\n"
                                                  "The second paragraph was longer than the first.\nAge\n61 (45-78)")


def test_tracked_changes_accepted_with_author(plain, tmp_path):
    d = Docx(plain)
    d.replace("short", "brief", author="J. Smith")
    d.insert_after("longer", " by far", author="K. Lee")
    d.make_bold("second")
    w = read_word(d.save(tmp_path / "r.docx").read_bytes())
    assert w.text.splitlines()[:2] == ["The first paragraph was brief.", "The second paragraph was longer by far than the first."]
    assert [(c.kind, c.text, c.author) for c in w.changes] == [
        ("del", "short", "J. Smith"), ("ins", "brief", "J. Smith"), ("ins", " by far", "K. Lee")]
    assert w.authors(w.text.index("brief"), w.text.index("brief") + 5) == ["J. Smith"]
    assert w.formatting_changes == 1


def test_deleted_paragraph_mark_joins_and_deleted_paragraph_goes(plain, tmp_path):
    d = Docx(plain)
    d.join_paragraphs("The first paragraph")  # joined to the empty paragraph after it: still two paragraphs
    assert read_word(d.save(tmp_path / "e.docx").read_bytes()).text.startswith("The first paragraph was short.\nThe")
    empty = d.paragraph_with("The first paragraph").getnext()
    d._mark(empty, "del", "J. Smith")
    w = read_word(d.save(tmp_path / "j.docx").read_bytes())
    assert w.text.startswith("The first paragraph was short.The second")
    d = Docx(plain)
    d.delete_paragraph("The second paragraph")
    assert "second" not in read_word(d.save(tmp_path / "d.docx").read_bytes()).text


def test_moves_and_comments(plain, tmp_path):
    d = Docx(plain)
    d.move(" short", "The second paragraph was")
    d.comment("longer than", "Longer how?", author="A. Reviewer")
    w = read_word(d.save(tmp_path / "m.docx").read_bytes())
    assert w.text.splitlines()[:2] == ["The first paragraph was.", "The second paragraph was short longer than the first."]
    assert all(c.moved for c in w.changes)
    (c,) = w.comments
    assert (c.author, c.text, w.text[c.start:c.end]) == ("A. Reviewer", "Longer how?", "longer than")


def test_not_a_docx(tmp_path, plain):
    with pytest.raises(CorruptDocxError, match="damaged or not a DOCX"):
        read_word(plain.read_bytes()[:300], "x.docx")
    with pytest.raises(ProtectedDocxError, match="password-protected"):
        read_word(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"), "x.docx")
    with pytest.raises(CorruptDocxError, match="Word 97-2003"):
        read_word(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "x.doc")


def test_an_odt_is_named(tmp_path):
    import zipfile

    path = tmp_path / "x.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<x/>")
    with pytest.raises(CorruptDocxError, match="OpenDocument file"):
        read_word(path.read_bytes(), "x.odt")
