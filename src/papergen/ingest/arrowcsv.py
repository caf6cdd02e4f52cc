"""Read a plain CSV file with pyarrow's CSV reader: every column at once, each as its distinct texts and codes.

pyarrow parses the bytes on both cores and each column is coded into its distinct
texts (coded.from_arrow_texts), so no cell becomes a Python string; only the distinct texts do. It is used for a
file it reads exactly as the csv module would, line for line: no quote
character, no lone carriage return, no empty line in a one-column file or
right after the header, every row as wide as the header, and
no field longer than the csv module allows. Any other file returns None and
load.py reads it as before (plaincsv's splitter for a few ragged rows, the
csv module for quotes), so every problem is worded and located as it was.
Measured against plaincsv's splitter in benchmarks/bench_build.py (``csv reader``).
"""
from __future__ import annotations

import csv

import numpy as np

from papergen.ingest.coded import CodedColumn, SharedTexts, from_arrow_texts


def read_plain(data: bytes, shared: SharedTexts | None = None):
    """(header, row numbers, columns) of a plain CSV file (its bytes, without a BOM), or None (see above).
    ``shared``: the distinct texts' strings of the other files read (coded.SharedTexts)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if b'"' in data or not data or data.isspace() or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone carriage return: the csv module's record is not the line
    first_end = data.find(b"\n")
    first = data[: first_end if first_end >= 0 else len(data)].rstrip(b"\r")
    if b"," not in first and (b";" in first or b"\t" in first):
        return None  # separated by semicolons or tabs: the usual path says so
    try:
        header = [h.strip() for h in first.decode("utf-8").split(",")]
    except UnicodeDecodeError:
        return None
    if header[-1] == "" or (first_end >= 0 and (data.startswith(b"\n", first_end + 1) or len(header) == 1 and (
            b"\n\n" in data or b"\n\r\n" in data))):
        # a header ending in empty names, or an empty line right after it, or one in a one-column file; in a wider
        # file pyarrow reads an empty line as a row of empty cells, skipped below as the csv module skips it
        # (tests/ingest/test_arrowcheck.py), so ten million lines are not scanned for one
        return None
    if first_end < 0 or first_end + 1 == len(data) or data.endswith(b"\r\n") and first_end + 2 == len(data):
        return None  # no data rows: the usual path says so
    names = [f"c{j}" for j in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pacsv.ParseOptions(quote_char=False, newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, check_utf8=True))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None  # a row of another width, or bytes that are not UTF-8: the usual path words it
    columns = []
    for chunked in table.columns:
        if chunked.num_chunks == 1:
            texts = chunked.chunk(0)
        elif sum(c.nbytes for c in chunked.chunks) < 2 ** 31 - 2 ** 24:
            texts = chunked.combine_chunks()
        else:  # more than 2 GB of text in one column: 64-bit offsets
            texts = chunked.cast(pa.large_string()).combine_chunks()
        if len(texts) and pc.max(pc.binary_length(texts)).as_py() > csv.field_size_limit():
            return None  # the csv module refuses such a field; let it say so
        # read as plain texts and coded after (coded.from_arrow_texts): a third of the time pyarrow takes to
        # build and unify a dictionary per block when a column has a million distinct texts
        columns.append(from_arrow_texts(texts, shared))
    blank = _blank_rows(columns, table.num_rows)
    if blank.any():  # a row of only commas and spaces: skipped, the others keep their numbers
        keep = ~blank
        columns = [c.take(keep) for c in columns]
        return header, np.arange(2, table.num_rows + 2)[keep].tolist(), columns
    return header, range(2, table.num_rows + 2), columns  # not ten million Python ints


def _blank_rows(columns: list[CodedColumn], n: int) -> np.ndarray:
    """Rows whose every cell is empty or white space (str.strip's), narrowed column by column; a text with a
    visible ASCII character (found by pyarrow) is not blank, the others are stripped."""
    import pyarrow.compute as pc

    rows = np.arange(n)
    for column in columns:
        if not len(rows):
            break
        maybe = np.ones(len(column.texts), dtype=bool)
        if column.arrow is not None:
            maybe = ~pc.match_substring_regex(column.arrow, "[!-~]").to_numpy(zero_copy_only=False)
        seen = np.flatnonzero(maybe)
        blank = np.zeros(len(column.texts), dtype=bool)
        blank[seen] = [not column.texts[j].strip() for j in seen.tolist()]
        rows = rows[blank[column.codes[rows]]]
    out = np.zeros(n, dtype=bool)
    out[rows] = True
    return out
