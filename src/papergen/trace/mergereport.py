"""The report of a merge: lines for the terminal, and manuscript/merge-report.html (one self-contained page)."""
from __future__ import annotations

import html

from papergen.trace.merge import ALREADY, AMBIGUOUS, APPLIED, CONFLICT, GENERATED, NUMBER, VALUE, MergeResult

_LABEL = {APPLIED: "applied", VALUE: "refused (value)", NUMBER: "refused (typed number)",
          GENERATED: "refused (generated)", AMBIGUOUS: "ambiguous", CONFLICT: "conflict", ALREADY: "already applied"}


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.replace("\n", " \u00b6 ").split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def summary(r: MergeResult) -> str:
    return (f"{r.count(APPLIED)} applied, {r.count(VALUE)} refused as generated values, {r.count(NUMBER)} refused "
            f"as typed numbers, {r.count(GENERATED)} refused as generated text, {r.count(AMBIGUOUS)} ambiguous, "
            f"{r.count(CONFLICT)} conflicts, {r.count(ALREADY)} already applied; {len(r.comments)} comments")


def terminal_lines(r: MergeResult) -> list[str]:
    """What the merge did, one line an edit or comment (an ambiguous edit or conflict adds both texts)."""
    out = [f"merge {r.name} (build {r.build}, built {r.built})"]
    for e in r.edits:
        by = f" [{', '.join(e.authors)}]" if e.authors else ""
        change = f'"{_short(e.old, 50)}" -> "{_short(e.new, 50)}"'
        if e.status == VALUE:
            out.append(f"  {_LABEL[e.status]:<24} {change}: {e.message}{by}")
        else:
            why = f": {e.message}" if e.message else ""
            out.append(f"  {_LABEL[e.status]:<24} {e.where} {change}{why}{by}")
        if e.both:
            first, second = ("sent", "co-author") if e.status == AMBIGUOUS else ("now", "co-author")
            out.append(f"  {'':<24}   {first}: {_short(e.both[0], 200)}")
            out.append(f"  {'':<24}   {second}: {_short(e.both[1], 200)}")
    for c in r.comments:
        out.append(f"  {'comment':<24} {c.where or 'unanchored'} {c.author}: \"{_short(c.text, 80)}\""
                   + (f' on "{_short(c.anchored, 50)}"' if c.anchored else ""))
    if r.formatting_changes:
        out.append(f"  {r.formatting_changes} formatting-only tracked changes ignored (they change no text; "
                   "the DOCX look comes from study.yaml)")
    out.append(f"  {summary(r)}")
    return out


def html_report(results: list[MergeResult]) -> str:
    """manuscript/merge-report.html: each merged file's edits and comments, in tables."""
    parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>papergen merge report</title>",
             "<style>body{font-family:sans-serif;max-width:75em;margin:2em auto}table{border-collapse:collapse;"
             "width:100%}td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}"
             "del{background:#fdd}ins{background:#dfd;text-decoration:none}.applied{color:#060}"
             ".conflict,.ambiguous{color:#a60}.value,.number,.generated{color:#a00}</style></head><body>",
             "<h1>Merge report</h1>"]
    for r in results:
        parts.append(f"<h2>{html.escape(r.name)}</h2><p>build {html.escape(r.build)}, built {html.escape(r.built)}; "
                     f"{html.escape(summary(r))}</p>")
        parts.append("<table><tr><th>what</th><th>where</th><th>change</th><th>by</th><th>note</th></tr>")
        for e in r.edits:
            note = html.escape(e.message)
            if e.both:
                note += "".join(f"<br><b>{h}:</b> {html.escape(t)}" for h, t in
                                zip(("sent" if e.status == AMBIGUOUS else "now", "co-author"), e.both))
            parts.append(f"<tr><td class=\"{e.status.split()[0]}\">{_LABEL[e.status]}</td>"
                         f"<td>{html.escape(e.where)}</td><td><del>{html.escape(e.old)}</del> "
                         f"<ins>{html.escape(e.new)}</ins></td><td>{html.escape(', '.join(e.authors))}</td>"
                         f"<td>{note}</td></tr>")
        parts.append("</table>")
        if r.comments:
            parts.append("<h3>Comments</h3><table><tr><th>author</th><th>where</th><th>on</th><th>comment</th></tr>")
            for c in r.comments:
                parts.append(f"<tr><td>{html.escape(c.author)}</td><td>{html.escape(c.where)}</td>"
                             f"<td>{html.escape(c.anchored)}</td><td>{html.escape(c.text)}</td></tr>")
            parts.append("</table>")
        if r.formatting_changes:
            parts.append(f"<p>{r.formatting_changes} formatting-only tracked changes ignored.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
