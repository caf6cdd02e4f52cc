"""Forest plots: reproducible files, refusal of impossible rows."""
from __future__ import annotations

import pytest

from papergen.publish.forest import forest_figure

ROWS = [{"label": "Grade", "kind": "heading"}, {"label": "I", "kind": "reference", "text": "1 (reference)"},
        {"label": "II", "estimate": 1.89, "lower": 1.16, "upper": 3.08, "text": "1.89 (1.16–3.08)"}]


def test_files_are_byte_identical_for_the_same_rows(tmp_path):
    a, b = forest_figure(ROWS, tmp_path / "a"), forest_figure(ROWS, tmp_path / "b")
    assert a["png"].read_bytes() == b["png"].read_bytes() and a["pdf"].read_bytes() == b["pdf"].read_bytes()
    assert a["png"].read_bytes()[:4] == b"\x89PNG" and a["pdf"].read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize("bad", [{"estimate": 0.0, "lower": 0.0, "upper": 1.0}, {"estimate": 2.0, "lower": 2.5, "upper": 3.0},
                                 {"estimate": float("inf"), "lower": 1.0, "upper": float("inf")}])
def test_an_impossible_ratio_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="need 0 < lower <= estimate <= upper"):
        forest_figure([{"label": "x", **bad}], tmp_path / "x")
