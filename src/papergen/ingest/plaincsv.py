"""Split a CSV file without quotes into columns at once: numpy finds the lines, one str.split the cells.

In a CSV with no quote character and no lone carriage return, the csv
module's records are exactly the file's lines and its fields the text between
commas. So numpy counts the commas of every line in the raw bytes, the lines
with as many as the header are split by one ``str.split`` of the whole text,
and only the other lines (short, long or blank) are looked at one by one. The
result is what load.py's csv-module path gives; anything this cannot promise
(quotes, a header ending in empty names, many ragged rows, a field longer than
the csv module accepts) returns None, and the csv module reads the file.
load.py asks for ByteColumns: each cell stays a byte range of the file, and a
column is numbered (factorised) from its bytes, eight at a time, so a
100,000-row file never becomes millions of Python strings.
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


def split_plain(text: str, data: bytes, lazy: bool = False):
    """(header, row numbers, columns, ragged rows) as the csv path would give them, or None.

    ``data`` is the file's bytes (without a BOM) and ``text`` their decoding.
    Columns hold one list of cell texts per header column, in row order;
    ``ragged`` maps a row's position to its full cell list when it has more or
    fewer cells than the header (its column cells padded with ""). With
    ``lazy``, a file whose every row has the header's width gives ByteColumns
    instead of lists: the cells stay bytes of the file until asked for.
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
    n = len(commas)
    if lazy and not odd:
        return _lazy(text, data, b, header, starts[1:], ends[1:], comma_at[width - 1:].reshape(n, width - 1))
    body = text[:-1] if text.endswith("\n") else text
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


def _lazy(text: str, data: bytes, b: np.ndarray, header: list[str], s: np.ndarray, e: np.ndarray,
          commas: np.ndarray):
    """split_plain's result with ByteColumns, for a file whose rows all have the header's width."""
    ascii_only = text.isascii()
    plain = ascii_only and b"\0" not in data  # numpy's byte strings read as these texts (no NUL to drop)
    padded = np.concatenate((b, np.zeros(8, dtype=np.uint8)))
    columns = []
    for j in range(len(header)):
        begin = s if j == 0 else commas[:, j - 1] + 1
        end = e if j == len(header) - 1 else commas[:, j]
        columns.append(ByteColumn(text if ascii_only else None, data, padded, begin, end, plain))
    maybe = np.flatnonzero((s == e) | _MAYBE_BLANK[b[np.minimum(s, len(b) - 1)]]).tolist()
    blank = [k for k in maybe if not any(col[k].strip() for col in columns)]
    keep = None
    if blank:
        keep = np.ones(len(s), dtype=bool)
        keep[blank] = False
        columns = [col.take(keep) for col in columns]
    rownums = np.arange(2, len(s) + 2)
    return header, (rownums if keep is None else rownums[keep]).tolist(), columns, {}


#: largest combined code ByteColumn.factorise lets grow before numbering the codes afresh (inside int64)
CODE_LIMIT = 2 ** 62
#: the low ``k`` bytes of a little-endian 64-bit word, k = 0..8
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


class ByteColumn:
    """One column of a plain CSV as byte ranges of the file: a sequence of cell texts, made only when asked for.

    ``factorise`` numbers the column's texts in order of first appearance, as
    pandas.factorize does (which, unlike this, takes a text for its part before
    a NUL character), from the bytes alone: only the distinct texts are made.
    """

    def __init__(self, text: str | None, data: bytes, padded: np.ndarray, begin: np.ndarray, end: np.ndarray,
                 plain: bool = False):
        self._text, self._data, self._padded = text, data, padded  # text: only when byte offsets are its offsets
        self._plain = plain  # ASCII without NUL: numpy can turn the bytes into texts
        self.begin, self.end = begin, end

    def __len__(self) -> int:
        return len(self.begin)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        a, z = int(self.begin[k]), int(self.end[k])
        return self._text[a:z] if self._text is not None else self._data[a:z].decode("utf-8")

    def __iter__(self):
        return (self[k] for k in range(len(self)))

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def take(self, rows: np.ndarray) -> "ByteColumn":
        return ByteColumn(self._text, self._data, self._padded, self.begin[rows], self.end[rows], self._plain)

    def _texts(self, begin: np.ndarray, end: np.ndarray) -> list[str]:
        """The texts of the given cells: their bytes gathered with a line break after each, decoded and split once."""
        size = end - begin
        total = int(size.sum())
        lines = np.full(total + len(size), 10, dtype=np.uint8)  # a cell holds no line break: it separates them
        before = np.cumsum(size) - size  # bytes of the earlier cells
        byte = np.arange(total)
        lines[byte + np.repeat(np.arange(len(size)), size)] = self._padded[byte + np.repeat(begin - before, size)]
        return lines.tobytes().decode("utf-8").split("\n")[:-1]

    def factorise(self):
        """(codes, distinct texts in order of first appearance) of the column's cells."""
        import pandas as pd

        n = len(self.begin)
        if n == 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
        size = self.end - self.begin
        longest = int(size.max())
        words = np.ndarray(shape=(len(self._padded) - 7,), dtype="<u8", buffer=self._padded, strides=(1,))
        limit = len(self._padded) - 8
        codes, bound = size, longest + 1  # the length first: equal words of different lengths differ in zero bytes
        gathered = []
        for k in range(-(-longest // 8)):  # eight bytes at a time, the bytes past the cell's end zeroed
            at = self.begin + 8 * k
            word = words[np.minimum(at, limit)] & _LOW_BYTES[np.clip(self.end - at, 0, 8)]
            gathered.append(word)
            if longest <= 7:  # one word holds the text and, in its top byte, the length
                codes = word | size.astype(np.uint64) << np.uint64(56)
                break
            part = pd.factorize(word)[0]
            width = int(part.max()) + 1
            if bound * width >= CODE_LIMIT:  # keep the combined code inside int64
                codes = pd.factorize(codes)[0]
                bound = int(codes.max()) + 1
            codes, bound = codes * width + part, bound * width
        codes = pd.factorize(codes)[0]  # numbered in order of first appearance
        # codes count up in order of first appearance: a text first appears where the running maximum rises
        first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
        count = len(first)
        uniques = np.empty(count, dtype=object)
        if self._plain and gathered:  # the words of the first rows are the texts' bytes, zero-padded:
            wide = np.empty((count, 8 * len(gathered) + 1), dtype=np.uint8)  # each text then a line break
            wide[:, :-1] = np.stack([w[first] for w in gathered], axis=1).astype("<u8", copy=False).view(np.uint8)
            wide[:, -1] = 10
            uniques[:] = wide.tobytes().replace(b"\0", b"").decode("ascii").split("\n")[:-1]
        else:
            uniques[:] = self._texts(self.begin[first], self.end[first])
        return codes.astype(np.intp, copy=False), uniques
