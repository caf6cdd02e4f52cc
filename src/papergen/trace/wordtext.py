"""The text of a DOCX as its reader sees it: tracked changes accepted, with who made them, and the comments.

Both the DOCX papergen sends (for the source map) and the copy a co-author
returns (for the merge) are read here, the same way, into one string: the body's
paragraphs (table cells included, each its own paragraph) joined by a newline,
empty paragraphs left out. Tracked insertions and deletions (``w:ins``/``w:del``,
moves ``w:moveTo``/``w:moveFrom``) keep their author and date, a deleted
paragraph mark joins a paragraph to the next, and formatting-only changes
(``w:rPrChange`` and the like) are counted, since they change no text.
Hand-written on lxml because python-docx reads neither tracked changes nor
comment anchors.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from papergen.errors import CorruptDocxError, ProtectedDocxError
from papergen.publish.buildid import read_build_id

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FORMAT_CHANGES = {"rPrChange", "pPrChange", "tblPrChange", "trPrChange", "tcPrChange", "sectPrChange",
                   "numberingChange", "tblGridChange", "tblPrExChange"}
_CONTAINERS = {"body", "tbl", "tr", "tc", "sdt", "sdtContent", "customXml", "txbxContent"}
_INLINE_CONTAINERS = {"hyperlink", "smartTag", "sdt", "sdtContent", "fldSimple", "customXml", "bdo", "dir"}


@dataclass
class Change:
    """A tracked insertion (``start``..``end`` of the text) or deletion (``text`` was at ``start``)."""

    kind: str
    start: int
    end: int
    author: str
    date: str
    text: str = ""
    moved: bool = False


@dataclass
class Comment:
    id: str
    author: str
    date: str
    text: str
    start: int = -1
    end: int = -1


@dataclass
class WordText:
    text: str
    changes: list[Change] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    formatting_changes: int = 0
    build_id: str | None = None
    #: comment id -> positions in the text of its range start, range end and reference mark
    anchors: dict[str, list[int]] = field(default_factory=dict)

    def authors(self, start: int, end: int, dated: bool = False) -> list[str]:
        """Who made the tracked changes touching ``start``..``end`` of the text ([] for an untracked edit);
        ``dated``: "author, date" (the day of the change)."""
        out = []
        for c in self.changes:
            hit = (c.start < end and c.end > start) if c.kind == "ins" else (start <= c.start <= end)
            who = f"{c.author}, {c.date[:10]}" if dated and c.date else c.author
            if hit and who not in out:
                out.append(who)
        return out


def read_word(data: bytes, name: str = "the DOCX") -> WordText:
    """The text, tracked changes and comments of a DOCX given as bytes; one-line errors for what is not one."""
    if data[:8] == _OLE_MAGIC:
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise ProtectedDocxError(f"{name} is password-protected: save it without a password "
                                     "(File > Info > Protect Document in Word) and merge again")
        raise CorruptDocxError(f"{name} is a Word 97-2003 document, not a DOCX: save it as .docx and merge again")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            if "word/document.xml" not in names and "mimetype" in names \
                    and z.read("mimetype").startswith(b"application/vnd.oasis.opendocument"):
                raise CorruptDocxError(f"{name} is an OpenDocument file (.odt), not a DOCX: save it in Word "
                                       "format (.docx) and merge again")
            document = etree.fromstring(z.read("word/document.xml"))
            comments = etree.fromstring(z.read("word/comments.xml")) if "word/comments.xml" in names else None
        build = read_build_id(data)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, EOFError, ValueError) as exc:
        raise CorruptDocxError(f"{name} is damaged or not a DOCX ({type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:80]}); nothing was merged") from None
    out = _Reader().read(document)
    out.build_id = build
    if comments is not None:
        _attach_comments(out, comments)
    return out


class _Reader:
    def __init__(self) -> None:
        self.paragraphs: list[dict] = []
        self.formatting = 0

    def read(self, document) -> WordText:
        body = document.find(f"{{{W}}}body")
        if body is not None:
            self._blocks(body)
        return self._assemble()

    # -- walking the XML ------------------------------------------------------------
    def _blocks(self, el) -> None:
        for child in el:
            tag = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if tag == "p":
                self._paragraph(child)
            elif tag in _CONTAINERS:
                self._blocks(child)
            elif tag in ("ins", "del", "moveTo", "moveFrom"):  # a tracked table row or block
                self._blocks(child)
            elif tag in _FORMAT_CHANGES:
                self.formatting += 1
            elif tag in ("tblPr", "trPr", "tcPr", "sectPr", "tblGrid"):
                self.formatting += sum(1 for d in child.iter() if etree.QName(d).localname in _FORMAT_CHANGES)

    def _paragraph(self, p) -> None:
        para = {"pieces": [], "marks": [], "mark": "="}
        ppr = p.find(f"{{{W}}}pPr")
        if ppr is not None:
            self.formatting += sum(1 for d in ppr.iter() if isinstance(d.tag, str)
                                   and etree.QName(d).localname in _FORMAT_CHANGES)
            rpr = ppr.find(f"{{{W}}}rPr")
            if rpr is not None:
                for tag, kind in (("del", "del"), ("moveFrom", "del"), ("ins", "ins"), ("moveTo", "ins")):
                    mark = rpr.find(f"{{{W}}}{tag}")
                    if mark is not None:
                        para["mark"], para["mark_author"] = kind, mark.get(f"{{{W}}}author", "")
                        para["mark_date"] = mark.get(f"{{{W}}}date", "")
                        break
        self._inline(p, para, ("=", "", "", False))
        self.paragraphs.append(para)
        for tbl in p.iter(f"{{{W}}}txbxContent"):  # text boxes: their paragraphs after this one
            self._blocks(tbl)

    def _inline(self, el, para, state) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            tag = etree.QName(child).localname
            if tag == "r":
                self._run(child, para, state)
            elif tag in ("ins", "moveTo", "del", "moveFrom"):
                kind = "ins" if tag in ("ins", "moveTo") else "del"
                self._inline(child, para, (kind, child.get(f"{{{W}}}author", ""), child.get(f"{{{W}}}date", ""),
                                           tag.startswith("move")))
            elif tag in _INLINE_CONTAINERS:
                self._inline(child, para, state)
            elif tag in ("commentRangeStart", "commentRangeEnd"):
                para["pieces"].append((tag, child.get(f"{{{W}}}id", ""), state))

    def _run(self, r, para, state) -> None:
        for child in r:
            if not isinstance(child.tag, str):
                continue
            tag = etree.QName(child).localname
            text = None
            if tag in ("t", "delText"):
                text = child.text or ""
            elif tag == "tab":
                text = "\t"
            elif tag in ("br", "cr"):
                text = " "
            elif tag == "noBreakHyphen":
                text = "\u2011"
            elif tag == "rPr":
                self.formatting += sum(1 for d in child.iter() if etree.QName(d).localname in _FORMAT_CHANGES)
            elif tag == "commentReference":
                para["pieces"].append(("commentReference", child.get(f"{{{W}}}id", ""), state))
            if text:
                para["pieces"].append(("text", text, state))

    # -- one string -----------------------------------------------------------------
    def _assemble(self) -> WordText:
        out: list[str] = []
        pos, joined = 0, False
        changes: list[Change] = []
        anchors: dict[str, list[int]] = {}
        for para in self.paragraphs:
            shown = "".join(v for kind, v, s in para["pieces"] if kind == "text" and s[0] != "del")
            has_del = any(kind == "text" and s[0] == "del" for kind, v, s in para["pieces"])
            if not shown and para["mark"] != "del" and not joined and not has_del:
                for kind, v, s in para["pieces"]:  # a comment on an empty paragraph: anchored where it was
                    if kind != "text":
                        anchors.setdefault(v, []).append(pos)
                continue
            if out and not joined:
                out.append("\n")
                pos += 1
            for kind, v, (status, author, date, moved) in para["pieces"]:
                if kind != "text":
                    anchors.setdefault(v, []).append(pos)
                elif status == "del":
                    _add_change(changes, Change("del", pos, pos, author, date, v, moved))
                else:
                    if status == "ins":
                        _add_change(changes, Change("ins", pos, pos + len(v), author, date, v, moved))
                    out.append(v)
                    pos += len(v)
            if para["mark"] == "del":
                changes.append(Change("del", pos, pos, para["mark_author"], para["mark_date"], "\n"))
            joined = para["mark"] == "del"
        return WordText("".join(out), changes, formatting_changes=self.formatting, anchors=anchors)


def _add_change(changes: list[Change], c: Change) -> None:
    """Add a tracked change, joining it to the previous one of the same kind and author that it continues."""
    last = changes[-1] if changes else None
    if last and last.kind == c.kind and last.author == c.author and last.moved == c.moved:
        if c.kind == "ins" and last.end == c.start:
            last.end, last.text = c.end, last.text + c.text
            return
        if c.kind == "del" and last.start == c.start:
            last.text += c.text
            return
    changes.append(c)


def _attach_comments(out: WordText, comments) -> None:
    for c in comments.iter(f"{{{W}}}comment"):
        cid = c.get(f"{{{W}}}id", "")
        paras = [" ".join("".join(t.text or "" for t in p.iter(f"{{{W}}}t")).split())
                 for p in c.iter(f"{{{W}}}p")]
        at = out.anchors.get(cid, [])
        start, end = (min(at), max(at)) if at else (-1, -1)
        out.comments.append(Comment(cid, c.get(f"{{{W}}}author", ""), c.get(f"{{{W}}}date", ""),
                                    "\n".join(p for p in paras if p), start, end))
