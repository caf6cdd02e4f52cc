"""Test helper: edit a DOCX in real LibreOffice with change recording on, and save it as DOCX again.

LibreOffice (headless, ``soffice``) opens the DOCX and saves it as flat ODF
(``.fodt``); the edits are made in that file in LibreOffice's own markup for
recorded changes (``text:tracked-changes`` with ``text:track-changes="true"``:
recording on; a ``text:changed-region`` per insertion and deletion, with
author and date) and comments (``office:annotation`` around the text it
anchors); LibreOffice then opens the flat ODF and saves it as DOCX (its Word
2007-365 filter). So the DOCX merge reads is LibreOffice's own, with the tracked
changes and comment it wrote, after a full import and export.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from lxml import etree

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}
DATE = "2026-11-03T10:00:00"


def q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def need_soffice() -> None:
    """Skip without LibreOffice, except on CI (CI=true), where .ci/run installs it and its absence fails."""
    import os

    import pytest

    if soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("CI: soffice not found; .ci/run installs it with apt-get install libreoffice-writer-nogui")
        pytest.skip("LibreOffice (soffice) is not installed; CI is not set")


def convert(src: Path, to: str, outdir: Path, profile: Path) -> Path:
    """``soffice --headless --convert-to`` with a private profile; the converted file's path."""
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
           "--convert-to", to, "--outdir", str(outdir), str(src)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    out = outdir / (src.stem + "." + to.split(":")[0])
    assert out.exists(), f"LibreOffice did not write {out}"
    return out


class Fodt:
    """A flat ODF text document, edited with change recording on."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.tree = etree.parse(str(path))
        body = self.tree.getroot().find(f"{q('office', 'body')}/{q('office', 'text')}")
        self.body = body
        tracked = body.find(q("text", "tracked-changes"))
        if tracked is None:
            tracked = etree.Element(q("text", "tracked-changes"))
            body.insert(0, tracked)
        tracked.set(q("text", "track-changes"), "true")  # Edit > Track Changes > Record
        self.tracked = tracked
        self._n = 0

    def _find(self, text: str):
        """(element, 'text' or 'tail') of the first text node holding ``text``, outside the tracked changes."""
        for el in self.body.iter():
            if el is self.tracked or self.tracked in el.iterancestors():
                continue
            for attr in ("text", "tail"):
                value = getattr(el, attr)
                if value and text in value and (attr == "text" or el.getparent() is not None):
                    return el, attr
        raise AssertionError(f"no text node holds {text!r}")

    def _place(self, text: str, elements: list) -> None:
        """Put ``elements`` where ``text`` is, removing ``text`` (its node split around them)."""
        el, attr = self._find(text)
        before, after = getattr(el, attr).split(text, 1)
        setattr(el, attr, before)
        if attr == "text":
            for k, e in enumerate(elements):
                el.insert(k, e)
        else:
            anchor = el
            for e in elements:
                anchor.addnext(e)
                anchor = e
        last = elements[-1]
        last.tail = (last.tail or "") + after

    def _region(self, kind: str, author: str, deleted: str = ""):
        self._n += 1
        cid = f"ct{self._n}"
        region = etree.SubElement(self.tracked, q("text", "changed-region"), {q("text", "id"): cid})
        change = etree.SubElement(region, q("text", kind))
        info = etree.SubElement(change, q("office", "change-info"))
        etree.SubElement(info, q("dc", "creator")).text = author
        etree.SubElement(info, q("dc", "date")).text = DATE
        if kind == "deletion":
            etree.SubElement(change, q("text", "p")).text = deleted
        return cid

    def replace(self, old: str, new: str, author: str = "J. Smith") -> None:
        """Select ``old`` and type ``new`` with recording on: a deletion and an insertion."""
        deleted = self._region("deletion", author, old)
        inserted = self._region("insertion", author)
        mark = etree.Element(q("text", "change"), {q("text", "change-id"): deleted})
        start = etree.Element(q("text", "change-start"), {q("text", "change-id"): inserted})
        start.tail = new
        end = etree.Element(q("text", "change-end"), {q("text", "change-id"): inserted})
        self._place(old, [mark, start, end])

    def comment(self, anchor: str, text: str, author: str = "A. Reviewer") -> None:
        """Insert > Comment on the selected ``anchor``."""
        self._n += 1
        name = f"c{self._n}"
        ann = etree.Element(q("office", "annotation"), {q("office", "name"): name})
        etree.SubElement(ann, q("dc", "creator")).text = author
        etree.SubElement(ann, q("dc", "date")).text = DATE
        etree.SubElement(ann, q("text", "p")).text = text
        ann.tail = anchor
        end = etree.Element(q("office", "annotation-end"), {q("office", "name"): name})
        self._place(anchor, [ann, end])

    def save(self) -> Path:
        self.tree.write(str(self.path), xml_declaration=True, encoding="UTF-8")
        return self.path


def edit_in_libreoffice(docx: Path, work: Path, edits) -> Path:
    """``docx`` opened in LibreOffice, ``edits(Fodt)`` made with recording on, saved as DOCX: its path."""
    profile = work / "lo-profile"
    fodt = convert(docx, "fodt", work / "fodt", profile)
    doc = Fodt(fodt)
    edits(doc)
    doc.save()
    return convert(fodt, "docx:MS Word 2007 XML", work / "returned", profile)
