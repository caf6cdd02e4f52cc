"""``python build.py explain``: a number's trace from numbers.json, without data or heavy imports."""
from __future__ import annotations

import csv
import subprocess
import sys
from importlib import metadata

import pytest

from conftest import ROOT

HEAVY = ("pandas", "numpy", "lifelines", "matplotlib", "jinja2", "docx")


def explain(ledger, *args, cwd):
    """Run the real command line in a fresh interpreter (cwd: a scratch folder, so no log lands in the repo)."""
    code = ("import sys; from papergen.cli import main; rc = main(sys.argv[1:]); "
            f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules); "
            "print('HEAVY', heavy, file=sys.stderr); sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, "explain", *args, "--ledger", str(ledger)],
                          cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def ledger(built):
    return built.outputs.ledger


def _line_of(path: str, prefix: str) -> int:
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


def test_os_mean_names_file_columns_rows_code_and_library(ledger, tmp_path):
    r = explain(ledger, "os.mean", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    with open(ROOT / "data" / "patients.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 11
    assert out.splitlines()[0] == "os.mean  =  34.1 (± 3.7) mo"
    assert "data/patients.csv" in out
    for col in ("operation_date", "death_date", "last_followup_date", "vital_status"):
        assert col in out
    assert "11 rows: " + ", ".join(r["patient_id"] for r in rows) in out
    for r_ in rows:  # each row's input values, as in the CSV (a missing death date shows as a dash)
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(r_["patient_id"] + " "))
        cells = line.split()
        assert cells[1:5] == [r_["operation_date"], r_["death_date"] or "—", r_["last_followup_date"],
                              r_["vital_status"]], line
    assert f"src/papergen/analysis/statistics.py:{_line_of('src/papergen/analysis/statistics.py', 'def km_mean(')}" in out
    assert f"src/papergen/analysis/survival.py:{_line_of('src/papergen/analysis/survival.py', 'def km_mean(')}" in out
    assert f"numpy {metadata.version('numpy')}" in out
    assert "templates/abstract.md.j2:" in out and "Figure 1" in out


def test_explain_loads_no_data_or_plotting_library(ledger, tmp_path):
    r = explain(ledger, "os.mean", cwd=tmp_path)
    assert "HEAVY []" in r.stderr, r.stderr


def test_search_by_printed_text(ledger, tmp_path):
    r = explain(ledger, "34.1", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("os.mean  =  34.1 (± 3.7) mo"), r.stdout
    many = explain(ledger, "11", cwd=tmp_path)
    assert many.returncode == 0 and "numbers match '11'" in many.stdout
    listed = {ln.split()[0] for ln in many.stdout.splitlines()[1:]}
    assert {"figure.os.at_risk.overall_survival.m0", "postop.bili_raised"} <= listed
    assert "baseline.female" not in listed  # its part "of" is 11, but the manuscript never prints it


def test_unknown_key_is_one_line_with_the_closest_keys(ledger, tmp_path):
    r = explain(ledger, "os.maen", cwd=tmp_path)
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if not ln.startswith("HEAVY")]
    assert errors == [errors[0]] and errors[0].startswith("error: ") and "os.mean" in errors[0], r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_missing_ledger_is_one_line(tmp_path):
    r = explain(tmp_path / "numbers.json", "os.mean", cwd=tmp_path)
    assert r.returncode == 2
    assert [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")] == [
        f"error: {tmp_path / 'numbers.json'}: no ledger yet; run python build.py first"]
