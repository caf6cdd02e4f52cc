"""A number's trace in words, from its ledger entry: what ``python build.py explain`` prints.

The helpers that turn a ledger entry (numbers.json) into readable parts (inputs
merged per file, row values, places) are shared by the command
(papergen.commands.explain) and the review edition, so the terminal and the
browser show the same trace.
"""
from __future__ import annotations

import re


#: list the rows' input values when a value rests on at most this many rows
MAX_ROWS_SHOWN = 20


# --- reading and finding ------------------------------------------------------

def printed_texts(entry: dict) -> list[str]:
    """Every text under which a value appears: its text, its parts, and what each place printed."""
    texts = [entry.get("text", "")] + list((entry.get("parts") or {}).values())
    texts += [p.get("printed", "") for p in entry.get("places") or []]
    return list(dict.fromkeys(t for t in texts if t))


def find(values: dict, query: str) -> list[str]:
    """Keys for a query: the key itself; else values that print that text somewhere in the manuscript;
    else values with it in their text or parts (printed or not); else keys under that prefix."""
    if query in values:
        return [query]
    token = re.compile(r"(?<![\w.])" + re.escape(query) + r"(?![\w]|\.\d)", re.IGNORECASE)
    shown = [k for k, e in values.items() if any(token.search(p.get("printed", "")) for p in e.get("places") or [])]
    if shown:
        return shown
    hits = [k for k, e in values.items() if any(token.search(t) for t in printed_texts(e))]
    if hits:
        return hits
    return [k for k in values if k.startswith(query.rstrip(".") + ".")]


# --- the parts of a trace ------------------------------------------------------

def show(v) -> str:
    """A single input or exact value as text: dates as written, floats to six significant digits."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return ", ".join(show(x) for x in v)
    return str(v)


def exact_items(entry: dict) -> list[tuple[str, str]]:
    """The unrounded values, full precision (repr), in the ledger's order."""
    return [(k, repr(v) if isinstance(v, float) else show(v)) for k, v in (entry.get("exact") or {}).items()]


def merged_inputs(entry: dict) -> list[dict]:
    """Inputs with the same file and rows merged into one (columns, filters and row values joined)."""
    out: list[dict] = []
    for src in entry.get("inputs") or []:
        rows = src.get("rows", [])
        same = next((m for m in out if m["file"] == src.get("file") and m["rows"] == rows), None)
        if same is None:
            same = {"file": src.get("file", ""), "rows": rows if isinstance(rows, dict) else list(rows), "columns": [],
                    "filters": [], "values": {}, "derived": []}
            out.append(same)
        same["columns"] += [c for c in src.get("columns", []) if c not in same["columns"]]
        if src.get("filter") and src["filter"] not in same["filters"]:
            same["filters"].append(src["filter"])
        for row, cells in (src.get("values") or {}).items():
            same["values"].setdefault(row, {}).update(cells)
        if src.get("derived"):
            same["derived"].append(src["derived"])
    return out


def row_count(rows: list | dict) -> int:
    """How many rows an input used: the ledger lists the ids, or summarises many (values.row_list)."""
    return rows["count"] if isinstance(rows, dict) else len(rows)


def rows_shown(rows: list | dict, more: str) -> str:
    """The ids after "N rows": ": " and up to MAX_ROWS_SHOWN ids, then ``more`` ({n}: how many left out);
    a summarised list as " (first …, last …; sha256 …)"; nothing for no rows."""
    if isinstance(rows, dict):
        return (f" (first {', '.join(rows['first'])}, last {', '.join(rows['last'])}; "
                f"sha256 {rows['sha256']} of the ids joined by newlines)")
    left = len(rows) - MAX_ROWS_SHOWN
    return (": " + ", ".join(rows[:MAX_ROWS_SHOWN]) + (more.format(n=left) if left > 0 else "")) if rows else ""


def row_table(inp: dict) -> tuple[list[str], list[list[str]]] | None:
    """(header, rows) of the input values per row, with the derived variables last; None if none kept."""
    if not inp["values"] and not inp["derived"]:
        return None
    cols = [c for c in inp["columns"] if any(c in cells for cells in inp["values"].values())]
    header = ["row"] + cols + [d["name"] for d in inp["derived"]]
    rows = []
    for r in inp["rows"]:
        cells = inp["values"].get(r, {})
        rows.append([r] + [show(cells.get(c)) for c in cols] + [show(d["values"].get(r)) for d in inp["derived"]])
    return header, rows


def describe_place(p: dict) -> str:
    """Where a value is printed, in words: section or table cell or figure, then template:line."""
    if p.get("table"):
        where = p["table"] + (", caption" if p.get("row") == "caption" else
                              ", header" if p.get("row") == "header" else f", row {p.get('row')!r}")
    elif p.get("in"):
        where = f"{p['figure']} ({p['image']}), {p['in']}" + (f", at {p['at']}" if p.get('at') else "")
    elif p.get("figure"):
        where = f"{p.get('section')}, legend of {p['figure']}"
    else:
        where = p.get("section") or "?"
    template = p.get("template", "")
    loc = f"templates/{template}:{p.get('line')}" if template.endswith(".j2") else template
    return f"{where} ({loc})" if loc else where


def code_items(entry: dict) -> list[tuple[str, str]]:
    """Code location, the function that did the arithmetic, the library and where the plan declares it."""
    m = entry.get("method") or {}
    items = [("code", " at ".join(x for x in (m.get("function"), m.get("code")) if x))]
    if m.get("maths"):
        items.append(("maths", m["maths"]))
    items.append(("library", m.get("library") or "none (counting and formatting in papergen)"))
    if m.get("checked_against"):
        items.append(("checked", f"against {m['checked_against']}"))
    if entry.get("declared_at"):
        items.append(("declared", entry["declared_at"]))
    return items


# --- the terminal -----------------------------------------------------------

def render_text(entry: dict) -> str:
    """The trace of one value in a few readable lines."""
    lines = [f"{entry['key']}  =  {entry.get('text', '')}"]
    add = lambda label, text: lines.append(f"  {label:<11} {text}")  # noqa: E731
    add("definition", entry.get("definition") or "—")
    exact = ", ".join(f"{k} {v}" for k, v in exact_items(entry))
    add("exact", exact + (f"  ({entry['unit']})" if entry.get("unit") else ""))
    for i, inp in enumerate(merged_inputs(entry)):
        n = row_count(inp["rows"])
        rows = rows_shown(inp["rows"], ", … ({n} more)")
        cols = ", ".join(inp["columns"]) or "—"
        text = f"{inp['file']}, columns {cols}; {n} row{'s' if n != 1 else ''}{rows}"
        add("inputs" if i == 0 else "", text)
        for f in inp["filters"]:
            add("", f"filter: {f}")
        table = row_table(inp) if n <= MAX_ROWS_SHOWN else None
        if table:
            header, body = table
            widths = [max(len(x) for x in col) for col in zip(header, *body)]
            for r in [header] + body:
                add("", "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if not entry.get("inputs"):
        add("inputs", "none (a fixed setting, cross-reference or software version)")
    for label, text in code_items(entry):
        add(label, text)
    places = entry.get("places") or []
    for i, p in enumerate(places):
        add("printed" if i == 0 else "", f"{describe_place(p)}: {p.get('printed', entry.get('text', ''))}")
    if not places:
        add("printed", "nowhere (registered but not printed)")
    return "\n".join(lines)


def render_list(values: dict, keys: list[str], query: str) -> str:
    lines = [f"{len(keys)} numbers match {query!r}; explain one by its key:"]
    width = max(len(k) for k in keys)
    for k in keys:
        e = values[k]
        lines.append(f"  {k:<{width}}  {e.get('text', '')}  — {e.get('definition', '')}")
    return "\n".join(lines)
