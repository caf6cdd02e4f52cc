"""papergen.pipeline.target: what a failed build says the output folder holds, checked."""
from __future__ import annotations

from papergen import atomic
from papergen.pipeline.target import Target
from papergen.study import StudyPaths


def _folder(tmp_path):
    paths = StudyPaths(tmp_path)
    paths.manuscript.mkdir()
    (paths.manuscript / "numbers.json").write_text("{}", encoding="utf-8")
    return paths


def test_a_folder_swapped_in_before_a_failure_is_reported_as_replaced(tmp_path):
    """The swap puts another folder (inode) at manuscript/, even one with the same files."""
    paths = _folder(tmp_path)
    target = Target(paths, paths.manuscript)
    assert target.state() == "manuscript/ was left as it was"  # no record: as hashed when the build started
    staging = atomic.staging_dir(paths.manuscript)
    (staging / "numbers.json").write_text("{}", encoding="utf-8")
    atomic.swap_in(staging, paths.manuscript)
    assert target.state() == "manuscript/ was replaced by this build's outputs before the failure"


def test_changed_files_are_named(tmp_path):
    paths = _folder(tmp_path)
    (paths.manuscript / "manuscript.pdf").write_bytes(b"%PDF")
    target = Target(paths, paths.manuscript)
    (paths.manuscript / "manuscript.pdf").unlink()
    (paths.manuscript / "numbers.json").write_text("{ }", encoding="utf-8")
    (paths.manuscript / "notes.txt").write_text("x", encoding="utf-8")
    assert target.state() == ("manuscript/ was not replaced, but its files differ from what they were when the "
                              "build started (manuscript.pdf removed, numbers.json changed, notes.txt added); "
                              "the next good build rewrites them")


def test_no_folder_and_a_folder_papergen_did_not_write(tmp_path):
    paths = StudyPaths(tmp_path)
    assert Target(paths, paths.manuscript).state() == "no manuscript/ was written"
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    assert Target(paths, other).state() == ("other/ was not replaced (its files were not checked: papergen did not "
                                            "write them)")
