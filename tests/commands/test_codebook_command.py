"""``python build.py codebook draft``: written once (never over a codebook unless --force), refused by a build
until reviewed; after a review (a small patch, as an author would make it) the study builds, with the numbers
the hand-written codebook gives. (Not test_codebook.py: pytest would import it and tests/test_codebook.py
under one name.)"""
from __future__ import annotations

import json
import shutil

import pytest

from studycopy import ROOT, copy_study, csv_frame, csv_to_parquet, csv_to_sav, run_build

EXAMPLE = ROOT / "examples" / "redcap"


def _texts(folder):
    values = json.loads((folder / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["values"]
    return {k: v["text"] for k, v in values.items() if "text" in v}


def _review(book, edits):
    """Apply the author's review: each (old, new) replaces one line's text exactly once."""
    text = book.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    book.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def example_numbers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("redcap") / "as-committed"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("manuscript", ".papergen", "__pycache__"))
    assert run_build(folder).returncode == 0
    return _texts(folder)


def test_redcap_draft_reviewed_builds_the_example(tmp_path, example_numbers):
    folder = tmp_path / "redcap"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("manuscript", ".papergen", "__pycache__"))
    (folder / "data" / "codebook.yaml").unlink()
    draft = ["codebook", "draft", "data/redcap_export.csv", "data/redcap_dictionary.csv"]
    proc = run_build(folder, *draft)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("wrote data/codebook.yaml: a draft from 2 file(s)")
    first = (folder / "data" / "codebook.yaml").read_bytes()
    again = run_build(folder, *draft)
    assert again.returncode == 2 and again.stderr.splitlines()[0] == (
        "error: data/codebook.yaml exists; the draft is not written over it: give --out FILE for another file, "
        "or --force to replace it")
    assert run_build(folder, *draft, "--force").returncode == 0
    assert (folder / "data" / "codebook.yaml").read_bytes() == first  # the same files give the same draft
    refused = run_build(folder)
    assert refused.returncode == 2 and "is a draft written by 'codebook draft'" in refused.stderr
    assert not (folder / "manuscript").exists()
    _review(folder / "data" / "codebook.yaml", [("draft: true\n", ""), ("  redcap_export:\n", "  patients:\n"),
                                                ("references: redcap_export.patient_id", "references: patients.patient_id")])
    proc = run_build(folder)
    assert proc.returncode == 0, proc.stderr
    assert _texts(folder) == example_numbers
    trace = run_build(folder, "explain", "visits.n")  # row ids: the REDCap record and its repeat instance
    assert "24 rows: P01 / 1, P01 / 2, P02 / 1," in trace.stdout


# The author's review of a draft made from the study's own data (the same whatever the format): 'unknown' is a
# primary site, not a missing value; complications are keyed by patient and name; the study's cut-off, not the
# last date seen; the grades no patient had.
REVIEW = [("draft: true\n", ""),
          ("    missing: [unknown]   # seen in the data: cells holding these mean 'no value'\n", ""),
          ("values: [pancreas, rectum, small intestine, stomach], required: false}",
           "values: [pancreas, small intestine, rectum, stomach, unknown], required: true}"),
          ("    primary_key: complication\n", "    primary_key: [patient_id, complication]\n"),
          ("cutoff_date: '2020-10-20'", "cutoff_date: '2020-10-31'"),
          ("values: [I, II, IVa]", "values: [I, II, IIIa, IIIb, IVa, IVb, V]")]


def test_sas_and_stata_draft_reviewed_gives_the_csv_numbers(tmp_path, built):
    import pyreadstat

    study = copy_study(tmp_path / "study")
    frames = {name: csv_frame(study, name) for name in ("patients", "lesions", "labs", "complications")}
    pyreadstat.write_sas7bdat(frames["patients"], str(study / "data" / "patients.sas7bdat"), compress=True)
    pyreadstat.write_sas7bdat(frames["lesions"], str(study / "data" / "lesions.sas7bdat"), row_compress=True)
    pyreadstat.write_xport(frames["labs"], str(study / "data" / "labs.xpt"))
    pyreadstat.write_dta(frames["complications"], str(study / "data" / "complications.dta"))
    files = ["data/patients.sas7bdat", "data/lesions.sas7bdat", "data/labs.xpt", "data/complications.dta"]
    proc = run_build(study, "codebook", "draft", *files, "--force")
    assert proc.returncode == 0, proc.stderr
    book = study / "data" / "codebook.yaml"
    drafted = book.read_text(encoding="utf-8")
    assert "operation_date: {type: date, min: '2015-06-16', max: '2018-01-09', required: true}\n" in drafted
    assert "    path: complications.dta\n" in drafted and "    path: labs.xpt\n" in drafted
    _review(book, REVIEW)
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(built.outputs.ledger.read_text(encoding="utf-8"))["values"]
    assert _texts(study) == {k: v["text"] for k, v in theirs.items() if "text" in v}


def test_spss_and_parquet_draft_reviewed_gives_the_csv_numbers(tmp_path, built):
    study = copy_study(tmp_path / "study")
    for name in ("lesions", "labs", "complications"):
        csv_to_parquet(study, name)
    csv_to_sav(study, "patients", {"sex": ["female", "male"]})
    files = ["data/patients.sav", "data/lesions.parquet", "data/labs.parquet", "data/complications.parquet"]
    proc = run_build(study, "codebook", "draft", *files, "--force")
    assert proc.returncode == 0, proc.stderr
    book = study / "data" / "codebook.yaml"
    assert "primary_site: {type: category, values: [pancreas, rectum, small intestine, stomach], required: false}" \
           "   # missing-value marker(s) 'unknown' seen" in book.read_text(encoding="utf-8")
    _review(book, REVIEW)
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(built.outputs.ledger.read_text(encoding="utf-8"))["values"]
    assert _texts(study) == {k: v["text"] for k, v in theirs.items() if "text" in v}
