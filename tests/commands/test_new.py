"""Starting a new paper: ``papergen new DIR`` and ``python build.py new DIR``."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from papergen.cli import main
from papergen.errors import StudyLayoutError
from papergen.commands.new import FILES_TO_EDIT, create_study


def papergen_script() -> str:
    script = Path(sys.executable).with_name("papergen")
    return str(script) if script.exists() else shutil.which("papergen")


def test_console_script_creates_a_study_that_builds_at_once(tmp_path):
    run = subprocess.run([papergen_script(), "new", "my-paper"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    study = tmp_path / "my-paper"
    docx = study / "manuscript" / "paper.docx"
    assert docx.stat().st_size > 0 and (study / "manuscript" / "paper.pdf").stat().st_size > 0
    for files, _ in FILES_TO_EDIT:  # the message names every file to edit, and each exists
        assert files in run.stdout
        for f in files.split(", "):
            assert list(study.glob(f)), f
    assert "python my-paper/build.py" in run.stdout


def test_new_study_prints_its_numbers(tmp_path):
    """The template's median survival of the new-treatment group, by hand from the synthetic rows."""
    import csv

    from conftest import docx_text
    from papergen.pipeline.build import build_manuscript

    paths = create_study(tmp_path / "s")
    result = build_manuscript(paths.root, echo=lambda *_: None)
    rows = list(csv.DictReader((paths.data / "patients.csv").open(encoding="utf-8")))
    new = sorted((float(r["time_months"]), int(r["event"])) for r in rows if r["group"] == "new")
    s, median = 1.0, None
    for i, (t, e) in enumerate(new):  # no tied times in the template data
        s *= 1 - e / (len(new) - i)
        if median is None and s <= 0.5:
            median = t
    assert result.registry["os.median.new"].exact["median"] == median
    assert f"{median:.1f} months" in docx_text(result.outputs.docx)


#: template syntax that must never reach the manuscript: Jinja's and pandoc's fenced divs
LEAKED_SYNTAX = ("{#", "#}", "{{", "}}", "{%", "%}", ":::")


def test_the_starter_paper_prints_no_template_syntax(tmp_path):
    """The first build of ``papergen new`` is read back: DOCX (python-docx) and PDF (pypdf) text."""
    from conftest import docx_text, pdf_text
    from papergen.pipeline.build import build_manuscript

    paths = create_study(tmp_path / "s")
    result = build_manuscript(paths.root, echo=lambda *_: None)
    for name, text in (("DOCX", docx_text(result.outputs.docx)), ("PDF", pdf_text(result.outputs.pdf))):
        assert "Starter manuscript" in text, name  # the text was read at all
        leaked = [(s, text[max(0, text.find(s) - 40): text.find(s) + 40]) for s in LEAKED_SYNTAX if s in text]
        assert leaked == [], f"{name}: {leaked}"


def test_build_py_new_and_refusal_to_overwrite(tmp_path):
    target = tmp_path / "second"
    assert main(["new", str(target), "--no-build"], root=tmp_path) == 0
    assert (target / "study" / "analysis_plan.py").exists() and (target / ".gitignore").exists()
    assert not (target / "manuscript").exists()
    with pytest.raises(StudyLayoutError, match="not an empty folder"):
        create_study(target)
    assert main(["new", str(target)], root=tmp_path) == 2  # one-line error, no traceback
