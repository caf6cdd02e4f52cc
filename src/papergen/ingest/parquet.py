"""Read a Parquet file with pyarrow: each column's type from the schema, its distinct values once.

pyarrow dictionary-encodes a column (its distinct values and one index per
row) without making a Python object per row; only the distinct values become
texts (coded.text_of), so a ten-million-row file costs what its distinct
values cost. A text column without nulls goes to coded.from_arrow_texts (a
sorted one is coded by its runs, without hashing) and keeps its texts as
pyarrow's array for colcheck. The schema's types are kept on the RawTable
(``variables``) for ``codebook draft``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from papergen.errors import DataError
from papergen.ingest.coded import CodedColumn, SharedTexts, from_arrow_texts, text_of


def read_parquet(path: Path, shown: str, shared: SharedTexts | None = None):
    """(header, row numbers, columns, variables) of a Parquet file; a DataError when pyarrow cannot read it.
    ``shared``: the distinct texts' strings of the other files read (coded.SharedTexts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path).read()  # not pq.read_table: it imports pyarrow.dataset (1 s)
    except (pa.ArrowException, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(shown, None, None, None, f"not a readable Parquet file ({first}); the file may be "
                        "truncated or still being copied: write it again from its source") from None
    header = [str(n) for n in table.column_names]
    columns, variables = [], {}
    for name, column in zip(header, table.columns):
        columns.append(_coded(column, shared))
        variables[name] = {"type": str(column.type)}
    return header, range(1, table.num_rows + 1), columns, variables  # rows numbered from 1, no list of them


def _coded(column, shared: SharedTexts | None = None) -> CodedColumn:
    """One Parquet column as codes into its distinct values' texts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) and not column.null_count:
        return from_arrow_texts(column, shared)
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    dictionary = encoded.dictionary
    if pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type):
        return CodedColumn.of(codes, dictionary.to_pylist())  # with nulls: "" for them, renumbered
    if pa.types.is_integer(dictionary.type) or pa.types.is_date(dictionary.type):
        texts = pc.cast(dictionary, pa.string()).to_pylist()  # 5 -> "5", a date -> "2020-10-31": distinct still
        distinct = True
    else:
        texts = [text_of(v) for v in dictionary.to_pylist()]
        distinct = len(set(texts)) == len(texts)  # 0.0 and -0.0 are both "0"
    if encoded.null_count == 0 and distinct:
        return CodedColumn(codes, np.array(texts, dtype=object))  # distinct, in order of first appearance already
    return CodedColumn.of(codes, texts)
