"""The study's references.bib checked before pandoc reads it: present, and no entry key used twice.

pandoc keeps one of two entries with the same key without a word, so a
citation of the first could print the second reference. The keys are found
here by a small scanner of the BibTeX entry heads (``@article{key,``) at the
top level of the file: enough to name both lines, where a full BibTeX parser
(a new dependency) would add nothing; pandoc still parses the file.
"""
from __future__ import annotations

import re
from pathlib import Path

from papergen.errors import StudyLayoutError

_TOKEN = re.compile(r"[{}]|@")
_HEAD = re.compile(r"@\s*([A-Za-z]+)\s*[{(]\s*([^\s,{}()]*)")
#: BibTeX commands that look like entries but hold no reference
NOT_ENTRIES = {"comment", "string", "preamble"}


def entry_keys(text: str) -> list[tuple[str, int]]:
    """(key, line) of every entry, in file order; an ``@`` inside braces (an e-mail in a note) is not an entry."""
    out, depth, line, at = [], 0, 1, 0
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            head = _HEAD.match(text, m.start())
            if head and head.group(1).lower() not in NOT_ENTRIES and head.group(2):
                line += text.count("\n", at, m.start())
                at = m.start()
                out.append((head.group(2), line))
    return out


def check_bibliography(path: Path, shown: str) -> Path:
    """``path`` when it exists and no key names two entries; else a StudyLayoutError naming the file and lines."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise StudyLayoutError(f"{shown}: bibliography not found; the templates' citations ([@key]) are looked up "
                               "there: restore it, or create an empty file if the manuscript cites nothing") from None
    except IsADirectoryError:
        raise StudyLayoutError(f"{shown}: is a folder; the bibliography must be a BibTeX file") from None
    first: dict[str, int] = {}
    for key, line in entry_keys(text):
        if key in first:
            raise StudyLayoutError(f"{shown}:{line}: entry key {key!r} is used twice (lines {first[key]} and {line}); "
                                   "pandoc would keep only one, so a citation could print the other reference: "
                                   "rename or remove one")
        first[key] = line
    return Path(path)
