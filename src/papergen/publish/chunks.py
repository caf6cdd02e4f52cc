"""pandoc's Markdown reader, run only on the parts of the manuscript that changed since the last read.

Reading the whole manuscript takes pandoc 0.2-0.3 s; a prose edit changes one
section. The Markdown is cut before each ATX heading that starts a block at the
top level (after a blank line, outside fenced code, fenced divs and HTML
comments), each part's AST is kept by its text, and pandoc reads only the
parts not kept, in one run, each followed by a sentinel citation
(``[@pg-chunk-end]``) that separates them in the output and tells how far
pandoc's citation counter (``citationNoteNum``) went; the kept parts are joined
with that counter carried on, which gives what pandoc reading the whole text
gives (tests/publish/test_chunks.py compares them).

What pandoc shares across a document is refused rather than imitated: link
reference definitions, footnotes, example lists, LaTeX macros and
environments, raw HTML blocks, a metadata block, a heading written as an
implicit reference elsewhere, and headings whose identifiers pandoc would
number across parts (``results``, ``results-1``). Then the whole text is read
at once, as without this module.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.publish.astnodes import nodes

SENTINEL = "pg-chunk-end"
#: kept parts of one manuscript folder (a part's AST is a few kB)
KEEP = 400
#: parts read one pandoc run each before the rest is read at once (about 0.02 s a run)
MAX_RUNS = 3

_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_CODE_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_DIV_FENCE = re.compile(r" {0,3}(:{3,})(.*)$")
#: what pandoc reads across the whole document: the text is then read at once
_SHARED = re.compile(
    r"^ {0,3}\[[^\]\n]+\]:"          # a link reference definition or a footnote
    r"|\[\^"                          # a footnote reference
    r"|^\s*\(?@[\w-]*[).]"            # an example list item
    r"|\\(?:re)?newcommand|\\def\b|\\let\b|\\begin\{"  # LaTeX macros and environments
    r"|^ {0,3}<(?!!--)[A-Za-z/?!]"    # a raw HTML block (its contents may be Markdown across headings)
    r"|^(?:---|%)[ \t]*$|^% ",        # a metadata block (YAML or a title block)
    re.M)


def split(text: str) -> list[str]:
    """``text`` cut before each top-level ATX heading that follows a blank line; joined, the parts give ``text``."""
    parts, current = [], []
    code: str | None = None  # the fence of the code block we are in
    divs = 0                 # fenced divs open
    comment = False          # inside an HTML comment
    blank = True
    for line in text.splitlines(keepends=True):
        s = line.rstrip("\r\n")
        if current and blank and code is None and not divs and not comment and _HEADING.match(s):
            parts.append("".join(current))
            current = []
        current.append(line)
        if code is not None:
            m = _CODE_FENCE.match(s)
            if m and m.group(1)[0] == code[0] and len(m.group(1)) >= len(code) and not s[m.end():].strip():
                code = None
        elif comment:
            comment = "-->" not in s
        elif (m := _CODE_FENCE.match(s)) is not None:
            code = m.group(1)
        elif (m := _DIV_FENCE.match(s)) is not None:
            if m.group(2).strip():
                divs += 1
            elif divs:
                divs -= 1
        elif "<!--" in s:
            comment = "-->" not in s[s.index("<!--") + 4:]
        blank = not s.strip()
    if current:
        parts.append("".join(current))
    return parts


def shared(text: str) -> bool:
    """Whether ``text`` holds something pandoc reads across the whole document (then it is read whole)."""
    return _SHARED.search(text) is not None


def read_markdown(text: str, read, kept: Path | None) -> dict:
    """The AST pandoc's Markdown reader gives for the Markdown ``text``, reading only parts not in ``kept``.

    ``read(text)`` runs pandoc (``--from=markdown --to=json``) on ``text`` and returns the parsed AST;
    ``kept``: a folder of parts' ASTs (None: the whole text is read, as plain pandoc would).
    A part is kept by its text and the identifiers of the headings before it (pandoc numbers a heading
    whose name an earlier one took: ``patients``, then ``patients-1``); one that is not kept is read after
    headings holding those identifiers, so pandoc numbers its headings as in the whole document.
    """
    if kept is None or shared(text):
        return read(text)
    parts = split(text)
    if not any(kept.glob("*.json")):  # nothing kept yet (a first build): the whole text, the parts kept
        return _whole(read, text, parts, kept)
    got: list[dict] = []
    fresh: dict[str, dict] = {}
    ids: list[str] = []  # the identifiers of the headings read so far
    for i, part in enumerate(parts):
        key = _key(part, ids)
        have = json.loads(json.dumps(fresh[key])) if key in fresh else _load(kept / f"{key}.json")  # join() shifts it
        if have is None:
            if len(fresh) >= MAX_RUNS:  # many parts changed (a first build): all the rest at once
                return _whole(read, text, parts, kept)
            have = _read_part(read, part, ids)
            if have is None:
                return read(text)
            fresh[key] = have
        got.append(have)
        ids += have["ids"]
    for key, part in fresh.items():  # each is what pandoc reads of its text after those headings
        write_bytes(kept / f"{key}.json", json.dumps(part, ensure_ascii=False).encode("utf-8"))
    _prune(kept)
    doc = join(got)
    if doc is None or implicit_reference(text, doc):
        return read(text)
    return doc


def _key(part: str, ids: list[str]) -> str:
    """A part's entry: its text and the identifiers of the headings before it."""
    return hashlib.sha256(json.dumps([part, sorted(ids)], ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def _whole(read, text: str, parts: list[str], kept: Path) -> dict:
    """The whole text read at once, each part followed by the sentinel; every part kept for the next read."""
    doc = read("".join(_with_sentinel(p) for p in parts))
    got = _cut(doc, len(parts)) if not doc.get("meta") else None
    if got is None:
        return read(text)
    ids: list[str] = []
    for part, have in zip(parts, got):
        key = _key(part, ids)
        write_bytes(kept / f"{key}.json", json.dumps(have, ensure_ascii=False).encode("utf-8"))
        ids += have["ids"]
    _prune(kept)
    joined = join(got)
    if joined is None or implicit_reference(text, joined):
        return read(text)
    return joined


def _read_part(read, part: str, ids: list[str]) -> dict | None:
    """One part read after headings holding ``ids`` (which are then dropped), or None if the output is not
    as expected."""
    prefix = "".join(f"# {SENTINEL} {{#{i}}}\n\n" for i in ids)
    doc = read(prefix + _with_sentinel(part))
    if doc.get("meta"):
        return None
    blocks = doc["blocks"]
    head = blocks[:len(ids)]
    if [b.get("t") == "Header" and b["c"][1][0] for b in head] != ids:
        return None
    got = _cut({**doc, "blocks": blocks[len(ids):]}, 1)
    return got[0] if got else None


def _with_sentinel(part: str) -> str:
    return f"{part.rstrip(chr(10))}\n\n[@{SENTINEL}]\n\n"


def _cut(doc: dict, n: int) -> list[dict] | None:
    """The ``n`` parts of ``doc`` (each ended by a sentinel), each citation counter counted from its part's start;
    None if the sentinels are not ``n`` top-level paragraphs ending the parts."""
    out: list[dict] = []
    blocks: list = []
    start = 0  # the counter at the start of the part being cut
    for b in doc["blocks"]:
        num = _sentinel(b)
        if num is None:
            blocks.append(b)
            continue
        if len(out) == n:
            return None
        _shift(blocks, -start)
        out.append({"api": doc.get("pandoc-api-version"), "blocks": blocks, "counted": num - start - 1,
                    "ids": [h["c"][1][0] for h in _headers(blocks)]})
        blocks, start = [], num
    if blocks or len(out) != n:
        return None
    return out


def _sentinel(block: dict) -> int | None:
    """The citation counter of a sentinel paragraph, or None for any other block."""
    if block.get("t") != "Para" or len(block["c"]) != 1 or block["c"][0].get("t") != "Cite":
        return None
    cites = block["c"][0]["c"][0]
    if len(cites) != 1 or cites[0]["citationId"] != SENTINEL:
        return None
    return cites[0]["citationNoteNum"]


def join(parts: list[dict]) -> dict | None:
    """The parts' blocks as one document (the parts are used, not copied), each citation counter carried on
    from the parts before; None if the parts come from different pandoc versions or two headings share an
    identifier."""
    api = parts[0]["api"] if parts else None
    blocks, offset, ids = [], 0, []
    for part in parts:
        if part.get("api") != api:
            return None
        if part["counted"]:
            _shift(part["blocks"], offset)
        blocks += part["blocks"]
        offset += part["counted"]
        ids += part["ids"]
    if not parts or len(ids) != len(set(ids)):
        return None
    return {"pandoc-api-version": api, "meta": {}, "blocks": blocks}


def _headers(blocks: list) -> list[dict]:
    return list(nodes(blocks, "Header"))


def _shift(blocks: list, by: int) -> None:
    """Add ``by`` to every citation's counter in ``blocks`` (in place)."""
    if not by:
        return
    for cite in nodes(blocks, "Cite"):
        for c in cite["c"][0]:
            c["citationNoteNum"] += by


def implicit_reference(text: str, doc: dict) -> bool:
    """Whether ``text`` may link to a heading by its text (``[Results]``: pandoc's implicit header references,
    which reach across parts); checked loosely, so a doubt reads the whole."""
    flat = " ".join(text.lower().split())
    if "[" not in flat:
        return False
    for line in text.splitlines():
        if _HEADING.match(line):
            raw = line.lstrip("#").strip().rstrip("#").strip()
            for form in {raw, re.sub(r"\s*\{[^{}]*\}$", "", raw)}:
                form = " ".join(form.lower().split())
                if form and f"[{form}]" in flat:
                    return True
    return False


def _load(path: Path) -> dict | None:
    try:
        part = json.loads(path.read_text(encoding="utf-8"))
        ok = isinstance(part.get("blocks"), list) and isinstance(part.get("counted"), int) and \
            isinstance(part.get("ids"), list)
        return part if ok else None
    except (OSError, ValueError, AttributeError):
        return None


def _prune(kept: Path) -> None:
    """At most KEEP parts, the most recently written."""
    files = list(kept.glob("*.json"))
    if len(files) > KEEP:
        for old in sorted(files, key=lambda p: p.stat().st_mtime)[:len(files) - KEEP]:
            old.unlink(missing_ok=True)
