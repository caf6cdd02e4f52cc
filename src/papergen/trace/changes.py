"""The change report for the response to reviewers: changes.html and changes.docx.

Each changed number is shown in its sentence, the old text struck through and
the new text highlighted, grouped by manuscript section; then the prose
paragraphs that changed, as a word-level diff (difflib on word tokens, each
printed value one token). Written from Markdown by pandoc: ``~~old~~`` is a
strikeout, ``[new]{.mark}`` a highlight (``<mark>`` in HTML); in the DOCX they
become Word's tracked deletions and insertions (papergen.trace.tracked).
"""
from __future__ import annotations

import difflib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from papergen.trace.tracked import track_changes
from papergen.write.render import MD_SPECIAL
from papergen.write.sentences import occurrences, pieces, plain, unit_text, units

NOT_PRINTED = "Not printed in the text"
#: change reports kept in the build cache, most recent first
KEPT_REPORTS = 8


@dataclass(frozen=True)
class Token:
    """A word, or a whole printed value (``key`` set); ``space`` if whitespace follows it."""

    text: str
    key: str | None = None
    space: bool = False

    def same(self, masked: bool = False):
        """What two tokens must share to count as equal: the text a reader sees (``masked``: any value)."""
        if self.key:
            return ("v",) if masked else ("v", self.text)
        return self.text


def tokens(md: str) -> list[Token]:
    """Word and value tokens of one sentence or paragraph of inline Markdown."""
    out: list[Token] = []
    words = ""

    def flush():
        nonlocal words
        for m in re.finditer(r"\S+|\s+", words):
            if m.group(0).isspace():
                if out:
                    out[-1] = Token(out[-1].text, out[-1].key, True)
            else:
                out.append(Token(m.group(0)))
        words = ""

    for text, key, _ in pieces(md):
        if key:
            flush()
            out.append(Token(text, key))
        else:
            words += text
    flush()
    return out


def _esc(text: str) -> str:
    return MD_SPECIAL.sub(r"\\\1", text)


def _join(toks: list[Token]) -> tuple[str, bool]:
    text = "".join(_esc(t.text) + (" " if t.space else "") for t in toks)
    return text.rstrip(" "), bool(toks) and toks[-1].space


def struck(text_md: str) -> str:
    return f"~~{text_md}~~"


def marked(text_md: str) -> str:
    return f"[{text_md}]{{.mark}}"


def diff_markdown(old: list[Token], new: list[Token]) -> str:
    """``new`` as Markdown with what ``old`` had instead struck through and what is new highlighted."""
    sm = difflib.SequenceMatcher(None, [t.same() for t in old], [t.same() for t in new], autojunk=False)
    out = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            text, space = _join(new[j1:j2])
            out.append(text + (" " if space else ""))
            continue
        pieces, space = [], False
        if i2 > i1:
            text, space = _join(old[i1:i2])
            pieces.append(struck(text))
        if j2 > j1:
            text, space = _join(new[j1:j2])
            pieces.append(marked(text))
        out.append(" ".join(pieces) + (" " if space else ""))
    return "".join(out).strip()


def similarity(a: list[Token], b: list[Token]) -> float:
    """How alike two sentences are, whatever their values print."""
    return difflib.SequenceMatcher(None, [t.same(True) for t in a], [t.same(True) for t in b],
                                   autojunk=False).ratio()


# --- numbers in their sentences ------------------------------------------------------

def _sentences_by_key(version) -> dict[str, list[tuple[str | None, str]]]:
    """key -> [(section, sentence Markdown)] from the ledger, else from the rendered Markdown."""
    out: dict[str, list[tuple[str | None, str]]] = {}
    for key, v in version.values.items():
        for p in v.get("places", []):
            if p.get("context_md"):
                out.setdefault(key, []).append((place_section(p), p["context_md"]))
    if not out and version.markdown:
        for occ in occurrences(version.markdown):
            out.setdefault(occ.key, []).append((None, occ.sentence_md))
    return out


def _substituted(sentence_md: str, diff) -> str:
    """No old sentence to compare with: strike the old text of each changed value in the new sentence."""
    parts = []
    for t in tokens(sentence_md):
        text = _esc(t.text)
        if t.key in diff.changed:
            old, new = diff.old.values[t.key], diff.new.values[t.key]
            names = [n for n, p in (new.get("parts") or {}).items() if p == t.text]
            before = (old.get("parts") or {}).get(names[0], old["text"]) if names and t.text != new["text"] else old["text"]
            if before != t.text:
                text = f"{struck(_esc(before))} {marked(text)}"
        parts.append(text + (" " if t.space else ""))
    return "".join(parts).strip()


def place_section(place: dict) -> str:
    """Where a place is, for grouping: its figure for a number printed in a figure, else its section."""
    return place.get("figure") or place.get("section") or NOT_PRINTED


def place_text(place: dict) -> str | None:
    """What a reader finds at a place: its sentence, or what a figure prints there (no sentence)."""
    if place.get("context"):
        return place["context"]
    if place.get("figure"):
        return ", ".join(str(place[k]) for k in ("in", "at") if place.get(k)) or "printed in the figure"
    return None


def number_sections(diff) -> list[tuple[str, list[str]]]:
    """(section, Markdown paragraphs) for the changed numbers, sections in manuscript order."""
    old_by_key = _sentences_by_key(diff.old)
    order = {}
    if diff.new.markdown:
        for i, occ in enumerate(occurrences(diff.new.markdown)):
            order.setdefault(occ.sentence_md, i)
    sections: dict[str, dict[str, list[str]]] = {}
    loose: dict[str, list[str]] = {}
    for key in diff.changed:
        new = diff.new.values[key]
        places = new.get("places") or []
        if not places:
            loose.setdefault(NOT_PRINTED, []).append(key)
        for p in places:
            if p.get("context_md"):
                sections.setdefault(place_section(p), {}).setdefault(p["context_md"], []).append(key)
            else:
                loose.setdefault(place_section(p), []).append(key)
    result: dict[str, list[str]] = {}
    first = {s: min((order.get(m, 10**9) for m in ms), default=10**9) for s, ms in sections.items()}
    for section in sorted(sections, key=lambda s: first[s]):
        for sentence, keys in sorted(sections[section].items(), key=lambda kv: order.get(kv[0], 10**9)):
            result.setdefault(section, []).append(f"{_sentence_diff(sentence, section, old_by_key, diff)}  \n"
                                                  + ", ".join(f"`{k}`" for k in dict.fromkeys(keys)))
    for section in sorted(loose, key=lambda s: (s == NOT_PRINTED, s)):
        result.setdefault(section, []).extend(
            f"{_esc(_describe(diff.new.values[k]))}: {struck(_esc(diff.old.values[k]['text']))} "
            f"{marked(_esc(diff.new.values[k]['text']))}  \n`{k}`" for k in dict.fromkeys(loose[section]))
    return list(result.items())


def _sentence_diff(sentence: str, section: str, old_by_key: dict, diff) -> str:
    """The sentence with its changes marked against the most similar old sentence holding one of its values."""
    new_toks = tokens(sentence)
    keys = dict.fromkeys(t.key for t in new_toks if t.key)
    candidates = [(s, md) for k in keys for s, md in old_by_key.get(k, [])]
    same_section = [md for s, md in candidates if s == section] or [md for _, md in candidates]
    if not same_section:
        return _substituted(sentence, diff)
    best = max(same_section, key=lambda md: similarity(tokens(md), new_toks))
    return diff_markdown(tokens(best), new_toks)


def _describe(value: dict) -> str:
    return (value.get("definition") or value["key"]).rstrip(".")


# --- prose ------------------------------------------------------------------------------

def _section_units(md: str) -> list[tuple[str, str]]:
    """(section, unit Markdown) for every paragraph, row, item and heading of a document."""
    out, section = [], ""
    for _, unit in units(md):
        if re.match(r"#\s", unit):
            title = plain(unit_text(unit))
            section = title.capitalize() if title.isupper() else title
        elif unit.startswith(": "):  # a table caption starts the table's section
            caption = re.match(r"(Table|Figure) \S+", plain(unit_text(unit)))
            section = caption.group(0) if caption else section
        out.append((section, unit_text(unit)))
    return [(s, u) for s, u in out if u]


def prose_sections(old_md: str, new_md: str) -> list[tuple[str, list[str]]]:
    """(section, Markdown paragraphs) for the paragraphs whose words changed, values aside."""
    old, new = _section_units(old_md), _section_units(new_md)
    keys: dict[str, tuple] = {}  # most units are the same in both versions: tokenise each text once

    def key(unit: str) -> tuple:
        if unit not in keys:
            keys[unit] = tuple(t.same(True) for t in tokens(unit))
        return keys[unit]

    sm = difflib.SequenceMatcher(None, [key(u) for _, u in old], [key(u) for _, u in new], autojunk=False)
    found: dict[str, list[str]] = {}
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        pairs = list(zip(old[i1:i2], new[j1:j2]))
        for (_, o), (s, n) in pairs:
            found.setdefault(s, []).append(diff_markdown(tokens(o), tokens(n)))
        for s, o in old[i1 + len(pairs):i2]:
            found.setdefault(s, []).append(struck(_join(tokens(o))[0]))
        for s, n in new[j1 + len(pairs):j2]:
            found.setdefault(s, []).append(marked(_join(tokens(n))[0]))
    return list(found.items())


# --- the report -------------------------------------------------------------------------

def report_markdown(diff) -> str:
    """The whole change report as pandoc Markdown."""
    lines = ["---", f'title: "Changes: {_yaml(diff.old.label)} to {_yaml(diff.new.label)}"', "---", "",
             "```{=html}",
             "<style>mark{background:#ffe74c} del{color:#a40000} code{font-size:85%;color:#555}</style>",
             "```", "",
             f"Numbers whose printed text changed: {len(diff.changed)}; added: {len(diff.added)}; "
             f"removed: {len(diff.removed)}; changed only beyond the printed precision (not listed): "
             f"{len(diff.exact_only)}. Old text is struck through, new text is highlighted.", ""]
    if diff.changed:
        lines += ["# Numbers that changed", "", "| Number | Before | After |", "|:---|:---|:---|"]
        for k in diff.changed:
            before, after = _printed_change(diff.old.values[k], diff.new.values[k])
            lines.append(f"| `{k}` | {_cell(before)} | {_cell(after)} |")
        lines.append("")
        for section, paras in number_sections(diff):
            lines += [f"## {_esc(section) or 'Unnamed section'}", ""]
            lines += [p + "\n" for p in paras]
    for title, keys, side, show in (("Numbers added", diff.added, diff.new, marked),
                                    ("Numbers removed", diff.removed, diff.old, struck)):
        if keys:
            lines += [f"# {title}", ""]
            for k in keys:
                v = side.values[k]
                where = ", ".join(dict.fromkeys(place_section(p) for p in v.get("places") or [])) or "not printed"
                lines += [f"- `{k}`: {show(_esc(v['text']))} ({_esc(where)})"]
            lines.append("")
    if diff.old.markdown and diff.new.markdown:
        prose = prose_sections(diff.old.markdown, diff.new.markdown)
        lines += ["# Prose that changed", ""]
        if not prose:
            lines += ["No paragraph changed apart from its numbers.", ""]
        for section, paras in prose:
            lines += [f"## {_esc(section) or 'Before the first heading'}", ""] + [p + "\n" for p in paras]
    else:
        lines += ["# Prose that changed", "", "Not compared: the earlier version was kept without its rendered text.", ""]
    return "\n".join(lines) + "\n"


def _printed_change(old: dict, new: dict) -> tuple[str, str]:
    """Before and after for the summary table: the texts, or the printed parts when only a part moved."""
    if old["text"] != new["text"]:
        return old["text"], new["text"]
    po, pn = old.get("parts") or {}, new.get("parts") or {}
    moved = [n for n in sorted(po.keys() & pn.keys()) if po[n] != pn[n]]
    return "; ".join(f"{n}: {po[n]}" for n in moved), "; ".join(f"{n}: {pn[n]}" for n in moved)


def _cell(text: str) -> str:
    return _esc(text).replace("\n", " ")


def _yaml(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def write_report(diff, html: Path, docx: Path, *, docx_style: dict | None = None,
                 source_date_epoch: int | None = None, store=None) -> tuple[Path, Path]:
    """Write changes.html (standalone) and changes.docx (the manuscript's Word styles, changes tracked) with pandoc.

    ``store`` (papergen.pipeline.cache.BuildCache) keeps the Word styles and the last report: the same report
    Markdown (same style and date) is copied, not converted again.
    """
    import hashlib
    import json
    import shutil

    from papergen.publish import export, pandoc
    from papergen.publish.reference_docx import build_reference_docx

    text = report_markdown(diff)
    style = docx_style or {}
    kept = None
    if store is not None and not store.force:
        key = hashlib.sha256(json.dumps([text, style, source_date_epoch], sort_keys=True, default=str)
                             .encode("utf-8")).hexdigest()[:24]
        kept = store.folder("changes") / key
        if (kept / "changes.html").is_file() and (kept / "changes.docx").is_file():
            shutil.copyfile(kept / "changes.html", html)
            shutil.copyfile(kept / "changes.docx", docx)
            return html, docx
    with tempfile.TemporaryDirectory(prefix="papergen-changes-") as tmp:
        md = Path(tmp) / "changes.md"
        md.write_text(text, encoding="utf-8")
        pandoc.run_pandoc([str(md), "--from=markdown", "--to=html5", "--standalone", f"--output={html}"],
                          out=html, log_path=pandoc.log_path_for(html, "pandoc"), cwd=Path(tmp), epoch=None, strict=True)
        ref = store.reference_docx(style) if store else build_reference_docx(Path(tmp) / "reference.docx", **style)
        export.to_docx(md, docx, resource_path=Path(tmp), bibliography=None, csl=None, reference_docx=ref,
                       source_date_epoch=source_date_epoch, citeproc=False)  # the report cites nothing
    track_changes(docx, source_date_epoch=source_date_epoch)  # Word's own tracked changes, author "papergen"
    if kept is not None:
        older = sorted(kept.parent.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in older[KEPT_REPORTS - 1:]:  # the most recent reports ("no change" comes back often)
            shutil.rmtree(old, ignore_errors=True)
        kept.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(html, kept / "changes.html")
        shutil.copyfile(docx, kept / "changes.docx")
    return html, docx
