"""Tests for papergen.publish.figure_size and the journal profile's figure rules (publish/journal.py)."""
from __future__ import annotations

import pytest
from PIL import Image

from papergen.formatting import house
from papergen.publish import figure_size, journal

WJCC, LANCET = house.shipped("wjcc"), house.shipped("lancet")
PROFILE = {"figures": {"width_cm": 15.9, "min_font_pt": 6}}


def test_each_profile_has_its_column_widths_marked_as_the_source_says():
    assert (WJCC.figure_columns_cm, LANCET.figure_columns_cm) == ({"single": 8.4, "double": 17.4},
                                                                  {"single": 7.5, "double": 15.4})
    for name in house.shipped_names():
        style = house.shipped(name)
        assert "figure_columns_cm" in style.unconfirmed  # no publisher page seen gives them
        assert "figure_columns_cm" in style.sources, name


def test_drawn_at_the_column_and_placed_no_wider_than_the_text():
    assert figure_size.drawn_size_in(WJCC, 1) == (round(8.4 / 2.54, 4), figure_size.MIN_HEIGHT_IN)
    width, height = figure_size.drawn_size_in(WJCC, 2)
    assert width == round(17.4 / 2.54, 4) and height == pytest.approx(width * 4.5 / 6.5, abs=1e-4)
    assert figure_size.placed_width_cm(WJCC, PROFILE, 1) == 8.4
    assert figure_size.placed_width_cm(WJCC, PROFILE, 2) == 15.9  # the A4 text is narrower than the page
    assert figure_size.placed_width_cm(LANCET, PROFILE, 2) == 15.4
    assert figure_size.placed_width_cm(WJCC, None, 2) == figure_size.TEXT_WIDTH_CM
    assert [figure_size.column_of(WJCC, cm) for cm in (8.4, 8.45, 17.4, 12.0)] == ["single", "single", "double", None]


@pytest.mark.parametrize("columns", [{"single": 9}, {"single": 20, "double": 10}, {"single": True, "double": 17},
                                     {"single": 1, "double": 17}, "8.4"])
def test_impossible_column_widths_are_refused(columns):
    with pytest.raises(ValueError, match="figure_columns_cm"):
        WJCC.with_rules({"figure_columns_cm": columns})


def _png(path, width_cm, dpi=300):
    Image.new("RGB", (round(width_cm / 2.54 * dpi), 300), "white").save(path, dpi=(dpi, dpi))
    return path


def _ast(*placed):
    image = lambda path, width: {"t": "Image", "c": [["", [], [["width", width]]], [], [path, ""]]}  # noqa: E731
    return {"blocks": [{"t": "Figure", "c": [["", [], []], [None, []],
                                             [{"t": "Plain", "c": [image(p, w)]}]]} for p, w in placed]}


def test_a_figure_at_its_column_passes_and_its_text_is_its_drawn_size(tmp_path):
    figs = [_png(tmp_path / "km.png", 8.4), _png(tmp_path / "forest.png", 17.4)]
    widths, text = journal.figure_rules(WJCC, PROFILE, _ast(("figures/km.png", "8.4cm"),
                                                            ("figures/forest.png", "15.9cm")), figs)
    assert widths.ok and "km single (8.4 cm), placed at 8.4cm" in widths.actual
    assert text.ok and text.actual.startswith("9.0 pt")


def test_a_figure_placed_at_100_percent_or_drawn_off_column_is_named(tmp_path):
    figs = [_png(tmp_path / "km.png", 8.4), _png(tmp_path / "odd.png", 12.0)]
    widths, text = journal.figure_rules(WJCC, PROFILE, _ast(("figures/km.png", "100%"),
                                                            ("figures/odd.png", "12cm")), figs)
    assert not widths.ok
    assert "km: drawn 8.4 cm, placed at 100% (want 8.4cm; template: {width={{ figures.km.width }}})" in widths.actual
    assert "odd: drawn 12.0 cm" in widths.actual
    _, text = journal.figure_rules(WJCC, PROFILE, _ast(("figures/odd.png", "12cm")), figs[1:])
    assert text.actual.startswith(f"{9 * 15.9 / 12.0:.1f} pt")  # off-column: printed at the text width


def test_text_too_small_in_print_fails(tmp_path):
    figs = [_png(tmp_path / "wide.png", 40.0)]  # drawn 40 cm wide, printed at 15.9 cm: 3.6 pt
    _, text = journal.figure_rules(WJCC, PROFILE, _ast(("figures/wide.png", "15.9cm")), figs)
    assert not text.ok and text.actual.startswith("3.6 pt")


def test_the_built_manuscript_places_each_figure_at_its_width(built):
    """The main study: two double-column figures, in the DOCX (python-docx) and the PDF's Typst at 15.9 cm."""
    import docx

    ast = journal.read_ast(built.outputs.markdown)
    assert set(journal._placed_widths(ast).values()) == {"15.9cm"}
    shapes = docx.Document(str(built.outputs.docx)).inline_shapes
    assert len(shapes) == 2 and all(abs(s.width.cm - 15.9) < 0.01 for s in shapes)
    typ = built.outputs.pdf.with_suffix(".typ").read_text(encoding="utf-8")
    assert typ.count("width: 15.9cm") == 2
    for png in built.outputs.figures.glob("*.png"):
        with Image.open(png) as im:
            assert im.size[0] == round(17.4 / 2.54 * 300)  # drawn at WJCC's two columns, 300 dpi
