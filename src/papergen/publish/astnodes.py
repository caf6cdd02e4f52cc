"""Walking pandoc's JSON AST: every element in document order (the manuscript's reader, its parts and the checks)."""
from __future__ import annotations


def nodes(node, kind: str | None = None, prune: tuple[str, ...] = ()):
    """Every element of a pandoc AST (or part of one) in document order, or those of type ``kind``;
    the insides of elements of a type in ``prune`` are not visited."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(reversed(n))
        elif isinstance(n, dict):
            if "t" in n and (kind is None or n["t"] == kind):
                yield n
            if n.get("t") in prune:
                continue
            if "c" in n:
                stack.append(n["c"])
            elif "blocks" in n:
                stack.append(n["blocks"])


def has_notes(node) -> bool:
    """Whether ``node`` (a block, a list of blocks) holds a footnote: its JSON (written in C, quicker than a walk in
    Python) has an element of type Note (a text "Note" in the manuscript is a JSON string, whose quotes are escaped)."""
    import json

    return '"t": "Note"' in json.dumps(node)
