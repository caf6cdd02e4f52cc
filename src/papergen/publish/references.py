"""The bibliography against the journal profile: every entry complete, or a stated reason why not.

journal.yaml ``references: {require: [doi, pmid, all_authors, nlm_abbreviation], level}``.
Each entry of study/references.bib needs a DOI and a PMID, every author (no
"and others") and its journal's NLM abbreviation (``shortjournal``), unless it
states why not in a field ``<rule>_reason`` ("pmid_reason = {JASA is not
indexed in MEDLINE}"). pandoc reads the .bib (as the citations do); the reason
fields, which pandoc drops, are read from the text of the entry.
"""
from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

from papergen.errors import JournalProfileError
from papergen.study import Study

#: rule -> (what is needed, test on pandoc's CSL JSON of one entry)
CHECKS = {
    "doi": ("DOI", lambda e: bool(e.get("DOI"))),
    "pmid": ("PMID", lambda e: bool(e.get("PMID"))),
    "all_authors": ("all authors", lambda e: not any(a.get("literal") == "others" for a in e.get("author", []))),
    "nlm_abbreviation": ("NLM journal abbreviation", lambda e: e.get("type") != "article-journal"
                         or bool(e.get("container-title-short"))),
}
ENTRY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)(?=\n@|\Z)", re.S)


def entries(bib: Path, kept: Path | None = None) -> list[dict]:
    """The .bib as CSL JSON (pandoc, the reader the citations use); read once per content in a running process,
    and kept by its content in ``kept`` (a folder of the build cache) between builds."""
    return copy.deepcopy(_csl_json(bib, bib.read_bytes(), kept))


@functools.lru_cache(maxsize=4)
def _csl_json(bib: Path, data: bytes, kept: Path | None) -> list[dict]:  # watch and preview rebuild with the same .bib
    import hashlib
    import json

    from papergen.atomic import write_bytes
    from papergen.publish.pandoc import read_json

    entry = kept / f"{hashlib.sha256(data).hexdigest()[:32]}.json" if kept is not None else None
    if entry is not None and entry.is_file():
        try:
            return json.loads(entry.read_text(encoding="utf-8"))
        except ValueError:  # damaged: read again
            pass
    found = read_json(bib, "bibtex", "csljson", "bibliography", JournalProfileError, data=data)
    if entry is not None:
        write_bytes(entry, json.dumps(found, ensure_ascii=False).encode("utf-8"))
    return found


def reasons(bib: Path) -> dict[str, dict[str, str]]:
    """key -> {rule: reason} from the entries' ``<rule>_reason = {...}`` fields."""
    out = {}
    for key, body in ENTRY.findall(bib.read_text(encoding="utf-8")):
        found = dict(re.findall(r"(\w+)_reason\s*=\s*\{([^{}]*)\}", body))
        out[key] = {rule: " ".join(text.split()) for rule, text in found.items()}
    return out


def gaps(bib: Path, required: list[str], found: list[dict] | None = None) -> dict[str, list[str]]:
    """key -> what the entry lacks without a stated reason ("PMID", "all authors"); ``found``: entries() already read."""
    unknown = sorted(set(required) - set(CHECKS))
    if unknown:
        raise JournalProfileError(f"references: require: {unknown[0]!r} is not a rule ({', '.join(CHECKS)})")
    stated = reasons(bib)
    out = {}
    for e in entries(bib) if found is None else found:
        lacking = [CHECKS[r][0] for r in required if not CHECKS[r][1](e) and r not in stated.get(e["id"], {})]
        if lacking:
            out[e["id"]] = lacking
    return out


def rows(study: Study, profile: dict, kept: Path | None = None) -> list[tuple]:
    """One (rule, limit, actual, ok, level) row: the entries lacking a required field, each named (``kept``:
    see entries())."""
    spec = profile.get("references") or {}
    required = spec.get("require") or []
    bib = study.paths.bibliography
    if not required or not bib.exists():
        return []
    found = entries(bib, kept)
    lacking, n = gaps(bib, required, found), len(found)
    actual = "; ".join(f"{k}: no {', '.join(v)}" for k, v in lacking.items()) or f"all {n} complete or explained"
    return [("references", ", ".join(CHECKS[r][0] for r in required), actual, not lacking,
                 spec.get("level", "error"))]
