"""The DOCX pandoc wrote, finished as a production editor expects it: Title style, properties, tables kept whole.

pandoc's DOCX writer puts the title (a level-1 heading of the title page) in
Heading 1, leaves the core properties empty and copies app.xml from its
reference document (another document's word count), and lets a table break
across pages. This rewrites word/document.xml, docProps/core.xml and
docProps/app.xml with lxml: the title paragraph in the "Title" style, title,
authors, key words and language in the core properties, app.xml with this
document's own counts, and every table row kept on one page and with the next
row (Word then moves a table that fits on a page to the next page whole).
"""
from __future__ import annotations

from lxml import etree

from papergen.publish.front_matter import split_key_words

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W,
      "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
      "dc": "http://purl.org/dc/elements/1.1/",
      "ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"}


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _text(el) -> str:
    return "".join(t.text or "" for t in el.iter(_w("t")))


def _ppr(p):
    ppr = p.find(_w("pPr"))
    if ppr is None:
        ppr = etree.SubElement(p, _w("pPr"))
        p.insert(0, ppr)
    return ppr


def _style(p) -> str | None:
    ps = p.find("w:pPr/w:pStyle", NS)
    return None if ps is None else ps.get(_w("val"))


def _set_style(p, style: str) -> None:
    ppr = _ppr(p)
    ps = ppr.find(_w("pStyle"))
    if ps is None:
        ps = etree.Element(_w("pStyle"))
        ppr.insert(0, ps)
    ps.set(_w("val"), style)


def _flag(ppr, tag: str, before: tuple[str, ...]) -> None:
    """Add an empty on/off property (keepNext) to a pPr, after the properties CT_PPr puts first."""
    if ppr.find(_w(tag)) is not None:
        return
    el = etree.Element(_w(tag))
    anchors = [c for c in ppr if etree.QName(c).localname in before]
    (anchors[-1].addnext(el) if anchors else ppr.insert(0, el))


def title_to_title_style(body, title: str) -> bool:
    """The first Heading 1 whose text is the title gets the Title style; True when found."""
    want = " ".join(title.split())
    for p in body.iter(_w("p")):
        if _style(p) == "Heading1" and " ".join(_text(p).split()) == want:
            _set_style(p, "Title")
            return True
    return False


def keep_tables_whole(body) -> int:
    """Each row of each table: not split across pages, kept with the next row, no paragraph left in Normal
    (an empty cell's); returns the tables done."""
    tables = body.iter(_w("tbl"))
    n = 0
    for tbl in tables:
        rows = tbl.findall(_w("tr"))
        for i, tr in enumerate(rows):
            for p in tr.iter(_w("p")):  # an empty cell's paragraph has no style: Normal's spacing would open the row
                if _style(p) is None:
                    _set_style(p, "TableText")
            trpr = tr.find(_w("trPr"))
            if trpr is None:
                trpr = etree.Element(_w("trPr"))
                tr.insert(0, trpr)
            if trpr.find(_w("cantSplit")) is None:
                trpr.insert(0, etree.Element(_w("cantSplit")))
            if i < len(rows) - 1:
                for p in tr.iter(_w("p")):
                    _flag(_ppr(p), "keepNext", ("pStyle",))
        n += 1
    return n


def key_words(body) -> list[str]:
    """The key words as the manuscript lists them ("Key Words: a; b; c")."""
    for p in body.iter(_w("p")):
        found = split_key_words(_text(p))
        if found:
            return found
    return []


def core_properties(data: bytes, title: str, authors: str, keywords: list[str], language: str) -> bytes:
    """docProps/core.xml with title, creator (the authors), keywords and language set."""
    root = etree.fromstring(data)
    for prefix, name, value in (("dc", "title", title), ("dc", "creator", authors),
                                ("cp", "keywords", "; ".join(keywords)), ("dc", "language", language)):
        el = root.find(f"{prefix}:{name}", NS)
        if el is None:
            el = etree.SubElement(root, f"{{{NS[prefix]}}}{name}")
        el.text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def app_properties(body) -> bytes:
    """docProps/app.xml of this document: its words, characters and paragraphs (not the template's)."""
    paras = [_text(p) for p in body.iter(_w("p"))]
    text = " ".join(paras)
    ep = NS["ep"]
    root = etree.Element(f"{{{ep}}}Properties", nsmap={None: ep})
    for name, value in (("Application", "papergen"), ("DocSecurity", "0"), ("ScaleCrop", "false"),
                        ("Words", str(len(text.split()))), ("Characters", str(len(text.replace(" ", "")))),
                        ("CharactersWithSpaces", str(len(text))), ("Paragraphs", str(sum(1 for p in paras if p))),
                        ("SharedDoc", "false"), ("HyperlinksChanged", "false"), ("LinksUpToDate", "false")):
        etree.SubElement(root, f"{{{ep}}}{name}").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def finish_entries(entries: dict[str, bytes], *, title: str = "", authors: str = "", language: str = "en-US") -> None:
    """Finish the DOCX's zip entries (name -> bytes) in place (see the module docstring); export.to_docx writes them,
    zip order and dates as export.normalized() gives them."""
    doc = etree.fromstring(entries["word/document.xml"])
    body = doc.find(_w("body"))
    if title:
        title_to_title_style(body, title)
    keep_tables_whole(body)
    entries["word/document.xml"] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
    if "docProps/core.xml" in entries:
        entries["docProps/core.xml"] = core_properties(entries["docProps/core.xml"], title, authors,
                                                       key_words(body), language)
    entries["docProps/app.xml"] = app_properties(body)
