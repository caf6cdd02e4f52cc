"""The build identifier a DOCX carries, so a copy a co-author returns can be merged against its build.

The identifier is a custom document property (``docProps/custom.xml``, File >
Properties > Custom in Word, File > Properties > Custom Properties in
LibreOffice), which both word processors keep when they save. It is the hash of
the DOCX as pandoc wrote it, so two builds of the same inputs share it and the
stamped file stays byte-reproducible.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from lxml import etree

from papergen.atomic import write_bytes
from papergen.publish.export import normalized

PROPERTY = "papergen-build"
CUSTOM = "docProps/custom.xml"
_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the one format id of user-defined properties
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"


def stamp_build_id(docx: Path, epoch: int) -> str:
    """Give ``docx`` its build identifier (the hash of its bytes now) as a custom property; return it."""
    docx = Path(docx)
    data = docx.read_bytes()
    build = hashlib.sha256(data).hexdigest()[:16]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        entries = {info.filename: z.read(info) for info in z.infolist()}
    if CUSTOM not in entries:
        entries[CUSTOM] = f'<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="{_NS}" xmlns:vt="{_VT}"/>'.encode()
        entries["[Content_Types].xml"] = _add_override(entries["[Content_Types].xml"])
        entries["_rels/.rels"] = _add_relationship(entries["_rels/.rels"])
    entries[CUSTOM] = _with_property(entries[CUSTOM], PROPERTY, build)
    write_bytes(docx, normalized(entries, epoch))  # fixed dates and order again
    return build


def read_build_id(docx_bytes: bytes) -> str | None:
    """The build identifier of a DOCX (its bytes), None if it has none. Raises zipfile.BadZipFile, KeyError."""
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        if CUSTOM not in z.namelist():
            return None
        root = etree.fromstring(z.read(CUSTOM))
    for prop in root:
        if prop.get("name") == PROPERTY:
            return "".join(prop.itertext()).strip() or None
    return None


def _with_property(xml: bytes, name: str, value: str) -> bytes:
    root = etree.fromstring(xml)
    for prop in list(root):
        if prop.get("name") == name:
            root.remove(prop)
    pids = [int(p.get("pid", "1")) for p in root]
    prop = etree.SubElement(root, f"{{{_NS}}}property", fmtid=_FMTID, pid=str(max(pids, default=1) + 1), name=name)
    etree.SubElement(prop, f"{{{_VT}}}lpwstr").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _add_override(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    etree.SubElement(root, f"{{{_CT}}}Override", PartName="/" + CUSTOM,
                     ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _add_relationship(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    ids = {r.get("Id") for r in root}
    rid = next(f"rIdPg{i}" for i in range(1, 1000) if f"rIdPg{i}" not in ids)
    etree.SubElement(root, f"{{{_RELS}}}Relationship", Id=rid, Type=_CUSTOM_REL, Target=CUSTOM)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
