"""The ledger: manuscript/numbers.json, one entry per generated number, with its trace.

Each entry holds the key, the text as printed, the exact values, unit,
definition, method (module, function, file:line, library and version), inputs
(file, columns, row ids, filter, and the rows' values when they are few; past
values.ROW_LIST_LIMIT rows the ids become {"count", "first", "last", "sha256"}, see
values.row_list) and every place it is printed; ``build`` holds input hashes, package versions and
the git commit. ``explain`` and the review edition read only this file.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from papergen.errors import LedgerError
from papergen.values import Registry

#: version of the layout of numbers.json, for readers of older files
FORMAT = 1


def ledger_dict(registry: Registry, meta: dict) -> dict:
    """Every value with its text, exact numbers, definition, method, inputs and places."""
    values = {v.key: v.as_dict() for v in sorted(registry, key=lambda v: v.key)}
    return {"format": FORMAT, "build": meta, "values": _finite(values)}


def write_ledger(path: Path, registry: Registry, meta: dict) -> Path:
    path.write_text(ledger_text(ledger_dict(registry, meta)), encoding="utf-8")
    return path


#: value entry (compact JSON) -> its text in numbers.json; Python's indenting encoder is pure Python (the C one
#: does not indent), and a running preview writes the same entries build after build
_ENTRIES: dict[str, str] = {}


def ledger_text(ledger: dict) -> str:
    """``json.dumps(ledger, indent=1, ensure_ascii=False, allow_nan=False) + "\\n"``, byte for byte, with each value
    entry's text remembered by its compact JSON (written in C), so that a build writes only the entries that changed
    with the indenting encoder. An entry at depth 2 is its own indented text with two more spaces after each line
    break (JSON text holds no other line breaks: a newline in a string is written as \\n)."""
    if set(ledger) != {"format", "build", "values"} or not ledger["values"]:
        return _indented(ledger) + "\n"
    out = []
    for key, entry in ledger["values"].items():
        compact = json.dumps(entry, ensure_ascii=False, allow_nan=False)
        text = _ENTRIES.get(compact)
        if text is None:
            text = _indented(entry).replace("\n", "\n  ")
            if len(_ENTRIES) > 20_000:
                _ENTRIES.clear()
            _ENTRIES[compact] = text
        out.append(f"\n  {json.dumps(key, ensure_ascii=False)}: {text}")
    head = {k: ledger[k] for k in ("format", "build")}
    return (_indented(head)[:-2] + ',\n "values": {' + ",".join(out) + "\n }\n}\n") if list(ledger)[:2] == [
        "format", "build"] else _indented(ledger) + "\n"


def _indented(obj) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=False, allow_nan=False)


def read_ledger(path: Path) -> dict:
    """The ledger as a dict; a one-line LedgerError if it is missing or broken.

    The one reader of numbers.json: explain, the review edition, the lint's hints and diff use it.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LedgerError(f"{path}: no ledger yet; run python build.py first") from None
    except (OSError, ValueError) as exc:
        raise LedgerError(f"{path}: cannot read the ledger ({exc}); rebuild with python build.py") from None
    if not isinstance(data, dict) or not isinstance(data.get("values"), dict):
        raise LedgerError(f"{path}: not a papergen ledger (no 'values'); rebuild with python build.py")
    return data


def _finite(obj):
    """NaN and infinities become null: strict JSON, readable by browsers (JSON.parse) and jq."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
