"""papergen.publish.chunks: the Markdown read part by part gives what pandoc reading the whole gives.

The oracle is pandoc's Markdown reader on the whole text in one run; the reader under test keeps parts
between reads, so each case reads a first version (nothing kept), then edited versions (some parts kept).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from papergen.publish import chunks, pandoc
from tests.conftest import ROOT


def plain(text: str) -> dict:
    out = subprocess.run([str(pandoc.pandoc_path()), "--from=markdown", "--to=json"], input=text.encode("utf-8"),
                         capture_output=True, check=True)
    return json.loads(out.stdout)


class Reader:
    """pandoc's reader, counting its runs."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    def __call__(self, text: str) -> dict:
        self.runs.append(text)
        return plain(text)


def read(tmp_path: Path, text: str, kept: Path, reader: Reader | None = None) -> dict:
    return chunks.read_markdown(text, reader or Reader(), kept)


def same_as_whole(tmp_path: Path, versions: list[str]) -> list[Reader]:
    """Each version read with the parts kept from the ones before equals pandoc's whole read; the readers."""
    kept = tmp_path / "kept"
    kept.mkdir(exist_ok=True)
    readers = []
    for text in versions:
        reader = Reader()
        assert read(tmp_path, text, kept, reader) == plain(text)
        readers.append(reader)
    return readers


@pytest.fixture(scope="module")
def manuscript(built) -> str:
    return built.outputs.markdown.read_text(encoding="utf-8")


def test_split_cuts_before_top_level_headings_only():
    text = ("intro\n\n# A\n\ntext\n# not after a blank line\n\n```\n\n# in code\n```\n\n::: {.x}\n\n# in a div\n\n:::\n\n"
            "<!--\n\n# in a comment\n-->\n\n## B\n\nend\n")
    parts = chunks.split(text)
    assert "".join(parts) == text
    assert [p.splitlines()[0] for p in parts] == ["intro", "# A", "## B"]


def test_the_study_read_in_parts_equals_the_whole_read(manuscript, tmp_path):
    """First read (nothing kept), a prose edit, an edit beside a citation, a new heading, the refs block edited."""
    assert len(chunks.split(manuscript)) > 10 and not chunks.shared(manuscript)
    cite = manuscript.index("[@")
    versions = [manuscript,
                manuscript.replace("# DISCUSSION\n", "# DISCUSSION\n\nA new sentence of the discussion.\n", 1),
                manuscript[:cite] + "beside it " + manuscript[cite:],
                manuscript.replace("# CONCLUSION\n", "## Patients\n\nThe same name again [@yao2008].\n\n# CONCLUSION\n", 1),
                manuscript.replace("::: {#refs}\n:::", "::: {#refs}\nNo references [@dindo2004].\n:::", 1)]
    readers = same_as_whole(tmp_path, versions)
    assert len(readers[0].runs) == 1  # the first read: the whole text at once
    one_part = [readers[i] for i in (1, 2, 4)]  # a new heading (3) changes what the headings after it are read after
    assert all(len(r.runs) == 1 and len(r.runs[0]) < len(manuscript) / 3 for r in one_part), \
        [[len(t) for t in r.runs] for r in readers]


def test_the_examples_read_in_parts_equal_the_whole_read(tmp_path):
    from papergen.pipeline.build import build_manuscript

    for name in ("gbsg2", "redcap"):
        out = tmp_path / name / "manuscript"
        md = build_manuscript(ROOT / "examples" / name, out_dir=out, echo=lambda *_: None).outputs.markdown
        text = md.read_text(encoding="utf-8")
        heading = next(line for line in text.splitlines()[5:] if line.startswith("# "))
        same_as_whole(tmp_path / name, [text, text.replace(heading, heading + "\n\nAn added sentence.", 1)])


def test_citation_counters_carry_across_parts(tmp_path):
    text = "# A\n\nOne [@a] two [@b; @c].\n\n# B\n\nThree @d says.\n\n# C\n\n| x | y |\n|---|---|\n| [@e] | 1 |\n"
    same_as_whole(tmp_path, [text, text.replace("One", "Zero and one [@z]"), text.replace("Three", "Four")])


def test_headings_of_the_same_name_are_numbered_as_in_the_whole(tmp_path):
    text = "# Patients\n\na\n\n# Results\n\n## Patients\n\nb\n\n# Patients {#own}\n\n# Discussion\n\n## Patients\n"
    readers = same_as_whole(tmp_path, [text, text.replace("\nb\n", "\nb, edited\n"),
                                       text.replace("# Patients\n\na", "# Cohort\n\na")])
    assert len(readers[1].runs) == 1


def test_lists_tables_and_figures_at_a_part_end(tmp_path):
    text = ("# A\n\n- one\n- two\n\n# B\n\n1. x\n\n2. y\n\n# C\n\n![A figure](f.png)\n\n# D\n\n"
            "| a |\n|---|\n| 1 |\n\n: Caption [@k]\n\n# E\n\n    code\n\n# F\n\n> quote\n")
    same_as_whole(tmp_path, [text, text.replace("- two", "- two, edited"), text.replace("> quote", "> quoted")])


@pytest.mark.parametrize("shared", [
    "[a link][ref]\n\n[ref]: https://example.org\n",
    "A note.[^1]\n\n[^1]: The note [@a].\n",
    "(@) first\n(@) second\n",
    "---\ntitle: T\n---\n",
    "<div>\n\n# Inside\n\n</div>\n",
    "\\newcommand{\\x}{y}\n",
])
def test_what_pandoc_shares_across_a_document_is_read_whole(tmp_path, shared):
    text = f"# A\n\nfirst [@a]\n\n# B\n\n{shared}\n# C\n\nlast\n"
    assert chunks.shared(text)
    readers = same_as_whole(tmp_path, [text, text.replace("last", "latest")])
    assert [r.runs for r in readers] == [[text], [text.replace("last", "latest")]]


def test_a_heading_named_as_a_link_is_read_whole(tmp_path):
    text = "# Results\n\nx\n\n# Discussion\n\nSee [Results].\n"
    assert chunks.implicit_reference(text, plain(text))
    readers = same_as_whole(tmp_path, [text, text.replace("x", "y")])
    assert readers[1].runs[-1] == text.replace("x", "y")


def test_a_damaged_part_is_read_again(tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    text = "# A\n\none\n\n# B\n\ntwo\n"
    read(tmp_path, text, kept)
    for f in kept.glob("*.json"):
        f.write_text("{not json", encoding="utf-8")
    assert read(tmp_path, text, kept) == plain(text)


def test_without_a_folder_the_whole_is_read(tmp_path):
    reader = Reader()
    text = "# A\n\none\n\n# B\n\ntwo\n"
    assert read(tmp_path, text, None, reader) == plain(text)
    assert reader.runs == [text]
