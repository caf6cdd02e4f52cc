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
