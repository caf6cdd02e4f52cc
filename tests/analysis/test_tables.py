"""Manuscript tables: pipe-table Markdown with caption above, indented rows and footnotes."""
from __future__ import annotations

from papergen.analysis.tables import TableBuilder
from papergen.values import Value


def test_pipe_table_with_caption_rows_and_notes():
    ref = Value(key="ref.table_t", text="Table 1", exact={"number": 1})
    age = Value(key="age", text="56 yr (range, 38 to 72)", exact={}, parts={"table": "56 (38–72)"})
    t = TableBuilder(key="t", number=1, caption="Baseline", header=["Characteristic", "Value"], ref=ref)
    t.row("Age, yr", age.part("table")).heading("Sex").row("Male", "6", indent=1).footnote("SD: standard deviation.")
    seen = []
    md = t.to_markdown(lambda v: seen.append(getattr(v, "value", v).key) or f"<{v}>")
    assert md.splitlines()[:7] == [
        ": <Table 1> Baseline", "",
        "| Characteristic | Value |",
        "|:---|:---|",
        "| Age, yr | <56 (38–72)> |",
        "| **Sex** |  |",
        "| \u00a0\u00a0\u00a0\u00a0Male | 6 |",
    ]
    assert "SD: standard deviation." in md
    assert sorted(seen) == ["age", "ref.table_t"]
    assert [v.key for v in t.values()] == ["age"]


def test_pipe_characters_in_labels_are_escaped():
    ref = Value(key="r", text="Table 2", exact={})
    t = TableBuilder(key="t", number=2, caption="c", header=["a|b", "c"], ref=ref)
    assert "| a\\|b | c |" in t.to_markdown(str)
