"""Numbers that must agree do: no statistic declared twice, and every sum the plan declares holds.

Run on every build right after the analysis plan (``Analysis.require_sum`` declares the sums).
"""
from __future__ import annotations

import json

from papergen.errors import ConsistencyError


def duplicate_values(registry) -> list[str]:
    """Two keys for one statistic: same function, same exact numbers, same data (a duplicate declaration).

    Only values computed from measured data (every input carries a data fingerprint)
    are compared, so two parameters that happen to be equal are not reported.
    """
    seen: dict[tuple, object] = {}
    out = []
    for v in registry:
        if not v.inputs or not all(s.digest for s in v.inputs) or "function" not in v.method:
            continue
        sig = (v.method["function"], json.dumps(v.exact, sort_keys=True, default=str),
               tuple((s.file, s.columns, s.rows, s.filter, s.digest) for s in v.inputs))
        first = seen.setdefault(sig, v)
        if first is not v:
            out.append(f"{v.declared_at}: value {v.key!r} is the same statistic of the same data as "
                       f"{first.key!r} ({first.declared_at}); declare it once and print that value everywhere")
    return out


def identity_violations(identities) -> list[str]:
    """Every declared sum (Analysis.require_sum) that does not hold, one line each."""
    from papergen.analysis.statistics import Measure  # numpy and pandas: not for a build whose analysis is cached

    out = []
    for ident in identities:
        items = [ident.total] + list(ident.parts)
        if all(isinstance(x, Measure) for x in items):
            out += _measure_violation(ident)
        elif any(isinstance(x, Measure) for x in items):
            out.append(f"{ident.declared_at}: require_sum mixes per-subject measures and counts; "
                       "compare counts with counts or measures with measures")
        else:
            out += _count_violation(ident)
    return out


def _count(x):
    v = getattr(x, "value", x)  # Printed text -> the Value it came from
    n = v.count if v.count is not None else (v.exact or {}).get("n")
    return v, n


def _count_violation(ident) -> list[str]:
    total, t = _count(ident.total)
    parts = [_count(p) for p in ident.parts]
    for v, n in [(total, t)] + parts:
        if not isinstance(n, int):
            return [f"{ident.declared_at}: require_sum: value {v.key!r} ({v.declared_at}) is not a count"]
    s = sum(n for _, n in parts)
    if t == s:
        return []
    names = " + ".join(v.key for v, _ in parts) or "nothing"
    places = ", ".join(dict.fromkeys(v.declared_at for v, _ in parts))
    return [f"{ident.declared_at}: {total.key} = {t} ({total.declared_at}) but {names} = {s} ({places}): "
            f"{ident.description}"]


def _measure_violation(ident) -> list[str]:
    total = ident.total.series
    parts = sum(p.series.reindex(total.index).fillna(0) for p in ident.parts)
    bad = total.index[(total.fillna(0) - parts).abs().to_numpy() > 1e-9]
    if len(bad) == 0:
        return []
    first = bad[0]
    where = lambda m: f"{m.source.file} {', '.join(m.source.columns)}"  # noqa: E731
    names = " + ".join(p.label for p in ident.parts)
    return [f"{ident.declared_at}: {ident.total.label} ({where(ident.total)}) differs from {names} "
            f"({'; '.join(dict.fromkeys(where(p) for p in ident.parts))}) for {len(bad)} of {len(total)} subjects, "
            f"first {first}: {total[first]:g} vs {parts[first]:g}: {ident.description}"]


def check_consistency(analysis) -> list[str]:
    """The build stage after the analysis plan: raise ConsistencyError listing every problem."""
    problems = duplicate_values(analysis.registry) + identity_violations(getattr(analysis, "identities", []))
    if problems:
        raise ConsistencyError("\n".join(problems))
    return problems
