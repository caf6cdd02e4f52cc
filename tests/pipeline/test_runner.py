"""papergen.pipeline.runner: stages run together; a stage given ``after`` waits for it, the others do not."""
from __future__ import annotations

import threading

from papergen.pipeline.cache import Step
from papergen.pipeline.runner import Stages


def test_a_stage_after_a_wait_looks_at_its_cache_only_then_and_the_others_start_at_once():
    drawn, order = threading.Event(), []

    def draw():  # the figures being drawn: done only once the stage without a wait has run
        assert other_ran.wait(5)
        order.append("drawn")
        drawn.set()

    other_ran = threading.Event()

    def other():
        order.append("other")
        other_ran.set()
        return "other"

    def hit():  # the cache key hashes the figures: looked at only once they are drawn
        order.append("cache looked at")
        assert drawn.is_set()
        return None  # a miss: the stage runs

    def export():
        order.append("export")
        return "export"

    lines = []
    s = Stages(lines.append)
    try:
        results = s.together(s.call("export", export, cache=Step(hit), after=draw),
                             s.call("other", other))
    finally:
        s.close()
    assert results == ["export", "other"]
    assert order == ["other", "drawn", "cache looked at", "export"]
    assert [line.split()[0] for line in lines] == ["export", "other"]


def test_an_error_of_the_wait_is_the_stages_error():
    def fail():
        raise ValueError("figure 'os' cannot be drawn")

    s = Stages(lambda line: None)
    try:
        s.together(s.call("export", lambda: "never", after=fail), s.call("other", lambda: "other"))
    except ValueError as exc:
        assert str(exc) == "figure 'os' cannot be drawn"
    else:
        raise AssertionError("the wait's error was not raised")
    finally:
        s.close()
