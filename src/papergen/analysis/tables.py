"""Manuscript tables built from Values, written as pandoc pipe tables.

pandoc turns pipe tables into real Word tables and Typst tables, so the
journal gets editable tables, and every cell is a traceable Value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from papergen.values import Printed, Value


@dataclass
class Row:
    label: str
    cells: list  # Values, plain text, or a tuple of both printed together ("Treated, ", n.part("n_equals"))
    indent: int = 0
    heading: bool = False


@dataclass
class TableBuilder:
    """A table the analysis plan fills row by row; rendered by the template with {{ tables.KEY }}."""

    key: str
    number: int
    caption: str
    header: list
    ref: Value
    rows: list[Row] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)

    def row(self, label: str, *cells, indent: int = 0) -> "TableBuilder":
        self.rows.append(Row(label, list(cells), indent))
        return self

    def heading(self, label: str) -> "TableBuilder":
        self.rows.append(Row(label, [], heading=True))
        return self

    def footnote(self, text) -> "TableBuilder":
        """A note under the table: text, or a tuple of text and values printed together."""
        self.footnotes.append(text)
        return self

    def values(self) -> list[Value]:
        cells = list(self.header) + [c for r in self.rows for c in r.cells] + list(self.footnotes)
        flat = [p for c in cells for p in (c if isinstance(c, tuple) else (c,))]
        return [c if isinstance(c, Value) else c.value for c in flat if isinstance(c, (Value, Printed))]

    def to_markdown(self, cell) -> str:
        """Pipe table with the caption above (``: caption``) and footnotes below.

        ``cell`` turns a Value into its marked-up text and records where it appears.
        """
        ncol = len(self.header)

        def show(c) -> str:
            if isinstance(c, tuple):  # text and values printed together in one cell
                return "".join(show(p) for p in c)
            return cell(c) if isinstance(c, (Value, Printed)) else _esc(str(c))

        lines = ["| " + " | ".join(show(h) for h in self.header) + " |",
                 "|" + "|".join([":---"] * ncol) + "|"]
        for r in self.rows:
            label = ("\u00a0" * 4 * r.indent) + _esc(r.label)
            if r.heading:
                label = f"**{label}**"
            cells = [show(c) for c in r.cells] + [""] * (ncol - 1 - len(r.cells))
            lines.append("| " + " | ".join([label] + cells) + " |")
        out = "\n".join(lines)
        caption = f": {cell(self.ref)} {self.caption}"
        notes = "\n\n".join(show(n) for n in self.footnotes)
        return f"{caption}\n\n{out}\n\n::: {{.table-notes}}\n{notes}\n:::\n" if notes else f"{caption}\n\n{out}\n"


def _esc(text: str) -> str:
    return text.replace("|", "\\|")
