"""A column's distinct texts as pyarrow holds them: their bytes for colcheck's numpy tests, patterns by RE2.

colcheck.py judges every distinct text of a column once; a column of study
ids has as many distinct texts as rows. Its vectorised shortcuts (which texts
``cells.check_cell`` plainly accepts, which might be a direct identifier) look
at the texts' UTF-8 bytes; a pyarrow string array already holds them, one
buffer and one offset per text, so they are read from there instead of
joining a million Python strings. A codebook pattern is run by pyarrow (RE2)
only where RE2 and Python's re agree: ASCII texts, and a pattern in the part
of the language both read alike; other patterns and texts go to re.
"""
from __future__ import annotations

import re

import numpy as np

#: RE2 and Python's re agree on these escapes for ASCII texts (\s differs: Python's includes \x1c-\x1f and \v)
_SAFE_ESCAPES = set("dDwW.-+*?()[]{}|^$\\/_")
_POSIX_CLASS = re.compile(r"\[[:=.]")


def as_arrow(texts, arrow=None):
    """The distinct texts as a pyarrow string array (the reader's, when it kept one); None if they are not all str."""
    import pyarrow as pa

    if arrow is not None:
        return arrow
    try:
        return pa.array(texts, type=pa.string(), from_pandas=False)
    except (pa.ArrowException, TypeError):
        return None


def lines(arrow):
    """(bytes, start, end) of each text of a pyarrow string array, as colcheck._lines gives them for the texts
    joined by newlines; None if a text holds a newline or there are no bytes."""
    import pyarrow as pa

    if arrow is None or arrow.null_count or not len(arrow):
        return None
    wide = pa.types.is_large_string(arrow.type)
    _, offsets, data = arrow.buffers()
    if data is None:
        return None
    offsets = np.frombuffer(offsets, dtype=np.int64 if wide else np.int32)[arrow.offset: arrow.offset + len(arrow) + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    b = np.frombuffer(data, dtype=np.uint8)[lo:hi]
    if not len(b) or 10 in b:
        return None
    bounds = (offsets - lo).astype(np.int64)
    return b, bounds[:-1], bounds[1:]


def re2_safe(pattern: str) -> bool:
    """Whether ``re.match(pattern, t)`` and RE2's ``^(?:pattern)`` give the same answer on every ASCII text
    without a line break: no lookaround, flags, named groups, back references, POSIX classes, \\s or \\b."""
    if "(?" in pattern.replace("(?:", "") or _POSIX_CLASS.search(pattern) or "{," in pattern:
        return False
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in _SAFE_ESCAPES:
                return False
            i += 2
            continue
        if not (" " <= pattern[i] <= "~"):
            return False  # a non-ASCII or control character in the pattern: let re judge
        i += 1
    return True


def pattern_matches(arrow, texts: np.ndarray, pattern: str, idx: np.ndarray) -> np.ndarray:
    """``bool(re.match(pattern, texts[j]))`` for each j in ``idx``: by RE2 over the ASCII texts where the pattern
    is safe for it (re2_safe), by re for the others."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = None
    if arrow is not None and re2_safe(pattern) and len(idx):
        picked = arrow if len(idx) == len(arrow) else arrow.take(pa.array(idx))  # idx: increasing, distinct
        try:
            matched = pc.match_substring_regex(picked, f"^(?:{pattern})").to_numpy(zero_copy_only=False)
        except pa.ArrowException:  # RE2 refuses it (a repetition over 1000, say): re judges every text
            matched = None
        if matched is not None:
            out = matched.copy()
            other = np.flatnonzero(~pc.string_is_ascii(picked).to_numpy(zero_copy_only=False))
    if out is None:
        out, other = np.zeros(len(idx), dtype=bool), np.arange(len(idx))
    match = re.compile(pattern).match
    out[other] = [bool(match(texts[j])) for j in idx[other].tolist()]
    return out


def is_in(arrow, texts: np.ndarray, values) -> np.ndarray:
    """Which texts equal one of ``values`` (np.isin on the texts), by pyarrow when it holds them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if arrow is not None and all(isinstance(v, str) for v in values):
        return pc.is_in(arrow, value_set=pa.array(list(values), pa.string())).to_numpy(zero_copy_only=False)
    return np.isin(texts, np.array(list(values), dtype=object))


def starts_with(prefixes, pcodes: np.ndarray, texts, tcodes: np.ndarray) -> np.ndarray | None:
    """Per row, whether text ``texts[tcodes[k]]`` starts with ``prefixes[pcodes[k]]`` (str.startswith), from the
    two pyarrow arrays: each row's text cut by pyarrow to its prefix's length in bytes and compared as bytes (a
    UTF-8 prefix is a prefix of the text byte for byte), one cut per distinct prefix length; None when either
    array is missing or has a null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if prefixes is None or texts is None or prefixes.null_count or texts.null_count:
        return None
    p = _rows(prefixes.cast(pa.binary()), pcodes)
    t = _rows(texts.cast(pa.binary()), tcodes)
    plen = pc.binary_length(p).to_numpy(zero_copy_only=False)
    ok = np.zeros(len(plen), dtype=bool)
    lengths = plen[:1] if len(plen) and plen.min() == plen.max() else np.unique(plen)
    for width in lengths.tolist():
        rows = None if len(lengths) == 1 else pa.array(np.flatnonzero(plen == width))
        pw, tw = (p, t) if rows is None else (p.take(rows), t.take(rows))
        same = pc.equal(pc.binary_slice(tw, 0, width), pw).to_numpy(zero_copy_only=False)
        if rows is None:
            ok = same
        else:
            ok[rows.to_numpy()] = same
    return ok


def _rows(arrow, codes: np.ndarray):
    """``arrow`` taken at ``codes``; the array itself when the codes are 0, 1, 2... (distinct ids in order)."""
    import pyarrow as pa

    n = len(codes)
    if n == len(arrow) and (n == 0 or (codes[0] == 0 and codes[-1] == n - 1 and bool((np.diff(codes) == 1).all()))):
        return arrow
    return arrow.take(pa.array(codes, pa.int64()))
