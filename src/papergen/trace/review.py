"""The review edition: manuscript/<name>.review.html, one self-contained page.

The whole manuscript (the AST papergen.publish.document read, citations linked to the
bibliography, written by pandoc as HTML; the value spans survive in HTML) with
every generated number marked. Clicking a number, or
Tab + Enter on it, opens a card with its trace; a searchable side index lists
all numbers. Figures are data URIs, CSS, JS and the ledger are inline, and a
Content-Security-Policy forbids any network access, so the file opens from disk.

Nothing a template writes runs in the page: raw HTML (allowed by study.yaml ``allow_raw: [html]``
or not) is shown as code, event-handler attributes are dropped and a link to anything but
http(s), mailto or a place in the page keeps its text only (``safe_ast``); and the policy lets
only papergen's own script run, by its sha256 hash, so an inline script or handler that got
through would still not run.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import mimetypes
import re
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.trace import explain
from papergen.errors import ExportError
from papergen.ledger import read_ledger
from papergen.publish.astnodes import has_notes

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
#: the page's policy; {script} is the sha256 of papergen's one script (review.js), computed at build
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{script}'; "
       "base-uri 'none'; form-action 'none'")
#: attributes that load or run something; with every on* attribute (onerror=, onclick=) dropped from the AST
UNSAFE_ATTRIBUTES = {"href", "src", "srcdoc", "action", "formaction", "xlink:href", "http-equiv", "content"}
#: link schemes a reader may follow (a link without a scheme stays in the page or the folder)
SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)\s*:")
#: element types whose first field is an Attr (Header's is its second)
_WITH_ATTR = {"Code", "CodeBlock", "Div", "Span", "Link", "Image", "Table", "Figure"}


def write_review(ast: dict, ledger_path: Path, out: Path, *, resource_path: Path, blocks: Path | None = None) -> Path:
    """Render the review edition of the manuscript ``ast`` (papergen.publish.document), tracing numbers with ``ledger_path``.

    ``blocks`` (a folder of the build cache) keeps each block's HTML, so pandoc converts only the blocks that changed.
    """
    ledger = read_ledger(ledger_path)
    values = ledger["values"]
    ast = with_at_risk_rows(safe_ast(ast), values)
    body = (block_html(ast, out, resource_path=resource_path, kept=blocks) if blocks is not None
            else to_html_fragment(ast, out, resource_path=resource_path))
    body = embed_images(accessible_figures(body), Path(resource_path))
    title = values.get("study.title", {}).get("text") or out.stem
    out.write_text(page(title, body, ledger), encoding="utf-8")
    return out


# --- the manuscript's AST and pandoc ------------------------------------------------

def with_at_risk_rows(ast: dict, values: dict) -> dict:
    """Under each included figure, its numbers at risk and its text on the plot as marked values (printed in the image)."""
    by_image: dict[str, dict[str, list]] = {}
    for key, e in values.items():
        for p in e.get("places") or []:
            if p.get("image") and p.get("in"):
                by_image.setdefault(p["image"], {}).setdefault(p["in"], []).append((e["exact"].get("time"), key, p))
    rows = {image: _at_risk_div(curves) for image, curves in by_image.items()}
    return {**ast, "blocks": _after_figures(ast["blocks"], rows)}


def _at_risk_div(curves: dict[str, list]) -> dict:
    """``Overall survival: 11 at 0 months, 9 at 12 months.`` (one line per curve), each count a marked value."""
    inlines: list = []
    for what, items in curves.items():
        if inlines:
            inlines.append({"t": "LineBreak"})
        inlines += _words(f"{what[0].upper()}{what[1:]}:")
        cells = sorted(items, key=lambda t: (t[0] is None, t[0]))
        for i, (_, key, p) in enumerate(cells):
            span = {"t": "Span", "c": [["", ["pg-value"], [["data-key", key]]], [{"t": "Str", "c": p["printed"]}]]}
            end = "." if i == len(cells) - 1 else ","
            if "at" in p:  # a number at risk: "11 at 0 months,"
                inlines += [{"t": "Space"}, span, {"t": "Space"}, *_words(f"at {p['at']}{end}")]
            else:  # text printed on the plot (a log-rank P, an HR)
                inlines += [{"t": "Space"}, span, {"t": "Str", "c": ";" if end == "," else end}]
    return {"t": "Div", "c": [["", ["pg-at-risk"], []], [{"t": "Para", "c": inlines}]]}


def _words(text: str) -> list:
    out: list = []
    for w in text.split():
        out += [{"t": "Space"}, {"t": "Str", "c": w}] if out else [{"t": "Str", "c": w}]
    return out


def _after_figures(blocks: list, rows: dict) -> list:
    """``blocks`` with rows[image] placed after the first figure showing ``image`` (searched in divs too)."""
    out = []
    for b in blocks:
        if b.get("t") == "Div":
            b = {"t": "Div", "c": [b["c"][0], _after_figures(b["c"][1], rows)]}
        out.append(b)
        image = _image_of(b)
        if image in rows:
            out.append(rows.pop(image))
    return out


def _image_of(block: dict) -> str | None:
    """Target of the image a Figure block (or a paragraph holding only an image) shows."""
    if block.get("t") == "Figure":
        body = block["c"][2]
        inlines = body[0]["c"] if len(body) == 1 and body[0].get("t") in ("Plain", "Para") else []
    elif block.get("t") in ("Plain", "Para"):
        inlines = block["c"]
    else:
        return None
    images = [i for i in inlines if i.get("t") == "Image"]
    return images[0]["c"][2][0] if len(images) == 1 else None


def safe_ast(ast: dict) -> dict:
    """The manuscript with nothing of a template's own that could run in a browser: raw HTML shown as
    code (HTML comments dropped), on* and loading attributes removed, unsafe links reduced to their text.

    A walk over pandoc's JSON AST (what pandoc's Lua filters would do, without another pandoc run); a
    top-level block whose JSON shows none of these (no raw element, no link, no attribute that is an event
    handler or loads something) is what the walk would give, and is kept without it.
    """
    blocks = [b if _UNSAFE.search(json.dumps(b)) is None else _safe(b) for b in ast["blocks"]]
    return {**ast, "blocks": [b for b in blocks if b is not _DROPPED]}


#: what _safe() may change, as it shows in a block's JSON: a raw element, a link, or an attribute (a
#: ["key", "value"] pair) named on* or in UNSAFE_ATTRIBUTES (a class list starting so matches too: the
#: block is then walked); a text holding these words is a JSON string, whose quotes are escaped
_UNSAFE = re.compile(r'"t": "(?:RawBlock|RawInline|Link)"|\["(?:on|(?:'
                     + "|".join(re.escape(a) for a in sorted(UNSAFE_ATTRIBUTES)) + r')")', re.I)


_DROPPED = object()


def _safe(node):
    if isinstance(node, list):
        return [n for n in map(_safe, node) if n is not _DROPPED]
    if not isinstance(node, dict) or "t" not in node:
        return node
    t, c = node["t"], node.get("c")
    if t in ("RawBlock", "RawInline") and c[0].lower() in ("html", "html4", "html5"):
        if c[1].strip().startswith("<!--") and c[1].strip().endswith("-->"):
            return _DROPPED  # a comment shows nothing in any output
        attr = ["", ["pg-raw"], []]
        return {"t": "CodeBlock" if t == "RawBlock" else "Code", "c": [attr, c[1]]}
    if c is None:
        return node
    c = _safe(c)
    if t in _WITH_ATTR:
        c = [_safe_attr(c[0]), *c[1:]]
    elif t == "Header":
        c = [c[0], _safe_attr(c[1]), *c[2:]]
    if t == "Link" and not _safe_url(c[2][0]):
        return {"t": "Span", "c": [c[0], c[1]]}
    return {"t": t, "c": c}


def _safe_attr(attr: list) -> list:
    ident, classes, pairs = attr
    return [ident, classes, [[k, v] for k, v in pairs
                             if not k.lower().startswith("on") and k.lower() not in UNSAFE_ATTRIBUTES]]


def _safe_url(url: str) -> bool:
    """A link a reader may follow: http(s), mailto, or no scheme (a place in the page, a relative file)."""
    clean = re.sub(r"[\x00-\x20]", "", html.unescape(url))  # browsers ignore control characters and spaces
    m = _SCHEME.match(clean)
    return m is None or m.group(1).lower() in SAFE_SCHEMES


def to_html_fragment(ast: dict, out: Path, *, resource_path: Path) -> str:
    """pandoc AST -> HTML body (value spans and citation links kept by the Lua filter)."""
    from papergen.publish import pandoc

    src = out.with_name(f".{out.name}.json")
    frag = out.with_name(f".{out.name}.fragment")
    src.write_text(json.dumps(ast), encoding="utf-8")
    try:
        args = pandoc.common_args(src, [Path(resource_path).resolve()], None, None)
        args += ["--to=html5", "--wrap=none", f"--output={frag}"]
        pandoc.run_pandoc(args, out=frag, log_path=pandoc.log_path_for(out, "pandoc"), cwd=out.parent,
                           epoch=None, strict=True)
        return frag.read_text(encoding="utf-8")
    finally:
        src.unlink(missing_ok=True)
        frag.unlink(missing_ok=True)


def block_html(ast: dict, out: Path, *, resource_path: Path, kept: Path) -> str:
    """What to_html_fragment() gives, with each top-level block's HTML kept in ``kept`` by the block's JSON (and the
    document's metadata): after a prose edit pandoc converts only the blocks that changed, one run for all of them.

    pandoc's HTML writer joins top-level blocks with a newline, so the parts joined give the whole
    (tests/trace/test_review.py compares them). A document with footnotes is converted whole: its notes are
    numbered across blocks.
    """
    import hashlib

    blocks = ast["blocks"]
    if has_notes(blocks):
        return to_html_fragment(ast, out, resource_path=resource_path)
    meta = json.dumps([ast.get("pandoc-api-version"), ast.get("meta")], sort_keys=True)
    keys = [hashlib.sha256((meta + json.dumps(b, sort_keys=True)).encode("utf-8")).hexdigest()[:32] for b in blocks]
    html_of = {k: (kept / f"{k}.html").read_text(encoding="utf-8") for k in set(keys) if (kept / f"{k}.html").is_file()}
    missing = list(dict.fromkeys(k for k in keys if k not in html_of))
    if missing:
        first: dict = {}
        for k, b in zip(keys, blocks):
            first.setdefault(k, b)
        marked: list = []
        for i, k in enumerate(missing):
            if i:
                marked.append({"t": "RawBlock", "c": ["html", f"<!--pg-block-{i}-->"]})
            marked.append(first[k])
        parts = re.split(r"\n?<!--pg-block-\d+-->\n?", to_html_fragment({**ast, "blocks": marked}, out,
                                                                         resource_path=resource_path))
        if len(parts) != len(missing):  # a block whose HTML held our marker text: convert the whole
            return to_html_fragment(ast, out, resource_path=resource_path)
        for k, part in zip(missing, parts):
            part = part.removesuffix("\n")  # the last block's: the document's final newline
            html_of[k] = part
            write_bytes(kept / f"{k}.html", part.encode("utf-8"))
    for old in kept.glob("*.html"):  # keep what this version uses
        if old.stem not in html_of:
            old.unlink(missing_ok=True)
    return "\n".join(html_of[k] for k in keys) + "\n" if keys else to_html_fragment(ast, out, resource_path=resource_path)


def accessible_figures(body: str) -> str:
    """pandoc hides a figure's caption from screen readers when it repeats the alt text; the
    caption holds focusable numbers, so keep it readable and give the image a short alt instead."""
    def fix(m: re.Match) -> str:
        fig = m.group(0).replace('<figcaption aria-hidden="true">', "<figcaption>")
        label = re.search(r'<figcaption>\s*(?:<[^>]+>)*([^<]+)', fig)
        alt = f"{label.group(1).strip()}: see the legend below" if label else "Figure: see the legend below"
        return re.sub(r'alt="[^"]*"', f'alt="{html.escape(alt)}"', fig, count=1)

    return re.sub(r"<figure>.*?</figure>", fix, body, flags=re.S)


def embed_images(body: str, base: Path) -> str:
    """Every <img src="relative/path"> becomes a data URI, so the page needs no other file."""
    def data_uri(m: re.Match) -> str:
        src = html.unescape(m.group(2))
        if src.startswith("data:"):
            return m.group(0)
        path = base / src
        if not path.is_file():
            raise ExportError(f"review edition: image {src} not found in {base}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return f'{m.group(1)}data:{mime};base64,{base64.b64encode(path.read_bytes()).decode("ascii")}"'

    return re.sub(r'(<img\b[^>]*?\ssrc=")([^"]+)"', data_uri, body)


# --- the page ---------------------------------------------------------------------

def page(title: str, body: str, ledger: dict) -> str:
    """The whole HTML document: banner, manuscript, index, card, ledger and script."""
    values = ledger["values"]
    cards = {k: card_html(e) for k, e in values.items()}
    build = ledger.get("build") or {}
    commit = build.get("git_commit")
    stamp = f"git commit {commit[:12]}" if commit else "no git commit recorded"
    css = (RESOURCES / "review.css").read_text(encoding="utf-8")
    script = "\n" + (RESOURCES / "review.js").read_text(encoding="utf-8")  # the text between <script> and </script>
    csp = CSP.format(script=script_hash(script))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>Review edition: {html.escape(title)}</title>
<style>
{css}</style>
</head>
<body>
<a class="pg-skip" href="#pg-search">Skip to the index of numbers</a>
<header class="pg-banner" role="banner">
<p><strong>Review edition.</strong> Every generated number is <span class="pg-sample">highlighted</span>.
Click one, or move to it with Tab and press Enter, to see how it was computed; Escape closes the card.
The index on the right lists all {len(values)} numbers. Built from the ledger numbers.json ({html.escape(stamp)}).</p>
</header>
<div class="pg-layout">
<main id="pg-paper">
{body}
</main>
{index_html(values)}
</div>
<div id="pg-card" class="pg-card" role="dialog" aria-modal="false" aria-labelledby="pg-card-title" hidden>
<button type="button" class="pg-close" aria-label="Close the card (Escape)">&times;</button>
<div id="pg-card-body"></div>
</div>
<script type="application/json" id="pg-ledger">{_json(ledger)}</script>
<script type="application/json" id="pg-cards">{_json(cards)}</script>
<script>{script}</script>
</body>
</html>
"""


def script_hash(text: str) -> str:
    """The CSP source that lets exactly this inline script run: 'sha256-<base64 of its UTF-8 digest>'."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _json(obj) -> str:
    """JSON safe inside <script>: no "</script>" or "<!--" can close or confuse the element."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=False).replace("<", "\\u003c")


def index_html(values: dict) -> str:
    """The side index: a filter box and one button per number (key, text); data-search holds what the filter reads."""
    items = []
    for key in sorted(values):
        e = values[key]
        search = " ".join([key, e.get("text", ""), e.get("definition", "")] + explain.printed_texts(e)).lower()
        n = len(e.get("places") or [])
        items.append(
            f'<li data-key="{html.escape(key)}" data-search="{html.escape(search)}">'
            f'<button type="button" class="pg-index-item" data-key="{html.escape(key)}">'
            f'<code>{html.escape(key)}</code> <span class="pg-index-text">{html.escape(e.get("text", ""))}</span>'
            f'{"" if n else " <em>(not printed)</em>"}</button></li>')
    return f"""<aside id="pg-index" aria-label="Index of generated numbers">
<h2>Numbers</h2>
<label for="pg-search">Filter by key, text or definition</label>
<input type="search" id="pg-search" autocomplete="off" placeholder="e.g. survival, 34.1, os.">
<p id="pg-count" aria-live="polite">{len(values)} of {len(values)} numbers</p>
<ul id="pg-list">
{chr(10).join(items)}
</ul>
</aside>"""


def card_html(e: dict) -> str:
    """One value's trace as HTML, from the same parts as ``python build.py explain``."""
    esc = html.escape
    out = [f'<h2 id="pg-card-title"><span class="pg-card-text">{esc(e.get("text", ""))}</span> '
           f'<code class="pg-card-key">{esc(e["key"])}</code></h2>',
           f'<p class="pg-definition">{esc(e.get("definition") or "")}</p>', "<dl>"]
    exact = "; ".join(f"{esc(k)} = {esc(v)}" for k, v in explain.exact_items(e))
    out.append(f"<dt>Exact</dt><dd>{exact}{' (' + esc(e['unit']) + ')' if e.get('unit') else ''}</dd>")
    inputs = explain.merged_inputs(e)
    out.append("<dt>Inputs</dt>")
    if not inputs:
        out.append("<dd>none (a fixed setting, cross-reference or software version)</dd>")
    for inp in inputs:
        n = explain.row_count(inp["rows"])
        rows = esc(explain.rows_shown(inp["rows"], " …"))
        cell = [f'<dd class="pg-input"><code class="pg-file">{esc(inp["file"])}</code>, columns '
                f'<span class="pg-columns">{esc(", ".join(inp["columns"]) or "—")}</span>; '
                f'{n} row{"s" if n != 1 else ""}{rows}']
        cell += [f'<br><span class="pg-filter">filter: {esc(f)}</span>' for f in inp["filters"]]
        table = explain.row_table(inp) if n <= explain.MAX_ROWS_SHOWN else None
        if table:
            header, body = table
            cell.append('</dd><dd class="pg-rows-wrap"><table class="pg-rows"><thead><tr>'
                        + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in body)
                        + "</tbody></table>")
        out.append("".join(cell) + "</dd>")
    for label, text in explain.code_items(e):
        cls = ' class="pg-code"' if label == "code" else ""
        out.append(f"<dt>{esc(label.capitalize())}</dt><dd{cls}>{esc(text)}</dd>")
    places = e.get("places") or []
    out.append("<dt>Printed</dt>")
    out += [f"<dd>{esc(explain.describe_place(p))}: <q>{esc(p.get('printed', e.get('text', '')))}</q></dd>"
            for p in places] or ["<dd>nowhere (registered but not printed)</dd>"]
    out.append("</dl>")
    return "\n".join(out)
