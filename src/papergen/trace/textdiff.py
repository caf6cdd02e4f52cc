"""Where two long texts differ, by character offset: paragraphs first, then words, then characters.

One difflib run over every character of a manuscript is slow (its matching is
quadratic in the worst case) and, with difflib's junk heuristic, poor. Most
paragraphs of two versions are equal, so paragraphs are matched first, then the
words of the paragraphs that differ, then, where asked, the characters of short
stretches of words that differ. Used for the source map (the render against the
DOCX), the merge (the sent text against the returned one) and the three-way
merge (a file as sent against the file now).
"""
from __future__ import annotations

import difflib
import hashlib
import re

WORDS = re.compile(r"\w+|\s|[^\w\s]")
PARAGRAPHS = re.compile(r"[^\n]*\n|[^\n]+$")


def opcodes(a: str, b: str, chars: int = 0, memo: dict | None = None) -> list[tuple[str, int, int, int, int]]:
    """difflib's (tag, a1, a2, b1, b2) over character offsets of ``a`` and ``b``.

    ``chars``: a stretch of fewer than ``chars`` words on each side that differs is diffed again by
    character (0: never). ``memo``: the opcodes of paragraphs that differ, by their texts (a build keeps them
    for the next: after a prose edit one paragraph pair is new); filled as they are found.
    """
    out = []
    for op, a1, a2, b1, b2 in _level(a, b, 0, len(a), 0, len(b), PARAGRAPHS):
        if op != "replace":
            out.append((op, a1, a2, b1, b2))
            continue
        key = None
        if memo is not None:
            key = hashlib.sha1(f"{chars}\0{a[a1:a2]}\0{b[b1:b2]}".encode("utf-8", "surrogatepass")).hexdigest()
            if key in memo:
                out += [(c, a1 + x1, a1 + x2, b1 + y1, b1 + y2) for c, x1, x2, y1, y2 in memo[key]]
                continue
        found = _words(a, b, a1, a2, b1, b2, chars)
        if key is not None:
            memo[key] = [(c, x1 - a1, x2 - a1, y1 - b1, y2 - b1) for c, x1, x2, y1, y2 in found]
        out += found
    return out


def _words(a: str, b: str, a1: int, a2: int, b1: int, b2: int, chars: int) -> list[tuple[str, int, int, int, int]]:
    """The opcodes of one stretch of paragraphs that differ: by words, then by characters (see opcodes())."""
    out = []
    for wop, x1, x2, y1, y2, n, m in _level(a, b, a1, a2, b1, b2, WORDS, counts=True):
        if wop == "replace" and n < chars and m < chars:
            sm = difflib.SequenceMatcher(None, a[x1:x2], b[y1:y2], autojunk=False)
            out += [(c, x1 + c1, x1 + c2, y1 + d1, y1 + d2) for c, c1, c2, d1, d2 in sm.get_opcodes()]
        else:
            out.append((wop, x1, x2, y1, y2))
    return out


def _level(a: str, b: str, a1: int, a2: int, b1: int, b2: int, pattern, counts: bool = False):
    at = [(m.start(), m.group()) for m in pattern.finditer(a, a1, a2)]
    bt = [(m.start(), m.group()) for m in pattern.finditer(b, b1, b2)]
    sm = difflib.SequenceMatcher(None, [t for _, t in at], [t for _, t in bt], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        x1 = at[i1][0] if i1 < len(at) else a2
        x2 = at[i2 - 1][0] + len(at[i2 - 1][1]) if i2 > i1 else x1
        y1 = bt[j1][0] if j1 < len(bt) else b2
        y2 = bt[j2 - 1][0] + len(bt[j2 - 1][1]) if j2 > j1 else y1
        yield (op, x1, x2, y1, y2, i2 - i1, j2 - j1) if counts else (op, x1, x2, y1, y2)
