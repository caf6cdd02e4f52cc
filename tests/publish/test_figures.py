"""Tests for papergen.figures (Kaplan-Meier figures)."""

import matplotlib
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from papergen.publish import figures
from papergen.publish.figures import km_figure

# Hand example: at-risk = number with time >= tick.
# tick 0: all 5; tick 3: {3, 5, 8} = 3; tick 6: {8} = 1; tick 9: none = 0.
HAND = {"label": "Cohort", "time": [1, 2, 3, 5, 8], "event": [1, 0, 1, 1, 0]}


def _two_groups():
    rng = np.random.default_rng(7)
    out = []
    for label, scale, n in (("Laparoscopic", 40.0, 60), ("Open", 20.0, 45)):
        t = rng.exponential(scale, n)
        c = rng.uniform(6, 60, n)
        out.append({"label": label, "time": np.round(np.minimum(t, c), 1),
                    "event": (t <= c).astype(int)})
    return out


def test_files_written_and_hand_example_counts(tmp_path):
    res = km_figure([HAND], tmp_path / "fig1", xstep=3)
    assert res["png"] == tmp_path / "fig1.png" and res["png"].is_file()
    assert res["pdf"] == tmp_path / "fig1.pdf" and res["pdf"].is_file()
    assert res["ticks"] == [0, 3, 6, 9]
    assert res["at_risk"] == {"Cohort": [(0, 5), (3, 3), (6, 1), (9, 0)]}


def test_stem_with_dot_and_missing_parent(tmp_path):
    res = km_figure([HAND], tmp_path / "new" / "fig.v2", xstep=3)
    assert res["png"].name == "fig.v2.png" and res["png"].is_file()
    assert res["pdf"].name == "fig.v2.pdf" and res["pdf"].is_file()


def test_png_is_300_dpi_with_expected_pixel_size(tmp_path):
    res = km_figure(_two_groups(), tmp_path / "km")
    with Image.open(res["png"]) as im:
        assert im.info["dpi"] == pytest.approx((300, 300), rel=1e-3)  # pHYs is px/metre
        assert im.size == (round(6.5 * 300), round(4.5 * 300))


def test_custom_size_and_dpi(tmp_path):
    res = km_figure([HAND], tmp_path / "km", xstep=3, dpi=150, width_in=4, height_in=3)
    with Image.open(res["png"]) as im:
        assert im.info["dpi"] == pytest.approx((150, 150), rel=1e-3)
        assert im.size == (600, 450)


def test_pdf_is_one_vector_page(tmp_path):
    res = km_figure(_two_groups(), tmp_path / "km")
    reader = PdfReader(res["pdf"])
    assert len(reader.pages) == 1
    page = reader.pages[0]
    xobjects = page["/Resources"].get("/XObject")
    if xobjects is not None:
        for ref in xobjects.get_object().values():
            assert ref.get_object().get("/Subtype") != "/Image"
    assert len(page.images) == 0
    # Fonts embedded as TrueType (Type 42), not Type 3 bitmaps/procedures.
    fonts = page["/Resources"]["/Font"].get_object()
    subtypes = {f.get_object()["/Subtype"] for f in fonts.values()}
    assert "/Type3" not in subtypes
    # Page size matches the requested figure size (points).
    assert float(page.mediabox.width) == pytest.approx(6.5 * 72)
    assert float(page.mediabox.height) == pytest.approx(4.5 * 72)


def test_at_risk_several_curves_and_xmax(tmp_path):
    curves = [HAND, {"label": "Other", "time": [0.5, 4, 4, 10], "event": [0, 1, 0, 1]}]
    res = km_figure(curves, tmp_path / "km", xstep=3)
    assert res["ticks"] == [0, 3, 6, 9, 12]  # ceil(10 / 3) * 3
    assert res["at_risk"]["Cohort"] == [(0, 5), (3, 3), (6, 1), (9, 0), (12, 0)]
    assert res["at_risk"]["Other"] == [(0, 4), (3, 3), (6, 1), (9, 1), (12, 0)]
    res = km_figure(curves, tmp_path / "km2", xstep=3, xmax=7)
    assert res["ticks"] == [0, 3, 6]


def test_byte_identical_across_calls_and_folders(tmp_path):
    curves = _two_groups()
    a = km_figure(curves, tmp_path / "a" / "km")
    b = km_figure(curves, tmp_path / "b" / "km")
    assert a["png"].read_bytes() == b["png"].read_bytes()
    assert a["pdf"].read_bytes() == b["pdf"].read_bytes()
    pdf = a["pdf"].read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert b"Producer" not in pdf and b"matplotlib" not in pdf.lower()


def test_rcparams_untouched(tmp_path):
    before = dict(matplotlib.rcParams)
    km_figure([HAND], tmp_path / "km", xstep=3)
    assert dict(matplotlib.rcParams) == before


def test_km_steps_match_lifelines():
    lifelines = pytest.importorskip("lifelines")
    t = np.array([1, 2, 2, 3, 3, 3, 5, 8, 8, 9, 12], dtype=float)
    e = np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1])
    step_t, step_s = figures._km_steps(t, e)
    kmf = lifelines.KaplanMeierFitter().fit(t, e)
    expected = kmf.survival_function_at_times(step_t).to_numpy()
    np.testing.assert_allclose(step_s, expected, rtol=0, atol=1e-12)
    # Hand example: at risk 5, 3, 2 at t = 1, 3, 5 -> S = 4/5, 4/5*2/3, 4/5*2/3*1/2.
    step_t, step_s = figures._km_steps(np.array(HAND["time"], float), np.array(HAND["event"]))
    np.testing.assert_allclose(step_t, [1, 3, 5])
    np.testing.assert_allclose(step_s, [0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2])


def test_at_risk_counts_sit_under_ticks():
    curves = figures._check_curves(_two_groups())
    ticks = [0, 12, 24, 36, 48, 60]
    at_risk = {label: [(k, int(np.sum(t >= k))) for k in ticks] for label, t, _ in curves}
    with matplotlib.rc_context(figures._RC):
        fig = figures._draw(curves, ticks, at_risk, xmax=60, xlabel="Months",
                            ylabel="Survival", title=None, dpi=100, width_in=6.5,
                            height_in=4.5)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        tick_x = [ax.transData.transform((k, 0))[0] for k in ticks]
        counts = [t for t in fig.texts if t.get_gid() == "at-risk-count"]
        assert len(counts) == len(ticks) * len(curves)
        ax_box = ax.get_tightbbox(renderer)
        for i, text in enumerate(counts):
            box = text.get_window_extent(renderer)
            assert (box.x0 + box.x1) / 2 == pytest.approx(tick_x[i % len(ticks)], abs=1.0)
            assert box.y1 < ax_box.y0  # the table is below the x-axis label
        labels = [t for t in fig.texts if t.get_gid() == "at-risk-label"]
        first = [c.get_window_extent(renderer).x0 for c in counts[:: len(ticks)]]
        for label, x0 in zip(labels, first):
            assert label.get_window_extent(renderer).x1 < x0  # label clear of counts
        assert ax.get_legend() is not None


def test_single_curve_has_no_legend_and_no_title():
    curves = figures._check_curves([HAND])
    with matplotlib.rc_context(figures._RC):
        fig = figures._draw(curves, [0, 3, 6, 9], {"Cohort": [(0, 5), (3, 3), (6, 1), (9, 0)]},
                            xmax=9, xlabel="Months", ylabel="Survival", title=None, dpi=100,
                            width_in=6.5, height_in=4.5)
    ax = fig.axes[0]
    assert ax.get_legend() is None
    assert ax.get_title() == ""
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.0", "0.2", "0.4", "0.6",
                                                           "0.8", "1.0"]


@pytest.mark.parametrize("curves, match", [
    ([], "empty"),
    ({"label": "A", "time": [1], "event": [1]}, "list of dicts"),
    ([{"label": "A", "time": [], "event": []}], "no subjects"),
    ([{"label": "A", "time": [1, 2], "event": [1]}], "2 values but event has 1"),
    ([{"label": "A", "time": [1, -2], "event": [1, 0]}], "negative time"),
    ([{"label": "A", "time": [1, 2], "event": [1, 2]}], "0 \\(censored\\) or 1"),
    ([{"label": "A", "time": [1, float("nan")], "event": [1, 0]}], "missing"),
    ([{"label": "A", "time": [1], "event": [1]}, {"label": "A", "time": [1], "event": [0]}],
     "duplicate"),
    ([{"label": "", "time": [1], "event": [1]}], "label"),
    ([{"label": "A", "time": [1]}], "lacks key"),
    ([{"label": "A", "time": ["x"], "event": [1]}], "numeric"),
])
def test_bad_input_raises(tmp_path, curves, match):
    with pytest.raises(ValueError, match=match):
        km_figure(curves, tmp_path / "km")
    assert not (tmp_path / "km.png").exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"xstep": 0}, "xstep"),
    ({"xmax": -5}, "xmax"),
    ({"dpi": 0}, "dpi"),
    ({"height_in": 1.0}, "height_in"),
])
def test_bad_options_raise(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        km_figure([HAND], tmp_path / "km", **kwargs)


def _fonts(pdf):
    import re

    return {m.group(1).decode() for m in re.finditer(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?([^\s/\[\]<>()]+)", pdf.read_bytes())}


def test_the_body_font_is_used_where_installed_and_dejavu_serif_otherwise(tmp_path):
    plain = km_figure([HAND], tmp_path / "plain")
    assert _fonts(plain["pdf"]) == {"DejaVuSerif"}
    sans = km_figure([HAND], tmp_path / "sans", font="DejaVu Sans")  # installed with matplotlib
    assert _fonts(sans["pdf"]) == {"DejaVuSans"}
    missing = km_figure([HAND], tmp_path / "missing", font="No Such Font Antiqua")
    assert missing["pdf"].read_bytes() == plain["pdf"].read_bytes()  # the fallback draws what it drew before


# --- one journal column (publish/figure_size.py) ------------------------------------------------

def test_one_column_figure_stacks_the_at_risk_labels_and_puts_the_note_above(tmp_path):
    """At 8.4 cm the labels beside the counts would squeeze the plot: each stands above its counts."""
    curves = figures._check_curves([dict(c, label=c["label"] + " hepatectomy") for c in _two_groups()])
    ticks = [0, 24, 48]
    at_risk = {label: [(k, int(np.sum(t >= k))) for k in ticks] for label, t, _ in curves}
    note = "Log-rank P = 0.003; Laparoscopic: HR 0.52 (0.31\u20130.88)"
    with matplotlib.rc_context(figures._RC):
        fig = figures._draw(curves, ticks, at_risk, xmax=48, xlabel="Months", ylabel="Overall survival probability",
                            title=None, dpi=100, width_in=8.4 / 2.54, height_in=3.8, note=note)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = lambda t: t.get_window_extent(renderer)  # noqa: E731
        labels = [t for t in fig.texts if t.get_gid() == "at-risk-label"]
        counts = [t for t in fig.texts if t.get_gid() == "at-risk-count"]
        for i, label in enumerate(labels):
            row = counts[i * len(ticks):(i + 1) * len(ticks)]
            assert all(box(label).y0 > box(c).y1 for c in row)  # the label's line is above its counts
        [above] = [t for t in fig.texts if t.get_gid() == "note"]
        assert above.get_text().split("\n") == note.split("; ")  # one value a line: one line is too wide
        assert box(above).y0 > fig.axes[0].get_window_extent(renderer).y1
        assert box(above).x1 <= fig.bbox.x1 and fig.axes[0].yaxis.label.get_text().count("\n") == 1
        everything = [box(t) for t in fig.texts] + [fig.axes[0].get_tightbbox(renderer)]
        assert all(b.x0 >= 0 and b.x1 <= fig.bbox.x1 + 0.5 and b.y0 >= 0 for b in everything)


def test_counts_that_would_touch_name_the_xstep_to_use(tmp_path):
    curves = [{"label": "All", "time": list(range(1, 1001)), "event": [1] * 1000}]
    with pytest.raises(ValueError, match=r"numbers at risk touch at width_in=3\.3.*use xstep=\d+ or a figure of 2"):
        km_figure(curves, tmp_path / "narrow", xstep=100, width_in=3.3, height_in=3.8)
    km_figure(curves, tmp_path / "wide", xstep=100, width_in=6.85, height_in=4.74)  # the page's width fits them
