"""pandoc's reference.docx with a journal-manuscript look: fonts, sizes, spacing, A4, page numbers, three-line tables.

The DOCX writer (papergen.publish.export.to_docx) takes its styles, page setup
and footer from this file; the same arguments give identical bytes.
"""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.publish.export import normalize_docx
from papergen.publish.pandoc import DEFAULT_EPOCH, fail, first_pandoc_error, log_path_for, pandoc_path, write_log


def _set_fonts(rpr, font: str) -> None:
    """Set ascii/hAnsi/eastAsia/cs fonts on a w:rPr and drop theme fonts."""
    from docx.oxml.ns import qn

    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{attr}"), font)


def _set_black(rpr) -> None:
    from docx.oxml.ns import qn

    for color in rpr.findall(qn("w:color")):
        rpr.remove(color)
    color = rpr.makeelement(qn("w:color"), {qn("w:val"): "000000"})
    rpr.append(color)


def _three_line_table_style(style) -> None:
    """Give pandoc's "Table" style a rule above and below the table.

    The rule under the header row is already in pandoc's firstRow
    conditional formatting; it is made the same weight here.
    """
    from docx.oxml.ns import qn

    el = style.element
    tblpr = el.find(qn("w:tblPr"))
    if tblpr is None:
        tblpr = el.makeelement(qn("w:tblPr"), {})
        el.append(tblpr)
    for old in tblpr.findall(qn("w:tblBorders")):
        tblpr.remove(old)
    borders = tblpr.makeelement(qn("w:tblBorders"), {})
    for side in ("top", "bottom"):
        b = borders.makeelement(qn(f"w:{side}"), {
            qn("w:val"): "single", qn("w:sz"): "8", qn("w:space"): "0", qn("w:color"): "000000"})
        borders.append(b)
    # CT_TblPr order: tblStyle, ..., tblW, jc, tblCellSpacing, tblInd, tblBorders, ...
    ind = tblpr.find(qn("w:tblInd"))
    if ind is not None:
        ind.addnext(borders)
    else:
        tblpr.append(borders)
    for cond in el.findall(qn("w:tblStylePr")):
        if cond.get(qn("w:type")) != "firstRow":
            continue
        for bottom in cond.iter(qn("w:bottom")):
            bottom.set(qn("w:val"), "single")
            bottom.set(qn("w:sz"), "6")
            bottom.set(qn("w:space"), "0")
            bottom.set(qn("w:color"), "000000")


def _page_number_footer(section) -> None:
    """A centred PAGE field in the section's footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    footer = section.footer
    footer.is_linked_to_previous = False
    para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    for child in list(para._p):
        if child.tag != qn("w:pPr"):
            para._p.remove(child)
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.line_spacing = 1.0

    def run_with(child):
        r = OxmlElement("w:r")
        r.append(child)
        para._p.append(r)
        return r

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run_with(instr)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    t = OxmlElement("w:t")
    t.text = "1"
    run_with(t)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _no_rule(style) -> None:
    """Drop the border pandoc's Title style draws under the title."""
    from docx.oxml.ns import qn

    ppr = style.element.find(qn("w:pPr"))
    for border in (ppr.findall(qn("w:pBdr")) if ppr is not None else []):
        ppr.remove(border)


def _table_text_styles(styles, spec: dict) -> None:
    """"Table Text", its indented forms and "Table Note": compact cells and notes (the lua filter applies them)."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm, Pt

    for name, indent in (("Table Text", 0), ("Table Text Indent", 0.4), ("Table Text Indent 2", 0.8),
                         ("Table Note", 0)):
        st = next((s for s in styles if s.name == name), None) or styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.style_id = name.replace(" ", "")
        st.base_style = styles["Normal"]
        st.quick_style = True
        _set_fonts(st.element.get_or_add_rPr(), spec["font"])
        st.font.size = Pt(spec["size_pt"])
        fmt = st.paragraph_format
        fmt.line_spacing, fmt.space_before, fmt.space_after = spec["line_spacing"], Pt(0), Pt(0)
        fmt.left_indent = Cm(indent) if indent else None
        if name == "Table Note":  # the footnotes under a table: a little air before the body text resumes
            fmt.space_after = Pt(6)


def _line_numbers(section) -> None:
    """Continuous line numbers in the margin (w:lnNumType), as reviewers expect to cite lines."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    sect = section._sectPr
    for old in sect.findall(qn("w:lnNumType")):
        sect.remove(old)
    ln = OxmlElement("w:lnNumType")
    ln.set(qn("w:countBy"), "1")
    ln.set(qn("w:restart"), "continuous")
    ln.set(qn("w:distance"), "283")  # 0.5 cm from the text
    # CT_SectPr order: ... pgSz, pgMar, paperSrc, pgBorders, lnNumType, pgNumType, cols ...
    before = [el for tag in ("pgSz", "pgMar", "paperSrc", "pgBorders") if (el := sect.find(qn(f"w:{tag}"))) is not None]
    if before:
        before[-1].addnext(ln)
    else:
        sect.insert(0, ln)


def _user_reference(template: Path, out: Path) -> Path:
    """The author's own reference .docx, copied as it is (a missing or non-DOCX file is one line)."""
    import zipfile

    from papergen.errors import StudyLayoutError

    if not template.is_file() or not zipfile.is_zipfile(template):
        raise StudyLayoutError(f"docx_style: reference_doc: {template} is not a .docx file")
    write_bytes(out, template.read_bytes())
    return out


def build_reference_docx(
    out: Path,
    *,
    font: str = "Times New Roman",
    size_pt: float = 12,
    line_spacing: float = 1.5,
    headings: dict | None = None,
    title: dict | None = None,
    captions: dict | None = None,
    tables: dict | None = None,
    line_numbers: bool = False,
    reference_doc: str | Path | None = None,
) -> Path:
    """Make a pandoc reference.docx with a journal-manuscript look (study.yaml ``docx_style:``).

    Starts from pandoc's default reference.docx and sets: ``font`` (ascii,
    hAnsi, eastAsia, cs; theme fonts removed), ``size_pt`` and ``line_spacing``
    on the body styles; black bold headings (Heading 1 14 pt, Heading 2 12 pt,
    lower levels ``size_pt``, single spacing), the Title style 16 pt bold, 10 pt
    single-spaced captions, and compact table cells ("Table Text": 10 pt,
    single spacing, no space after; "Table Text Indent" and "Table Text
    Indent 2" indented 0.4 and 0.8 cm). ``headings``, ``title``, ``captions``
    and ``tables`` are {font, size_pt, line_spacing} overriding those defaults.
    A4 with 2.54 cm margins, a centred PAGE field in the footer (style
    "Footer"), a three-line "Table" style, and continuous line numbers when
    ``line_numbers``. Same arguments -> identical bytes.

    ``reference_doc``: a journal's or institution's own template (a .docx, as
    Quarto's reference-doc), used as it is instead: its styles, page and footer.
    """
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if reference_doc is not None:
        return _user_reference(Path(reference_doc), out)
    log_path = log_path_for(out, "pandoc")
    cmd = [str(pandoc_path()), "--print-default-data-file", "reference.docx"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace")
        write_log(log_path, f"$ {' '.join(cmd)}\n{stderr}")
        raise fail("pandoc", first_pandoc_error(stderr), log_path)

    doc = docx.Document(io.BytesIO(proc.stdout))
    styles = doc.styles

    # document defaults and every style that used the theme fonts
    defaults_rpr = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(defaults_rpr, font)
    for rfonts in styles.element.iter(qn("w:rFonts")):
        theme_attrs = [a for a in rfonts.attrib if a.endswith("Theme") or a.endswith("theme")]
        if theme_attrs:
            _set_fonts(rfonts.getparent(), font)

    by_name = {st.name: st for st in styles}

    def pstyle(name):
        return by_name.get(name)

    body = ["Normal", "Body Text", "First Paragraph", "Compact", "Bibliography",
            "Block Text", "Abstract", "Definition", "Definition Term", "Table Text"]
    for name in body:
        st = pstyle(name)
        if st is None:
            continue
        st.font.name = font
        _set_fonts(st.element.get_or_add_rPr(), font)
        if name != "Abstract":
            st.font.size = Pt(size_pt)
        st.paragraph_format.line_spacing = line_spacing
    styles["Normal"].paragraph_format.space_after = Pt(0)

    headings, title = headings or {}, title or {}
    captions, tables = {"size_pt": 10, "line_spacing": 1.0, **(captions or {})}, tables or {}
    heading_sizes = {1: 14, 2: 12}
    for level in range(1, 10):
        for name in (f"Heading {level}", f"Heading {level} Char"):
            st = pstyle(name)
            if st is None:
                continue
            rpr = st.element.get_or_add_rPr()
            _set_fonts(rpr, headings.get("font", font))
            _set_black(rpr)
            st.font.bold = True
            st.font.italic = level >= 3
            st.font.color.rgb = RGBColor(0, 0, 0)
            st.font.size = Pt(headings.get("size_pt", heading_sizes.get(level, size_pt)) if level <= 2 else size_pt)
            if st.type == WD_STYLE_TYPE.PARAGRAPH:
                st.paragraph_format.space_before = Pt(18 if level == 1 else 12)
                st.paragraph_format.space_after = Pt(6)
                st.paragraph_format.line_spacing = headings.get("line_spacing", 1.0)
                st.paragraph_format.keep_with_next = True

    for name in ("Title", "Title Char", "Subtitle", "Subtitle Char"):
        st = pstyle(name)
        if st is None:
            continue
        rpr = st.element.get_or_add_rPr()
        _set_fonts(rpr, title.get("font", font))
        _set_black(rpr)
        st.font.bold = True
        st.font.size = Pt(title.get("size_pt", 16) if name.startswith("Title") else 13)
        if st.type == WD_STYLE_TYPE.PARAGRAPH:
            _no_rule(st)
            st.paragraph_format.line_spacing = title.get("line_spacing", 1.0)
            st.paragraph_format.space_before, st.paragraph_format.space_after = Pt(12), Pt(12)

    for name in ("Caption", "Table Caption", "Image Caption"):
        st = pstyle(name)
        if st is None:
            continue
        _set_fonts(st.element.get_or_add_rPr(), captions.get("font", font))
        st.font.size = Pt(captions["size_pt"])
        st.font.italic = False
        st.paragraph_format.line_spacing = captions["line_spacing"]
        if name == "Table Caption":
            st.paragraph_format.keep_with_next = True  # a table's caption stays with its table

    _table_text_styles(styles, {"font": font, "size_pt": 10, "line_spacing": 1.0, **tables})

    footer_style = pstyle("Footer")
    if footer_style is None:  # pandoc's reference.docx has none; Word would fall back to Normal
        footer_style = styles.add_style("Footer", WD_STYLE_TYPE.PARAGRAPH)
        footer_style.base_style = styles["Normal"]
    footer_style.style_id = "Footer"  # python-docx names it "footer"; the footer paragraph asks for "Footer"
    footer_style.font.size = Pt(10)
    footer_style.paragraph_format.line_spacing = 1.0
    footer_style.paragraph_format.space_after = Pt(0)

    table_style = pstyle("Table")
    if table_style is not None:
        _three_line_table_style(table_style)

    # A4, 2.54 cm margins, page number in the footer
    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2.54))
        section.header_distance = section.footer_distance = Cm(1.25)
        _page_number_footer(section)
        if line_numbers:
            _line_numbers(section)

    buf = io.BytesIO()
    doc.save(buf)
    write_bytes(out, buf.getvalue())
    normalize_docx(out, DEFAULT_EPOCH)
    return out
