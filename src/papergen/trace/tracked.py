"""The change report's DOCX with Word's own tracked changes, so an editor accepts or rejects each change in Word.

pandoc writes the report's ``~~old~~`` as struck-through runs and ``[new]{.mark}``
as highlighted runs (papergen.trace.changes); here each struck run becomes a
tracked deletion (``w:del``, its text ``w:delText``) and each highlighted run a
tracked insertion (``w:ins``), by author "papergen" on the build date, with the
strike and highlight removed. The space pandoc puts between an old and a new
text is dropped, so accepting every change gives the new text and rejecting
every change the old. The HTML report keeps its strike-through.
Hand-written on lxml: pandoc's DOCX writer has no tracked-change output for
Markdown.
"""
from __future__ import annotations

import datetime as _dt
import io
import zipfile
from pathlib import Path

from lxml import etree

from papergen.atomic import write_bytes
from papergen.publish.export import normalize_docx
from papergen.publish.pandoc import epoch_of

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
AUTHOR = "papergen"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def track_changes(docx: Path, *, source_date_epoch: int | None = None, author: str = AUTHOR) -> int:
    """Turn the struck and highlighted runs of ``docx`` into tracked deletions and insertions; their number."""
    docx = Path(docx)
    epoch = epoch_of(source_date_epoch)
    date = _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(docx) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    root = etree.fromstring(entries["word/document.xml"])
    count = _track(root, author, date)
    entries["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    write_bytes(docx, buf.getvalue())
    normalize_docx(docx, epoch)
    return count


def _track(root, author: str, date: str) -> int:
    next_id, count = 5000, 0
    for p in root.iter(_w("p")):
        last = None  # the w:del or w:ins that the previous run went into
        for r in list(p):
            if r.tag != _w("r"):
                last = None if r.tag not in (_w("ins"), _w("del")) else last
                continue
            kind = _kind(r)
            if kind is None:
                if last is not None and last.tag == _w("del") and _only_space(r) and _next_is_insertion(r):
                    p.remove(r)  # the space between the old and the new text: neither version has it
                else:
                    last = None
                continue
            if kind == "del":
                _as_deleted(r)
            if last is None or last.tag != _w(kind):
                next_id += 1
                count += 1
                last = etree.Element(_w(kind))
                last.set(_w("id"), str(next_id))
                last.set(_w("author"), author)
                last.set(_w("date"), date)
                r.addprevious(last)
            last.append(r)
    return count


def _kind(r) -> str | None:
    """"del" for a struck run, "ins" for a highlighted one (the marking removed), else None."""
    rpr = r.find(_w("rPr"))
    if rpr is None:
        return None
    for tag, kind in (("strike", "del"), ("highlight", "ins")):
        el = rpr.find(_w(tag))
        if el is not None:
            rpr.remove(el)
            if not len(rpr):
                r.remove(rpr)
            return kind
    return None


def _as_deleted(r) -> None:
    for t in r.iter(_w("t")):
        t.tag = _w("delText")


def _only_space(r) -> bool:
    texts = [t.text or "" for t in r.iter(_w("t"))]
    return bool(texts) and not "".join(texts).strip()


def _next_is_insertion(r) -> bool:
    nxt = r.getnext()
    return nxt is not None and nxt.tag == _w("r") and (nxt.find(f"{_w('rPr')}/{_w('highlight')}") is not None)
