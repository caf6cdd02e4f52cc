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
