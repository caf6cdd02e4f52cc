"""The PDF's Typst source converted block by block (papergen.publish.typst_source) against pandoc on the whole."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import ROOT

#: blocks of each kind the Typst writer ends differently, and what the Lua filter changes for Typst
SOURCE = """\
# A heading {#first}

A paragraph with [34.1]{.pg-value data-key="os.mean"} and *emphasis*.

## A second heading

- an item
- another

1. first
2. second

> a quotation

```
code with a blank line at its end

```

::: {.pagebreak}
:::

::: note
Inside a div.

\\newpage

Still inside.
:::

| a | b |
|---|---|
| 1 | 2 |

: Table 1 A caption

![Figure 1 A figure](figures/f.png){#fig-f width=50%}

```{=typst}
#v(1em)
```

Term
:   Its definition.

Last paragraph.
"""


def _pandoc(args: list[str], **kw) -> subprocess.CompletedProcess:
    from papergen.publish.pandoc import pandoc_path

    return subprocess.run([str(pandoc_path()), *args], capture_output=True, check=True, **kw)


def _ast(text: str) -> dict:
    return json.loads(_pandoc(["--from=markdown", "--to=json"], input=text.encode("utf-8")).stdout)


def _typst(tmp_path, doc: dict, kept=None) -> str:
    """The .typ of to_pdf's pandoc step (``kept``: block by block), from ``doc`` written as the build's AST."""
    from papergen.publish import export
    from papergen.publish.pandoc import common_args

    source, typ = tmp_path / "m.json", tmp_path / "m.typ"
    source.write_text(json.dumps(doc), encoding="utf-8")
    args = common_args(source, [tmp_path], None, None) + [
        "--to=typst", "--standalone", f"--template={export.TYPST_TEMPLATE}", f"--output={typ}",
        "--variable=pdf-title:A title"]
    if kept is None:
        _pandoc(args, cwd=tmp_path)
    else:
        assert export._typst_by_blocks(args, source, typ, kept, tmp_path / "log", None, True)
    return typ.read_text(encoding="utf-8")


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "f.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "figures" / "f.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "kept").mkdir()
    return tmp_path


def test_block_by_block_gives_what_pandoc_writes_for_the_whole(folder):
    doc = _ast(SOURCE)
    whole = _typst(folder, doc)
    assert '"figures/f.pdf"' in whole and "#pagebreak()" in whole  # the Lua filter ran in both
    assert _typst(folder, doc, folder / "kept") == whole           # nothing kept yet
    assert _typst(folder, doc, folder / "kept") == whole           # all kept but the figure's block


def test_an_edit_converts_the_changed_block_and_the_figure_only(folder):
    from papergen.publish import typst_source
    from papergen.publish.pandoc import LUA_FILTER

    doc = _ast(SOURCE)
    _typst(folder, doc, folder / "kept")
    i = next(i for i, b in enumerate(doc["blocks"]) if b["t"] == "Para")
    edited = {**doc, "blocks": [*doc["blocks"][:i], {"t": "Para", "c": [{"t": "Str", "c": "Edited."}]},
                                *doc["blocks"][i + 1:]]}
    keys = typst_source.block_keys(edited, LUA_FILTER)
    _, todo = typst_source.marked(edited, keys, typst_source.load(folder / "kept", keys))
    assert [edited["blocks"][j]["t"] for j in todo] == ["Para", "Figure"]
    assert _typst(folder, edited, folder / "kept") == _typst(folder, edited)


def test_the_figure_block_follows_the_files_beside_it(folder):
    """The vector PDF removed: the block-by-block source points at the PNG, as pandoc on the whole does."""
    doc = _ast(SOURCE)
    _typst(folder, doc, folder / "kept")
    (folder / "figures" / "f.pdf").unlink()
    again = _typst(folder, doc, folder / "kept")
    assert '"figures/f.png"' in again and again == _typst(folder, doc)


def test_footnotes_or_marker_text_are_converted_whole(folder):
    from papergen.publish import export
    from papergen.publish.pandoc import common_args

    for text in ("A note.[^1]\n\n[^1]: The note.\n", "Text.\n\n```{=typst}\n// pg-block-1\n```\n"):
        source, typ = folder / "m.json", folder / "m.typ"
        source.write_text(json.dumps(_ast(text)), encoding="utf-8")
        args = common_args(source, [folder], None, None) + ["--to=typst", f"--output={typ}"]
        assert not export._typst_by_blocks(args, source, typ, folder / "kept", folder / "log", None, True)


def test_the_study_pdf_is_the_same_built_block_by_block(built, tmp_path):
    """A build that keeps the blocks (the second, after a prose edit) writes the .typ a --force build writes."""
    from papergen.pipeline.build import build_manuscript

    study = tmp_path / "study"
    for part in ("data", "study", "templates"):
        shutil.copytree(ROOT / part, study / part)
    build_manuscript(study, echo=lambda *_: None)
    discussion = study / "templates" / "discussion.md.j2"
    discussion.write_text(discussion.read_text(encoding="utf-8") + "\nA sentence added.\n", encoding="utf-8")
    result = build_manuscript(study, echo=lambda *_: None)
    kept_blocks = list((study / ".papergen" / "cache" / "typst-blocks").rglob("*.typ"))
    assert len(kept_blocks) > 20
    typ = result.outputs.pdf.with_suffix(".typ").read_text(encoding="utf-8")
    assert "A sentence added." in typ
    forced = build_manuscript(study, out_dir=tmp_path / "forced", echo=lambda *_: None, force=True)
    assert forced.outputs.pdf.with_suffix(".typ").read_text(encoding="utf-8") == typ
    assert forced.outputs.pdf.read_bytes() == result.outputs.pdf.read_bytes()
