"""The round trip through a real word processor, on both example studies.

Build, open the DOCX in LibreOffice headless, record changes (a sentence and a
number edited), add a comment, save as DOCX (tests/libreoffice.py); then
``merge`` applies the sentence to its template, refuses the number with its
key and definition, and lists the comment. The build identifier has to
survive LibreOffice's import and export for any of this to work.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import ROOT, copy_study  # noqa: E402
from libreoffice import edit_in_libreoffice, need_soffice  # noqa: E402

from papergen.cli import main  # noqa: E402
from papergen.publish.buildid import read_build_id  # noqa: E402


STUDIES = {
    # study: (sentence edit old, new; its template; comment anchor; the value whose number is edited)
    "zhang2021": ("were men", "were male", "results.md.j2", "median follow-up", "os.mean"),
    "gbsg2": ("Their characteristics are shown", "Their characteristics are given", "results.md.j2",
              "median follow-up", "baseline.age.ht"),
}


def _copy(name: str, dest: Path) -> Path:
    if name == "zhang2021":
        return copy_study(dest)
    src = ROOT / "examples" / name
    for part in ("data", "study", "templates"):
        shutil.copytree(src / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_libreoffice_round_trip(name, tmp_path, capsys):
    from papergen.pipeline.build import build_manuscript

    need_soffice()
    old, new, template, anchor, key = STUDIES[name]
    root = _copy(name, tmp_path / name)
    docx = build_manuscript(root, echo=lambda *_: None).outputs.docx
    value = json.loads((root / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["values"][key]["text"]
    changed = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), value, count=1)

    def edits(doc):
        doc.replace(old, new)
        doc.replace(value, changed)
        doc.comment(anchor, "Please add how complete the follow-up was.")

    returned = edit_in_libreoffice(docx, tmp_path, edits)
    assert read_build_id(returned.read_bytes()) == read_build_id(docx.read_bytes())
    before = (root / "templates" / template).read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["merge", str(returned)], root=root) == 0
    out = capsys.readouterr().out
    after = (root / "templates" / template).read_text(encoding="utf-8")
    assert new in after and old not in after.replace(new, "")           # the sentence: applied
    assert before.replace(old, new, 1) == after                          # and nothing else changed
    assert f'"{value}' in out and f'-> "{changed}' in out                # the number: refused (as printed) ...
    assert f"{key} is computed from" in out                              # ... with its key
    assert changed not in after
    assert "J. Smith" in out                                             # LibreOffice kept the author
    assert "Please add how complete the follow-up was." in out and f'on "{anchor}"' in out
    print(f"\n{name}: " + out.strip().splitlines()[-2].strip())
