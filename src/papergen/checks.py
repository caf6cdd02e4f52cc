"""Guardrails for authors: no hand-typed numbers in templates, and numbers that must agree do.

Run on every build (the lint before any data is read, the consistency checks
right after the analysis plan) and alone with ``python build.py check``, which
also checks the manuscript against the journal profile (papergen.journal).

The lint reads each template with Jinja's own lexer, so prose, ``{{ }}``
expressions, ``{% %}`` statements and ``{## ##}`` comments are told apart as
Jinja itself tells them apart. In prose it ignores pandoc citations
(``[@key]``), attributes (``{#id .class width=100%}``), link targets and URLs,
and reports:

* any digit (``34.1``, ``2015``, ``Table 1``);
* English number words: cardinals (zero to nineteen, the tens, hundred,
  thousand, million, billion, dozen) and ordinals from *second* up (second,
  third ... twentieth ... hundredth); *first* only when it counts time
  ("first postoperative day", "first year"), because "first choice" and "came
  first" are ordinary English. Multiplicatives (once, twice, both, single,
  half) are not reported.

Inside ``{{ }}`` and ``{% %}`` it reports number literals and strings with
digits, except the text of ``literal("...")``, the marker for digits that are
not data (``{{ literal("Ki-67") }}``).
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from papergen.errors import ConsistencyError, HandTypedNumberError

_CARDINALS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
              "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
              "hundred thousand million billion dozen").split()
_ORDINALS = ("second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
             "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth "
             "fiftieth sixtieth seventieth eightieth ninetieth hundredth thousandth").split()
#: the number words the lint reports (see the module docstring for the reasoning)
NUMBER_WORDS = tuple(_CARDINALS + _ORDINALS)

_WORD = "(?:" + "|".join(NUMBER_WORDS) + ")"
_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)*"                                             # 34.1, 2015, 1,000
    rf"|\b{_WORD}(?:-{_WORD})*\b"                                  # eleven, twenty-one
    r"|\bfirst(?=\s+(?:(?:post|pre)?operative\s+)?(?:day|night|week|month|year|hour|visit|cycle)s?\b)",
    re.IGNORECASE)

#: prose that is structure, not text: blanked (same length) before numbers are looked for
_NOT_PROSE = re.compile(
    r"\[[^\[\]\n]*@[^\[\]\n]*\]"                  # pandoc citation [@key; @key2, p. 33]
    r"|(?<![\w.])@[A-Za-z][\w:.#$%&+?<>~/-]*"     # in-text citation @key
    r"|\{[^{}\n]*\}"                              # pandoc attributes {#id .class width=100%}
    r"|\]\([^)\n]*\)"                             # link and image targets ](figures/os.png)
    r"|<?(?:https?|ftp)://[^\s>)\]]+>?|\bdoi:\S+|\bwww\.\S+")   # URLs and DOIs

FIX = 'print a value from the analysis plan, e.g. {{{{ {key} }}}}, or mark non-data with {{{{ literal("{text}") }}}}'


@dataclass(frozen=True)
class Finding:
    """One hand-typed number: where it is and what it is."""

    template: str   # as shown to the author, e.g. templates/results.md.j2
    line: int
    column: int
    text: str
    where: str      # "prose" or "expression"
    hint: str = "key"

    def __str__(self) -> str:
        if self.where == "syntax":  # a comment that closes early: its rest would print in the manuscript
            return f"{self.template}:{self.line}:{self.column}: {self.text}"
        what = "typed number" if self.where == "prose" else "number literal in an expression"
        return f"{self.template}:{self.line}:{self.column}: {what} {self.text!r}: " + FIX.format(key=self.hint, text=self.text)


# --- template lexing --------------------------------------------------------------

def template_env():
    """A Jinja environment with the renderer's delimiters ({## ##} comments), for lexing only."""
    from papergen.render import Renderer

    return Renderer(Path("."), {}).env


def tokens(env, source: str, name: str = "template"):
    """Jinja's tokens of ``source`` as (kind, text, offset); offset is the token's index in source."""
    pos = 0
    for _, kind, text in env.lexer.tokeniter(source, name):
        at = source.find(text, pos) if text else pos
        if at < 0:  # Jinja dropped text (lstrip_blocks) only before a tag, never inside one
            at = pos
        yield kind, text, at
        pos = at + len(text)


def _line_col(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def lint_source(source: str, shown: str, env=None, hints: dict | None = None) -> list[Finding]:
    """Every hand-typed number in one template's text."""
    env = env or template_env()
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # as Jinja reads it; lines stay the same
    out, recent = [], []
    for kind, text, at in tokens(env, source, shown):
        if kind == "comment" and "{##" in text:
            out.append(_syntax(source, shown, at + text.index("{##"), "a comment inside a comment: the first '##}' "
                               "ends both, and the rest prints in the manuscript; do not write '{##' in a comment"))
        if kind == "data" and "##}" in text:
            out.append(_syntax(source, shown, at + text.index("##}"), "'##}' outside a comment (an earlier comment "
                               "ended early?): it would print in the manuscript"))
        if kind == "data":
            masked = _NOT_PROSE.sub(lambda m: " " * len(m.group()), text)
            for m in _NUMBER.finditer(masked):
                out.append(_finding(source, shown, at + m.start(), m.group(), "prose", hints))
        elif kind in ("integer", "float") or (kind == "string" and re.search(r"\d", text)):
            if not (kind == "string" and recent[-2:] == [("name", "literal"), ("operator", "(")]):
                out.append(_finding(source, shown, at, text.strip("\"'") if kind == "string" else text,
                                    "expression", hints))
        if kind not in ("whitespace",):
            recent = (recent + [(kind, text)])[-2:]
    return out


def _syntax(source, shown, offset, message) -> Finding:
    line, col = _line_col(source, offset)
    return Finding(shown, line, col, message, "syntax")


def _finding(source, shown, offset, text, where, hints) -> Finding:
    line, col = _line_col(source, offset)
    ref = re.search(r"\b(table|figure)\s+$", source[max(0, offset - 8):offset], re.IGNORECASE)
    lookup = f"{ref[1]} {text}".lower() if ref else text.lower()
    return Finding(shown, line, col, text, where, (hints or {}).get(lookup, "key"))


def lint_templates(template_dir: Path, shown_prefix: str = "templates", hints: dict | None = None) -> list[Finding]:
    """Hand-typed numbers in every ``*.j2`` template under ``template_dir``."""
    env = template_env()
    out = []
    for path in sorted(Path(template_dir).rglob("*.j2")):
        shown = f"{shown_prefix}/{path.relative_to(template_dir).as_posix()}"
        out += lint_source(path.read_text(encoding="utf-8"), shown, env, hints)
    return out


def hints_from_ledger(ledger_path: Path) -> dict[str, str]:
    """Typed text -> the value that prints it, from the last build's numbers.json (if any).

    Lets the error say "e.g. {{ os.mean }}" for a typed "34.1" and
    "{{ tables.baseline.ref }}" for "Table 1". Text that more than one value prints (a small
    count, "eleven") gets no hint: a guess would mislead.
    """
    from papergen.formatting import number_to_words

    from papergen.errors import LedgerError
    from papergen.ledger import read_ledger

    try:
        values = read_ledger(ledger_path)["values"]
    except LedgerError:  # no usable last build: the error simply gives no hint
        return {}
    found: dict[str, list[str]] = {}
    for key, v in values.items():
        exact = v.get("exact") or {}
        m = re.fullmatch(r"ref\.(table|figure)_(\w+)", key)
        if m:
            found.setdefault(str(v.get("text", "")).lower(), []).append(f"{m[1]}s.{m[2]}.ref")
            continue
        if key.startswith(("software.", "figure.")):
            continue
        if isinstance(exact.get("n"), int) and "of" in exact:
            found.setdefault(number_to_words(exact["n"]).lower(), []).append(f"{key}.words()")
        for text in [v.get("text", "")] + list((v.get("parts") or {}).values()):
            for tok in set(re.findall(r"\d+(?:[.,]\d+)*", str(text))):
                found.setdefault(tok, []).append(key)
    return {t: keys[0] for t, keys in found.items() if len(set(keys)) == 1}


def assert_no_typed_numbers(template_dir: Path, ledger_path: Path | None = None,
                            shown_prefix: str = "templates") -> None:
    """The build stage: raise HandTypedNumberError listing every finding, one line each."""
    found = lint_templates(template_dir, shown_prefix)
    if found and ledger_path:  # the hints cost a read of the last ledger: only when there is something to fix
        found = lint_templates(template_dir, shown_prefix, hints_from_ledger(ledger_path))
    if found:
        raise HandTypedNumberError("\n".join(str(f) for f in found))


# --- consistency -----------------------------------------------------------------

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
    from papergen.statistics import Measure

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


# --- freshness (shared by check and pack) ---------------------------------------

def stale_reason(paths, settings: dict | None = None) -> str:
    """Why manuscript/ must be rebuilt ("" if it is up to date with data/, study/ and templates/)."""
    from papergen.build import build_metadata, read_settings
    from papergen.paths import OutputPaths

    settings = settings or read_settings(paths)
    out = OutputPaths(paths.manuscript, settings["output_name"])
    for f in (out.docx, out.pdf, out.ledger, out.strobe_docx):
        if not f.exists():
            return f"{paths.rel(f)} is missing"
    try:
        built = json.loads(out.ledger.read_text(encoding="utf-8"))["build"]["inputs"]
    except (OSError, ValueError, KeyError):
        return "numbers.json is unreadable"
    now = build_metadata(paths)["inputs"]
    changed = sorted(k for k in set(built) | set(now) if built.get(k) != now.get(k))
    return f"{changed[0]} changed since the last build" if changed else ""


def ensure_built(paths, echo=print) -> tuple[object, bool]:
    """manuscript/'s OutputPaths, building it first when it is missing or stale; and whether it built."""
    from papergen.build import build_manuscript, read_settings
    from papergen.paths import OutputPaths

    settings = read_settings(paths)
    reason = stale_reason(paths, settings)
    if not reason:
        return OutputPaths(paths.manuscript, settings["output_name"]), False
    echo(f"building first: {reason}")
    result = build_manuscript(paths.root, echo=echo)
    return result.outputs, True


# --- the command -----------------------------------------------------------------

def run(paths, argv: list[str]) -> int:
    """``python build.py check``: lint, build if stale, then the journal profile and STROBE report."""
    from papergen import journal, strobe
    from papergen.errors import JournalProfileError

    parser = argparse.ArgumentParser(prog="python build.py check",
                                     description="Lint the templates and check the manuscript against the journal profile.")
    parser.parse_args(argv)
    print(f"papergen: checking {paths.root.name}")
    assert_no_typed_numbers(paths.templates, paths.manuscript / "numbers.json")
    print("  templates: no hand-typed numbers")
    out, built = ensure_built(paths, echo=print)
    rows = journal.check(paths, out)
    if not built:  # a build prints the table itself
        print(journal.format_table(rows, journal.profile_name(paths)))
    errors = [r for r in rows if not r.ok and r.level == "error"]
    advisories = [r for r in rows if not r.ok and r.level != "error"]
    for r in advisories:
        print(f"  advisory: {r.message()}")
    missing = strobe.missing_items(paths)
    if missing:
        print(f"  advisory: STROBE items no template declares: {', '.join(missing)}")
    if errors:
        raise JournalProfileError("\n".join(r.message() for r in errors))
    notes = len(advisories) + bool(missing)
    print(f"check passed: no errors ({len(rows)} journal rules checked, {notes} advisories)")
    return 0
