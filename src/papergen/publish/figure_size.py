"""How wide each figure is drawn and placed: its journal column, no wider than the manuscript's text.

The analysis plan says whether a figure takes one column or the page (``a.figure(..., columns=1)``); the
house style gives the widths the journal prints those at (``figure_columns_cm``). A figure is drawn at
that width, so its text is printed at the size it was drawn (9 pt), and placed in the DOCX and PDF at
the same width or, where the page column is wider than the manuscript's text, at the text width
(journal.yaml ``figures: {width_cm}``, 15.9 cm for A4 with 2.5 cm margins when no profile says).
"""
from __future__ import annotations

from papergen.formatting.house import HouseStyle

#: the text width of papergen's A4 manuscript (21 cm less two 2.5 cm margins, less a millimetre of slack)
TEXT_WIDTH_CM = 15.9
#: what ``columns`` may be in the analysis plan
COLUMNS = {1: "single", 2: "double"}
#: height over width of a figure drawn at the page's width (papergen's 6.5 x 4.5 in Kaplan-Meier figure)
ASPECT = 4.5 / 6.5
#: the least height of a figure, in inches: the at-risk table and the axis labels need it at one column
MIN_HEIGHT_IN = 3.8


def column_width_cm(style: HouseStyle, columns: int) -> float:
    """The width the journal prints a figure of ``columns`` (1 or 2) columns at, in cm."""
    return float(style.figure_columns_cm[COLUMNS[columns]])


def text_width_cm(profile: dict | None) -> float:
    """The manuscript's text width: journal.yaml ``figures: {width_cm}``, else papergen's A4 page."""
    spec = (profile or {}).get("figures") or {}
    return float(spec.get("width_cm", TEXT_WIDTH_CM))


def placed_width_cm(style: HouseStyle, profile: dict | None, columns: int) -> float:
    """The width the DOCX and PDF show a figure at: its column, or the text width where that is narrower."""
    return round(min(column_width_cm(style, columns), text_width_cm(profile)), 2)


def drawn_size_in(style: HouseStyle, columns: int) -> tuple[float, float]:
    """(width, height) in inches to draw a figure of ``columns`` columns at."""
    width = column_width_cm(style, columns) / 2.54
    return round(width, 4), round(max(width * ASPECT, MIN_HEIGHT_IN), 4)


def column_of(style: HouseStyle, drawn_cm: float) -> str | None:
    """"single" or "double" when a figure drawn ``drawn_cm`` wide is drawn at that column's width (within 1%)."""
    for name, cm in style.figure_columns_cm.items():
        if abs(drawn_cm - cm) <= 0.01 * cm:
            return name
    return None
