"""Test helper: edit a real DOCX the way Word does with Track Changes on (w:ins, w:del, comments, moves).

Each function changes word/document.xml (and word/comments.xml) of a DOCX in
memory; ``Docx.save`` writes a new file. The markup is Word's own (ECMA-376
Part 1, 17.13 "Annotations"), so the reader under test sees what Word writes.
"""
from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DATE = "2026-11-03T10:00:00Z"


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


class Docx:
    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as z:
            self.entries = {i.filename: z.read(i) for i in z.infolist()}
        self.doc = etree.fromstring(self.entries["word/document.xml"])
        self.comments = (etree.fromstring(self.entries["word/comments.xml"]) if "word/comments.xml" in self.entries
                         else etree.Element(w("comments"), nsmap={"w": W}))
        self._id = 9000

    def next_id(self) -> str:
        self._id += 1
        return str(self._id)

    def save(self, path: Path) -> Path:
        self.entries["word/document.xml"] = etree.tostring(self.doc, xml_declaration=True, encoding="UTF-8")
        self.entries["word/comments.xml"] = etree.tostring(self.comments, xml_declaration=True, encoding="UTF-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.entries.items():
                z.writestr(name, data)
        Path(path).write_bytes(buf.getvalue())
        return Path(path)

    # -- finding text --------------------------------------------------------------
    def run_with(self, text: str):
        """The w:r whose w:t holds ``text`` (the first one)."""
        for t in self.doc.iter(w("t")):
            if t.text and text in t.text:
                return t.getparent()
        raise AssertionError(f"no run holds {text!r}")

    def paragraph_with(self, text: str):
        for p in self.doc.iter(w("p")):
            if text in "".join(t.text or "" for t in p.iter(w("t"))):
                return p
        raise AssertionError(f"no paragraph holds {text!r}")

    def _split(self, text: str, run=None):
        """Split the run holding ``text`` into (before, the text, after) runs; returns the middle run."""
        r = run if run is not None else self.run_with(text)
        t = r.find(w("t"))
        before, after = t.text.split(text, 1)
        parent, at = r.getparent(), r.getparent().index(r)
        runs = []
        for piece in (before, text, after):
            nr = copy.deepcopy(r)
            nr.find(w("t")).text = piece
            nr.find(w("t")).set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            runs.append(nr)
        parent.remove(r)
        for k, nr in enumerate(runs):
            if k != 1 and not nr.find(w("t")).text:
                continue
            parent.insert(at, nr)
            at += 1
        return runs[1]

    def _tracked(self, kind: str, author: str):
        el = etree.Element(w(kind))
        el.set(w("id"), self.next_id())
        el.set(w("author"), author)
        el.set(w("date"), DATE)
        return el

    # -- Word's edits --------------------------------------------------------------
    def cell_run(self, row_label: str, column: int = 1):
        """The first run of the table cell ``column`` cells right of the cell that reads ``row_label``."""
        for tc in self.doc.iter(w("tc")):
            if "".join(t.text or "" for t in tc.iter(w("t"))).strip("\u00a0 ") == row_label:
                cell = tc
                for _ in range(column):
                    cell = cell.getnext()
                return next(cell.iter(w("t"))).getparent()
        raise AssertionError(f"no table row {row_label!r}")

    def replace(self, old: str, new: str, author: str = "J. Smith", run=None) -> None:
        """A tracked replacement: ``old`` deleted and ``new`` inserted after it (in ``run`` if given)."""
        mid = self._split(old, run)
        parent, at = mid.getparent(), mid.getparent().index(mid)
        parent.remove(mid)
        d = self._tracked("del", author)
        dr = copy.deepcopy(mid)
        t = dr.find(w("t"))
        t.tag = w("delText")
        d.append(dr)
        parent.insert(at, d)
        if new:
            ins = self._tracked("ins", author)
            ir = copy.deepcopy(mid)
            ir.find(w("t")).text = new
            ins.append(ir)
            parent.insert(at + 1, ins)

    def insert_after(self, anchor: str, new: str, author: str = "J. Smith") -> None:
        mid = self._split(anchor)
        ins = self._tracked("ins", author)
        ir = copy.deepcopy(mid)
        ir.find(w("t")).text = new
        ins.append(ir)
        mid.addnext(ins)

    def untracked(self, old: str, new: str) -> None:
        """An edit made with Track Changes off: the text simply changes."""
        t = self.run_with(old).find(w("t"))
        t.text = t.text.replace(old, new, 1)

    def comment(self, anchor: str, text: str, author: str = "A. Reviewer") -> None:
        mid = self._split(anchor)
        cid = self.next_id()
        start = etree.Element(w("commentRangeStart"))
        start.set(w("id"), cid)
        end = etree.Element(w("commentRangeEnd"))
        end.set(w("id"), cid)
        mid.addprevious(start)
        mid.addnext(end)
        ref = etree.SubElement(etree.Element(w("r")), w("commentReference"))
        ref.set(w("id"), cid)
        end.addnext(ref.getparent())
        c = etree.SubElement(self.comments, w("comment"))
        c.set(w("id"), cid)
        c.set(w("author"), author)
        c.set(w("date"), DATE)
        etree.SubElement(etree.SubElement(etree.SubElement(c, w("p")), w("r")), w("t")).text = text

    def delete_paragraph(self, containing: str, author: str = "J. Smith") -> None:
        """A whole paragraph deleted with Track Changes: its runs and its paragraph mark."""
        p = self.paragraph_with(containing)
        for r in [r for r in p if r.tag == w("r")]:
            d = self._tracked("del", author)
            r.addprevious(d)
            d.append(r)
            for t in r.iter(w("t")):
                t.tag = w("delText")
        self._mark(p, "del", author)

    def insert_paragraph_after(self, containing: str, text: str, author: str = "J. Smith") -> None:
        """A new paragraph typed after another (its paragraph mark and text are insertions)."""
        p = self.paragraph_with(containing)
        np_ = etree.Element(w("p"))
        ppr = p.find(w("pPr"))
        if ppr is not None:
            np_.append(copy.deepcopy(ppr))
        self._mark(np_, "ins", author)
        ins = self._tracked("ins", author)
        etree.SubElement(etree.SubElement(ins, w("r")), w("t")).text = text
        np_.append(ins)
        p.addnext(np_)

    def join_paragraphs(self, first: str, author: str = "J. Smith") -> None:
        """The paragraph mark between a paragraph and the next deleted: the two become one."""
        self._mark(self.paragraph_with(first), "del", author)

    def move(self, text: str, after: str, author: str = "J. Smith") -> None:
        """Text moved with Track Changes: w:moveFrom where it was, w:moveTo after ``after``."""
        mid = self._split(text)
        frm = self._tracked("moveFrom", author)
        mid.addprevious(frm)
        frm.append(mid)
        for t in mid.iter(w("t")):
            t.tag = w("delText")
        dest = self._split(after)
        to = self._tracked("moveTo", author)
        r = copy.deepcopy(mid)
        for t in r.iter(w("delText")):
            t.tag = w("t")
        to.append(r)
        dest.addnext(to)

    def make_bold(self, text: str, author: str = "J. Smith") -> None:
        """A formatting-only tracked change: bold on, w:rPrChange keeping the old run properties."""
        mid = self._split(text)
        rpr = mid.find(w("rPr"))
        if rpr is None:
            rpr = etree.Element(w("rPr"))
            mid.insert(0, rpr)
        old = copy.deepcopy(rpr)
        etree.SubElement(rpr, w("b"))
        change = self._tracked("rPrChange", author)
        old.tag = w("rPr")
        change.append(old)
        rpr.append(change)

    def _mark(self, p, kind: str, author: str) -> None:
        ppr = p.find(w("pPr"))
        if ppr is None:
            ppr = etree.Element(w("pPr"))
            p.insert(0, ppr)
        rpr = ppr.find(w("rPr"))
        if rpr is None:
            rpr = etree.SubElement(ppr, w("rPr"))
        rpr.append(self._tracked(kind, author))
