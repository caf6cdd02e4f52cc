"""Shared fixtures: the repository root and one real build of the study per test session."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PAPERGEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Build the study once into a temporary folder (manuscript/ is not touched)."""
    from papergen.pipeline.build import build_manuscript

    out = tmp_path_factory.mktemp("build") / "manuscript"
    return build_manuscript(ROOT, out_dir=out, echo=lambda *_: None)


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

    Skipped only when chromium is truly absent and CI is not set; on CI (CI=true) a missing browser fails
    the test, so the check can never vanish silently.
    """
    if not Path(CHROMIUM).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI: chromium not found at {CHROMIUM}; .ci/run installs it with apt-get install chromium")
        pytest.skip(f"chromium not installed ({CHROMIUM} missing; apt-get install chromium); CI is not set")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def docx_text(path: Path) -> str:
    """All text of a DOCX as Word shows it: paragraphs, then every table cell."""
    import docx

    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return normalize("\n".join(parts))


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return normalize("\n".join(page.extract_text() for page in PdfReader(str(path)).pages))


def normalize(text: str) -> str:
    """Fold line breaks and runs of spaces so phrases split across lines still match."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def copy_study(dest: Path) -> Path:
    """A private copy of the study (data/, study/, templates/, build.py) that a test may alter."""
    import shutil

    for name in ("data", "study", "templates"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "build.py", dest / "build.py")
    return dest
