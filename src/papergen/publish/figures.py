"""Kaplan-Meier figures for the manuscript (PNG at 300 dpi + vector PDF).

One public function, :func:`km_figure`. It draws one or more Kaplan-Meier
curves with censor marks and a "No. at risk" table whose columns sit exactly
under the x ticks, writes ``<stem>.png`` and ``<stem>.pdf`` byte-reproducibly
(no timestamps, no software/version strings), and returns the at-risk counts
so the caller can register each one as a traceable number.

Only numpy and matplotlib's object-oriented API are used: no pyplot, so no
global figure state. Style settings are applied through a temporary
``rc_context`` that is restored on exit. :func:`at_risk` gives the same ticks
and counts with numpy alone (matplotlib is imported only to draw), so a build
can print the numbers while a helper process still draws the figure.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from papergen.analysis.survival import ci_band, life_table

__all__ = ["km_figure", "at_risk"]

# Greyscale-safe styles (colour, dash pattern), used in order.
_STYLES = [
    ("black", "-"),
    ("0.45", "--"),
    ("black", ":"),
    ("0.45", "-."),
    ("black", (0, (6, 1.5, 1, 1.5, 1, 1.5))),
    ("0.6", "-"),
]

#: the smallest text the figures draw (tick labels, at-risk counts, legends; forest.py the same), in pt
#: at the drawn size: the journal profile checks it at the printed width (publish/journal.py)
SMALLEST_FONT_PT = 9

_RC = {
    "font.family": "serif",
    "font.serif": ["DejaVu Serif"],
    "font.size": 9,
    "axes.labelsize": 10,
    "axes.titlesize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.linewidth": 0.8,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.major.size": 3.5,
    "ytick.major.size": 3.5,
    "xtick.direction": "out",
    "ytick.direction": "out",
    "axes.unicode_minus": False,
    # Embed TrueType (Type 42) fonts in the PDF: editable and accepted by
    # journal production systems (Type 3 fonts often are not).
    "pdf.fonttype": 42,
    "pdf.compression": 6,
    "svg.hashsalt": "papergen",
    "svg.fonttype": "path",
    "path.simplify": False,
}

_PNG_METADATA = {"Software": None}
_PDF_METADATA = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}

# Layout constants, in inches.
_PAD = 0.10          # outer margin of the figure
_ROW_H = 0.19        # height of one row of the at-risk table
_GAP = 0.12          # gap between the x-axis label and the at-risk table
_LABEL_GAP = 0.12    # gap between a row label and the first count
_X_AXIS_H = 0.45     # about the height of the x-axis' tick labels and label, for the y label's wrap


def _text_width(fig, renderer, text: str) -> float:
    """Width in inches of ``text`` at the figures' 9 pt (measured by matplotlib's renderer)."""
    t = fig.text(0, 0, text, fontsize=9)
    width = t.get_window_extent(renderer).width / fig.dpi
    t.remove()
    return width


def _stacked(width_in: float, label_w: float) -> bool:
    """True when the at-risk labels beside their counts would leave the plot less than 60% of the figure."""
    return width_in - 2 * _PAD - label_w - _LABEL_GAP < 0.6 * width_in


def _wrap_to_axes_height(ax, renderer, plot_h: float) -> None:
    """The y-axis label on two lines where one would be taller than the plot (``plot_h`` inches, about)."""
    label = ax.yaxis.label
    text = label.get_text()
    if " " not in text or label.get_window_extent(renderer).height / ax.figure.dpi <= plot_h:
        return
    words = text.split(" ")
    half = min(range(1, len(words)), key=lambda k: abs(len(" ".join(words[:k])) - len(" ".join(words[k:]))))
    label.set_text(" ".join(words[:half]) + "\n" + " ".join(words[half:]))


def _check_counts_apart(ticks, xmax, axes_w: float, count_w: float, width_in: float) -> None:
    """Fail when neighbouring at-risk counts (and tick labels) would touch: the plan's ``xstep`` is too fine."""
    if len(ticks) < 2:
        return
    step_in = axes_w * (ticks[1] - ticks[0]) / xmax
    if step_in < count_w + 0.04:
        wider = int(math.ceil((count_w + 0.04) / step_in))
        _fail(f"the numbers at risk touch at width_in={width_in:g}: ticks {step_in:.2f} in apart for counts "
              f"{count_w:.2f} in wide; use xstep={_tick_text(_tick_value((ticks[1] - ticks[0]) * wider))}"
              + (" or a figure of 2 columns" if width_in < 5 else ""))


def _fail(message):
    # papergen.errors does not exist yet; ValueError until the lead wires it.
    raise ValueError(f"km_figure: {message}")


def _positive_number(name, value):
    try:
        ok = float(value) > 0 and math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok or isinstance(value, bool):
        _fail(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _check_curves(curves):
    if isinstance(curves, dict) or not isinstance(curves, (list, tuple)):
        _fail("curves must be a list of dicts {'label', 'time', 'event'}")
    if len(curves) == 0:
        _fail("curves is empty; give at least one curve")
    checked, seen = [], set()
    for i, curve in enumerate(curves):
        if not isinstance(curve, dict):
            _fail(f"curve #{i} is {type(curve).__name__}, expected a dict")
        missing = [k for k in ("label", "time", "event") if k not in curve]
        if missing:
            _fail(f"curve #{i} lacks key(s) {', '.join(missing)}")
        label = curve["label"]
        if not isinstance(label, str) or not label.strip():
            _fail(f"curve #{i}: label must be a non-empty string, got {label!r}")
        if label in seen:
            _fail(f"duplicate curve label {label!r}; labels must be unique")
        seen.add(label)
        try:
            time = np.asarray(curve["time"], dtype=float)
        except (TypeError, ValueError):
            _fail(f"curve {label!r}: time must be numeric")
        try:
            event = np.asarray(curve["event"], dtype=float)
        except (TypeError, ValueError):
            _fail(f"curve {label!r}: event must be 0/1")
        if time.ndim != 1 or event.ndim != 1:
            _fail(f"curve {label!r}: time and event must be one-dimensional")
        if time.size == 0:
            _fail(f"curve {label!r}: no subjects (time is empty)")
        if time.size != event.size:
            _fail(f"curve {label!r}: time has {time.size} values but event has {event.size}")
        if not np.all(np.isfinite(time)):
            _fail(f"curve {label!r}: time contains missing or infinite values")
        if np.any(time < 0):
            _fail(f"curve {label!r}: negative time {time[time < 0].min():g} "
                  "(times are measured from the time origin)")
        if not np.all((event == 0) | (event == 1)):
            bad = event[~((event == 0) | (event == 1))][0]
            _fail(f"curve {label!r}: event must be 0 (censored) or 1 (event), found {bad:g}")
        checked.append((label, time, event.astype(int)))
    return checked


def _km_steps(time, event):
    """Kaplan-Meier estimate S(t) = prod(1 - d/n) at each distinct event time.

    Returns (event_times, survival), survival evaluated right after each time
    (right-continuous). Subjects censored at an event time count as at risk.
    """
    return _steps(life_table(time, event))


def _steps(tab):
    """_km_steps of a life table (papergen.analysis.survival.life_table, the arithmetic of the reported values):
    its rows with an event. S is the product over every distinct time, but a time without an event multiplies
    by exactly 1.0, so these are the products over the event times alone, to the bit."""
    at = tab.n_event > 0
    return tab.times[at], tab.survival[at]


def _tick_text(v):
    return str(int(round(v))) if float(v).is_integer() else f"{v:g}"


def _tick_value(v):
    return int(round(v)) if float(v).is_integer() else float(v)


def rc(font: str | None = None) -> dict:
    """The figures' matplotlib settings, with ``font`` first among the serif fonts (silently skipped where absent)."""
    if not font:
        return _RC
    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "findfont: not found" is expected
    return {**_RC, "font.serif": [font, *_RC["font.serif"]]}


def km_figure(curves, out_stem, *, xlabel="Months", ylabel="Survival probability",
              xmax=None, xstep=12, title=None, dpi=300, width_in=6.5, height_in=4.5, note=None,
              ci=None, decimal=".", font=None) -> dict:
    """Draw Kaplan-Meier curves with a "No. at risk" table; write PNG and PDF.

    curves: list of dicts {"label": str, "time": months, "event": 0/1}; one
    line per dict, drawn in greyscale-safe styles; a legend only if several.
    out_stem: path without extension; writes ``<out_stem>.png`` (``dpi``) and
    ``<out_stem>.pdf`` (vector, TrueType fonts embedded), both byte-identical
    for identical inputs. The parent folder is created if needed.

    Returns {"png": Path, "pdf": Path, "at_risk": {label: [(tick, n), ...]},
    "ticks": [...]}, where n is the number of subjects with time >= tick.
    ``note`` (text of registered values, e.g. "Log-rank P = 0.003") is printed
    in the plot's lower left corner. ``ci`` (a conf_type: "log-log", "log",
    "plain") shades each curve's pointwise 95% band, the limits the text reports.
    ``decimal``: the house style's decimal mark for the axes' numbers (The Lancet's "0·2").
    ``font``: the manuscript's body font, used where it is installed (DejaVu Serif, which
    matplotlib ships, otherwise: the journal profile table says which one was used).
    """
    import matplotlib

    data, xmax, ticks, counts = _layout(curves, xmax, xstep)
    dpi = _positive_number("dpi", dpi)
    width_in = _positive_number("width_in", width_in)
    height_in = _positive_number("height_in", height_in)
    min_h = 2 * _PAD + (len(data) + 1) * _ROW_H + 1.5
    if height_in < min_h:
        _fail(f"height_in={height_in:g} is too small for {len(data)} curve(s); "
              f"use at least {min_h:.2f}")

    stem = Path(out_stem)
    png = stem.with_name(stem.name + ".png")
    pdf = stem.with_name(stem.name + ".pdf")
    with matplotlib.rc_context(rc(font)):
        fig = _draw(data, ticks, counts, xmax=xmax, xlabel=xlabel, ylabel=ylabel, title=title, dpi=dpi,
                    width_in=width_in, height_in=height_in, ci=ci, decimal=decimal, note=note)
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png, format="png", dpi=dpi, metadata=_PNG_METADATA)
        fig.savefig(pdf, format="pdf", dpi=dpi, metadata=_PDF_METADATA)
    return {"png": png, "pdf": pdf, "at_risk": counts, "ticks": ticks}


def at_risk(curves, *, xmax=None, xstep=12) -> tuple[list, dict]:
    """The x ticks km_figure draws and the number at risk (time >= tick) under each: (ticks, {label: [(tick, n)]}).

    numpy only: the numbers printed under a figure, without drawing it.
    """
    _, _, ticks, counts = _layout(curves, xmax, xstep)
    return ticks, counts


def _layout(curves, xmax, xstep):
    """Checked curves, the x range, its ticks (every ``xstep``) and the at-risk counts under them."""
    data = _check_curves(curves)
    xstep = _positive_number("xstep", xstep)
    if xmax is None:
        tmax = max(float(t.max()) for _, t, _ in data)
        xmax = max(math.ceil(tmax / xstep - 1e-9), 1) * xstep
    else:
        xmax = _positive_number("xmax", xmax)
    n_ticks = int(math.floor(xmax / xstep + 1e-9)) + 1
    ticks = [_tick_value(round(k * xstep, 10)) for k in range(n_ticks)]
    counts = {label: [(tick, int(np.count_nonzero(t >= tick))) for tick in ticks] for label, t, _ in data}
    return data, xmax, ticks, counts


def _draw(data, ticks, at_risk, *, xmax, xlabel, ylabel, title, dpi, width_in, height_in, ci=None, decimal=".",
          note=None):
    """Build the Figure (call inside ``rc_context(_RC)``). Returns the Figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.transforms import blended_transform_factory

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.15, 0.35, 0.8, 0.6))  # provisional; placed below
    n_rows = len(data)

    for i, (label, t, e) in enumerate(data):
        colour, dash = _STYLES[i % len(_STYLES)]
        tab = life_table(t, e)  # one sort of the times for the line, the band and the censoring marks
        step_t, step_s = _steps(tab)
        s_end = step_s[-1] if step_s.size else 1.0
        t_max = float(tab.times[-1])
        xs = np.concatenate(([0.0], step_t, [t_max]))
        ys = np.concatenate(([1.0], step_s, [s_end]))
        ax.step(xs, ys, where="post", color=colour, linestyle=dash,
                linewidth=1.3, label=label, solid_capstyle="butt")
        if ci:
            bt, lo, hi = ci_band(tab, ci)
            ok = ~(np.isnan(lo) | np.isnan(hi))
            bx = np.concatenate(([0.0], bt[ok], [t_max]))
            blo = np.concatenate(([1.0], lo[ok], [lo[ok][-1] if ok.any() else 1.0]))
            bhi = np.concatenate(([1.0], hi[ok], [hi[ok][-1] if ok.any() else 1.0]))
            ax.fill_between(bx, blo, bhi, step="post", color=colour, alpha=0.15, linewidth=0)
        marked = (tab.n_censor > 0) & (tab.times <= xmax)  # each censoring time once, at S just after it
        if marked.any():
            ax.plot(tab.times[marked], tab.survival[marked], linestyle="none",
                    marker="+", markersize=5.5, markeredgewidth=0.9,
                    color=colour, clip_on=False)

    ax.set_xlim(0, xmax)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(ticks, labels=[_tick_text(v).replace(".", decimal) for v in ticks])
    yt = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ax.set_yticks(yt, labels=[f"{v:.1f}".replace(".", decimal) for v in yt])
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.spines["left"].set_bounds(0, 1)
    ax.spines["bottom"].set_bounds(0, xmax)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if n_rows > 1:
        ax.legend(loc="best", frameon=False, handlelength=3.0, borderaxespad=0.4)

    # No. at risk table: x in data coordinates (so each count sits under its
    # tick), y in figure fraction (fixed rows under the x-axis label). In a
    # narrow figure (one journal column) each row's label stands above its counts.
    renderer = canvas.get_renderer()
    px = fig.dpi
    widths = [_text_width(fig, renderer, label) for label, _, _ in data]
    stacked = _stacked(width_in, max(widths))
    rows_h = (n_rows * (2 if stacked else 1) + 1) * _ROW_H
    under_ticks = blended_transform_factory(ax.transData, fig.transFigure)
    x_label = _PAD / width_in
    fig.text(x_label, (_PAD + rows_h - 0.5 * _ROW_H) / height_in, "No. at risk",
             ha="left", va="center", fontsize=9, gid="at-risk-header")
    row_labels, counts = [], []
    for i, (label, _, _) in enumerate(data):
        k = n_rows - 1 - i
        y = (_PAD + (2 * k if stacked else k) * _ROW_H + 0.5 * _ROW_H) / height_in
        y_label = y + (_ROW_H / height_in if stacked else 0)
        row_labels.append(fig.text(x_label, y_label, label, ha="left", va="center", fontsize=9,
                                   gid="at-risk-label"))
        for tick, n in at_risk[label]:
            counts.append(fig.text(tick, y, str(n), transform=under_ticks, ha="center",
                                   va="center", fontsize=9, gid="at-risk-count"))
    note_h = 0.0
    note_w = _text_width(fig, renderer, str(note)) if note else 0.0
    inside = note and not stacked and note_w < 0.6 * width_in
    if note and not inside:  # a narrow figure: above the plot, a line per value where one line is too wide
        text = str(note) if note_w < width_in - 2 * _PAD else "\n".join(str(note).split("; "))
        above = fig.text(x_label, 1 - _PAD / height_in, text, ha="left", va="top", fontsize=9, gid="note")
        note_h = above.get_window_extent(renderer).height / px + _GAP
        if above.get_window_extent(renderer).width / px > width_in - 2 * _PAD:
            _fail(f"the text on the plot ({text!r}) is wider than the figure (width_in={width_in:g})")
    _wrap_to_axes_height(ax, renderer, height_in - 2 * _PAD - rows_h - _GAP - note_h - _X_AXIS_H)

    # Layout: measure the text once, then place the axes so nothing overlaps.
    tight = ax.get_tightbbox(renderer, for_layout_only=False)
    box = ax.get_window_extent(renderer)
    half_count = max(c.get_window_extent(renderer).width for c in counts) / px / 2
    label_w = max(r.get_window_extent(renderer).width for r in row_labels) / px
    left = _PAD + max((box.x0 - tight.x0) / px, half_count if stacked else label_w + _LABEL_GAP + half_count)
    right = _PAD + max((tight.x1 - box.x1) / px, half_count, 0.05)
    bottom = _PAD + rows_h + _GAP + (box.y0 - tight.y0) / px
    top = _PAD + note_h + max((tight.y1 - box.y1) / px, 0.05)
    if width_in - left - right < 1.0:
        _fail(f"width_in={width_in:g} is too small for the row labels "
              f"(longest label needs {label_w:.2f} in)")
    ax.set_position((left / width_in, bottom / height_in,
                     (width_in - left - right) / width_in,
                     (height_in - bottom - top) / height_in))
    _check_counts_apart(ticks, xmax, (width_in - left - right), 2 * half_count, width_in)
    if inside:  # the plot's lower left corner, placed after the layout (it is inside the axes)
        ax.text(0.02, 0.04, str(note), transform=ax.transAxes, ha="left", va="bottom", fontsize=9, gid="note")
    return fig
