"""The PDF's Typst source, with pandoc converting only the blocks that changed since the last build.

pandoc's Typst writer renders each top-level block with what follows it (one
newline after a heading, a blank line after a paragraph) and puts the body into
the template's ``$body$``. So the blocks that changed are converted in one
standalone run, each followed by a marker comment line (``// pg-block-N``); the
text between markers is that block's Typst as it stands in the whole document,
and the text before the first and after the last marker is the template around
the body. Joined with the kept blocks, that gives what pandoc writes for the
whole document (tests/publish/test_typst_source.py compares them).

A block with an image is converted every time: the Lua filter rewrites its path
by the files it finds (the figure's vector PDF beside its PNG). A document with
footnotes, or a block whose Typst holds the marker text, is converted whole.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from papergen.atomic import write_bytes

#: kept blocks of one manuscript (a block's Typst is a few hundred bytes)
KEEP = 2000
_MARK = "pg-block"
_LINE = re.compile(rf"(?m)^// {_MARK}-(\d+)\n")


def block_keys(doc: dict, lua_filter: Path) -> list[str | None]:
    """Each top-level block's cache key (its JSON, the metadata and the Lua filter's text); None for a block with
    an image, which is converted every time."""
    common = json.dumps([doc.get("pandoc-api-version"), doc.get("meta")], sort_keys=True) + \
        hashlib.sha256(Path(lua_filter).read_bytes()).hexdigest()
    keys: list[str | None] = []
    for block in doc["blocks"]:
        text = json.dumps(block, sort_keys=True)
        keys.append(None if '"t": "Image"' in text else hashlib.sha256((common + text).encode("utf-8")).hexdigest()[:32])
    return keys


def marked(doc: dict, keys: list[str | None], kept: dict[str, str]) -> tuple[dict, list[int]]:
    """The document of the blocks to convert (not in ``kept``), each followed by a marker; and their indexes."""
    todo, seen, blocks = [], set(), []
    for i, (k, block) in enumerate(zip(keys, doc["blocks"])):
        if k is None or (k not in kept and k not in seen):
            if k is not None:
                seen.add(k)
            todo.append(i)
            blocks.append(block)
            blocks.append({"t": "RawBlock", "c": ["typst", f"// {_MARK}-{len(todo)}"]})
    start = {"t": "RawBlock", "c": ["typst", f"// {_MARK}-0"]}
    return {**doc, "blocks": [start, *blocks]}, todo


def split(typst: str, count: int) -> tuple[str, list[str], str] | None:
    """(template before the body, each marked block's Typst, template after it) of a marked run's output;
    None if the markers are not the ``count`` + 1 expected, in order."""
    found = list(_LINE.finditer(typst))
    if [int(m[1]) for m in found] != list(range(count + 1)):
        return None
    parts = [typst[a.end():b.start()] for a, b in zip(found, found[1:])]
    return typst[:found[0].start()], parts, typst[found[-1].end():]


def assemble(keys: list[str | None], todo: list[int], converted: list[str], kept: dict[str, str]) -> str:
    """The body: each block's Typst, converted in this run or kept."""
    fresh = dict(zip(todo, converted))
    for i, part in fresh.items():
        if keys[i] is not None:
            kept.setdefault(keys[i], part)
    return "".join(fresh[i] if i in fresh else kept[k] for i, k in enumerate(keys))


def finish_body(body: str) -> str:
    """The body as pandoc ends it inside the template: the last block's trailing blank lines dropped."""
    return body.rstrip("\n") + "\n" if body else body


def load(folder: Path, keys: list[str | None]) -> dict[str, str]:
    """The kept Typst of the blocks among ``keys``."""
    out = {}
    for k in set(keys) - {None}:
        f = folder / f"{k}.typ"
        if f.is_file():
            out[k] = f.read_text(encoding="utf-8")
    return out


def save(folder: Path, keys: list[str | None], kept: dict[str, str]) -> None:
    """Keep this document's blocks; drop the others past KEEP (the oldest first)."""
    wanted = set(keys) - {None}
    for k in wanted:
        f = folder / f"{k}.typ"
        if not f.is_file():
            write_bytes(f, kept[k].encode("utf-8"))
    others = sorted((f for f in folder.glob("*.typ") if f.stem not in wanted), key=lambda f: f.stat().st_mtime)
    for old in others[:max(0, len(others) + len(wanted) - KEEP)]:
        old.unlink(missing_ok=True)
