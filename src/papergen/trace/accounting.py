"""Number accounting: every numeral in the journal's text is a generated value or structure.

Given the plain text of the built DOCX or PDF and the ledger, each numeral
must lie inside a text some value printed (its text, a part, or what a place
printed), inside a ``literal("...")`` of a template (digits that are not
data), or be structure: a citation marker such as [4–8], or a number of the
reference list (entry numbers and the journal, year, volume, pages, DOI and
PMID of the bibliography). Whatever is left was typed by hand somewhere.
PDF page numbers are removed page by page first (:func:`strip_page_numbers`).
"""
from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from papergen.errors import ExportError
from papergen.trace.explain import printed_texts

NUMERAL = re.compile(r"\d+(?:[.,]\d+)*")
CITATION = re.compile(r"\[(\d+(?:\s*[,–-]\s*\d+)*)\]")
LITERAL = re.compile(r"""literal\(\s*(?:"([^"]*)"|'([^']*)')\s*\)""")
#: pandoc's smart punctuation: curly quotes in the output for straight quotes in the ledger
SMART = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


@dataclass(frozen=True)
class Unaccounted:
    """A numeral no value printed and no structure explains, with the text around it."""

    numeral: str
    context: str

    def __str__(self) -> str:
        return f"{self.numeral!r} in \"…{self.context}…\""


@dataclass(frozen=True)
class ReferenceList:
    """What may be numeric in the reference list: its heading, entry count and the bibliography's digits."""

    heading: str
    count: int
    digits: frozenset = field(default_factory=frozenset)


def unaccounted(text: str, values: dict, *, literals=(), references: ReferenceList | None = None,
                width: int = 40, figures=()) -> list[Unaccounted]:
    """Every numeral of ``text`` that is neither inside a printed value nor structure, in order.

    ``figures``: the text each vector figure carries (its axes' ticks, its at-risk table), which a
    PDF that embeds the figures' PDFs shows among its own text: structure drawn by the figure code.
    """
    text = " ".join(text.translate(SMART).split())
    squeezed, where = _squeeze(text)
    covered = []
    phrases = {p for e in values.values() for p in printed_texts(e)} | set(literals) | set(figures)
    for phrase in phrases:
        p = "".join(phrase.translate(SMART).split())
        if not re.search(r"\d", p):
            continue
        start = squeezed.find(p)
        while start >= 0:
            covered.append((where[start], where[start + len(p) - 1] + 1))
            start = squeezed.find(p, start + 1)
    region = _reference_region(text, values, references)
    n_refs = references.count if references else 0
    for m in CITATION.finditer(text):
        if all(int(n) <= n_refs for n in re.findall(r"\d+", m.group(1))):
            covered.append(m.span())
    out = []
    for m in NUMERAL.finditer(text):
        a, b = m.span()
        if any(s <= a and b <= e for s, e in covered):
            continue
        if region[0] <= a < region[1] and _is_reference_numeral(m.group(), references):
            continue
        out.append(Unaccounted(m.group(), text[max(0, a - width):b + width]))
    return out


def _squeeze(text: str) -> tuple[str, list[int]]:
    """The text without whitespace, and each kept character's index in ``text`` (line breaks differ by format)."""
    kept = [(i, c) for i, c in enumerate(text) if not c.isspace()]
    return "".join(c for _, c in kept), [i for i, _ in kept]


def _reference_region(text: str, values: dict, refs: ReferenceList | None) -> tuple[int, int]:
    """From the reference list's heading to the first table or figure caption after it (or the end)."""
    if refs is None or refs.heading not in text:
        return (0, 0)
    start = text.rfind(refs.heading)
    labels = [e.get("text", "") for k, e in values.items() if k.startswith("ref.")]
    ends = [text.find(label, start) for label in labels if label and text.find(label, start) >= 0]
    return (start, min(ends, default=len(text)))


def _is_reference_numeral(numeral: str, refs: ReferenceList) -> bool:
    runs = re.findall(r"\d+", numeral)
    return all(r in refs.digits or (r.isdigit() and 1 <= int(r) <= refs.count) for r in runs)


# --- what is structure ------------------------------------------------------------

def literals_in_templates(template_dir: Path) -> list[str]:
    """The texts of ``literal("...")`` in every template: digits the author marked as not data."""
    out = []
    for path in sorted(Path(template_dir).rglob("*.j2")):
        out += [a or b for a, b in LITERAL.findall(path.read_text(encoding="utf-8"))]
    return sorted(set(out))


def reference_list(bibliography: Path, template_dir: Path) -> ReferenceList:
    """Heading of the template holding ``{#refs}``, entry count and digit runs of the bibliography (read by pandoc)."""
    from papergen.publish.pandoc import pandoc_path

    heading = "REFERENCES"
    for path in sorted(Path(template_dir).rglob("*.j2")):
        src = path.read_text(encoding="utf-8")
        if "{#refs}" in src:
            m = re.search(r"^#\s+(.+?)\s*$", src, re.M)
            heading = m.group(1) if m else heading
    proc = subprocess.run([str(pandoc_path()), str(bibliography), "--from=bibtex", "--to=csljson"],
                          capture_output=True, encoding="utf-8", check=False)
    if proc.returncode != 0:
        raise ExportError(f"{bibliography}: pandoc cannot read the bibliography: {proc.stderr.strip()[:200]}",
                          tool="pandoc")
    entries = json.loads(proc.stdout)
    digits = set(re.findall(r"\d+", json.dumps(entries, ensure_ascii=False)))
    return ReferenceList(heading=heading, count=len(entries), digits=frozenset(digits))


def strip_page_numbers(pages: list[str]) -> list[str]:
    """Each page's text without its page number: the footer numeral equal to the page's position, last on the page."""
    return [re.sub(rf"(?:^|\s){i}\s*$", "", page.rstrip()) for i, page in enumerate(pages, start=1)]
