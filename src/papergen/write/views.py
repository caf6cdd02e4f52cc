"""What templates see of tables and figures; records where their numbers are printed.

A table's Markdown is made when a template prints it, so each cell's place in
the ledger names the template line, the table, its row and its column. When a
template includes a figure, its numbers at risk get that place (they are
printed in the image), and the values of its legend are labelled with it.
"""
from __future__ import annotations

from papergen.write.render import Block, Renderer
from papergen.values import Printed, Value


class TableView:
    """``tables.KEY`` in a template: ``.ref`` ("Table 1") and ``.markdown`` (the whole table)."""

    def __init__(self, table, renderer: Renderer) -> None:
        self._table, self._r = table, renderer
        self.ref = table.ref

    @property
    def markdown(self) -> Block:
        t = self._table
        where = self._r._where()  # the template line that prints the table
        cells = _cell_places(t)

        def cell(v) -> str:
            queue = cells.get(id(v))
            detail = queue.pop(0) if queue else {"table": t.ref.text, "row": "caption"}
            return self._r.mark(v, where=where, detail=detail)

        return Block(t.to_markdown(cell))


def _cell_places(t) -> dict[int, list[dict]]:
    """id of each printed cell object -> its table, row and column, in the order to_markdown visits them."""
    out: dict[int, list[dict]] = {}
    header = [_text(h) for h in t.header]

    def add(c, row: str, col: int) -> None:
        for p in c if isinstance(c, tuple) else (c,):
            if isinstance(p, (Value, Printed)):
                out.setdefault(id(p), []).append({"table": t.ref.text, "row": row, "column": header[col]})

    for i, h in enumerate(t.header):
        add(h, "header", i)
    for r in t.rows:
        for i, c in enumerate(r.cells, start=1):
            add(c, r.label, min(i, len(header) - 1))
    return out


def _text(c) -> str:
    return "".join(_text(p) for p in c) if isinstance(c, tuple) else str(c)


class FigureView:
    """``figures.KEY`` in a template: ``.ref`` ("Figure 1"), ``.path`` (the image to include) and ``.width``.

    ``.width`` ("8.4cm") is the width the figure was drawn for (its journal column, no wider than the
    text): ``![legend]({{ figures.os.path }}){width={{ figures.os.width }}}`` prints its text at its drawn size.
    """

    def __init__(self, spec, renderer: Renderer, registry, width_cm: float) -> None:
        self._spec, self._r, self._registry = spec, renderer, registry
        self.ref = spec.ref
        self._width_cm = width_cm

    @property
    def width(self) -> str:
        return f"{self._width_cm:g}cm"

    @property
    def path(self) -> str:
        spec, (template, line, section) = self._spec, self._r._where()
        figure = spec.ref.text
        for v in self._registry:  # the legend was printed on this line just before the image path
            for p in v.places:
                if p.get("template") == template and p.get("line") == line:
                    p.setdefault("figure", figure)
        for v, curve, tick in getattr(spec, "at_risk", []):
            place = {"template": template, "line": line, "section": section, "printed": v.text,
                     "figure": figure, "image": spec.path, "in": f"numbers at risk below the time axis: {curve}",
                     "at": f"{tick:g} months"}
            if place not in v.places:
                v.places.append(place)
        for v, text in getattr(spec, "notes", []):
            place = {"template": template, "line": line, "section": section, "printed": text,
                     "figure": figure, "image": spec.path, "in": "text on the plot"}
            if place not in v.places:
                v.places.append(place)
        return spec.path
