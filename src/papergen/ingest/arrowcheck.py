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
    """Per row, whether text ``texts[tcodes[k]]`` starts with ``prefixes[pcodes[k]]`` (str.startswith), compared
    byte by byte from the two pyarrow arrays' buffers (a UTF-8 prefix is a prefix of the text); None when either
    array's bytes cannot be read so (a newline, no bytes) or a prefix is longer than 64 bytes."""
    found_p, found_t = lines(prefixes), lines(texts)
    if found_p is None or found_t is None:
        return None
    pb, ps, pe = found_p
    tb, ts, te = found_t
    plen = (pe - ps)[pcodes]
    ok = (te - ts)[tcodes] >= plen
    width = int(plen.max()) if len(plen) else 0
    if width > 64:
        return None
    pad = np.zeros(width, dtype=np.uint8)  # reading byte k of a prefix or text shorter than k stays in the buffer
    pb, tb = np.concatenate((pb, pad)), np.concatenate((tb, pad))
    pos_p, pos_t = ps[pcodes], ts[tcodes]  # new arrays: moved on in place below
    even = not len(plen) or int(plen.min()) == width  # prefixes all of one length (study ids): no mask per byte
    for k in range(width):  # rows whose prefix is shorter than k + 1 bytes are done; the others compare byte k
        if even:
            ok &= pb[pos_p] == tb[pos_t]
        else:
            ok &= (pb[pos_p] == tb[pos_t]) | (plen <= k)
        pos_p += 1
        pos_t += 1
    return ok
