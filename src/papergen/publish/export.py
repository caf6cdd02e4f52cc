"""Export the rendered Markdown manuscript to DOCX (pandoc) and PDF (pandoc -> Typst).

Everything runs through the pandoc binary bundled with pypandoc-binary
(papergen.publish.pandoc) and the Typst compiler embedded in the ``typst``
Python package, so no system tools, fonts or network are needed. The DOCX
styles come from papergen.publish.reference_docx.

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
import io
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.publish.pandoc import (
    PathLike,
    common_args,
    epoch_of,
    fail,
    log_path_for,
    one_line,
    resource_folders,
    run_pandoc,
    write_log,
)

TYPST_TEMPLATE = Path(__file__).resolve().parents[1] / "resources" / "papergen.typst"
#: Zip entries cannot be dated before 1980-01-01.
_ZIP_MIN_EPOCH = 315532800


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
    write_bytes(path, normalized(docx_entries(path), epoch))
    return path


def docx_entries(path: Path) -> dict[str, bytes]:
    """The DOCX's zip entries by name, uncompressed, in their order."""
    with zipfile.ZipFile(path) as zin:
        return {info.filename: zin.read(info) for info in zin.infolist()}


def normalized(entries: dict[str, bytes], epoch: int) -> bytes:
    """The bytes of a DOCX of ``entries`` as normalize_docx() writes it (one compression of every entry)."""
    zip_epoch = max(int(epoch), _ZIP_MIN_EPOCH)
    date_time = _dt.datetime.fromtimestamp(zip_epoch, tz=_dt.timezone.utc).timetuple()[:6]
    entries = dict(entries)
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
    return buf.getvalue()


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
    properties: dict | None = None,
    citeproc: bool = True,
) -> Path:
    """Convert the manuscript Markdown to DOCX with pandoc.

    ``properties`` ({title, authors, language}) finish the document
    (papergen.publish.docx_finish): the title in the Title style, the core
    properties and app.xml filled, tables kept whole.

    Citations are processed by citeproc (``csl=None``: the metadata's csl or
    pandoc's default style; see :func:`csl_style`), styles, page setup and
    footer come from ``reference_docx`` (see :func:`build_reference_docx`).
    The result is normalised with :func:`normalize_docx` using
    ``source_date_epoch`` (default: the SOURCE_DATE_EPOCH environment
    variable, else :data:`papergen.publish.pandoc.DEFAULT_EPOCH`). With ``strict`` (default), a
    missing image or an unknown citation key is an error, not a warning. ``citeproc=False``: a Markdown text that
    cites nothing (the change report, the STROBE checklist) is not given to citeproc (0.05 s of pandoc's time).
    """
    markdown, out = Path(markdown).resolve(), Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    epoch = epoch_of(source_date_epoch)
    args = common_args(markdown, resource_folders(resource_path), bibliography, csl, citeproc)
    args += [
        "--to=docx",
        f"--reference-doc={Path(reference_docx).resolve()}",
        f"--output={out}",
    ]
    run_pandoc(args, out=out, log_path=log_path_for(out, "pandoc"), cwd=markdown.parent,
               epoch=epoch, strict=strict)
    entries = docx_entries(out)
    if properties is not None:
        from papergen.publish.docx_finish import finish_entries

        finish_entries(entries, **properties)
    write_bytes(out, normalized(entries, epoch))  # finished and normalised in one rewrite of the zip
    return out



# --------------------------------------------------------------------------
# PDF (pandoc -> Typst -> PDF)
# --------------------------------------------------------------------------

def _typst_by_blocks(args: list[str], source: Path, typ: Path, kept: Path, log_path: Path,
                     epoch: int | None, strict: bool) -> bool:
    """Write ``typ`` converting only the blocks of the AST ``source`` not in ``kept``; False if the document must be
    converted whole (papergen.publish.typst_source)."""
    import json

    from papergen.publish import typst_source
    from papergen.publish.astnodes import has_notes
    from papergen.publish.pandoc import LUA_FILTER

    doc = json.loads(source.read_text(encoding="utf-8"))
    if has_notes(doc["blocks"]):
        return False
    keys = typst_source.block_keys(doc, LUA_FILTER)
    blocks = typst_source.load(kept, keys)
    todo_doc, todo = typst_source.marked(doc, keys, blocks)
    marked_src = typ.with_name(typ.stem + ".blocks.json")
    marked_out = typ.with_name(typ.stem + ".blocks.typ")  # beside the .typ: the Lua filter makes image paths relative
    try:
        write_bytes(marked_src, json.dumps(todo_doc).encode("utf-8"))
        run_pandoc([str(marked_src) if a == str(source) else a for a in args if not a.startswith("--output=")]
                   + [f"--output={marked_out}"], out=marked_out, log_path=log_path, cwd=source.parent,
                   epoch=epoch, strict=strict)
        parts = typst_source.split(marked_out.read_text(encoding="utf-8"), len(todo))
    finally:
        marked_src.unlink(missing_ok=True)
        marked_out.unlink(missing_ok=True)
    if parts is None:  # a block's own Typst held a marker line
        return False
    before, converted, after = parts
    body = typst_source.finish_body(typst_source.assemble(keys, todo, converted, blocks))
    write_bytes(typ, (before + body + after).encode("utf-8"))
    typst_source.save(kept, keys, blocks)
    return True


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
    return one_line(summary), full


def _typst_string(text: str) -> str:
    """Text for inside a Typst string literal ("..."): backslashes and quotes escaped, one line."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace('"', '\\"')


def _metadata_variables(metadata: dict) -> list[str]:
    """pandoc --variable arguments of the PDF's title, authors and key words (papergen.typst)."""
    args = [f"--variable=pdf-title:{_typst_string(metadata['title'])}"] if metadata.get("title") else []
    args += [f"--variable=pdf-author:{_typst_string(a)}" for a in metadata.get("authors") or []]
    args += [f"--variable=pdf-keywords:{_typst_string(k)}" for k in metadata.get("keywords") or []]
    return args


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
    metadata: dict | None = None,
    kept: Path | None = None,
) -> Path:
    """Convert the manuscript Markdown to PDF via pandoc's Typst writer.

    pandoc (with citeproc and the papergen Lua filter) writes
    ``out.with_suffix('.typ')`` (kept for debugging) using ``typst_template``
    (a pandoc template; default ``resources/papergen.typst``), which the
    embedded Typst compiler turns into ``out``. Only Typst's embedded fonts
    are used. The PDF has no creation date unless ``source_date_epoch`` is
    given, so identical inputs give identical bytes. ``metadata`` ({title, authors: [..], keywords: [..]})
    fills the PDF's document information (title and authors), not its text.
    ``kept`` (a folder of the build cache; the source an AST ``.json``): pandoc converts only the blocks not
    kept there (papergen.publish.typst_source).
    """
    import typst

    markdown, out = Path(markdown).resolve(), Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    typ = out.with_suffix(".typ")
    resource_dirs = resource_folders(resource_path)
    template = Path(typst_template).resolve() if typst_template else TYPST_TEMPLATE
    args = common_args(markdown, resource_dirs, bibliography, csl)
    args += ["--to=typst", "--standalone", f"--template={template}", f"--output={typ}"]
    if source_date_epoch is not None:
        args.append(f"--variable=pdf-date:{_typst_datetime(int(source_date_epoch))}")
    args += _metadata_variables(metadata or {})
    if kept is None or markdown.suffix != ".json" or not _typst_by_blocks(args, markdown, typ, kept, log_path_for(
            out, "pandoc"), source_date_epoch, strict):
        run_pandoc(args, out=typ, log_path=log_path_for(out, "pandoc"), cwd=markdown.parent,
                   epoch=source_date_epoch, strict=strict)

    # Typst only reads files under root: the .typ folder and the figures.
    root = Path(os.path.commonpath([str(typ.parent), *(str(d) for d in resource_dirs)]))
    log_path = log_path_for(out, "typst")
    kwargs = dict(root=str(root), font_paths=[], ignore_system_fonts=True, format="pdf")
    if source_date_epoch is not None:
        kwargs["timestamp"] = int(source_date_epoch)
    try:
        pdf, warnings = typst.compile_with_warnings(str(typ), **kwargs)
    except typst.TypstError as exc:
        summary, full = _first_typst_error(exc)
        write_log(log_path, f"typst compile {typ} (root {root})\n{full}\n")
        raise fail("typst", summary, log_path, out) from exc
    except (OSError, RuntimeError) as exc:
        write_log(log_path, f"typst compile {typ} (root {root})\n{exc!r}\n")
        raise fail("typst", f"error: {exc}", log_path, out) from exc
    if warnings:
        lines = [str(getattr(w, "diagnostic", "") or getattr(w, "message", w)) for w in warnings]
        write_log(log_path, f"typst compile {typ} (root {root})\n" + "\n".join(lines) + "\n")
    elif log_path.exists():
        log_path.unlink()
    write_bytes(out, pdf)
    return out
