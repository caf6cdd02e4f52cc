"""Read the rendered manuscript once: pandoc Markdown -> pandoc JSON AST, citations resolved.

pandoc's Markdown reader and citeproc are the slow part of every pandoc run
(about 0.3 s for this manuscript, against 0.1-0.15 s for a writer). The build
therefore reads the manuscript once, here, and the DOCX, Typst and review
writers and the journal check all start from the AST this writes.

Citations are rendered with ``link-citations`` on, as the review edition wants
them; the Lua filter unwraps those links again for DOCX and PDF, whose citation
numbers stay plain text, exactly as if citeproc had run without links.

Resolved citations are kept between builds (``citations``, a folder): citeproc's
output depends only on the citations in document order, the metadata, the
bibliography and the style, and it changes only the blocks that hold a citation
(and the bibliography block). A prose edit that leaves those alone reuses them,
and pandoc only reads the Markdown.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from papergen.publish import chunks, pandoc
from papergen.publish.astnodes import nodes
from papergen.atomic import write_bytes

#: metadata pandoc adds for the options of the read (a DOCX would list them as custom properties)
BUILD_METADATA = ("link-citations", "bibliography", "csl")
#: what identifies a citation before citeproc numbers it (citationNoteNum and citationHash are counters)
CITATION_FIELDS = ("citationId", "citationPrefix", "citationSuffix", "citationMode")


def read_manuscript(markdown: Path, ast: Path, *, bibliography: Path | None, csl: Path | None,
                    citations: Path | None = None, parts: Path | None = None) -> dict:
    """Write the AST of ``markdown`` (citations resolved) to ``ast`` and return it.

    ``citations``: a folder keeping resolved citations between builds (None: citeproc runs every time);
    ``parts``: a folder keeping the ASTs of the Markdown's parts (papergen.publish.chunks; None: pandoc
    reads the whole Markdown). A citation key missing from the bibliography is an ExportError naming it.
    """
    markdown, ast = Path(markdown).resolve(), Path(ast).resolve()
    log = pandoc.log_path_for(markdown, "pandoc")
    raw = chunks.read_markdown(markdown.read_text(encoding="utf-8"), functools.partial(_read_text, ast=ast, log=log),
                               parts)
    entry = Path(citations) / f"{citation_key(raw, bibliography, csl)}.json" if citations else None
    try:
        doc = splice(raw, json.loads(entry.read_text(encoding="utf-8")))
    except (AttributeError, OSError, ValueError, KeyError, IndexError, TypeError):  # none kept, or damaged
        ast.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")  # citeproc reads the whole as read
        args = [str(ast), "--from=json", "--citeproc", "--metadata=link-citations:true"]
        if bibliography is not None:
            args.append(f"--bibliography={Path(bibliography).resolve()}")
        if csl is not None:
            args.append(f"--csl={Path(csl).resolve()}")
        doc = _pandoc_json(args, ast, log)
        for key in BUILD_METADATA:  # options of this read, not the document's: no writer may print them
            doc["meta"].pop(key, None)
        if entry is not None:
            entry.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(entry, json.dumps(resolved(raw, doc), ensure_ascii=False).encode("utf-8"))
    ast.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return doc


def _read_text(text: str, *, ast: Path, log: Path) -> dict:
    """pandoc's Markdown reader on ``text`` (written beside ``ast`` for the run)."""
    source = ast.with_name(f".{ast.stem}.read.md")
    source.write_text(text, encoding="utf-8")
    try:
        return _pandoc_json([str(source), "--from=markdown"], ast, log)
    finally:
        source.unlink(missing_ok=True)


def _pandoc_json(args: list[str], ast: Path, log: Path) -> dict:
    pandoc.run_pandoc([*args, "--to=json", f"--output={ast}"], out=ast, log_path=log, cwd=ast.parent,
                       epoch=None, strict=True)
    return json.loads(ast.read_text(encoding="utf-8"))


def image_targets(doc: dict) -> list[str]:
    """The path (or URL) of every image the manuscript shows."""
    return [n["c"][2][0] for n in nodes(blocks_with(doc, "Image"), "Image")]


def blocks_with(doc: dict, kind: str) -> list[dict]:
    """The top-level blocks that may hold an element of type ``kind`` (by their JSON, written in C: quicker than
    walking every block in Python; a text holding the words is a JSON string, whose quotes are escaped)."""
    word = f'"t": "{kind}'
    return [b for b in doc["blocks"] if word in json.dumps(b)]


# --- resolved citations, kept between builds ----------------------------------------

def citation_key(raw: dict, bibliography: Path | None, csl: Path | None) -> str:
    """What citeproc's output depends on: the citations in order, the metadata, the bibliography block(s),
    the bibliography and the style (by content), and pandoc's AST version."""
    cites = [[{f: c.get(f) for f in CITATION_FIELDS} for c in cite["c"][0]] for cite in _in_blocks(raw, "Cite")]
    files = [hashlib.sha256(Path(f).read_bytes()).hexdigest() if f else None for f in (bibliography, csl)]
    text = json.dumps([raw.get("pandoc-api-version"), cites, raw["meta"], _in_blocks(raw, "refs"), files],
                      sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolved(raw: dict, cited: dict) -> dict:
    """What citeproc changed of ``raw`` (giving ``cited``): the metadata, and each top-level block it
    changed (keyed by that block as read), plus the bibliography if it added one at the end.

    Whole blocks, not only the Cite elements: citeproc also edits around a citation (a superscript
    style drops the space before it; a note style moves punctuation).
    """
    before, after = raw["blocks"], cited["blocks"]
    if len(after) not in (len(before), len(before) + 1):
        raise ValueError("citeproc changed the number of blocks")
    changed = {_canonical(b): a for b, a in zip(before, after) if b != a}
    return {"meta": cited["meta"], "blocks": changed, "appended": after[len(before):]}


def splice(raw: dict, done: dict) -> dict:
    """``raw`` as citeproc resolves it, from ``done`` = resolved() of a document with the same citation key.

    Every block holding a citation or the bibliography must be one citeproc resolved before, word for
    word (else KeyError: citeproc runs); a block without either is one citeproc leaves as it is.
    """
    blocks = []
    for b in raw["blocks"]:
        if _holds_citation(b):
            b = done["blocks"][_canonical(b)]
        blocks.append(b)
    return {**raw, "meta": done["meta"], "blocks": blocks + done["appended"]}


def _canonical(block: dict) -> str:
    return json.dumps(block, sort_keys=True, ensure_ascii=False)


def _holds_citation(block: dict) -> bool:
    """Whether a block holds a Cite or a bibliography (``#refs``) Div."""
    return _may_hold(block, "either") and bool(_walk(block, "either", first=True))


def _may_hold(block: dict, what: str) -> bool:
    """False when ``block`` surely holds no Cite (or refs Div, see _walk): its JSON (written in C) lacks the
    word, which is quicker to see than walking the block in Python; most blocks hold neither."""
    text = json.dumps(block)
    return (what != "refs" and '"Cite"' in text) or (what != "Cite" and '"refs"' in text)


def _in_blocks(doc: dict, what: str) -> list[dict]:
    """_walk(doc, what), block by block: only the blocks that may hold one are walked."""
    return [n for b in doc["blocks"] if _may_hold(b, what) for n in _walk(b, what)]


def _walk(node, what: str, first: bool = False) -> list[dict]:
    """Every Cite (``what="Cite"``), every Div with the identifier refs (``"refs"``) or both (``"either"``),
    in document order, without looking inside a Cite; ``first``: stop at the first one found."""
    out: list[dict] = []
    for n in nodes(node, prune=("Cite",)):
        cite, refs = n["t"] == "Cite", n["t"] == "Div" and n["c"][0][0] == "refs"
        if (cite and what != "refs") or (refs and what != "Cite"):
            out.append(n)
            if first:
                break
    return out
