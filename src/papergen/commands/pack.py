"""``python build.py pack``: the submission pack, manuscript/submission/ and submission.zip.

The pack holds what the journal's submission system asks for, each as its own
file: the manuscript DOCX and PDF, every figure as a 300 dpi TIFF (LZW) and as
vector PDF, the tables as a separate DOCX, the STROBE checklist, and
MANIFEST.txt with the SHA-256 of each file (``sha256sum -c MANIFEST.txt``
verifies it). The zip is deterministic: sorted entries, one fixed timestamp
(SOURCE_DATE_EPOCH), fixed permissions and compression, so packing the same
manuscript twice gives the same bytes. The manuscript is built first when
manuscript/ is missing or older than its inputs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from papergen.commands.check import ensure_built
from papergen.errors import ExportError, JournalProfileError
from papergen.publish import export, journal
from papergen.publish.pandoc import pandoc_path
from papergen.publish.reference_docx import build_reference_docx
from papergen.study import Study, StudyPaths

TIFF_DPI = 300
_ZIP_MIN_EPOCH = 315532800  # zip dates start in 1980


def run(paths: StudyPaths, argv: list[str]) -> int:
    """Build if stale, refuse on journal-profile errors, then write the pack and its zip."""
    parser = argparse.ArgumentParser(prog="python build.py pack",
                                     description="Write manuscript/submission/ and manuscript/submission.zip.")
    parser.parse_args(argv)
    print(f"papergen: packing {paths.root.name}")
    study = Study(paths)
    out, _ = ensure_built(study, echo=print)
    errors = [r for r in journal.check(study, out) if not r.ok and r.level == "error"]
    if errors:
        raise JournalProfileError("\n".join(r.message() for r in errors))
    folder = write_pack(out, study.docx_style, study.source_date_epoch)
    archive = write_zip(folder, out.submission_zip, study.source_date_epoch)
    names = manifest_names(folder)
    print(f"packed {len(names)} files and MANIFEST.txt -> {_rel(folder, paths.root)}/ and {_rel(archive, paths.root)} "
          f"(sha256 {sha256(archive)[:12]})")
    for name in names:
        print(f"  {name}")
    return 0


# --- the pack ---------------------------------------------------------------------

def write_pack(out, docx_style: dict, epoch: int) -> Path:
    """Fill ``out.submission`` (replaced as a whole) from a built manuscript folder."""
    tmp = out.dir / ".submission.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        shutil.copyfile(out.docx, tmp / out.docx.name)
        shutil.copyfile(out.pdf, tmp / out.pdf.name)
        shutil.copyfile(out.strobe_docx, tmp / out.strobe_docx.name)
        (tmp / "figures").mkdir()
        for number, stem in figure_numbers(out):
            png, vector = out.figures / f"{stem}.png", out.figures / f"{stem}.pdf"
            for f in (png, vector):
                if not f.exists():
                    raise ExportError(f"{f}: figure file missing; rebuild with python build.py")
            name = f"figure-{number}-{stem}"
            to_tiff(png, tmp / "figures" / f"{name}.tif")
            shutil.copyfile(vector, tmp / "figures" / f"{name}.pdf")
        tables_docx(out, docx_style, tmp / "tables.docx", epoch)
        write_manifest(tmp)
        shutil.rmtree(out.submission, ignore_errors=True)
        os.replace(tmp, out.submission)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out.submission


def figure_numbers(out) -> list[tuple[int, str]]:
    """(figure number, file stem) for every figure, numbered as the manuscript numbers them."""
    values = json.loads(out.ledger.read_text(encoding="utf-8"))["values"]
    found = []
    for png in sorted(out.figures.glob("*.png")):
        ref = values.get(f"ref.figure_{png.stem}", {})
        number = (ref.get("exact") or {}).get("number")
        if number is None:
            raise ExportError(f"{png}: no figure number in {out.ledger.name} (ref.figure_{png.stem}); rebuild")
        found.append((int(number), png.stem))
    return sorted(found)


def to_tiff(png: Path, tif: Path, dpi: int = TIFF_DPI) -> Path:
    """A print TIFF: RGB on white, LZW-compressed, at the figure's own resolution (at least ``dpi``)."""
    from PIL import Image

    with Image.open(png) as im:
        have = round(min(im.info.get("dpi", (0, 0))))
        if have < dpi:
            raise ExportError(f"{png}: {have} dpi, below the {dpi} dpi a print figure needs; redraw it at {dpi} dpi")
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
    flat.save(tif, format="TIFF", compression="tiff_lzw", dpi=(have, have))
    return tif


def tables_markdown(markdown: Path) -> str:
    """Only the manuscript's tables (with captions and notes), one per page, as pandoc Markdown."""
    pandoc = str(pandoc_path())
    ast = json.loads(_pandoc([pandoc, str(markdown), "--from=markdown", "--to=json"]))
    blocks = []
    for b in ast["blocks"]:
        notes = b.get("t") == "Div" and "table-notes" in b["c"][0][1]
        if b.get("t") == "Table" or (notes and blocks):
            if b.get("t") == "Table" and blocks:
                blocks.append({"t": "Div", "c": [["", ["pagebreak"], []], []]})
            blocks.append(b)
    if not blocks:
        raise ExportError(f"{markdown}: the manuscript has no tables to pack")
    ast["blocks"] = blocks
    return _pandoc([pandoc, "--from=json", "--to=markdown"], json.dumps(ast).encode("utf-8"))


def tables_docx(out, docx_style: dict, target: Path, epoch: int) -> Path:
    md = target.with_suffix(".md")
    md.write_text(tables_markdown(out.markdown), encoding="utf-8")
    ref = build_reference_docx(target.parent / "tables-reference.docx", **docx_style)
    try:
        export.to_docx(md, target, resource_path=out.dir, bibliography=None, csl=None,
                       reference_docx=ref, source_date_epoch=epoch)
    finally:
        ref.unlink(missing_ok=True)
        md.unlink(missing_ok=True)
    return target


def _pandoc(cmd: list[str], stdin: bytes | None = None) -> str:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        first = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[0]
        raise ExportError(f"pandoc failed while extracting the tables: {first}", tool="pandoc")
    return proc.stdout.decode("utf-8")


# --- manifest and zip -------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def write_manifest(folder: Path) -> Path:
    """MANIFEST.txt in ``sha256sum`` format: "<sha256>  <path>" for every other file, sorted."""
    lines = [f"{sha256(folder / name)}  {name}" for name in _files(folder) if name != "MANIFEST.txt"]
    target = folder / "MANIFEST.txt"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def manifest_names(folder: Path) -> list[str]:
    return [line.split("  ", 1)[1] for line in (folder / "MANIFEST.txt").read_text(encoding="utf-8").splitlines()]


def write_zip(folder: Path, target: Path, epoch: int) -> Path:
    """A byte-reproducible zip of ``folder`` (entries under ``submission/``)."""
    stamp = dt.datetime.fromtimestamp(max(int(epoch), _ZIP_MIN_EPOCH), tz=dt.timezone.utc).timetuple()[:6]
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        for name in _files(folder):
            info = zipfile.ZipInfo(f"{folder.name}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3                     # unix, so the permissions below are read
            info.external_attr = (0o100644 & 0xFFFF) << 16
            z.writestr(info, (folder / name).read_bytes(), compresslevel=9)
    os.replace(tmp, target)
    return target


def _rel(p: Path, root: Path) -> str:
    try:
        return Path(p).resolve().relative_to(root).as_posix()
    except ValueError:
        return str(p)
