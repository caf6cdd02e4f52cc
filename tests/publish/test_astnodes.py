"""papergen.publish.astnodes: pandoc AST elements in document order."""
from __future__ import annotations

from papergen.publish.astnodes import nodes

DOC = {"blocks": [
    {"t": "Header", "c": [1, ["a", [], []], [{"t": "Str", "c": "A"}]]},
    {"t": "Para", "c": [{"t": "Cite", "c": [[{"citationId": "k"}], [{"t": "Str", "c": "[1]"}]]},
                        {"t": "Emph", "c": [{"t": "Str", "c": "e"}]}]},
    {"t": "Div", "c": [["refs", [], []], [{"t": "Para", "c": [{"t": "Str", "c": "r"}]}]]},
]}


def test_every_element_in_document_order():
    assert [n["t"] for n in nodes(DOC)] == ["Header", "Str", "Para", "Cite", "Str", "Emph", "Str", "Div", "Para", "Str"]


def test_of_one_kind_and_pruned():
    assert [n["c"] for n in nodes(DOC, "Str")] == ["A", "[1]", "e", "r"]
    assert [n["c"] for n in nodes(DOC, "Str", prune=("Cite", "Div"))] == ["A", "e"]
