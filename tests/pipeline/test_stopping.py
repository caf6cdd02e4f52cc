"""papergen.pipeline.stopping and the runner's timeout: helper processes ended, a stop that cannot be swallowed."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from papergen.errors import Stopped
from papergen.pipeline import stopping
from papergen.pipeline.runner import TIMEOUT_EXIT, Stages


def test_end_descendants_ends_children_and_grandchildren():
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '60']); "
                              "time.sleep(60)"])
    try:
        deadline = time.monotonic() + 20
        while len(stopping.descendants()) < 2:  # the child and its sleep
            assert time.monotonic() < deadline, stopping.descendants()
            time.sleep(0.01)
        grandchild = [p for p in stopping.descendants() if p != child.pid]
        stopping.end_descendants()
        assert child.wait(timeout=5) is not None
        assert stopping.descendants() == []
        assert all(stopping._parent_and_state(p)[1] in (None, "Z") for p in grandchild)
    finally:
        child.kill()
        child.wait()


def test_a_stage_past_the_timeout_is_stopped_and_named():
    lines = []
    s = Stages(lines.append, timeout=1.5, every=0.5)
    try:
        with pytest.raises(Stopped) as info:
            s.run("slow stage", time.sleep, 30)
    finally:
        s.close()
    assert info.value.exit_code == TIMEOUT_EXIT
    assert str(info.value).startswith("stopped: the build ran past --timeout 1.5 s; stage 'slow stage' (")
    assert len(lines) >= 2, lines  # at 0.5 s and 1 s (and perhaps 1.5 s)
    assert all(re.fullmatch(r"  still running: slow stage \(\d s\); Ctrl-C stops the build", ln) for ln in lines)


def test_a_swallowed_stop_still_stops_the_next_stage():
    s = Stages(lambda line: None, timeout=0.3)

    def swallows():
        try:
            time.sleep(5)
        except BaseException:  # a plan or library that catches everything
            pass

    try:
        s.run("swallows", swallows)
        with pytest.raises(Stopped):
            s.run("next stage", int)
    finally:
        s.close()
