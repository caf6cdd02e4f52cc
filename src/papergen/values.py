"""Value objects: a generated number with its text, definition, inputs and code.

Templates print Values, never bare floats. Every Value knows where it came from
(data file, columns, row ids, filter), which code made it, and the library that
did the maths, so a reviewer can trace any printed number back to the data.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from papergen.errors import PapergenError, PlanError
from papergen import formatting as fmt

#: a Source with more rows than this is summarised in the ledger (count, first and last ids, sha256)
ROW_LIST_LIMIT = 1000
#: ids kept at each end of a summarised row list
ROW_ENDS = 10


@dataclass(frozen=True)
class Source:
    """Where a value's inputs came from: a data file, its columns, the rows used."""

    file: str
    columns: tuple[str, ...]
    rows: tuple[str, ...] = ()
    filter: str = ""
    #: fingerprint of the measured data and its label (finds a statistic declared twice); not in the ledger
    digest: str = field(default="", compare=False, repr=False)
    #: when the rows are few: row id -> {column: value as read}, so a reviewer sees what went in
    values: dict | None = field(default=None, compare=False, repr=False)
    #: the per-row variable computed from those columns, if it is not a column itself: (name, {row id: value})
    derived: tuple | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.rows, RowIds) and len(self.rows) > ROW_LIST_LIMIT:  # kept as the ledger shows them
            object.__setattr__(self, "rows", row_ids(self.rows))

    def as_dict(self) -> dict:
        out = {"file": self.file, "columns": list(self.columns), "n_rows": len(self.rows),
               "rows": row_list(self.rows), "filter": self.filter}
        if len(self.rows) > ROW_LIST_LIMIT:  # row values are kept for a handful of rows only
            return out
        if self.values:
            out["values"] = {r: self.values[r] for r in self.rows if r in self.values}
        if self.derived:
            name, per_row = self.derived
            out["derived"] = {"name": name, "values": {r: per_row[r] for r in self.rows if r in per_row}}
        return out


def row_list(rows) -> list[str] | dict:
    """The ledger's ``rows``: every id, or past ROW_LIST_LIMIT a summary that still pins them down.

    The summary is {"count", "first", "last", "sha256"}: the ROW_ENDS first and last ids and the
    sha256 of all ids joined by newlines (UTF-8), so a large cohort does not make the ledger huge.
    A Source keeps that summary already (RowIds); a longer sequence given here is summarised once.
    """
    if not isinstance(rows, RowIds) and len(rows) > ROW_LIST_LIMIT:
        rows = _summary(list(rows))
    return rows.summary() if isinstance(rows, RowIds) else list(rows)


class RowIds:
    """More than ROW_LIST_LIMIT row ids, kept as the ledger summarises them (values.row_list): the count,
    the ROW_ENDS first and last ids and the sha256 of all ids joined by newlines (UTF-8).

    A Source of a million rows then holds four small fields instead of a million texts, so the
    analysis pickles (build cache) and compares (duplicate statistics) in constant time. It equals
    another RowIds, or a sequence of ids, with the same summary.
    """

    __slots__ = ("count", "first", "last", "sha256")

    def __init__(self, count: int, first: tuple, last: tuple, sha256: str) -> None:
        self.count, self.first, self.last, self.sha256 = count, tuple(first), tuple(last), sha256

    def __len__(self) -> int:
        return self.count

    def _key(self) -> tuple:
        return self.count, self.first, self.last, self.sha256

    def __eq__(self, other) -> bool:
        if isinstance(other, RowIds):
            return self._key() == other._key()
        if isinstance(other, (tuple, list)):
            return len(other) == self.count and _summary(list(map(str, other)))._key() == self._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self):
        return RowIds, self._key()

    def __repr__(self) -> str:
        return f"RowIds({self.count} rows, first {self.first[0]!r}, sha256 {self.sha256[:12]})"

    def summary(self) -> dict:
        """The ledger's ``rows`` of these ids."""
        return {"count": self.count, "first": list(self.first), "last": list(self.last), "sha256": self.sha256}


def row_ids(ids) -> tuple[str, ...] | RowIds:
    """Row ids as a Source keeps them: each id as text, or past ROW_LIST_LIMIT their summary (RowIds).

    ``ids``: a pandas Index, a numpy array or a sequence; each id is ``str(id)`` of the item it yields. Texts are joined by one ``str.join`` without a copy of each (the cost of a million ids is
    the join and one sha256 over its bytes).
    """
    texts = arrow_texts(ids)
    if texts is not None and len(texts) > ROW_LIST_LIMIT:  # pyarrow's strings: the same summary, no str per id
        return RowIds(len(texts), tuple(texts[:ROW_ENDS].to_pylist()), tuple(texts[-ROW_ENDS:].to_pylist()),
                      hashlib.sha256(joined_texts(texts, "\n")).hexdigest())
    items = ids.tolist() if hasattr(ids, "to_numpy") else list(ids)  # a pandas Index yields what tolist gives
    if len(items) <= ROW_LIST_LIMIT:
        return tuple(map(str, items))
    return _summary(items)


def arrow_texts(data):
    """The texts of a pandas Index or Series kept as pyarrow strings (pandas' "string[pyarrow]"), as one pyarrow
    array, when none is missing; else None (numpy-backed data, or a missing id)."""
    if getattr(getattr(data, "dtype", None), "storage", None) not in ("pyarrow", "pyarrow_numpy"):
        return None
    import pyarrow as pa

    arr = pa.array(data.array)  # the pandas array's own pyarrow data, not a copy per text
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)) or arr.null_count:
        return None
    return arr


def joined_texts(texts, sep: str):
    """The UTF-8 bytes of ``sep.join(texts)`` for a pyarrow string array (arrow_texts), made by pyarrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(texts):
        return b""
    if pa.types.is_string(texts.type) and texts.nbytes > 1 << 30:  # the joined text may pass int32 offsets
        texts = texts.cast(pa.large_string())
    one = pa.ListArray.from_arrays(pa.array([0, len(texts)], pa.int32()), texts)
    return pc.binary_join(one, pa.scalar(sep, texts.type))[0].as_buffer()


def _summary(items: list) -> RowIds:
    """RowIds of ids: one join of the texts (str() of each only when they are not all texts) and one sha256."""
    try:
        joined = "\n".join(items)  # every item a text (the usual index of ids): no str() of each
    except TypeError:  # numbers, dates, tuples of a composite key: as str() prints each
        items = list(map(str, items))
        joined = "\n".join(items)
    return RowIds(len(items), tuple(map(str, items[:ROW_ENDS])), tuple(map(str, items[-ROW_ENDS:])),
                  hashlib.sha256(joined.encode("utf-8")).hexdigest())


@dataclass
class Value:
    """One generated number (or small group: mean and SE, median and range)."""

    key: str
    text: str
    exact: dict[str, Any]
    definition: str = ""
    unit: str | None = None
    inputs: list[Source] = field(default_factory=list)
    method: dict[str, str] = field(default_factory=dict)
    declared_at: str = ""
    parts: dict[str, str] = field(default_factory=dict)
    places: list[dict] = field(default_factory=list)
    #: a count that may be spelled out ("Eleven patients") keeps its integer here
    count: int | None = None

    def __post_init__(self) -> None:
        # numpy scalars become Python numbers, so a cached Value loads without numpy
        self.exact, self.count = _python_numbers(self.exact), _python_numbers(self.count)

    # -- printing variants; each returns a Printed string tagged with this key --
    def __str__(self) -> str:
        return self.text

    def part(self, name: str) -> "Printed":
        """One formatted component, e.g. ``os.mean.part("se")`` -> "3.7"."""
        if name not in self.parts:
            raise PapergenError(f"value {self.key!r} has no part {name!r}; parts: {', '.join(self.parts) or 'none'}")
        return Printed(self.parts[name], self, variant=f"part:{name}")

    def words(self, start: bool = False) -> "Printed":
        """The count spelled out: "eleven", or "Eleven" at a sentence start."""
        n = self._need_count("words")
        w = fmt.number_to_words(n)
        return Printed(fmt.capitalize_first(w) if start else w, self, variant="words")

    def phrase(self, singular: str, plural: str | None = None, start: bool = False,
               zero: str = "no") -> "Printed":
        """A counted noun in journal style: "Eleven patients", "one patient", "no patient"."""
        n = self._need_count("phrase")
        text = fmt.count_phrase(n, singular, plural, sentence_start=start, zero=zero)
        return Printed(text, self, variant="phrase")

    def share(self, singular: str, plural: str | None = None, start: bool = False) -> "Printed":
        """A count out of its total: "all patients", "none of the patients", "7 of 11 patients"."""
        n = self._need_count("share")
        total = self.exact.get("of")
        plural = plural or singular + "s"
        if n == total:
            text = f"all {plural}"
        elif n == 0:
            text = f"none of the {plural}"
        else:
            text = f"{fmt.spell_out(n, sentence_start=start)} of {total} {plural}"
        return Printed(fmt.capitalize_first(text) if start else text, self, variant="share")

    def _need_count(self, what: str) -> int:
        if self.count is None:
            raise PapergenError(f"value {self.key!r} is not a count, so it has no {what}() form")
        return self.count

    def as_dict(self) -> dict:
        return {
            "key": self.key, "text": self.text, "exact": _plain(self.exact),
            "unit": self.unit, "definition": self.definition,
            "method": dict(sorted(self.method.items())),
            "declared_at": self.declared_at,
            "inputs": [s.as_dict() for s in self.inputs],
            "parts": dict(sorted(self.parts.items())),
            "places": self.places,
        }


class Printed(str):
    """Text printed from a Value in a template; remembers the value it came from."""

    value: Value
    variant: str

    def __new__(cls, text: str, value: Value, variant: str = "text"):
        obj = super().__new__(cls, text)
        obj.value, obj.variant = value, variant
        return obj

    def __reduce__(self):  # pickled with its value (papergen.cache keeps analyses)
        return Printed, (str(self), self.value, self.variant)


def _python_numbers(obj):
    """numpy scalars (also inside dicts, lists and tuples) as Python numbers; everything else as it is."""
    if isinstance(obj, dict):
        return {k: _python_numbers(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_python_numbers(v) for v in obj)
    if type(obj).__module__ == "numpy" and callable(getattr(obj, "item", None)):
        return obj.item()
    return obj


def _plain(obj):
    """Make exact values JSON-friendly (numpy scalars, dates, tuples)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in sorted(obj.items())}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj


def non_finite(obj, where: str = "exact") -> str | None:
    """The first NaN or infinite number inside a value's exact numbers, as "exact.sd = nan"; None if all are finite."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return f"{where} = {obj!r}"
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return None
    return next((bad for k, v in items if (bad := non_finite(v, f"{where}.{k}"))), None)


#: how Python and numpy print a number that is not finite: "nan", "inf", "-inf"
_NON_FINITE_TEXT = re.compile(r"(?<![\w.])[-+]?(nan|inf)(?![\w.])")


def non_finite_text(value: Value) -> str | None:
    """The text or a part printing "nan" or "inf" (a NaN formatted with str()), as 'text "nan"'."""
    for name, text in (("text", value.text), *((f"part {k}", v) for k, v in value.parts.items())):
        if isinstance(text, str) and _NON_FINITE_TEXT.search(text):
            return f"{name} {text[:60]!r}"
    return None


def key_part(text) -> str:
    """A text as one part of a value key: lower case, other characters as "_" ("Grade II" -> "grade_ii")."""
    return "".join(c if c.isalnum() else "_" for c in str(text).lower()).strip("_")


KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class Registry:
    """All values of one build; abstract, results, tables and legends read the same ones."""

    def __init__(self) -> None:
        self._values: dict[str, Value] = {}
        self._groups: dict[str, str] = {}  # "os" of "os.mean" -> the first key under it

    def add(self, value: Value) -> Value:
        """Register a value; a key used twice, or both as a value and as a group of values, fails at once."""
        key = value.key
        if not KEY_RE.match(key):
            raise PapergenError(f"value key {key!r} must be lower-case words joined by dots or underscores")
        if key in self._values:
            first = self._values[key].declared_at
            raise PapergenError(f"value {key!r} declared twice: {first} and {value.declared_at}")
        if key in self._groups:
            other = self._values[self._groups[key]]
            raise PapergenError(f"value key {key!r} ({value.declared_at}) is also the group of {other.key!r} "
                                f"({other.declared_at}); rename one, e.g. {key + '.all'!r}")
        bad = non_finite(value.exact) or non_finite_text(value)
        if bad:
            raise PlanError(f"{value.declared_at or 'value ' + repr(key)}: value {key!r} is not a finite number "
                            f"({bad}), so it cannot be printed; look at its input (an empty group, a division by "
                            "zero, a missing value) or register no value")
        heads = key.split(".")[:-1]
        for i in range(1, len(heads) + 1):
            group = ".".join(heads[:i])
            if group in self._values:
                other = self._values[group]
                raise PapergenError(f"value key {key!r} ({value.declared_at}) puts a group under {group!r}, which is "
                                    f"a value ({other.declared_at}); rename one, e.g. {group + '.all'!r}")
        for i in range(1, len(heads) + 1):
            self._groups.setdefault(".".join(heads[:i]), key)
        self._values[key] = value
        return value

    def __getitem__(self, key: str) -> Value:
        return self._values[key]

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def __iter__(self):
        return iter(self._values.values())

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._values)

    def tree(self) -> "Namespace":
        """Values as nested attributes for templates: ``os.mean`` -> ``v.os.mean``."""
        root = Namespace("")
        for key, value in self._values.items():
            node = root
            *heads, last = key.split(".")
            for h in heads:
                node = node._child(h)
            node._set(last, value)
        return root


class Namespace:
    """Read-only dotted access to values in templates, with helpful misses."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._items: dict[str, Any] = {}

    def _child(self, name: str) -> "Namespace":
        node = self._items.get(name)
        if isinstance(node, Value):
            # a value and a group share a name: the group wins for attribute access
            raise PapergenError(f"value key {self._prefix + name!r} is both a value and a group")
        if node is None:
            node = self._items[name] = Namespace(f"{self._prefix}{name}.")
        return node

    def _set(self, name: str, value: Value) -> None:
        if isinstance(self._items.get(name), Namespace):
            raise PapergenError(f"value key {self._prefix + name!r} is both a value and a group")
        self._items[name] = value

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str):
        return self._items[name]

    def __dir__(self):
        return sorted(self._items)

    def names(self) -> list[str]:
        return [self._prefix + n for n in self._items]

