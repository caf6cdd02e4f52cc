"""Marks in the rendered text that say which template file and character each literal stretch came from.

The source map of a render (papergen.trace.sourcemap) needs to know, for every
character of the manuscript a co-author may edit, whether it is a template's
literal text (and where in which file) or text the engine printed. Jinja keeps
no such record, so the Renderer, when asked, puts an invisible mark at the start
of each literal stretch of a template (a TemplateData node of the parsed
template) naming its file, source offset and length, and a "generated" mark
before each piece of text the engine prints that is not a Value (a table, a
figure path, a study setting). Values need no mark: their spans carry their key.

Marks are characters of Unicode's supplementary private use plane 15 (pandoc
drops the BMP private use characters but keeps these), so pandoc's reader keeps
them in the AST; the build's Markdown is the rendered text with them removed.
Hand-written because Jinja has no source-map option.
"""
from __future__ import annotations

import re

from jinja2 import nodes

_BASE = 0xF0000
START, SEP, END, GEN = chr(_BASE), chr(_BASE + 1), chr(_BASE + 2), chr(_BASE + 3)
_DIGIT = _BASE + 0x10   # offset digits 0-9
_NAME = _BASE + 0x1000  # template-name characters (code points below 0x10000)
#: any mark character; stripped from the rendered text for the build's Markdown
ANY_RE = re.compile("[\U000F0000-\U000FFFFD]")
MARK_RE = re.compile(f"{START}([^{SEP}]*){SEP}([^{SEP}]*){SEP}([^{END}]*){END}|{GEN}")
#: block syntax a mark may not precede at the start of a line (heading, fence, caption, list, table, image)
_BLOCK_PREFIX = re.compile(r"(?:[ \t]*(?:#{1,6}[ \t]+|:::[^\n]*(?:\n|$)|:[ \t]+|>[ \t]?|[-*+][ \t]+"
                           r"|\d+[.)][ \t]+|\|[ \t]*|!\[))*")


def _number(n: int) -> str:
    return "".join(chr(_DIGIT + int(d)) for d in str(n))


def _read_number(s: str) -> int:
    return int("".join(str(ord(c) - _DIGIT) for c in s))


def mark(template: str, offset: int, length: int) -> str:
    """The mark of a literal stretch: ``length`` characters of ``template`` from source ``offset``."""
    name = "".join(chr(_NAME + ord(c)) for c in template)
    return f"{START}{name}{SEP}{_number(offset)}{SEP}{_number(length)}{END}"


def read_mark(m: re.Match) -> tuple[str, int, int] | None:
    """(template, offset, length) of a MARK_RE match; None for a generated-text mark."""
    if m.group(0) == GEN:
        return None
    return "".join(chr(ord(c) - _NAME) for c in m.group(1)), _read_number(m.group(2)), _read_number(m.group(3))


def generated(text: str) -> str:
    """Text the engine printed (a table, a setting), marked as generated after any block syntax it starts with."""
    k = _BLOCK_PREFIX.match(text).end()
    return text[:k] + GEN + text[k:]


def strip(text: str) -> str:
    """The rendered text without marks: what the build writes."""
    return ANY_RE.sub("", text)


def instrument(tree: nodes.Template, source: str, name: str) -> nodes.Template:
    """Put a mark into each literal stretch (TemplateData) of a parsed template, in place.

    Each stretch is found in ``source`` after the previous one (tree order is source order); a stretch
    not found verbatim (a template with CRLF line ends) gets no mark and maps to nothing. The mark
    goes after leading newlines and after block syntax that must start a line (``## ``, ``:::``).
    """
    lines = [0]
    for m in re.finditer("\n", source):
        lines.append(m.end())
    cursor = 0
    for node in tree.find_all(nodes.TemplateData):
        data = node.data
        if not data.strip() and "\n" in data:  # blank lines: nothing a reader could edit
            continue
        line_start = lines[min(node.lineno, len(lines)) - 1]
        at = source.find(data, max(cursor, line_start))
        if at < 0:
            continue
        cursor = at + len(data)
        k = len(data) - len(data.lstrip("\n"))
        if k or at == 0 or source[at - 1] == "\n":  # the stretch starts a line
            k += _BLOCK_PREFIX.match(data, k).end() - k
        node.data = data[:k] + mark(name, at + k, len(data) - k) + data[k:]
    return tree
