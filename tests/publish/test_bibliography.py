"""papergen.publish.bibliography: entry keys and their lines; a key used twice or a missing file is one line."""
from __future__ import annotations

import pytest

from papergen.errors import StudyLayoutError
from papergen.publish.bibliography import check_bibliography, entry_keys
from studycopy import ROOT


def test_entry_keys_skip_comments_strings_and_at_signs_inside_fields():
    text = ("@comment{x @article{no,}}\n@string{j = {Journal}}\n"
            "@Book( k1, title={a@b.org}, note={@misc{z,}})\n@misc{k2,\n}\n")
    assert entry_keys(text) == [("k1", 3), ("k2", 4)]


def test_the_study_bibliography_has_one_entry_per_key():
    keys = entry_keys((ROOT / "study" / "references.bib").read_text(encoding="utf-8"))
    assert len(keys) == 22 and len({k for k, _ in keys}) == 22
    assert check_bibliography(ROOT / "study" / "references.bib", "study/references.bib").name == "references.bib"


def test_a_key_used_twice_names_both_lines(tmp_path):
    bib = tmp_path / "references.bib"
    bib.write_text("@article{a,\n title={One}}\n\n@book{b, title={Two}}\n@article{a,\n title={Three}}\n", encoding="utf-8")
    with pytest.raises(StudyLayoutError, match=r"^study/references.bib:5: entry key 'a' is used twice \(lines 1 and 5\)"):
        check_bibliography(bib, "study/references.bib")


def test_a_missing_bibliography_is_one_line(tmp_path):
    with pytest.raises(StudyLayoutError, match="^study/references.bib: bibliography not found"):
        check_bibliography(tmp_path / "references.bib", "study/references.bib")
