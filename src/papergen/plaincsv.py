"""Split a CSV file without quotes into columns at once: numpy finds the lines, one str.split the cells.

In a CSV with no quote character and no lone carriage return, the csv
module's records are exactly the file's lines and its fields the text between
commas. So numpy counts the commas of every line in the raw bytes, the lines
with as many as the header are split by one ``str.split`` of the whole text,
and only the other lines (short, long or blank) are looked at one by one. The
result is what load.py's csv-module path gives; anything this cannot promise
(quotes, a header ending in empty names, many ragged rows, a field longer than
the csv module accepts) returns None, and the csv module reads the file.
"""
from __future__ import annotations

import csv

import numpy as np

#: more rows than this with the wrong number of cells: let the csv module read the file
ODD_LIMIT = 1000
#: first bytes of a line that may be blank (only commas and white space): comma, ASCII and non-ASCII space
_MAYBE_BLANK = np.zeros(256, dtype=bool)
_MAYBE_BLANK[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 44]] = True
_MAYBE_BLANK[128:] = True


def split_plain(text: str, data: bytes):
    """(header, row numbers, columns, ragged rows) as the csv path would give them, or None.

    ``data`` is the file's bytes (without a BOM) and ``text`` their decoding.
    Columns hold one list of cell texts per header column, in row order;
    ``ragged`` maps a row's position to its full cell list when it has more or
    fewer cells than the header (its column cells padded with "").
    """
    if b'"' in data:
        return None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None
        text = text.replace("\r\n", "\n")
    header = [h.strip() for h in text.split("\n", 1)[0].split(",")]
    if header[-1] == "":
        return None
    width = len(header)
    b = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(b == 10)
    if not data.endswith(b"\n"):
        ends = np.append(ends, len(b))
    starts = np.concatenate(([0], ends[:-1] + 1))
    if int((ends - starts).max()) > csv.field_size_limit():
        return None
    comma_at = np.flatnonzero(b == 44)
    commas = (np.searchsorted(comma_at, ends) - np.searchsorted(comma_at, starts))[1:]
    odd = np.flatnonzero(commas != width - 1).tolist()
    if len(odd) > ODD_LIMIT:
        return None
    body = text[:-1] if text.endswith("\n") else text
    n = len(commas)
    if not odd:
        flat = body.replace("\n", ",").split(",")
        columns = [flat[width + j::width] for j in range(width)]
        ragged = {}
    else:
        columns, ragged = _with_odd_lines(body.split("\n")[1:], odd, width)
    s, e = starts[1:], ends[1:]
    maybe = np.flatnonzero((s == e) | _MAYBE_BLANK[b[np.minimum(s, len(b) - 1)]]).tolist()
    blank = [k for k in maybe if not any(c.strip() for c in (ragged[k] if k in ragged else
                                                             [col[k] for col in columns]))]
    rownums = list(range(2, n + 2))
    if blank:
        rownums, columns, ragged = _drop(blank, rownums, columns, ragged)
    return header, rownums, columns, ragged


def _with_odd_lines(lines: list[str], odd: list[int], width: int):
    """Columns of all lines, the regular ones split at once, the odd ones (wrong width) one by one."""
    odd_set = set(odd)
    flat = ",".join(line for k, line in enumerate(lines) if k not in odd_set).split(",")
    regular = [flat[j::width] for j in range(width)]
    columns: list[list[str]] = [[] for _ in range(width)]
    ragged, done = {}, 0  # done: regular rows already copied
    for k in odd + [len(lines)]:
        take = k - len(columns[0])  # regular rows between the last odd line and this one
        for j in range(width):
            columns[j].extend(regular[j][done:done + take])
        done += take
        if k == len(lines):
            break
        cells = lines[k].split(",") if lines[k] else []  # an empty line is the csv module's empty record
        ragged[k] = cells
        for j in range(width):
            columns[j].append(cells[j] if j < len(cells) else "")
    return columns, ragged


def _drop(blank: list[int], rownums: list[int], columns: list[list[str]], ragged: dict):
    """Remove the blank rows (the csv path skips them), keeping the others' row numbers."""
    gone = set(blank)
    keep = [k for k in range(len(rownums)) if k not in gone]
    new_pos = {k: i for i, k in enumerate(keep)}
    return ([rownums[k] for k in keep], [[col[k] for k in keep] for col in columns],
            {new_pos[k]: cells for k, cells in ragged.items() if k in new_pos})
