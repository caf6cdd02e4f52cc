"""Submission pack (papergen.pack): contents, manifest, print figures, a byte-reproducible zip."""
from __future__ import annotations

import hashlib
import io
import zipfile

import docx
import pytest
from PIL import Image

from conftest import copy_study
from papergen import cli

EXPECTED = {"manuscript.docx", "manuscript.pdf", "tables.docx", "strobe-checklist.docx",
            "figures/figure-1-os.tif", "figures/figure-1-os.pdf",
            "figures/figure-2-pfs.tif", "figures/figure-2-pfs.pdf", "MANIFEST.txt"}


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """A study copy packed twice: the first pack builds (no manuscript/ yet), the second reuses it."""
    import contextlib

    root = copy_study(tmp_path_factory.mktemp("study"))
    logs, zips = [], []
    for _ in range(2):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(["pack"], root=root) == 0
        logs.append(out.getvalue())
        zips.append((root / "manuscript" / "submission.zip").read_bytes())
    return root, logs, zips


def test_pack_builds_first_when_manuscript_is_missing(packed):
    _, logs, _ = packed
    assert "building first" in logs[0] and "journal profile:" in logs[0]
    assert "building first" not in logs[1]


def test_zip_is_byte_identical_when_packed_twice(packed):
    _, _, zips = packed
    assert zips[0] == zips[1]


def test_zip_holds_every_file_with_fixed_dates_and_permissions(packed):
    _, _, zips = packed
    with zipfile.ZipFile(io.BytesIO(zips[0])) as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert {n.removeprefix("submission/") for n in names} == EXPECTED
        assert {i.date_time for i in infos} == {infos[0].date_time}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_manifest_lists_every_file_with_its_sha256(packed):
    root, _, zips = packed
    folder = root / "manuscript" / "submission"
    lines = (folder / "MANIFEST.txt").read_text(encoding="utf-8").splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == EXPECTED - {"MANIFEST.txt"}
    with zipfile.ZipFile(io.BytesIO(zips[0])) as z:
        for name, digest in listed.items():
            assert hashlib.sha256(z.read(f"submission/{name}")).hexdigest() == digest, name
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_figures_are_300_dpi_lzw_tiff_and_vector_pdf(packed):
    root, _, _ = packed
    figures = root / "manuscript" / "submission" / "figures"
    for stem in ("figure-1-os", "figure-2-pfs"):
        with Image.open(figures / f"{stem}.tif") as im:
            assert im.format == "TIFF" and im.mode == "RGB"
            assert im.info["compression"] == "tiff_lzw"
            assert [round(d) for d in im.info["dpi"]] == [300, 300]
            with Image.open(root / "manuscript" / "figures" / f"{stem.split('-', 2)[2]}.png") as png:
                assert im.size == png.size  # same pixels as the drawn figure, not resampled
        pdf = (figures / f"{stem}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and b"/Subtype /Image" not in pdf  # drawn with vectors, no bitmap


def test_tables_docx_holds_only_the_tables(packed):
    root, _, _ = packed
    d = docx.Document(str(root / "manuscript" / "submission" / "tables.docx"))
    assert len(d.tables) == 2
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Table 1" in text and "Table 2" in text and "INTRODUCTION" not in text
    cells = {c.text for t in d.tables for row in t.rows for c in row.cells}
    assert "n = 11" in cells and "405.6 (± 39.4)" in cells


def test_pack_rebuilds_a_stale_manuscript(packed):
    import contextlib

    root, _, _ = packed
    intro = root / "templates" / "introduction.md.j2"
    intro.write_text(intro.read_text(encoding="utf-8").replace("uncommon", "rare"), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["pack"], root=root) == 0
    assert "building first: templates/introduction.md.j2 changed since the last build" in out.getvalue()
    assert "rare" in (root / "manuscript" / "manuscript.md").read_text(encoding="utf-8")
