"""The registry-scale shortcuts against the code they stand in for.

arrowcheck reads the texts' bytes from pyarrow's buffers and runs safe
patterns by RE2; coded.sorted_runs codes a sorted column without hashing;
colrules._all_distinct tells a key without repeats by counting. Each must give
what the slower path gives, on random texts and patterns.
"""
from __future__ import annotations

import random
import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from papergen.codebook import ColumnSpec
from papergen.ingest import arrowcheck, colcheck, colrules
from papergen.ingest.cells import check_cell
from papergen.ingest.coded import CodedColumn, SharedTexts, from_arrow_texts, sorted_runs

PIECES = ["", "P", "0", "7", "-", "L", "a", "Z", " ", "\t", "\r", "é", "\u0663", "\u212a", "_", ".", "x y", "\x1f",
          "\x7f", "@", "+", "NA", "nKnown", "\u00a0"]


def _texts(rnd, n):
    return list(dict.fromkeys("".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 6))) for _ in range(n)))


def test_bytes_from_the_buffers_equal_the_joined_texts():
    rnd = random.Random(1)
    texts = np.array(_texts(rnd, 3000), dtype=object)
    arrow = pa.array(list(texts), pa.string())
    for sliced, part in ((arrow, texts), (arrow.slice(17, 900), texts[17:917]), (pa.array(list(texts), pa.large_string()), texts)):
        got, want = arrowcheck.lines(sliced), colcheck._lines(part)
        assert got is not None and want is not None
        assert got[0].tobytes() == "".join(part).encode("utf-8")
        joined = want[0].tobytes()
        assert [joined[s:e] for s, e in zip(want[1], want[2])] == [got[0].tobytes()[s:e] for s, e in zip(got[1], got[2])]
    assert arrowcheck.lines(pa.array(["a", "b\nc"])) is None  # a text with a newline: the texts are tested one by one
    np.testing.assert_array_equal(colcheck.might_identify(texts, arrow), colcheck.might_identify(texts))


SAFE = [r"^P[0-9]{5}$", r"P\d+-L\d{2}", r"[A-Z]{2,3}_\w+", r"(?:ab|c)+$", r"^.{3}$", r"[^-]+-[^-]+", r"a|", r"\.",
        r"^[a-z]*\d?$"]
UNSAFE = [r"\s+", r"^\bP", r"(?=P)P", r"(?i)p", r"(a)\1", r"[[:digit:]]", r"x{,3}", "é", r"\Aa"]


def test_patterns_by_re2_match_as_re_does():
    assert all(arrowcheck.re2_safe(p) for p in SAFE) and not any(arrowcheck.re2_safe(p) for p in UNSAFE)
    rnd = random.Random(2)
    texts = _texts(rnd, 4000) + [f"P{rnd.randint(0, 99999):05d}" for _ in range(500)] + ["P00001-L01", "ab", "c"]
    uniques = np.array(list(dict.fromkeys(texts)), dtype=object)
    arrow = pa.array(list(uniques), pa.string())
    idx = np.arange(len(uniques))
    for pattern in SAFE + UNSAFE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # re: "possible nested set" in [[:digit:]]
            want = np.array([bool(re.match(pattern, t)) for t in uniques])
            got = arrowcheck.pattern_matches(arrow, uniques, pattern, idx)
        np.testing.assert_array_equal(got, want, err_msg=pattern)
        assert want.any() and (pattern in ("a|", r"x{,3}") or not want.all()) or pattern not in SAFE, pattern


@pytest.mark.parametrize("spec", [ColumnSpec("p", "string", pattern=r"^P[0-9]{2}$"),
                                  ColumnSpec("q", "string", pattern=r"\s*P"), ColumnSpec("s", "string"),
                                  ColumnSpec("t", "string", required=False, missing=("P01", ".", "NA"))],
                         ids=lambda s: s.name)
def test_string_acceptance_from_arrow_agrees_with_check_cell(spec, monkeypatch):
    monkeypatch.setattr(colcheck, "MANY", 0)
    rnd = random.Random(spec.name)
    texts = _texts(rnd, 3000) + [f"P{rnd.randint(0, 99):02d}" for _ in range(300)] + ["unKnown", "UNKNOWN"]
    codes, uniques = colcheck.factorise(texts)
    for arrow in (pa.array(list(uniques), pa.string()), None):
        column = colcheck.Column(spec.name, spec, codes, uniques, check_cell, arrow=arrow)
        for j, u in enumerate(uniques):
            assert (column.values[j], column.problems[j]) == check_cell(u, spec), repr(u)
        assert column.ok_u.sum() > 50 and (~column.ok_u).sum() > 50


def test_sorted_runs_code_as_dictionary_encoding_does():
    rnd = random.Random(3)
    ids = sorted(f"P{rnd.randint(0, 5000):05d}" for _ in range(20000))
    for texts in (ids, sorted(set(ids)), ["same"] * 3000):
        got = sorted_runs(pa.array(texts), least=0)
        codes, uniques = pd.factorize(np.array(texts, dtype=object))
        np.testing.assert_array_equal(got.codes, codes)
        assert list(got.texts) == list(uniques) == got.arrow.to_pylist()
    assert sorted_runs(pa.array(["b", "a"] * 600), least=0) is None
    assert sorted_runs(pa.array(["a"] * 2000 + ["0"]), least=0) is None  # unsorted only at the end
    assert sorted_runs(pa.array(ids), least=10 ** 6) is None


def _column(texts, spec=ColumnSpec("k", "string")):
    codes, uniques = colcheck.factorise(texts)
    return colcheck.Column("k", spec, codes, uniques, check_cell)


def test_keys_told_distinct_by_counting_as_by_hashing(monkeypatch):
    rnd = random.Random(4)
    fast_path = colrules._all_distinct
    for _ in range(200):
        n = rnd.randint(1, 60)
        a = _column([rnd.choice(["P1", "P2", "P3", "", "P4"]) for _ in range(n)])
        b = _column([str(rnd.randint(0, 3)) for _ in range(n)], ColumnSpec("d", "integer"))
        typed = np.array([rnd.random() > 0.1 for _ in range(n)])
        for columns in ([a], [a, b], [b]):
            monkeypatch.setattr(colrules, "_all_distinct", lambda *_: False)  # duplicate_keys by hashing only
            slow = colrules.duplicate_keys(columns, typed)
            monkeypatch.undo()
            assert fast_path(columns, typed) == (slow == [])
            assert colrules.duplicate_keys(columns, typed) == slow
    assert not colrules._all_distinct([_column([str(i) for i in range(10)], ColumnSpec("d", "integer"))] * 12,
                                      np.ones(10, dtype=bool))  # too wide a range to count: told by hashing


def test_positions_of_the_same_texts_are_pyarrows_index_in():
    rnd = random.Random(5)
    for _ in range(100):
        keys = sorted({f"P{rnd.randint(0, 40):02d}" for _ in range(rnd.randint(1, 30))})
        key_column = colcheck.Column("k", ColumnSpec("k", "string"), np.arange(len(keys)),
                                     np.array(keys, dtype=object), check_cell, arrow=pa.array(keys))
        known = colcheck.Known(key_column, np.ones(len(keys), dtype=bool))
        for texts in (list(keys), keys[:-1], keys[::-1], [k + "x" for k in keys], keys + ["P99"]):
            arrow = pa.array(texts, pa.string())
            want = pc.index_in(known.arrow, value_set=arrow).fill_null(-1).to_numpy(zero_copy_only=False)
            np.testing.assert_array_equal(known.positions_in(arrow), want)


def test_columns_of_the_same_distinct_texts_share_their_strings():
    ids = [f"P{i:05d}" for i in range(20_000)]
    shared = SharedTexts()
    patients = from_arrow_texts(pa.array(ids), shared)
    lesions = from_arrow_texts(pa.array([i for i in ids for _ in range(3)]), shared)  # sorted: coded by its runs
    labs = from_arrow_texts(pa.array(ids[::-1]), shared)  # other distinct texts (their order): strings of its own
    alone = from_arrow_texts(pa.array([i for i in ids for _ in range(3)]))
    assert list(lesions.texts) == list(alone.texts) == ids and list(lesions.codes) == list(alone.codes)
    assert all(a is b for a, b in zip(lesions.texts, patients.texts)) and lesions.texts is not patients.texts
    assert not any(a is b for a, b in zip(alone.texts, patients.texts))
    assert list(labs.texts) == ids[::-1] and labs.texts[0] is not patients.texts[-1]


def test_coded_column_keeps_its_arrow_texts():
    arrow = pa.array(["a", "b"])
    column = CodedColumn(np.array([0, 1, 0]), np.array(["a", "b"], dtype=object), arrow=arrow)
    assert column.arrow is arrow and list(column) == ["a", "b", "a"]
    assert column.take(np.array([True, False, True])).arrow is None  # renumbered: the texts are no longer those


def test_pyarrow_csv_rows_of_blanks_and_empty_lines_are_skipped_as_the_csv_module_skips_them():
    from papergen.ingest import load
    from papergen.ingest.arrowcsv import read_plain

    rnd = random.Random(5)
    cells = ["a", "1", " ", "\t", "", "\u3000", "\x1f", "b c", "\u00a0", "x"]
    read = 0
    for _ in range(600):
        rows = [rnd.choice(["", ",".join(rnd.choice(cells) for _ in range(3))]) for _ in range(rnd.randint(1, 6))]
        end = rnd.choice(["\n", "\r\n"])
        width = rnd.choice([1, 3])
        rows = [r.split(",")[0] if width == 1 else r for r in rows]
        data = ((["id", "id,x,y"][width > 1]) + end + end.join(rows) + rnd.choice(["", end, end + end])).encode("utf-8")
        got = read_plain(data)
        if got is None:  # read by the usual path
            continue
        read += 1
        header, rownums, columns = got
        text = data.decode("utf-8")
        want_header, want_rows = load._read_csv_records(text, "t.csv")
        assert header == want_header and list(rownums) == [r for r, _ in want_rows]
        assert [[c[k] for c in columns] for k in range(len(rownums))] == [cells for _, cells in want_rows]
    assert read > 200


def test_starts_with_by_pyarrow_is_str_startswith():
    rnd = random.Random(6)
    pieces = ["P", "0", "1", "-", "L", "é", "\u0663", "", "x"]
    prefixes = list(dict.fromkeys("".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 4))) for _ in range(300)))
    texts = list(dict.fromkeys(rnd.choice(prefixes) + "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 3)))
                               for _ in range(2000)))
    pcodes = np.array([rnd.randrange(len(prefixes)) for _ in range(5000)])
    tcodes = np.array([rnd.randrange(len(texts)) for _ in range(5000)])
    pcodes[::2] = [prefixes.index(p) if p in prefixes else 0 for p in (texts[t][:2] for t in tcodes[::2])]
    got = arrowcheck.starts_with(pa.array(prefixes), pcodes, pa.array(texts), tcodes)
    want = np.array([texts[t].startswith(prefixes[p]) for p, t in zip(pcodes, tcodes)])
    np.testing.assert_array_equal(got, want)
    assert want.sum() > 500 and (~want).sum() > 500
    lines = arrowcheck.starts_with(pa.array(["a\nb", "a"]), np.array([0, 1, 0]), pa.array(["a\nbc", "a\nc"]),
                                   np.array([0, 1, 1]))
    assert lines.tolist() == [True, True, False]  # line breaks are bytes like any other
    assert arrowcheck.starts_with(pa.array(["a", None]), np.array([0]), pa.array(["a"]), np.array([0])) is None
    ids = [f"P{i:03d}" for i in range(200)]  # prefixes of one length, texts shorter and longer
    texts = [rnd.choice(ids) + rnd.choice(["", "-L01", "x"]) for _ in range(1000)] + ["P0", "", "P1999"]
    pcodes = np.array([rnd.randrange(200) for _ in texts])
    pcodes[::3] = [ids.index(t[:4]) if t[:4] in ids else 0 for t in texts[::3]]
    got = arrowcheck.starts_with(pa.array(ids), pcodes, pa.array(texts), np.arange(len(texts)))
    want = np.array([t.startswith(ids[p]) for p, t in zip(pcodes, texts)])
    np.testing.assert_array_equal(got, want)
    assert want.sum() > 200 and (~want).sum() > 200
    empty = np.array([], dtype=np.intp)
    assert len(arrowcheck.starts_with(pa.array(ids), empty, pa.array(texts), empty)) == 0
