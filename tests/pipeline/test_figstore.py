"""papergen.pipeline.figstore: a figure the plan's options make impossible is one line at the plan line."""
from __future__ import annotations

import pytest

from papergen.errors import FigureError
from papergen.pipeline.figstore import FigureStore

CURVES = [{"label": "All", "time": list(range(1, 1001)), "event": [1] * 1000}]
WHERE = "study/analysis_plan.py:12"


@pytest.mark.parametrize("helper_process", [False, True])
def test_counts_that_touch_name_the_plan_line_from_either_process(tmp_path, helper_process):
    store = FigureStore(None)
    if helper_process:
        store.prepare()
        assert store._pool is not None
    store.km_figure(CURVES, tmp_path / "os", WHERE, xstep=100, width_in=3.3, height_in=3.8)
    with pytest.raises(FigureError) as raised:
        store.finish()
    assert str(raised.value).startswith(f"{WHERE}: figure 'os' cannot be drawn: the numbers at risk touch")
    assert "\n" not in str(raised.value) and raised.value.exit_code == 2


def test_an_impossible_option_is_named_before_anything_is_drawn(tmp_path):
    with pytest.raises(FigureError, match=rf"^{WHERE}: figure 'os' cannot be drawn: xmax must be a positive"):
        FigureStore(None).km_figure(CURVES, tmp_path / "os", WHERE, xmax=-1)
    assert not (tmp_path / "os.png").exists()


def test_a_curve_keys_alike_from_the_plan_and_from_the_cache_and_pickles_as_bytes():
    """curves_key hashes the float64 times and int64 events: a Survival's numpy arrays, the cached Curve's
    arrays and plain lists of the same numbers give one key; a changed time another. A Curve of 100,000
    subjects pickles in about 1.6 MB (8 + 8 bytes each), not as a list of Python floats."""
    import pickle

    import numpy as np

    from papergen.pipeline.figstore import curves_key
    from papergen.pipeline.store import Curve

    t = np.random.default_rng(3).exponential(30, 100_000)
    e = (t < 40).astype(int)

    class Survival:  # what Curve.of asks of papergen.statistics.Survival
        sources = []

        def arrays(self):
            return t, e

    curve = pickle.loads(pickle.dumps(Curve.of(Survival())))
    assert len(pickle.dumps(curve)) < 1_700_000
    assert np.array_equal(np.asarray(curve.time), t) and np.array_equal(np.asarray(curve.event), e)
    key = curves_key([{"label": "All", "time": t, "event": e}], {"xstep": 12})
    assert key == curves_key([{"label": "All", "time": curve.time, "event": curve.event}], {"xstep": 12})
    assert key == curves_key([{"label": "All", "time": list(t[:]), "event": list(e)}], {"xstep": 12})
    moved = t.copy()
    moved[0] = np.nextafter(moved[0], 1e9)  # the smallest change of one time
    assert curves_key([{"label": "All", "time": moved, "event": e}], {"xstep": 12}) != key
    assert curves_key([{"label": "All", "time": t, "event": e}], {"xstep": 6}) != key


def test_finish_from_several_stages_at_once_draws_once_and_each_sees_the_error(tmp_path):
    """The stages that show the figures each call finish() (Stages.call's ``after``): the first does the work,
    the others wait for it and raise what it raised; later calls raise it too."""
    import threading

    store = FigureStore(None)
    store.prepare()
    store.km_figure(CURVES, tmp_path / "os", WHERE, xstep=100, width_in=3.3, height_in=3.8)
    raised = []

    def stage():
        try:
            store.finish()
        except FigureError as exc:
            raised.append(str(exc))

    threads = [threading.Thread(target=stage) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(raised) == 3 and len(set(raised)) == 1 and raised[0].startswith(f"{WHERE}: figure 'os' cannot be")
    with pytest.raises(FigureError):
        store.finish()


def test_finish_twice_after_a_good_drawing_keeps_the_figure(tmp_path):
    store = FigureStore(None)
    store.prepare()
    store.km_figure(CURVES, tmp_path / "os", WHERE, xstep=250)
    store.finish()
    store.finish()  # nothing pending: returns at once
    assert (tmp_path / "os.png").stat().st_size > 0 and store.pending == 0
