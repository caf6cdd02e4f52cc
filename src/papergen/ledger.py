"""The ledger: manuscript/numbers.json, one entry per generated number, with its trace."""
from __future__ import annotations

import json
from pathlib import Path

from papergen.values import Registry


def ledger_dict(registry: Registry, meta: dict) -> dict:
    """Every value with its text, exact numbers, definition, method, inputs and places."""
    return {"build": meta, "values": {v.key: v.as_dict() for v in sorted(registry, key=lambda v: v.key)}}


def write_ledger(path: Path, registry: Registry, meta: dict) -> Path:
    path.write_text(json.dumps(ledger_dict(registry, meta), indent=1, ensure_ascii=False, sort_keys=False) + "\n",
                    encoding="utf-8")
    return path


def read_ledger(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
