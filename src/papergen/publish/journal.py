"""Check the rendered manuscript against the journal profile (study/journal.yaml, read by papergen.study).

The manuscript Markdown is read with pandoc (``-t json``), so headings, bold
labels ("**Core Tip:**"), citations and tables are what pandoc says they are.
Words are counted as a word processor does, on the text without markup:
whitespace-separated tokens that contain a letter or digit (citations and
footnotes are not counted). Each rule gives one row: rule, limit, actual, ok.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from papergen.errors import JournalProfileError
from papergen.formatting.house import HouseStyle
from papergen.publish import figure_size
from papergen.publish.notation import plain
from papergen.study import Study


@dataclass
class Rule:
    """One line of the profile table."""

    rule: str
    limit: str
    actual: str
    ok: bool
    level: str = "error"   # "error" fails check and pack; "advisory" is reported only

    def message(self) -> str:
        return f"journal profile: {self.rule}: {self.actual} (limit: {self.limit})"


@dataclass
class Part:
    """A stretch of the manuscript that starts at a level-1 heading or a bold-labelled paragraph."""

    name: str
    kind: str                 # "heading", "label" or "start"
    blocks: list


# --- reading the manuscript ---------------------------------------------------------

def read_ast(markdown: Path) -> dict:
    """The pandoc AST of the rendered manuscript."""
    from papergen.publish.pandoc import read_json

    return read_json(markdown, "markdown", "json", "manuscript", JournalProfileError)


def text(node) -> str:
    """Plain text of inlines or blocks, without citations, footnotes and tables (papergen.publish.notation.plain)."""
    return plain(node)


def words(s: str) -> int:
    return sum(1 for w in s.split() if any(ch.isalnum() for ch in w))


def _flat(blocks: list) -> list:
    out = []
    for b in blocks:
        if b.get("t") == "Div":
            out += _flat(b["c"][1])
        else:
            out.append(b)
    return out


def _label(block) -> str | None:
    """"Core Tip" for a paragraph that starts with **Core Tip:**, else None."""
    if block.get("t") not in ("Para", "Plain") or not block["c"] or block["c"][0].get("t") != "Strong":
        return None
    lead = text(block["c"][0]).strip()
    return lead[:-1].strip() if lead.endswith(":") else None


def outline(ast: dict, labels: set[str]) -> list[Part]:
    """The manuscript as parts: each level-1 heading, and each paragraph led by one of ``labels``, starts one."""
    parts = [Part("", "start", [])]
    for b in _flat(ast["blocks"]):
        if b.get("t") == "Header" and b["c"][0] == 1:
            parts.append(Part(text(b).strip(), "heading", []))
        elif _label(b) in labels:
            parts.append(Part(_label(b), "label", [{"t": "Para", "c": b["c"][1:]}]))
        else:
            parts[-1].blocks.append(b)
    return parts


# --- the rules ------------------------------------------------------------------------

def _find(parts: list[Part], spec: dict) -> int | None:
    for i, p in enumerate(parts):
        if ("heading" in spec and p.kind == "heading" and p.name == spec["heading"]) or \
           ("label" in spec and p.kind == "label" and p.name == spec["label"]):
            return i
    return None


def _range_rule(name: str, spec: dict | None, actual: int, unit: str) -> Rule | None:
    if not spec:
        return None
    lo, hi = spec.get("min"), spec.get("max")
    limit = f"{lo}-{hi}" if lo is not None and hi is not None else (f"<= {hi}" if hi is not None else f">= {lo}")
    ok = (lo is None or actual >= lo) and (hi is None or actual <= hi)
    return Rule(name, f"{limit} {unit}".strip(), f"{actual} {unit}".strip(), ok, spec.get("level", "error"))


def evaluate(profile: dict, ast: dict, figures: list[Path], csl_name: str) -> list[Rule]:
    """Every rule of the profile applied to the manuscript; one Rule per line of the table."""
    specs = profile.get("sections") or []
    labels = {s["label"] for s in specs if "label" in s}
    parts = outline(ast, labels)
    limits = profile.get("limits") or {}
    rules: list[Rule] = []

    found = [(s["name"], _find(parts, s)) for s in specs]
    missing = [n for n, i in found if i is None]
    present = [(n, i) for n, i in found if i is not None]
    disorder = [f"{b} comes before {a}" for (a, i), (b, j) in zip(present, present[1:]) if j < i]
    actual = "all, in order" if not missing and not disorder else "; ".join(
        ([f"missing {', '.join(missing)}"] if missing else []) + disorder)
    if specs:
        rules.append(Rule("required sections", f"{len(specs)} in order", actual, not missing and not disorder))

    title = next((p.name for p in parts if p.kind == "heading"), "")
    rule = _range_rule("title", limits.get("title_words"), words(title), "words")
    rules += [rule] if rule else []

    abstract = next((p for p in parts if p.kind == "heading" and p.name == _heading_of(specs, "Abstract")), None)
    heads = [text(b).strip() for b in (abstract.blocks if abstract else [])
             if b.get("t") in ("Para", "Plain") and len(b["c"]) == 1 and b["c"][0].get("t") == "Strong"]
    if profile.get("abstract_headings"):
        want = list(profile["abstract_headings"])
        rules.append(Rule("abstract headings", "/".join(want), "/".join(heads) or "none", heads == want))
    body = "".join(text(b) for b in (abstract.blocks if abstract else [])
                   if text(b).strip() not in heads)
    rule = _range_rule("abstract", limits.get("abstract_words"), words(body), "words")
    rules += [rule] if rule else []

    core = next((p for p in parts if p.kind == "label" and p.name == _label_of(specs, "Core Tip")), None)
    rule = _range_rule("core tip", limits.get("core_tip_words"), words(text(core.blocks)) if core else 0, "words")
    rules += [rule] if rule else []

    kw = next((p for p in parts if p.kind == "label" and p.name == _label_of(specs, "Key Words")), None)
    terms = [t for t in text(kw.blocks).replace("\n", " ").strip().rstrip(".").split(";") if t.strip()] if kw else []
    rule = _range_rule("key words", limits.get("key_words"), len(terms), "")
    rules += [rule] if rule else []

    spec = limits.get("figure_dpi")
    if spec:
        dpis = [_dpi(f) for f in figures]
        low = min(dpis) if dpis else None
        rules.append(Rule("figure resolution", f">= {spec['min']} dpi",
                          f"{low:g} dpi (lowest of {len(dpis)})" if dpis else "no figures",
                          low is None or low >= spec["min"], spec.get("level", "error")))

    style = profile.get("reference_style")
    if style:
        want = style["name"] if isinstance(style, dict) else str(style)
        level = style.get("level", "error") if isinstance(style, dict) else "error"
        rules.append(Rule("reference style", want, csl_name, Path(want).stem == Path(csl_name).stem, level))
    return rules


def _heading_of(specs, name):
    return next((s.get("heading") for s in specs if s["name"] == name), name)


def _label_of(specs, name):
    return next((s.get("label") for s in specs if s["name"] == name), name)


#: the smallest text papergen's figures draw, in pt at the drawn size (publish.figures.SMALLEST_FONT_PT; not
#: imported from there, which loads numpy, so that a build with nothing to do stays light; a test keeps them equal)
FIGURE_TEXT_PT = 9


def figure_rules(style: HouseStyle, profile: dict, ast: dict, figures: list[Path]) -> list[Rule]:
    """Each figure drawn at a journal column's width and placed at it; its smallest text in print.

    ``figures: {width_cm, min_font_pt}`` in journal.yaml (the manuscript's text width and the least
    text size); the columns are the house style's. A figure's drawn width is its PNG's pixels over its
    dpi; it is printed at the column whose width it was drawn at (else at the text width), which
    scales its text by the ratio.
    """
    from PIL import Image

    spec = profile.get("figures")
    if not spec or not figures:
        return []
    level, least = spec.get("level", "error"), float(spec.get("min_font_pt", 6))
    text_cm = figure_size.text_width_cm(profile)
    placed = _placed_widths(ast)
    shown, wrong, sizes = [], [], []
    for f in figures:
        with Image.open(f) as im:
            drawn_cm = im.size[0] / (_dpi(f) or 72.0) * 2.54
        column = figure_size.column_of(style, drawn_cm)
        printed_cm = figure_size.column_width_cm(style, 1 if column == "single" else 2) if column else text_cm
        sizes.append(FIGURE_TEXT_PT * printed_cm / drawn_cm)
        want = f"{round(min(printed_cm, text_cm), 2):g}cm"
        at = placed.get(f"figures/{f.name}", "not placed")
        shown.append(f"{f.stem} {column or 'no column'} ({drawn_cm:.1f} cm), placed at {at}")
        if column is None or at != want:
            hint = "{width={{ figures." + f.stem + ".width }}}"
            wrong.append(f"{f.stem}: drawn {drawn_cm:.1f} cm, placed at {at} (want {want}; template: {hint})")
    columns = style.figure_columns_cm
    rules = [Rule("figure widths", f"one column {columns['single']:g} cm or two {columns['double']:g} cm, "
                  f"placed at most {text_cm:g} cm" + (" (unconfirmed)" if "figure_columns_cm" in style.unconfirmed
                                                       else ""),
                  "; ".join(wrong or shown), not wrong, level)]
    smallest = min(sizes)
    rules.append(Rule("figure text", f">= {least:g} pt in print", f"{smallest:.1f} pt (smallest, at its column's width)",
                      smallest >= least, level))
    return rules


def _placed_widths(ast: dict) -> dict[str, str]:
    """image path -> the width attribute the manuscript gives it ("15.9cm", "100%", "none")."""
    from papergen.publish.astnodes import nodes
    from papergen.publish.document import blocks_with

    return {n["c"][2][0]: dict(n["c"][0][2]).get("width", "none") for n in nodes(blocks_with(ast, "Image"), "Image")}


def _figure_font_rule(font: str, pdfs: list[Path]) -> Rule:
    """The fonts the figures' PDFs embed against the body's (an advisory: a font not installed is replaced)."""
    import re

    used = sorted({m.group(1).decode("latin-1") for pdf in pdfs
                   for m in re.finditer(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?([^\s/\[\]<>()]+)", pdf.read_bytes())})
    ok = bool(used) and all(name.replace("-", " ").startswith(font) or name.startswith(font.replace(" ", ""))
                            for name in used)
    shown = ", ".join(used) or "none embedded"
    return Rule("figure fonts", f"{font} (the body's)", shown if ok else f"{shown} ({font} is not installed here)",
                ok, "advisory")


def _dpi(path: Path) -> float:
    from PIL import Image

    with Image.open(path) as im:
        dpi = im.info.get("dpi")
    # PNG stores pixels per metre, so 300 dpi reads back as 299.9994: round to whole dots per inch
    return float(round(min(dpi))) if dpi else 72.0  # none recorded: what a word processor assumes


# --- build stage and command helpers --------------------------------------------------

def check(study: Study, out, ast: dict | None = None, kept: Path | None = None) -> list[Rule]:
    """The profile's rules applied to a built manuscript folder (OutputPaths); [] without a profile.

    ``ast``: the manuscript already read by papergen.publish.document (the build passes it; ``check`` reads
    the Markdown); ``kept``: a folder of the build cache keeping the bibliography as pandoc reads it.
    """
    profile = study.journal_profile
    rules = raw_markup_rules(study)
    if profile is None:
        return rules
    from papergen.publish import front_matter, notation, references

    figures = sorted(Path(out.figures).glob("*.png")) if Path(out.figures).exists() else []
    ast = ast or read_ast(out.markdown)
    rules = evaluate(profile, ast, figures, study.csl_name) + rules
    rules += figure_rules(study.house_style, profile, ast, figures)
    parts = outline(ast, {s["label"] for s in profile.get("sections") or [] if "label" in s})
    rules += [Rule(*row) for row in notation.rows(study.house_style, ast, parts, Path(out.ledger))]
    labels = {label for b in _flat(ast["blocks"]) if (label := _label(b))}
    rules += [Rule(*row) for row in front_matter.rows(study, profile, labels)]
    rules += [Rule(*row) for row in references.rows(study, profile, kept)]
    font = study.docx_style.get("font")
    if font and figures and profile.get("figures"):
        rules.append(_figure_font_rule(font, [f.with_suffix(".pdf") for f in figures if f.with_suffix(".pdf").exists()]))
    return rules


def raw_markup_rules(study: Study) -> list[Rule]:
    """An advisory row for each raw format study.yaml allows (``allow_raw:``): it reaches the output unchecked."""
    return [Rule(f"raw {name} markup", "none", f"allowed by {study.paths.rel(study.paths.settings)} allow_raw, "
                 "passed into the output verbatim", False, "advisory") for name in sorted(study.allow_raw)]


def format_table(rules: list[Rule], title: str) -> str:
    """The short table printed on every build."""
    if not rules:
        return "    no journal profile (study/journal.yaml): nothing checked"
    rows = [("rule", "limit", "actual", "ok")] + [
        (r.rule, r.limit, _short(r.actual), "yes" if r.ok else ("NO" if r.level == "error" else "advisory"))
        for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"    journal profile: {title}"]
    for row in rows:
        lines.append("    " + "  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3])
    return "\n".join(lines)


def _short(text: str, width: int = 70) -> str:
    """A long actual (every placeholder named) cut for the table; the build report prints it whole."""
    return text if len(text) <= width else text[:width - 3] + "..."


def report(study: Study, out, ast: dict, echo=print, kept: Path | None = None) -> list[str]:
    """The build stage: print the table (and keep it in the output); return every broken rule as a line."""
    rules = check(study, out, ast, kept)
    table = format_table(rules, study.journal_name)
    out.journal_table.write_text(table + "\n", encoding="utf-8")
    echo(table)
    return [("" if r.level == "error" else "advisory: ") + r.message() for r in rules if not r.ok]


def echo_last(out, echo=print) -> None:
    """A build with nothing to do prints the table the last build printed."""
    if out.journal_table.exists():
        echo(out.journal_table.read_text(encoding="utf-8").rstrip("\n"))
