"""papergen.document: the manuscript read once, with citations resolved by pandoc's citeproc or reused.

The oracle throughout is pandoc itself run the plain way (Markdown with --citeproc
in one run): whatever the cache does, the AST and the documents made from it must
be what that gives.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from papergen.publish import document, export, pandoc
from papergen.publish.reference_docx import build_reference_docx
from papergen.study import csl_style
from papergen.errors import ExportError
from tests.conftest import ROOT

BIB = ROOT / "study" / "references.bib"
CSL = csl_style("baishideng-publishing-group")


def pandoc_citeproc(md_path, bib=BIB, csl=CSL) -> dict:
    """The AST pandoc makes of the Markdown in one run with citeproc (link-citations as the build asks)."""
    out = subprocess.run([str(pandoc.pandoc_path()), str(md_path), "--from=markdown", "--to=json", "--citeproc",
                          "--metadata=link-citations:true", f"--bibliography={bib}", f"--csl={csl}"],
                         capture_output=True, check=True)
    doc = json.loads(out.stdout)
    for key in document.BUILD_METADATA:
        doc["meta"].pop(key, None)
    return doc


@pytest.fixture(scope="module")
def manuscript(built, tmp_path_factory):
    """The study's rendered Markdown in a folder of its own."""
    folder = tmp_path_factory.mktemp("document")
    md = folder / "manuscript.md"
    shutil.copyfile(built.outputs.markdown, md)
    return md


def read(md, cache=None, bib=BIB, csl=CSL) -> dict:
    return document.read_manuscript(md, md.with_suffix(".ast.json"), bibliography=bib, csl=csl, citations=cache)


def edited(md, tmp_path, old: str, new: str, name="edited.md"):
    text = md.read_text(encoding="utf-8")
    assert old in text
    out = tmp_path / name
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def test_read_equals_pandoc_citeproc_in_one_run(manuscript):
    doc = read(manuscript)
    assert doc == pandoc_citeproc(manuscript)
    assert len(document._walk(doc, "Cite")) > 10 and document._walk(doc, "refs")[0]["c"][1]  # filled bibliography


def test_prose_edit_reuses_citations_and_equals_a_fresh_citeproc(manuscript, tmp_path):
    cache = tmp_path / "citations"
    read(manuscript, cache)
    assert len(list(cache.iterdir())) == 1
    prose = edited(manuscript, tmp_path, "# DISCUSSION\n", "# DISCUSSION\n\nA paragraph added by the test.\n")
    doc = read(prose, cache)
    assert len(list(cache.iterdir())) == 1  # same citations: the same entry served
    assert doc == pandoc_citeproc(prose)


def test_edit_beside_a_citation_runs_citeproc_again(manuscript, tmp_path):
    """Same citations, but a paragraph that holds one changed: that block is not reused."""
    cache = tmp_path / "citations"
    read(manuscript, cache)
    text = manuscript.read_text(encoding="utf-8")
    para = next(p for p in text.split("\n\n") if "[@" in p and not p.startswith("#"))
    changed = edited(manuscript, tmp_path, para, "Reworded at the start. " + para)
    assert read(changed, cache) == pandoc_citeproc(changed)


def test_the_kept_entry_is_what_is_served(manuscript, tmp_path):
    """A cache hit really comes from the entry: an altered entry shows in the result."""
    cache = tmp_path / "citations"
    read(manuscript, cache)
    [entry] = cache.iterdir()
    kept = json.loads(entry.read_text(encoding="utf-8"))
    first = next(iter(kept["blocks"]))
    kept["blocks"][first] = {"t": "Para", "c": [{"t": "Str", "c": "SERVED-FROM-CACHE"}]}
    entry.write_text(json.dumps(kept), encoding="utf-8")
    assert "SERVED-FROM-CACHE" in json.dumps(read(manuscript, cache))


@pytest.mark.parametrize("change", ["add a citation", "swap two citations", "bibliography edited", "style changed"])
def test_anything_citeproc_reads_changes_the_key(manuscript, tmp_path, change):
    cache = tmp_path / "citations"
    read(manuscript, cache)
    md, bib, csl = manuscript, BIB, CSL
    text = manuscript.read_text(encoding="utf-8")
    keys = sorted(set(re.findall(r"\[@([\w-]+)\]", text)))
    if change == "add a citation":
        md = edited(manuscript, tmp_path, "# CONCLUSION\n", f"# CONCLUSION\n\nSee also [@{keys[-1]}].\n")
    elif change == "swap two citations":
        a, b = f"[@{keys[0]}]", f"[@{keys[1]}]"
        md = tmp_path / "swapped.md"
        md.write_text(text.replace(a, "\0").replace(b, a).replace("\0", b), encoding="utf-8")
    elif change == "bibliography edited":
        bib = tmp_path / "refs.bib"
        text = BIB.read_text(encoding="utf-8")
        bib.write_text(re.sub(r"title\s*=\s*\{", "title = {Edited ", text, count=1), encoding="utf-8")
    else:
        csl = csl_style("american-medical-association")
    doc = read(md, cache, bib=bib, csl=csl)
    assert len(list(cache.iterdir())) == 2  # a new entry, not the old one
    assert doc == pandoc_citeproc(md, bib=bib, csl=csl)


def test_without_a_refs_block_the_bibliography_goes_last(tmp_path):
    md = tmp_path / "short.md"
    key = re.search(r"@\w+\{(\w+),", BIB.read_text(encoding="utf-8")).group(1)
    md.write_text(f"# Intro\n\nA claim [@{key}].\n\nMore text.\n", encoding="utf-8")
    cache = tmp_path / "citations"
    read(md, cache)
    md.write_text(f"# Intro\n\nA claim [@{key}].\n\nMore text, edited.\n", encoding="utf-8")
    doc = read(md, cache)
    assert len(list(cache.iterdir())) == 1
    assert doc == pandoc_citeproc(md)
    assert doc["blocks"][-1]["c"][0][0] == "refs"


def test_unknown_citation_key_is_one_line_error(tmp_path):
    md = tmp_path / "bad.md"
    md.write_text("Text [@no_such_key_2024].\n", encoding="utf-8")
    with pytest.raises(ExportError, match="no_such_key_2024"):
        read(md, tmp_path / "citations")


def test_docx_and_typst_from_the_ast_equal_pandoc_on_the_markdown(manuscript, built, tmp_path):
    """The writers' output does not depend on reading through the AST (link-citations unwrapped, no #cite)."""
    read(manuscript)
    ast = manuscript.with_suffix(".ast.json")
    figures = built.outputs.dir
    ref = build_reference_docx(tmp_path / "reference.docx")
    for source, name in ((manuscript, "direct"), (ast, "via-ast")):
        kw = dict(bibliography=BIB, csl=CSL) if source == manuscript else dict(bibliography=None, csl=None)
        export.to_docx(source, tmp_path / f"{name}.docx", resource_path=figures, reference_docx=ref,
                       source_date_epoch=0, **kw)
        export.to_pdf(source, tmp_path / f"{name}.pdf", resource_path=figures, source_date_epoch=0, **kw)
    assert (tmp_path / "direct.docx").read_bytes() == (tmp_path / "via-ast.docx").read_bytes()
    assert (tmp_path / "direct.typ").read_text() == (tmp_path / "via-ast.typ").read_text()
    assert "#cite(" not in (tmp_path / "via-ast.typ").read_text()


def test_blocks_with_a_kind_are_those_a_walk_finds_it_in(manuscript):
    from papergen.publish.astnodes import nodes

    doc = read(manuscript)
    doc["blocks"].append({"t": "Para", "c": [{"t": "Str", "c": '"t": "Image'}, {"t": "RawInline", "c": ["html", "<b>"]}]})
    for kind in ("Image", "Cite", "RawInline", "Table"):
        walked = [b for b in doc["blocks"] if any(True for _ in nodes(b, kind))]
        assert document.blocks_with(doc, kind) == walked and walked, kind
    assert document.image_targets(doc) == [n["c"][2][0] for n in nodes(doc, "Image")] != []
