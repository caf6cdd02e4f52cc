"""The manuscript's notation against its house style: one row per rule, ± defined where it is printed.

Every generated number is printed through papergen.formatting in the study's
house style; what is checked here is the text around them, which the author
typed: a "95% CI" label or a "P=" in another style than the profile's, and a
section that prints a mean ± spread without saying whether ± is SD or SE
(each section is read alone: an abstract, core tip or highlights reader has
not seen the methods).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from papergen.formatting.house import RULES, HouseStyle

PLUS_MINUS = "\u00b1"
#: what defines ± as SD or SE in a section's text: "mean ± SD", "±SD", "± standard error"
DEFINES = {"sd": re.compile(r"\u00b1\s?(SD|standard deviation)\b"), "se": re.compile(r"\u00b1\s?(SE|standard error)\b")}
#: a CI label in any style: "95%CI:", "95% CI,", "95% CI"
CI_LABEL = re.compile(r"\b\d{2}\s?%\s?CI\b[:,]?")
#: a P value in any style: "P = 0.03", "P<.001", "p=0·03"
P_FORM = re.compile(r"(?<![\w-])[Pp]\s?[=<>]\s?\d*[.\u00b7]\d+")


def plain(node, tables: bool = False) -> str:
    """Plain text of inlines or blocks, without citations and footnotes; tables only when ``tables``."""
    if isinstance(node, list):
        return "".join(plain(n, tables) for n in node)
    if not isinstance(node, dict):
        return ""
    t, c = node.get("t"), node.get("c")
    if t == "Str":
        return c
    if t in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if t in ("Cite", "Note", "RawInline", "RawBlock"):
        return ""
    if t in ("Code", "Math"):
        return c[1]
    if t in ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps"):
        return plain(c, tables)
    if t in ("Span", "Div"):
        return plain(c[1], tables)
    if t in ("Link", "Image"):
        return plain(c[1], tables)
    if t == "Quoted":
        return '"' + plain(c[1], tables) + '"'
    if t in ("Header",):
        return plain(c[2], tables)
    if t in ("Para", "Plain"):
        return plain(c, tables) + "\n"
    if t == "Table" and not tables:
        return ""
    if isinstance(c, list):
        return " ".join(plain(x, tables) for x in c)
    return ""


def spans(node) -> list[tuple[str, str]]:
    """(key, text) of every printed value (a pg-value span) in an AST subtree."""
    found = []
    if isinstance(node, list):
        for n in node:
            found += spans(n)
    elif isinstance(node, dict):
        c = node.get("c")
        if node.get("t") == "Span" and "pg-value" in c[0][1]:
            key = dict(c[0][2]).get("data-key", "")
            found.append((key, plain(c[1], tables=True)))
        elif isinstance(c, list):
            found += spans(c)
    return found


def spread_of(ledger: dict, key: str) -> str | None:
    """"sd" or "se": what a value's ± is, from its exact numbers in the ledger."""
    exact = (ledger.get(key) or {}).get("exact") or {}
    return "sd" if "sd" in exact else "se" if "se" in exact else None


def undefined_plus_minus(parts: list, ledger: dict) -> list[str]:
    """ "Abstract (SD)" for each section printing a ± value whose meaning the section never states."""
    missing = []
    for part in parts:
        text = plain(part.blocks, tables=True)
        needed = sorted({spread_of(ledger, key) for key, shown in spans(part.blocks) if PLUS_MINUS in shown} - {None})
        gaps = [kind.upper() for kind in needed if not DEFINES[kind].search(text)]
        if gaps:
            missing.append(f"{part.name or 'title page'} ({', '.join(gaps)})")
    return missing


def foreign_forms(text: str, style: HouseStyle) -> list[str]:
    """CI labels and P values in the text that the house style does not write ("95% CI" under "95%CI:").

    Labels are compared without the punctuation after them, which the prose may set ("95% CI (Wald)").
    """
    core = lambda label: re.sub(r"\d+", "N", label.strip().rstrip(":,").strip())  # noqa: E731
    want_ci = core(style.ci.format(level=95, interval=""))
    space = " " if style.p_spaces else ""
    zero = "0" if style.p_leading_zero else ""
    want_p = re.compile(rf"{re.escape(style.p_label)}{space}[=<>]{space}{zero}{re.escape(style.decimal)}\d")
    found = {m.group(0).strip().rstrip(":,") for m in CI_LABEL.finditer(text) if core(m.group(0)) != want_ci}
    found |= {m.group(0) for m in P_FORM.finditer(text) if not want_p.match(m.group(0))}
    return sorted(found)


def rows(style: HouseStyle, ast: dict, parts: list, ledger_path: Path) -> list[tuple[str, str, str, bool]]:
    """(rule, limit, actual, ok) for the journal-profile table: each house-style rule, then the checks."""
    out = [(f"numbers: {RULES[r].split(' (')[0]}", style.rule_text(r),
            "unconfirmed" if r in style.unconfirmed else "as the journal's source", True) for r in RULES]
    foreign = foreign_forms(plain(ast["blocks"], tables=True), style)
    out.append(("notation", f"only {style.name} forms", "; ".join(foreign[:4]) if foreign else "one style throughout",
                not foreign))
    if style.uses_plus_minus:
        ledger = json.loads(ledger_path.read_text(encoding="utf-8")).get("values", {}) if ledger_path.exists() else {}
        missing = undefined_plus_minus(parts, ledger)
        out.append((f"{PLUS_MINUS} defined", "each section printing it", "undefined in " + "; ".join(missing)
                    if missing else "every section", not missing))
    return out
