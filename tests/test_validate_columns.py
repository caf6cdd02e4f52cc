"""The column-wise reader and validator give exactly what the row-by-row path gave: same frames, same messages.

The reference is tests/reference_validate.py, a frozen copy of the per-row
path (csv module, one dict per row, one check per cell). Both run on the
demonstration data, a synthetic 1,000-patient cohort, and every mistake of
the bad-input corpus (tests/test_validate.py), on the small study and on the
cohort; frames must be equal value for value and dtype for dtype, error lists
line for line. Random texts then check the two shortcuts the column path
takes (splitting quote-free CSV at once, accepting plainly valid cells
without check_cell) against the code they stand in for.
"""
from __future__ import annotations

import hashlib
import random
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

import reference_validate as ref
from papergen import colcheck
from papergen.codebook import ColumnSpec, read_codebook
from papergen.errors import DataErrors
from papergen.identifiers import value_kind
from papergen.load import _read_csv_records, from_rows, read_raw
from papergen.plaincsv import split_plain
from papergen.validate import check_cell, validate
from studycopy import ROOT, copy_study
from test_validate import CASES

sys.path.insert(0, str(ROOT / "benchmarks"))
from synthetic_cohort import make_study  # noqa: E402  (the benchmark's generator of invented patients)


def _run(study, read, check):
    book = read_codebook(study / "data" / "codebook.yaml")
    raws = {n: read(n, study / "data" / s.path, f"data/{s.path}") for n, s in book.files.items()}
    try:
        return check(book, raws), None
    except DataErrors as exc:
        return None, [(e.file, e.row, e.column, e.value, e.rule, str(e)) for e in exc.errors]


def assert_same_as_row_path(study):
    """Both paths on one study: equal error lists, or equal typed frames (returned, for more checks)."""
    new_tables, new_errs = _run(study, read_raw, validate)
    old_tables, old_errs = _run(study, ref.read_raw, ref.validate)
    assert new_errs == old_errs
    if old_tables is None:
        return old_errs
    assert set(new_tables) == set(old_tables)
    for name, old in old_tables.items():
        pd.testing.assert_frame_equal(new_tables[name].frame, old.frame, check_exact=True)
    return new_tables


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return make_study(tmp_path_factory.mktemp("cohort") / "study", 1000)


def test_demonstration_data_give_the_same_frames():
    tables = assert_same_as_row_path(ROOT)
    assert len(tables["patients"].frame) == 11 and str(tables["patients"].frame["operation_date"].dtype) == \
        "datetime64[ns]"


def test_synthetic_cohort_gives_the_same_frames(cohort, monkeypatch):
    tables = assert_same_as_row_path(cohort)
    assert len(tables["patients"].frame) == 1000
    monkeypatch.setattr(colcheck, "MANY", 0)  # every column through the vectorised acceptance
    assert_same_as_row_path(cohort)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_the_same_messages(case, tmp_path):
    study = copy_study(tmp_path / "study")
    CASES[case][0](study)
    errs = assert_same_as_row_path(study)
    assert isinstance(errs, list) and errs, "the mistake was not found"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_in_a_large_cohort_gives_the_same_messages(case, cohort, tmp_path, monkeypatch):
    monkeypatch.setattr(colcheck, "MANY", 0)
    study = tmp_path / "study"
    shutil.copytree(cohort, study)
    CASES[case][0](study)
    assert_same_as_row_path(study)


def test_many_mistakes_spread_over_a_cohort(cohort, tmp_path, monkeypatch):
    """Mistakes in hundreds of rows, of every kind, in one file: same lines in the same order."""
    monkeypatch.setattr(colcheck, "MANY", 0)
    study = tmp_path / "study"
    shutil.copytree(cohort, study)
    rnd = random.Random(7)
    path = study / "data" / "patients.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    junk = ["", " 12", "12 ", "n/a", "NA", "1,5", "2016-02-30", "31/02/2016", "42171", "+7", "07", "1e3", "\u00a0x",
            "Male", "P0001", "P9999", "\u0661\u0662", "2016-5-1", "yes", "2", "-", "1.", ".5", "abc\tdef"]
    for k in rnd.sample(range(1, len(lines) - 1), 300):
        cells = lines[k].split(",")
        cells[rnd.randrange(len(header))] = rnd.choice(junk)
        lines[k] = ",".join(cells)
    lines.insert(500, "")  # a blank line, skipped without renumbering
    lines.insert(700, " , ,")  # a short row of blanks, skipped too
    path.write_text("\n".join(lines), encoding="utf-8")
    errs = assert_same_as_row_path(study)
    assert len(errs) > 200


# --- the shortcuts against what they stand in for -----------------------------------------

def test_plain_csv_split_equals_the_csv_module():
    rnd = random.Random(11)
    alphabet = ["a", "b", "1", ",", ",", ",", " ", "\t", "\n", "\n", "\r\n", "\u3000", "é", "\x1f", "x y", "\x00"]
    fast = 0
    for _ in range(5000):
        header = ",".join(rnd.choice(["id", "x", " y", "z ", "", "a b"]) for _ in range(rnd.randint(1, 4)))
        text = header + rnd.choice(["\n", "\r\n"]) + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
        if not text.strip():
            continue
        got = split_plain(text, text.encode("utf-8"))
        if got is None:
            continue
        fast += 1
        want = from_rows("t", None, "t", *_read_csv_records(text, "t"))
        assert got == (want.header, want.rownums, want.columns, want.ragged), repr(text)
    assert fast > 3000  # most texts took the fast path


def test_quoted_csv_is_read_by_the_csv_module(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,note\nA,"x, y"\n', encoding="utf-8")
    assert split_plain(path.read_text(), path.read_bytes()) is None
    assert read_raw("t", path, "t.csv").rows == [(2, ["A", "x, y"])]


SPECS = [ColumnSpec("s", "string"), ColumnSpec("p", "string", pattern=r"^P[0-9]{2}$"),
         ColumnSpec("i", "integer", min=0, max=90), ColumnSpec("j", "integer", required=False),
         ColumnSpec("n", "number", min=0.5, max=100), ColumnSpec("m", "number", required=False)]
PIECES = ["", " ", "P", "0", "1", "9", "12", ".", "+", "-", "e", "a", "NA", "n/a", "Unknown", "none", "\u00a0",
          "\u0663", "\u212a", "P0", "x\r", ",", "%", "mL", "\u3000", "not done", "\t"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_vectorised_acceptance_agrees_with_check_cell(spec, monkeypatch):
    monkeypatch.setattr(colcheck, "MANY", 0)
    rnd = random.Random(spec.name)
    texts = ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 4))) for _ in range(4000)]
    texts += [rnd.choice([f"P{rnd.randint(0, 99):02d}", str(rnd.randint(-5, 120)), f"{rnd.uniform(-1, 120):.2f}"])
              for _ in range(3000)]  # plainly valid texts too, so that both outcomes are exercised
    codes, uniques = colcheck.factorise(texts)
    column = colcheck.Column(spec.name, spec, codes, uniques, check_cell)
    for j, u in enumerate(uniques):
        value, problem = check_cell(u, spec)
        assert (column.values[j], column.problems[j]) == (value, problem), repr(u)
        assert type(column.values[j]) is type(value)
    assert column.ok_u.sum() > 50 and (~column.ok_u).sum() > 50


def test_identifier_prefilter_keeps_every_identifier():
    rnd = random.Random(3)
    digits = "0123456789"
    samples = ["13812345678", "+86 138 1234 5678", "010-12345678", "(021) 1234567", "+44 20 7946 0958",
               "a.b@example.org", "11010519491231002X", "P01-L02", "2016-05-19", "\u0661" * 11]
    for _ in range(20000):
        samples.append("".join(rnd.choice(digits + " -+()@.xX") for _ in range(rnd.randint(0, 20))))
    flagged = [s for s in samples if value_kind(s)]
    maybe = colcheck.might_identify(np.array(samples, dtype=object))
    assert len(flagged) > 50
    assert all(maybe[i] for i, s in enumerate(samples) if value_kind(s))


def test_plan_fingerprints_hash_ids_as_before():
    """plan._index_rows and _digest hash without factorising first: the same bytes as pandas' default."""
    from papergen import plan

    ids = pd.Index([f"P{i:05d}" for i in range(3000)], dtype=object)
    values = pd.Series(["a", "b"] * 1500, index=ids, dtype=object)
    with_gap = pd.Series(["a", None] * 1500, index=ids, dtype=object)
    for s in (values, with_gap, pd.Series(np.arange(3000.0), index=ids)):
        want_index = pd.util.hash_pandas_object(s.index).to_numpy().tobytes()
        data = pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes()
        want = hashlib.sha256(b"x\0" + data + b"\0" + want_index).hexdigest()[:16]
        assert plan._digest(s, "x") == want
    copy = ids.copy()  # equal ids in a new object: the same row ids and hash, found without hashing again
    assert plan._index_rows(copy) == (tuple(ids), pd.util.hash_pandas_object(ids).to_numpy().tobytes())
    assert not plan._same_ids(ids, pd.Index([1.0] * 3000)) and plan._same_ids(ids, copy)
