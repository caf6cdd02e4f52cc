"""The title page against the journal profile: every statement the journal requires is there.

journal.yaml ``title_page: {required: [{key, label, source}], level}`` lists the
statements; study.yaml ``statements:`` (or ``facts:``) holds each one's ``text:`` (or, where the
authors have yet to write it, a ``placeholder:`` that says so); the title page
template prints it after its bold label ("**ORCID number:** ..."). A statement
that study.yaml lacks, or that the manuscript does not print, is a broken rule;
placeholders are listed as advisory (the build warns, ``check`` passes).
"""
from __future__ import annotations

import re

from papergen.study import Study

#: the key words' paragraph as the manuscript prints it ("Key Words: a; b; c"), in the DOCX and the AST
KEY_WORDS = re.compile(r"^\s*key\s*words?\s*:\s*(.+)$", re.I)


def key_words(ast: dict) -> list[str]:
    """The key words of the manuscript's pandoc AST, for the PDF's metadata (the DOCX reads its own body)."""
    from papergen.publish.notation import plain

    for block in ast.get("blocks", []):
        if block.get("t") == "Para":
            found = split_key_words(plain(block["c"]))
            if found:
                return found
    return []


def split_key_words(paragraph: str) -> list[str]:
    """["a", "b", "c"] of "Key Words: a; b; c." ([] for any other paragraph)."""
    m = KEY_WORDS.match(paragraph)
    return [k.strip().rstrip(".") for k in m.group(1).split(";") if k.strip()] if m else []


def statements(study: Study) -> dict[str, dict]:
    """study.yaml ``statements:`` (and ``facts:``, e.g. the funding): key -> {"text": ...} or {"placeholder": ...}."""
    facts = {str(k): {"text": str(v.get("text", ""))} for k, v in (study.settings.get("facts") or {}).items()}
    found = study.settings.get("statements") or {}
    return {**facts, **{str(k): (v if isinstance(v, dict) else {"text": str(v)}) for k, v in found.items()}}


def rows(study: Study, profile: dict, labels: set[str]) -> list[tuple]:
    """(rule, limit, actual, ok, level) rows: required statements present; placeholders still to be replaced.

    ``labels``: the bold labels that lead a paragraph of the manuscript ("ORCID number").
    """
    spec = profile.get("title_page") or {}
    required = spec.get("required") or []
    if not required:
        return []
    held = statements(study)
    missing = [r["label"] for r in required if r["key"] not in held or not (held[r["key"]].get("text")
                                                                           or held[r["key"]].get("placeholder"))]
    unprinted = [r["label"] for r in required if r["label"] not in labels and r["label"] not in missing]
    broken = [f"no {m} in study.yaml statements" for m in missing] + [f"{u} not printed" for u in unprinted]
    out = [("title page", f"{len(required)} statements", "; ".join(broken) or "all present", not broken,
                spec.get("level", "error"))]
    placeholders = [r["label"] for r in required if held.get(r["key"], {}).get("placeholder")
                    and not held[r["key"]].get("text")]
    if placeholders:
        out.append(("authors' statements", "written by the authors",
                        f"placeholder: {', '.join(placeholders)}", False, "advisory"))
    return out
