"""Forest plots of a model's hazard or odds ratios (PNG at 300 dpi + vector PDF), text from traced values.

One public function, :func:`forest_figure`. Each row is a term (a square at
the estimate, a bar for its 95% CI, on a log axis with a line at 1), a
reference level (an open diamond at 1, "1 (reference)") or a heading. The
printed column of estimates is the values' own text, so the image says what
the table and the ledger say. Byte-reproducible like papergen.figures.
"""
from __future__ import annotations

import math
from pathlib import Path

__all__ = ["forest_figure"]

#: ratios labelled on the log axis when they fall in its range
_NICE = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10, 20, 50, 100)


def _fail(message):
    raise ValueError(f"forest_figure: {message}")


def _check(rows):
    if not rows:
        _fail("no rows")
    out = []
    for i, r in enumerate(rows):
        kind = r.get("kind", "term")
        if kind not in ("term", "reference", "heading"):
            _fail(f"row {i}: kind must be term, reference or heading, got {kind!r}")
        if kind == "term":
            est, lo, hi = (float(r[k]) for k in ("estimate", "lower", "upper"))
            if not all(math.isfinite(v) and v > 0 for v in (est, lo, hi)) or not lo <= est <= hi:
                _fail(f"row {r.get('label')!r}: need 0 < lower <= estimate <= upper, all finite; got {lo}, {est}, {hi}")
        out.append({**r, "kind": kind})
    return out


def forest_figure(rows, out_stem, *, xlabel="Hazard ratio (log scale)", dpi=300, width_in=6.5, decimal=".",
                  font=None) -> dict:
    """Draw the rows top to bottom; write ``<stem>.png`` and ``<stem>.pdf``. Returns their paths.

    ``decimal``: the house style's decimal mark for the axis' numbers; ``font``: the body font (figures.rc).

    rows: dicts {"label", "kind": "term"|"reference"|"heading", "estimate", "lower",
    "upper", "text"}; ``text`` is printed right of the plot ("0.71 (0.55–0.91)").
    """
    import matplotlib
    import matplotlib.ticker
    from matplotlib.figure import Figure

    from papergen.publish.figures import _PDF_METADATA, _PNG_METADATA, rc

    data = _check(rows)
    terms = [r for r in data if r["kind"] == "term"]
    lo = min([r["lower"] for r in terms] + [1.0])
    hi = max([r["upper"] for r in terms] + [1.0])
    span = math.log(hi) - math.log(lo) or 1.0
    xmin, xmax = math.exp(math.log(lo) - 0.08 * span), math.exp(math.log(hi) + 0.08 * span)
    row_h, height_in = 0.24, 0.9 + 0.24 * len(data)
    stem = Path(out_stem)
    png, pdf = stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")
    with matplotlib.rc_context(rc(font)):
        fig = Figure(figsize=(width_in, height_in), dpi=dpi)
        bottom, top = 0.55 / height_in, 1 - 0.15 / height_in
        ax = fig.add_axes((0.38, bottom, 0.37, top - bottom))
        n = len(data)
        for i, r in enumerate(data):
            y = n - 1 - i
            weight = "bold" if r["kind"] == "heading" else "normal"
            indent = "" if r["kind"] == "heading" or not r.get("indent") else "    "
            fig.text(0.02, bottom + (y + 0.5) / n * (top - bottom), indent + r["label"], ha="left", va="center",
                     fontsize=9, fontweight=weight, gid="forest-label")
            if r["kind"] == "term":
                ax.plot([r["lower"], r["upper"]], [y, y], color="black", linewidth=1.0, solid_capstyle="butt")
                ax.plot([r["estimate"]], [y], marker="s", color="black", markersize=5, linestyle="none")
            elif r["kind"] == "reference":
                ax.plot([1.0], [y], marker="D", markerfacecolor="white", color="black", markersize=4,
                        linestyle="none")
            if r.get("text"):
                fig.text(0.77, bottom + (y + 0.5) / n * (top - bottom), r["text"], ha="left", va="center",
                         fontsize=9, gid="forest-estimate")
        ax.axvline(1.0, color="0.45", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_xlim(xmin, xmax)
        ticks = [t for t in _NICE if xmin <= t <= xmax]
        ax.set_xticks(ticks, labels=[f"{t:g}".replace(".", decimal) for t in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_yticks([])
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(xlabel)
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png, format="png", dpi=dpi, metadata=_PNG_METADATA)
        fig.savefig(pdf, format="pdf", dpi=dpi, metadata=_PDF_METADATA)
    return {"png": png, "pdf": pdf}
