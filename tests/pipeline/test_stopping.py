"""papergen.pipeline.stopping and the runner's timeout: helper processes ended, a stop that cannot be swallowed.

Each case runs in a fresh Python process: ending descendants in the test process would end pytest's others.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, encoding="utf-8",
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_end_descendants_ends_children_and_grandchildren():
    got = _run("""
        import json, subprocess, sys, time
        from papergen.pipeline import stopping
        child = subprocess.Popen([sys.executable, "-c", "import subprocess, time; "
                                  "subprocess.Popen(['sleep', '60']); time.sleep(60)"])
        deadline = time.monotonic() + 20
        while len(stopping.descendants()) < 2 and time.monotonic() < deadline:  # the child and its sleep
            time.sleep(0.01)
        before = stopping.descendants()
        stopping.end_descendants()
        code = child.wait(timeout=5)
        left = [p for p in before if stopping._parent_and_state(p)[1] not in (None, "Z")]
        print(json.dumps({"before": len(before), "code": code, "left": left}))
    """)
    assert got == {"before": 2, "code": -15, "left": []}


def test_a_stage_past_the_timeout_is_stopped_and_named():
    got = _run("""
        import json, time
        from papergen.errors import Stopped
        from papergen.pipeline.runner import Stages
        lines = []
        s = Stages(lines.append, timeout=1.5, every=0.5)
        try:
            s.run("slow stage", time.sleep, 30)
        except Stopped as exc:
            print(json.dumps({"message": str(exc), "code": exc.exit_code, "lines": lines}))
        finally:
            s.close()
    """)
    assert got["code"] == 124
    assert got["message"].startswith("stopped: the build ran past --timeout 1.5 s; stage 'slow stage' (")
    assert len(got["lines"]) >= 2, got  # at 0.5 s and 1 s (and perhaps 1.5 s)
    assert all(ln.startswith("  still running: slow stage (") and ln.endswith(" s); Ctrl-C stops the build")
               for ln in got["lines"]), got


def test_a_swallowed_stop_still_stops_the_next_stage():
    got = _run("""
        import json, time
        from papergen.errors import Stopped
        from papergen.pipeline.runner import Stages
        s = Stages(lambda line: None, timeout=0.3)

        def swallows():
            try:
                time.sleep(5)
            except BaseException:  # a plan or library that catches everything
                pass

        s.run("swallows", swallows)
        try:
            s.run("next stage", int)
            print(json.dumps({"stopped": False}))
        except Stopped:
            print(json.dumps({"stopped": True}))
        finally:
            s.close()
    """)
    assert got == {"stopped": True}
