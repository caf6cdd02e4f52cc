"""Incremental builds (papergen.cache): skipped stages never serve a stale number.

Each kind of input is changed in turn in a copy of the study; the incremental
build must give exactly what a full ``force`` build of the same inputs gives
(numbers.json, the Markdown, the DOCX and PDF, their text, the Typst source, the journal profile and the
review edition), and
differ from the build before the change.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time

import pytest
import yaml

from conftest import docx_text, pdf_text
from studycopy import copy_study, set_cell

from papergen.pipeline.build import build_manuscript

HEAVY = ("pandas", "numpy", "lifelines", "matplotlib")


def build(study, force=False):
    lines = []
    result = build_manuscript(study, echo=lines.append, force=force)
    return result, lines


def outputs(result) -> dict:
    out = result.outputs
    return {"numbers.json": json.loads(out.ledger.read_text(encoding="utf-8")),
            "markdown": out.markdown.read_text(encoding="utf-8"),
            "docx": docx_text(out.docx), "pdf": pdf_text(out.pdf),
            "review": out.review.read_text(encoding="utf-8"),
            # the files themselves, which the stages kept by part (Typst blocks, the bibliography read) rebuild
            "docx bytes": out.docx.read_bytes(), "pdf bytes": out.pdf.read_bytes(),
            "typst": out.pdf.with_suffix(".typ").read_text(encoding="utf-8"),
            "journal profile": out.journal_table.read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    s = copy_study(tmp_path_factory.mktemp("cache") / "study")
    build(s)  # fills the cache
    return s


# --- one edit per kind of input ------------------------------------------------------

def edit_data(s):
    set_cell(s, "patients.csv", 2, "operation_minutes", str(int(_cell(s, 2, "operation_minutes")) + 30))


def edit_codebook(s):
    book = s / "data" / "codebook.yaml"
    text = book.read_text(encoding="utf-8")
    assert text.count("cutoff_date: '2020-10-31'") == 1
    book.write_text(text.replace("cutoff_date: '2020-10-31'", "cutoff_date: '2020-11-30'"), encoding="utf-8")


def edit_plan(s):
    with open(s / "study" / "analysis_plan.py", "a", encoding="utf-8") as fh:
        fh.write("\n\n_analysis_before_probe = analysis\n\n\ndef analysis(a):\n"
                 "    import papergen as pg\n    _analysis_before_probe(a)\n"
                 "    long = a.data['patients']['operation_minutes'] > 400\n"
                 "    a.value('probe.long_operations', pg.count(a.measure(long, 'patients', ['operation_minutes'],\n"
                 "            'long operation', filter='operation_minutes > 400')),\n"
                 "            'Patients operated on for more than 400 minutes (cache test).')\n")


def edit_template(s):
    with open(s / "templates" / "discussion.md.j2", "a", encoding="utf-8") as fh:
        fh.write("\nA sentence added by the cache test.\n")


def edit_settings(s):
    path = s / "study" / "study.yaml"
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    settings["facts"]["running_title"]["text"] += " (cache test)"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")


def edit_references(s):
    bib = s / "study" / "references.bib"
    text = bib.read_text(encoding="utf-8")
    assert text.count("One Hundred Years After") == 1
    bib.write_text(text.replace("One Hundred Years After", "A Century After"), encoding="utf-8")


def edit_citation_style(s):
    path = s / "study" / "study.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("csl: baishideng-publishing-group.csl") == 1  # the study's corrected copy
    path.write_text(text.replace("csl: baishideng-publishing-group.csl", "csl: american-medical-association"),
                    encoding="utf-8")


def _cell(s, row, column):
    from studycopy import cell

    return cell(s, "patients.csv", row, column)


EVERY_OUTPUT = ("numbers.json", "markdown", "docx", "pdf", "review")
EDITS = {"data value": (edit_data, EVERY_OUTPUT),
         "codebook": (edit_codebook, EVERY_OUTPUT),
         "analysis plan": (edit_plan, ["numbers.json", "review"]),
         "template": (edit_template, ["markdown", "docx", "pdf", "review"]),
         "study.yaml": (edit_settings, EVERY_OUTPUT),
         "references.bib": (edit_references, ["docx", "pdf", "review"]),
         "citation style": (edit_citation_style, ["docx", "pdf", "review"])}


@pytest.mark.parametrize("kind", list(EDITS))
def test_changed_input_gives_what_a_full_build_gives(study, kind):
    edit, changes = EDITS[kind]
    before = outputs(build(study)[0])
    edit(study)
    result, lines = build(study)
    incremental = outputs(result)
    full = outputs(build(study, force=True)[0])
    for part in incremental:
        assert incremental[part] == full[part], f"{kind}: incremental {part} differs from a --force build"
    for part in changes:
        assert incremental[part] != before[part], f"{kind}: {part} did not change"
    assert not result.up_to_date


def test_no_change_is_a_no_op_while_outputs_are_intact(study):
    first, _ = build(study)
    again, lines = build(study)
    stage_lines = [line for line in lines if re.match(r"^  \S.* +\d+\.\d\d s", line)]
    assert again.up_to_date and stage_lines == ["  all stages                     0.00 s  skipped (unchanged)"]
    assert len(again.registry) == len(first.registry)
    docx = first.outputs.docx
    good = docx.read_bytes()
    docx.write_bytes(good + b"damaged")
    repaired, _ = build(study)
    assert not repaired.up_to_date and docx.read_bytes() == good


def test_prose_edit_runs_no_statistics_and_redraws_no_figure(study):
    build(study)
    with open(study / "templates" / "results.md.j2", "a", encoding="utf-8") as fh:
        fh.write("\nAnother sentence from the cache test.\n")
    result, lines = build(study)
    for stage in ("read and validate data", "analysis plan", "figures", ):
        assert stage in result.skipped, f"{stage} ran after a prose-only edit:\n" + "\n".join(lines)
    for stage in ("render templates", "export DOCX", "export PDF", "ledger"):
        assert stage not in result.skipped


def test_figure_redrawn_only_when_its_curve_changes(study):
    build(study)
    set_cell(study, "patients.csv", 3, "blood_loss_ml", str(int(_cell(study, 3, "blood_loss_ml")) + 10))
    result, lines = build(study)
    assert "analysis plan" not in result.skipped and "figures" in result.skipped, "\n".join(lines)
    alive = next(r for r in range(2, 13) if _cell(study, r, "vital_status") == "0")
    seen = dt.date.fromisoformat(_cell(study, alive, "last_followup_date"))
    set_cell(study, "patients.csv", alive, "last_followup_date", (seen - dt.timedelta(days=1)).isoformat())
    result, lines = build(study)
    assert "figures" not in result.skipped, "\n".join(lines)


def test_cached_build_imports_no_scientific_library(study):
    """After a prose edit the build loads the cached analysis: pandas & co. are never imported."""
    build(study)
    with open(study / "templates" / "methods.md.j2", "a", encoding="utf-8") as fh:
        fh.write("\nA methods sentence from the cache test.\n")
    code = ("import sys, pathlib\nfrom papergen.pipeline.build import build_manuscript\n"
            f"r = build_manuscript(pathlib.Path({str(study)!r}), echo=lambda *_: None)\n"
            "assert 'analysis plan' in r.skipped, r.skipped\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"imported: {run.stdout.strip()[:300]}"


def test_an_unchanged_change_report_is_copied_not_converted_again(study):
    """Edits that print nothing new (a template comment) give the same change report: it comes from the cache."""
    template = study / "templates" / "results.md.j2"
    for n in (1, 2, 3):  # the second and the third report the same: nothing printed changed
        with open(template, "a", encoding="utf-8") as fh:
            fh.write(f"\n{{## a note for the authors, revision {'abc'[n - 1]} ##}}\n")
        started = time.time_ns()
        result, _ = build(study)
    kept = [d for d in (study / ".papergen" / "cache" / "changes").rglob("changes.html")]
    html = result.outputs.changes_html.read_bytes()
    assert [k.read_bytes() for k in kept].count(html) == 1
    entry = next(k for k in kept if k.read_bytes() == html)
    assert entry.stat().st_mtime_ns < started, "the report was converted again"
    assert b"No paragraph changed apart from its numbers." in html
    forced, _ = build(study, force=True)
    assert forced.outputs.changes_html.read_bytes() == html
    assert docx_text(forced.outputs.changes_docx) == docx_text(result.outputs.changes_docx)
