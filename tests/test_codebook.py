"""The codebook: the study's contract parses, and a malformed one fails naming the offending key."""
from __future__ import annotations

import textwrap

import pytest

from papergen.ingest import validate
from papergen.codebook import RULE_KINDS, read_codebook
from papergen.errors import CodebookError
from studycopy import ROOT


def test_every_rule_kind_has_a_check():
    assert set(RULE_KINDS) == set(validate.ROW_RULES) | {"covers"}
    for kind, check in validate.ROW_RULES.items():
        assert check.__name__ == f"check_{kind}" and check.__doc__


def test_study_codebook_declares_its_rules_and_roles():
    book = read_codebook(ROOT / "data" / "codebook.yaml")
    rules = {r.id: r for r in book.files["patients"].rules}
    assert rules["progression_requires_date"].kind == "present_iff"
    assert rules["progression_requires_date"].flag == "progressed"
    assert rules["progression_not_after_death"].reported == "progression_date"
    assert rules["dead_last_followup_is_death"].columns == ("death_date", "last_followup_date")
    assert book.files["patients"].columns["patient_id"].role == "pseudonym"
    assert book.cutoff_epoch() == 1_604_102_400  # 2020-10-31T00:00:00Z


def _book(tmp_path, columns: str, rules: str = "", extra: str = ""):
    text = textwrap.dedent("""\
        files:
          t:
            path: t.csv
            primary_key: id
            columns:
        {columns}
        {rules}
        {extra}
        """).format(columns=textwrap.indent(columns, " " * 6), rules=rules, extra=extra)
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    return read_codebook(path)


BASE = "id: {type: string}\nd1: {type: date}\nd2: {type: date}\nf: {type: flag}\n"


@pytest.mark.parametrize("columns, rules, message", [
    ("id: {type: text}", "", "files.t.columns.id: type 'text' is not one of"),
    ("id: {type: string, requried: false}", "", "unknown key 'requried'; did you mean 'required'?"),
    ("id: {type: category}", "", "a category needs 'values'"),
    ("id: {type: string, role: secret}", "", "role 'secret' is not one of ['identifier', 'pseudonym']"),
    ("id: {type: string, role: identifier}", "", "primary_key 'id' is a direct identifier"),
    ("id: {type: string, pattern: '^P[0-9'}", "", "is not a valid regular expression"),
    ("id: {type: date, min: '2015-13-01'}", "", "min '2015-13-01' is not a date"),
    ("id: {type: date, min: 2015-13-01}", "", "an unquoted date is impossible (month must be in 1..12)"),
    ("id: {type: integer, max: ten}", "", "max 'ten' is not a number"),
    (BASE, "    rules:\n      - {id: r, kind: after, columns: [d1, d2]}", "kind 'after' is not one of"),
    (BASE, "    rules:\n      - {id: r, kind: before, columns: [d1, d3]}", "unknown column 'd3'"),
    (BASE, "    rules:\n      - {id: r, kind: before, columns: [d1]}", "a 'before' rule takes 2 or more columns, got 1"),
    (BASE, "    rules:\n      - {id: r, kind: present_iff, columns: [d1]}", "needs 'flag'"),
    (BASE, "    rules:\n      - {id: r, kind: present_iff, columns: [d1], flag: d2}", "flag 'd2' must be a column of type flag"),
    (BASE, "    rules:\n      - {id: r, kind: covers, columns: [id, d1], values: [1]}", "must reference another file"),
    (BASE, "    rules:\n      - {kind: before, columns: [d1, d2]}", "every rule needs an 'id'"),
    (BASE, "    rules:\n      - {id: r, kind: before, columns: [d1, d2]}\n      - {id: r, kind: before, columns: [d1, d2]}",
     "rule ids must be unique"),
])
def test_malformed_codebook_names_the_key(tmp_path, columns, rules, message):
    with pytest.raises(CodebookError, match=None) as info:
        _book(tmp_path, columns, rules)
    assert message in str(info.value)
    assert str(tmp_path / "codebook.yaml") in str(info.value)


def test_cutoff_must_be_a_date(tmp_path):
    with pytest.raises(CodebookError, match="conventions.cutoff_date '31.10.2020' is not a date"):
        _book(tmp_path, "id: {type: string}", extra="conventions: {cutoff_date: '31.10.2020'}")


def test_reference_to_a_direct_identifier_is_refused(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(textwrap.dedent("""\
        files:
          a: {path: a.csv, columns: {id: {type: string}, name: {type: string, role: identifier}}}
          b: {path: b.csv, columns: {who: {type: string, references: a.name}}}
        """), encoding="utf-8")
    with pytest.raises(CodebookError, match="references a.name, a direct identifier"):
        read_codebook(path)


def test_date_bounds_name_the_cutoff_and_each_other(tmp_path):
    book = _book(tmp_path, "id: {type: string}\nop: {type: date, min: '2015-01-01', max: cutoff_date}\n"
                           "seen: {type: date, min: op.min, max: t.op.max}",
                 extra="conventions: {cutoff_date: '2020-10-31'}")
    cols = book.files["t"].columns
    assert (cols["op"].min, cols["op"].max) == ("2015-01-01", "2020-10-31")
    assert (cols["seen"].min, cols["seen"].max) == ("2015-01-01", "2020-10-31")


def test_study_writes_its_cutoff_once():
    text = (ROOT / "data" / "codebook.yaml").read_text(encoding="utf-8")
    assert text.count("2020-10-31") == 1
    book = read_codebook(ROOT / "data" / "codebook.yaml")
    assert book.files["patients"].columns["last_followup_date"].max == "2020-10-31"


@pytest.mark.parametrize("columns, message", [
    ("id: {type: string}\nd: {type: date, max: cutof_date}", "'cutof_date' is neither a date YYYY-MM-DD, a name of "
                                                            "conventions (cutoff_date)"),
    ("id: {type: string}\nd: {type: date, max: e.max}\ne: {type: date, max: d.max}",
     "date bounds refer to each other in a circle: t.d.max -> t.e.max -> t.d.max"),
    ("id: {type: string}\nd: {type: date, max: e.min}\ne: {type: date}", "'e.min' refers to a bound the codebook"),
    ("id: {type: string}\nd: {type: date, max: id.max}", "is neither a date"),
    ("id: {type: string, missing: NA}", "files.t.columns.id.missing: expected a list"),
    ("id: {type: string, labels: {1: a}}", "labels are given for categories only"),
    ("id: {type: category, values: [1, 2], labels: {3: c}}", "label for '3', which is not one of its values"),
])
def test_malformed_bounds_markers_and_labels(tmp_path, columns, message):
    with pytest.raises(CodebookError) as info:
        _book(tmp_path, columns, extra="conventions: {cutoff_date: '2020-10-31'}")
    assert message in str(info.value)


def test_missing_markers_of_the_file_and_the_column_are_texts(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(textwrap.dedent("""\
        files:
          t:
            path: t.csv
            missing: [NA, '.']
            columns:
              x: {type: integer, missing: [999, -9]}
              s: {type: category, values: [1, 2], labels: {1: male, 2: female}}
        """), encoding="utf-8")
    cols = read_codebook(path).files["t"].columns
    assert cols["x"].missing == ("NA", ".", "999", "-9") and cols["s"].missing == ("NA", ".")
    assert cols["s"].levels == ("male", "female")
