"""``python build.py watch``: rebuilds in one running process give what a fresh build gives.

The real command runs in a copy of the study as a child process; the test edits
the copy as an author would and reads what the watch prints.
"""
from __future__ import annotations

import json
import time

import pytest

from conftest import docx_text
from studycopy import Running, copy_study

from papergen.pipeline.build import build_manuscript

WAITING = "waiting for a change"


class Watch(Running):
    """A running ``python build.py watch``."""

    def __init__(self, study, *args):
        super().__init__(study, "watch", *args)


def append(study, text: str):
    time.sleep(0.05)  # a new modification time even on coarse file systems
    with open(study / "templates" / "discussion.md.j2", "a", encoding="utf-8") as fh:
        fh.write(text)


@pytest.fixture
def study(tmp_path):
    return copy_study(tmp_path / "study")


def test_rebuild_after_an_edit_equals_a_fresh_build(study, tmp_path):
    watch = Watch(study)
    try:
        watch.until(WAITING)
        append(study, "\nA sentence the watch must pick up.\n")
        second = watch.until(WAITING)
    finally:
        assert watch.stop() == 0
    assert any(line.startswith("built ") for line in second)
    assert any("read and validate data" in line and "skipped (unchanged)" in line for line in second)
    assert "stopped watching" in watch.lines
    fresh = build_manuscript(study, out_dir=tmp_path / "fresh", echo=lambda *_: None, force=True).outputs
    kept = study / "manuscript"
    assert (kept / "manuscript.md").read_text(encoding="utf-8") == fresh.markdown.read_text(encoding="utf-8")
    assert "A sentence the watch must pick up." in docx_text(kept / "manuscript.docx")
    assert docx_text(kept / "manuscript.docx") == docx_text(fresh.docx)
    values = lambda p: json.loads(p.read_text(encoding="utf-8"))["values"]  # noqa: E731
    assert values(kept / "numbers.json") == values(fresh.ledger)


def test_a_failed_build_is_one_line_and_the_watch_goes_on(study):
    watch = Watch(study, "--builds", "3")
    try:
        watch.until(WAITING)
        before = (study / "manuscript" / "manuscript.md").read_bytes()
        append(study, "\nThere were 42 typed patients.\n")
        failed = watch.until(WAITING)
        assert any(line.startswith("error: templates/discussion.md.j2:") and "'42'" in line for line in failed)
        assert "watching: build failed; waiting for a change" in failed
        assert not any("Traceback" in line for line in failed)
        assert (study / "manuscript" / "manuscript.md").read_bytes() == before  # the last good manuscript stays
        text = (study / "templates" / "discussion.md.j2").read_text(encoding="utf-8")
        time.sleep(0.05)
        (study / "templates" / "discussion.md.j2").write_text(text.replace("There were 42 typed patients.",
                                                                           "Fixed by the author."), encoding="utf-8")
        assert watch.proc.wait(timeout=120) == 0  # the third build succeeded and --builds 3 ends the watch
    finally:
        watch.stop()
    assert "Fixed by the author." in (study / "manuscript" / "manuscript.md").read_text(encoding="utf-8")


def test_the_watch_follows_what_the_build_reads_and_nothing_else(study):
    from watchfiles import Change

    from papergen.commands.watch import ENGINE_DIR, InputFilter, watched
    from papergen.study import StudyPaths

    (study / ".venv" / "lib").mkdir(parents=True)
    (study / "notes").mkdir()
    paths = StudyPaths(study)
    places = watched(paths)
    assert places == [study / "data", study / "study", study / "templates", study / "build.py", ENGINE_DIR]
    keep = InputFilter(paths)
    for path in ("templates/discussion.md.j2", "data/patients.csv", "study/study.yaml", "build.py"):
        assert keep(Change.modified, str(study / path)), path
    for path in ("manuscript/numbers.json", ".papergen/build.log", ".manuscript.staging-1/x.md", ".venv/lib/x.py",
                 "templates/.discussion.md.j2.swp", "templates/__pycache__/x.pyc", "notes/todo.txt",
                 "study/__pycache__/analysis_plan.cpython-311.pyc"):
        assert not keep(Change.modified, str(study / path)), path
    assert keep(Change.modified, str(ENGINE_DIR / "trace" / "review.py"))


def test_a_save_before_the_watcher_runs_is_built(study):
    """A save while the first build runs, or between it and the start of the file watcher (which sees only
    the events after it starts), still brings the next build: the watch compares the inputs' stamps then."""
    import threading

    from papergen.commands.watch import rebuild_on_change, stamp
    from papergen.study import StudyPaths

    paths, builds, stop = StudyPaths(study), [], threading.Event()

    def build_once():
        builds.append(stamp(paths))
        if len(builds) == 1:  # the author saves just after the build read the templates
            with open(study / "templates" / "discussion.md.j2", "a", encoding="utf-8") as fh:
                fh.write("\nA sentence saved while the first build ran.\n")
        return 0

    timer = threading.Timer(20, stop.set)  # without the comparison the watch would wait for a save forever
    timer.start()
    try:
        assert rebuild_on_change(paths, build_once, builds=2, stop=stop) == 0
    finally:
        timer.cancel()
    assert len(builds) == 2 and not stop.is_set()
    assert builds[0] != builds[1]


def test_the_stamps_change_with_a_save_and_only_with_the_build_s_files(study):
    from papergen.commands.watch import stamp
    from papergen.study import StudyPaths

    paths = StudyPaths(study)
    before = stamp(paths)
    assert str((study / "templates" / "discussion.md.j2").resolve()) in before
    assert not any("/manuscript/" in name or "/.papergen/" in name for name in before)
    (study / "manuscript").mkdir(exist_ok=True)
    (study / "manuscript" / "x.txt").write_text("not an input", encoding="utf-8")
    assert stamp(paths) == before
    append(study, "\nOne more sentence.\n")
    assert stamp(paths) != before
