"""The column-wise reader and validator give exactly what the row-by-row path gave: same frames, same messages.

The reference is tests/reference_validate.py, a frozen copy of the per-row
path (csv module, one dict per row, one check per cell). Both run on the
demonstration data, a synthetic 1,000-patient cohort, and every mistake of
the bad-input corpus (tests/ingest/test_validate.py), on the small study and on the
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
from papergen.ingest import colcheck, plaincsv
from papergen.codebook import ColumnSpec, read_codebook
from papergen.errors import DataErrors
from papergen.ingest.identifiers import value_kind
from papergen.ingest.load import _read_csv_records, from_rows, read_raw
from papergen.ingest.plaincsv import split_plain
from papergen.ingest.cells import check_cell
from papergen.ingest.validate import validate
from studycopy import ROOT, copy_study
from test_validate import BEFORE_VALIDATION, CASES, OTHER_FORMATS


sys.path.insert(0, str(ROOT / "benchmarks"))
from synthetic_cohort import make_study  # noqa: E402  (the benchmark's generator of invented patients)


#: the corpus cases whose mistakes the validator finds in the data files (not those refused before validation,
#: nor those in the codebook, study/ or templates/)
VALIDATED = sorted(name for name, (_, lines) in CASES.items() if name not in BEFORE_VALIDATION | OTHER_FORMATS
                   and all(line.file.startswith("data/") and not line.file.startswith("data/codebook.yaml")
                           for line in lines))


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
        frame = new_tables[name].frame
        if str(frame.index.dtype) == "string":  # a composite key, kept as pyarrow strings: the same texts
            assert old.frame.index.dtype == object and list(frame.index) == list(old.frame.index)
            frame = frame.set_axis(old.frame.index)
        pd.testing.assert_frame_equal(frame, old.frame, check_exact=True)
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


@pytest.mark.parametrize("case", VALIDATED)
def test_bad_input_gives_the_same_messages(case, tmp_path):
    study = copy_study(tmp_path / "study")
    CASES[case][0](study)
    errs = assert_same_as_row_path(study)
    assert isinstance(errs, list) and errs, "the mistake was not found"


@pytest.mark.parametrize("case", VALIDATED)
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


@pytest.mark.parametrize("limit", [plaincsv.CODE_LIMIT, 2])  # 2: the codes are renumbered after every word
@pytest.mark.parametrize("plain", [True, False])  # ASCII without NUL: the texts are made from the words
def test_lazy_split_gives_the_same_cells_and_factorises_as_pandas(limit, plain, monkeypatch):
    monkeypatch.setattr(plaincsv, "CODE_LIMIT", limit)
    """ByteColumns (cells kept as bytes of the file) read as the lists and factorise them: first appearance order."""
    rnd = random.Random(12)
    pieces = ["", "a", "b", "1", "12345678", "1234567", "P000001-L0", "total_bilirubin_x", " ", "\t", "x y"]
    pieces += [] if plain else ["é", "\u3000", "\x00"] * 3
    pieces += [","]
    lazy = 0
    for _ in range(3000):
        width = rnd.randint(1, 4)
        lines = [",".join(f"h{j}" for j in range(width))]
        for _ in range(rnd.randint(0, 30)):
            cells = ["".join(rnd.choice(pieces[:-1]) for _ in range(rnd.randint(0, 3))) for _ in range(width)]
            lines.append(",".join(cells) if rnd.random() < 0.97 else ",".join(cells[:-1]))
        text = "\n".join(lines) + rnd.choice(["", "\n"])
        want = split_plain(text, text.encode("utf-8"))
        got = split_plain(text, text.encode("utf-8"), lazy=True)
        if want is None:
            assert got is None
            continue
        assert (got[0], got[1], got[3]) == (want[0], want[1], want[3]) and len(got[2]) == len(want[2]), repr(text)
        for column, texts in zip(got[2], want[2]):
            assert list(column) == texts, repr(text)
            if not hasattr(column, "factorise"):
                continue
            lazy += 1
            codes, uniques = colcheck.factorise(column)
            seen: dict = {}  # by hand, not pandas.factorize: its string table cuts a text at a NUL character
            want_codes = [seen.setdefault(t, len(seen)) for t in texts]
            assert codes.tolist() == want_codes and list(uniques) == list(seen), repr(text)
    assert lazy > 3000


def test_quoted_csv_is_read_by_the_csv_module(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,note\nA,"x, y"\n', encoding="utf-8")
    assert split_plain(path.read_text(), path.read_bytes()) is None
    assert read_raw("t", path, "t.csv").rows == [(2, ["A", "x, y"])]


SPECS = [ColumnSpec("s", "string"), ColumnSpec("p", "string", pattern=r"^P[0-9]{2}$"),
         ColumnSpec("i", "integer", min=0, max=90), ColumnSpec("j", "integer", required=False),
         ColumnSpec("n", "number", min=0.5, max=100), ColumnSpec("m", "number", required=False),
         ColumnSpec("k", "integer", missing=("99", "-9", "NA")), ColumnSpec("t", "string", required=False,
                                                                          missing=("P01", "."))]
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


def test_plan_fingerprints_tell_data_apart_and_hash_texts_at_once():
    """plan._digest: equal for the same label, ids and values in new objects, different when any of them differs.

    Texts are hashed joined (sha256 of the NUL-joined UTF-8, by hand here); numbers as their bytes with
    their dtype; other data, and texts holding a NUL or a missing value, by pandas' hashes as before.
    """
    from papergen.analysis import plan

    ids = pd.Index([f"P{i:05d}" for i in range(3000)], dtype=object)
    joined = hashlib.sha256("\0".join(ids).encode("utf-8")).digest()
    assert plan._index_rows(ids) == (tuple(ids), b"texts\0" + b"3000\0" + joined)
    values = pd.Series(["a", "b"] * 1500, index=ids, dtype=object)
    with_gap = pd.Series(["a", None] * 1500, index=ids, dtype=object)
    with_nul = pd.Series(["a\0", "b"] * 1500, index=ids, dtype=object)
    numbers = pd.Series(np.arange(3000.0), index=ids)
    index_bytes = plan._index_rows(ids)[1]
    for s in (with_gap, with_nul):  # not all plain texts: pandas' hashes, as before
        data = pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes()
        assert plan._digest(s, "x") == hashlib.sha256(b"x\0" + data + b"\0" + index_bytes).hexdigest()[:16]
    data = b"numpy\0<f8\0" + np.arange(3000.0).tobytes()  # numbers: their bytes and dtype
    assert plan._digest(numbers, "x") == hashlib.sha256(b"x\0" + data + b"\0" + index_bytes).hexdigest()[:16]
    as_int = pd.Series(np.arange(3000), index=ids)
    flags = pd.Series(np.arange(3000) % 2 == 0, index=ids)
    dates = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(3000), unit="D"), index=ids)
    digests = {plan._digest(s, "x") for s in (values, with_gap, with_nul, numbers, as_int, flags, dates)}
    assert len(digests) == 7
    later = dates.copy()
    later.iloc[-1] += pd.Timedelta(days=1)
    assert plan._digest(dates.copy(), "x") == plan._digest(dates, "x") != plan._digest(later, "x")
    assert plan._digest(flags.copy(), "x") == plan._digest(flags, "x") != plan._digest(~flags, "x")
    same = pd.Series(list(values), index=pd.Index(list(ids), dtype=object), dtype=object)  # new objects, same data
    assert plan._digest(same, "x") == plan._digest(values, "x") != plan._digest(values, "y")
    changed = values.copy()
    changed.iloc[1234] = "c"
    moved = pd.Series(list(values), index=pd.Index([f"Q{i:05d}" for i in range(3000)], dtype=object), dtype=object)
    split = pd.Series(["a\0b"] + ["b"] * 2999, index=ids, dtype=object)  # NUL inside: cannot pass for two texts
    assert len({plan._digest(s, "x") for s in (values, changed, moved, split)}) == 4
    copy = ids.copy()  # equal ids in a new object: the same row ids and hash, found without hashing again
    assert plan._index_rows(copy) == (tuple(ids), index_bytes)
    assert not plan._same_ids(ids, pd.Index([1.0] * 3000)) and plan._same_ids(ids, copy)
    numbered = pd.Index(range(3000))
    assert plan._index_rows(numbered) == (tuple(map(str, range(3000))),
                                          pd.util.hash_pandas_object(numbered).to_numpy().tobytes())
    keyed = pd.DataFrame({"id": ids.to_numpy().copy(), "v": range(3000)}).set_index("id", drop=False)
    key = keyed["id"]  # a key column holds its index's array: hashed once, the same fingerprint as its texts'
    assert plan._is_its_index(key) and not plan._is_its_index(pd.Series(list(ids), index=key.index, dtype=object))
    assert plan._digest(key, "x") == hashlib.sha256(b"x\0" + index_bytes + b"\0" + index_bytes).hexdigest()[:16]


def test_a_composite_key_of_pyarrow_strings_hashes_as_its_texts():
    """A composite key is kept as pyarrow strings (validate._joined_key): its row ids and fingerprint are those
    of the same texts as Python strings (sha256 of the NUL-joined UTF-8, by hand here), so a value's digest does
    not depend on how the key is stored; a NUL inside a text takes pandas' hashes, as for Python strings."""
    import pyarrow as pa

    from papergen.analysis import plan

    texts = [f"P{i:05d} / total_bilirubin / {i % 4}" for i in range(3000)]
    arrow = pd.Index(pd.arrays.ArrowStringArray(pa.array(texts)))
    joined = hashlib.sha256("\0".join(texts).encode("utf-8")).digest()
    assert plan._index_rows(arrow) == (tuple(texts), b"texts\0" + b"3000\0" + joined)
    values = pd.Series(np.arange(3000.0), index=arrow)
    assert plan._digest(values, "x") == plan._digest(pd.Series(np.arange(3000.0), index=pd.Index(texts, dtype=object)), "x")
    key = arrow.to_series(index=arrow)  # Table 1's subjects: a Series of the key itself
    assert plan._digest(key, "x") == plan._digest(pd.Series(texts, index=pd.Index(texts, dtype=object), dtype=object), "x")
    with_nul = pd.Index(pd.arrays.ArrowStringArray(pa.array(["a\0b"] + texts[1:])))
    assert plan._text_hash(with_nul) is None


def test_a_composite_key_is_one_text_per_row_kept_by_pyarrow():
    """The labs' key (patient, analyte, day) is each row's texts joined by " / ", stored as pyarrow strings."""
    from papergen.pipeline import stages
    from papergen.study import Study

    labs = stages.load_data(Study(ROOT))["labs"].frame
    assert str(labs.index.dtype) == "string" and labs.index.is_unique
    first = labs.iloc[0]
    assert labs.index[0] == f"{first['patient_id']} / {first['analyte']} / {first['postoperative_day']}"
    assert labs.loc[labs.index[0], "value"] == first["value"]  # a row found by its id


def test_a_reference_is_looked_up_once_for_its_check_and_its_linked_rows(monkeypatch):
    """Complications name only some patients: pyarrow looks their distinct ids up among the patients' once; the
    reference check and the link the plan gets (validate.Link) share it, and the link names each row's patient."""
    import pyarrow.compute as pc

    from papergen.pipeline import stages
    from papergen.study import Study

    calls = []

    def counted(real):
        def lookup(values, *args, **kwargs):
            calls.append(len(values))
            return real(values, *args, **kwargs)
        return lookup

    for name in ("index_in", "is_in"):  # pyarrow's two lookups of texts among texts
        monkeypatch.setattr(pc, name, counted(getattr(pc, name)))
    tables = stages.load_data(Study(ROOT))
    comp, pts = tables["complications"].frame, tables["patients"].frame
    distinct = comp["patient_id"].nunique()
    assert distinct < len(pts) and calls.count(distinct) == 1
    rows = tables["complications"].links["patient_id"].rows()
    assert list(pts["patient_id"].to_numpy()[rows]) == list(comp["patient_id"])
