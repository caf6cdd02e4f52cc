"""The sentence around each printed value, read from the rendered Markdown.

The ledger keeps, for every place a value is printed, the sentence it sits in
(``context`` as plain text, ``context_md`` with the value spans kept), so a
later diff can show a changed number in its sentence without rebuilding the
old version. Sentence boundaries come from pysbd; a table row, a heading or a
list item counts as one sentence. Splits are kept between builds (reuse_splits).
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from papergen.atomic import write_bytes

#: a printed value as render.Renderer writes it; data-pg-at is the build's temporary place index
SPAN_RE = re.compile(r'\[((?:\\.|[^\]\\])*)\]\{\.pg-value data-key="([^"]+)"(?: data-pg-at="(\d+)")?\}')
PLACE_ATTR_RE = re.compile(r' data-pg-at="\d+"')
_INLINE_RE = re.compile(
    r'(?P<value>' + SPAN_RE.pattern + r')'
    r'|(?P<cite>\[@[^\]]*\])'                          # citations: dropped from the plain text
    r'|(?P<span>\[((?:\\.|[^\]\\])*)\]\{[^}]*\})'       # other bracketed spans: their text
    r'|(?P<link>\[((?:\\.|[^\]\\])*)\]\([^)]*\))'       # links: their text
    r'|(?P<escape>\\(.))'                               # a Markdown escape: the character
    r'|(?P<emph>\*+)'                                   # emphasis markers: dropped
)


@dataclass(frozen=True)
class Segment:
    """A stretch of Markdown and the plain text it shows; ``key`` is set for a printed value."""

    md_start: int
    md_end: int
    text: str
    key: str | None = None
    place: int | None = None


def segments(md: str) -> list[Segment]:
    """Split inline Markdown into printed values and plain characters (markup removed)."""
    out, pos = [], 0
    for start, end, text, key, place in _markup(md):
        out += [Segment(i, i + 1, md[i]) for i in range(pos, start)]
        out.append(Segment(start, end, text, key, place))
        pos = end
    out += [Segment(i, i + 1, md[i]) for i in range(pos, len(md))]
    return out


def pieces(md: str) -> list[tuple[str, str | None, int | None]]:
    """What segments() gives as (text, key, place), each stretch of plain characters as one piece: for callers
    that need no positions (the ledger's sentences, the change report's words), without an object per character."""
    out, pos = [], 0
    for start, end, text, key, place in _markup(md):
        if start > pos:
            out.append((md[pos:start], None, None))
        out.append((text, key, place))
        pos = end
    if pos < len(md):
        out.append((md[pos:], None, None))
    return out


def _markup(md: str):
    """(start, end, text shown, value key, place) of each value, citation, span, link, escape or emphasis."""
    for m in _INLINE_RE.finditer(md):
        if m.group("value"):
            at = m.group(4)
            yield m.start(), m.end(), _unescape(m.group(2)), m.group(3), int(at) if at else None
        elif m.group("cite") or m.group("emph"):
            yield m.start(), m.end(), "", None, None
        elif m.group("span"):
            yield m.start(), m.end(), _unescape(m.group(7)), None, None
        elif m.group("link"):
            yield m.start(), m.end(), _unescape(m.group(9)), None, None
        else:
            yield m.start(), m.end(), m.group(11), None, None


def plain(md: str) -> str:
    """What a reader sees of inline Markdown: values as printed, no markup, single spaces."""
    return " ".join("".join(piece[0] for piece in pieces(md)).split())


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# --- units: the parts of a document a sentence never crosses ----------------------

_TABLE_RULE = re.compile(r"^\|[\s:|-]+\|$")


def units(document: str) -> list[tuple[int, str]]:
    """(offset, Markdown) of each paragraph, table row, list item, heading or caption."""
    out = []
    for block in re.finditer(r"(?:[^\n]+\n?)+", document):
        lines = [(m.start() + block.start(), m.group(0)) for m in re.finditer(r"[^\n]+", block.group(0))]
        lines = [(o, ln) for o, ln in lines if not ln.startswith(":::")]
        if not lines:
            continue
        if all(ln.lstrip().startswith("|") for _, ln in lines):
            out += [(o, ln) for o, ln in lines if not _TABLE_RULE.match(ln.strip())]
        elif re.match(r"\s*([-*+]|\d+[.)])\s", lines[0][1]) or lines[0][1].startswith("#"):
            out += lines
        else:
            out.append((lines[0][0], document[lines[0][0]:lines[-1][0] + len(lines[-1][1])]))
    return out


def unit_text(md: str) -> str:
    """A unit's Markdown without its block syntax (heading marks, list bullets, table pipes, figure frame)."""
    s = md.strip()
    if s.startswith("|"):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", s.strip("|"))]
        cells = [c for c in cells if c]
        return f"{cells[0]}: {'; '.join(cells[1:])}" if len(cells) > 1 else "".join(cells)
    s = re.sub(r"^#+\s+", "", s)
    s = re.sub(r"\s*\{#[^}]*\}$", "", s)
    s = re.sub(r"^([-*+]|\d+[.)]|:)\s+", "", s)
    m = re.match(r"^!\[(.*)\]\([^)]*\)(\{[^}]*\})?$", s, re.S)
    if m:
        s = m.group(1)
    return " ".join(s.split())


# --- sentences ----------------------------------------------------------------------

@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


#: unit -> its sentences: split in this process or by the build before (reuse_splits)
_splits: dict[str, tuple[str, ...]] = {}
_used: set[str] = set()


def reuse_splits(path: Path) -> None:
    """Take the sentence splits an earlier build saved (save_splits): pysbd takes about 0.25 s a manuscript."""
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        _splits.update({md: tuple(parts) for md, parts in saved.items() if md not in _splits})
    except (OSError, ValueError, AttributeError):
        pass  # none yet, or unreadable: split again


def save_splits(path: Path) -> None:
    """Keep the splits this process used, for the next build (a prose edit re-splits only what it changed)."""
    used = {md: list(_splits[md]) for md in sorted(_used)}
    _used.clear()  # the next build in this process (python build.py watch) saves only what it used
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_bytes(Path(path), json.dumps(used, ensure_ascii=False).encode("utf-8"))
    except OSError:
        pass  # only the next build is slower


def sentences(md: str) -> tuple[str, ...]:
    """The sentences of one unit's inline Markdown; a printed value is never split."""
    _used.add(md)
    got = _splits.get(md)
    if got is None:
        got = _splits[md] = _split(md)
    return got


def _split(md: str) -> tuple[str, ...]:
    segs = segments(md)
    starts, pos = [], 0
    for s in segs:
        starts.append(pos)
        pos += len(s.text)
    text = "".join(s.text for s in segs)
    if not text.strip():
        return (md.strip(),) if md.strip() else ()
    cuts = sorted({span.start for span in _segmenter().segment(text)} - {0})
    inside = [(starts[i], starts[i] + len(s.text)) for i, s in enumerate(segs) if s.key]
    cuts = [c for c in cuts if not any(a < c < b for a, b in inside)]
    out, first = [], 0
    for c in cuts + [len(text)]:
        i = bisect.bisect_left(starts, c)  # first segment that starts at or after the cut
        j = bisect.bisect_left(starts, first)
        piece = md[segs[j].md_start:segs[i - 1].md_end if i > 0 else 0].strip() if j < len(segs) else ""
        if piece:
            out.append(piece)
        first = c
    return tuple(out)


@dataclass(frozen=True)
class Occurrence:
    """One printed value: its key, the text printed, and the sentence (Markdown) around it."""

    key: str
    printed: str
    sentence_md: str
    place: int | None = None


def occurrences(document: str) -> list[Occurrence]:
    """Every printed value of a rendered Markdown document with its sentence, in document order."""
    out = []
    for _, md in units(document):
        if "pg-value" not in md:
            continue
        body = unit_text(md)
        for sentence in sentences(body):
            clean = strip_places(sentence)
            for text, key, place in pieces(sentence):
                if key:
                    out.append(Occurrence(key, text, clean, place))
    return out


def strip_places(md: str) -> str:
    """Remove the build's temporary place indexes (data-pg-at) from value spans."""
    return PLACE_ATTR_RE.sub("", md)


def attach_contexts(document: str, places: list[dict]) -> str:
    """Store the sentence of each printed value in its place; return the document without place indexes.

    ``places[i]`` is the ledger place (template, line, section) of the span marked
    ``data-pg-at="i"``. A place printed in several sentences keeps them all, in order.
    """
    found: dict[int, list[str]] = {}
    for occ in occurrences(document):
        if occ.place is not None:
            found.setdefault(id(places[occ.place]), [])
            bucket = found[id(places[occ.place])]
            if occ.sentence_md not in bucket:
                bucket.append(occ.sentence_md)
            md = " ".join(bucket)
            places[occ.place]["context"] = plain(md)
            places[occ.place]["context_md"] = md
    return strip_places(document)
