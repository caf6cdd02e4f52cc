"""The lint of the templates: no hand-typed number in the prose or in an expression.

Run on every build before any data is read, and by ``python build.py check``
(papergen.commands.check). The numbers that must agree are checked after the
analysis plan (papergen.analysis.consistency).

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

It also refuses raw markup, which pandoc passes into an output verbatim: a raw
block or inline (```` ```{=openxml} ````, `` `#read("x")`{=typst} ``) and HTML
tags (``<script>``, ``<img onerror=...>``), unless study.yaml allows that format
(``allow_raw: [typst]``, papergen.study.RAW_FORMATS). HTML comments are not markup
that does anything and pass; so do the page-break commands (``\newpage``) the Lua filter turns into breaks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from papergen.errors import HandTypedNumberError, LedgerError, RawMarkupError
from papergen.formatting import number_to_words
from papergen.study import RAW_FORMATS, inside_folder

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


def typed_numbers(prose: str) -> list[str]:
    """The hand-typed numbers (digits, number words) the lint would report in a stretch of prose."""
    return [m.group(0) for m in _NUMBER.finditer(_NOT_PROSE.sub(lambda m: " " * len(m.group()), prose))]


#: a fenced raw block (```{=openxml}), an inline raw span (`...`{=typst}), an HTML tag: what pandoc passes verbatim
_RAW_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*\{[ \t]*=([\w-]+)[ \t]*\}", re.MULTILINE)
_RAW_INLINE = re.compile(r"(`+)(?:(?!\1).)+?\1\{=([\w-]+)\}", re.DOTALL)
_CODE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[ \t]*$|(`+)(?:(?!\2).)+?\2", re.MULTILINE | re.DOTALL)
_HTML_TAG = re.compile(r"(?<!\\)<[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")  # an opening tag: one line per element
#: what each raw format could do in its output, for the message
_RAW_RISK = {"openxml": "DOCX (fields such as INCLUDETEXT read other files)",
             "typst": "PDF (Typst code runs: read(), include)", "html": "review edition (scripts, event handlers)",
             "latex": "LaTeX output"}

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
        if self.where in ("syntax", "raw"):  # a comment that closes early, raw markup, text Jinja cannot read
            return f"{self.template}:{self.line}{f':{self.column}' if self.column else ''}: {self.text}"
        what = "typed number" if self.where == "prose" else "number literal in an expression"
        return f"{self.template}:{self.line}:{self.column}: {what} {self.text!r}: " + FIX.format(key=self.hint, text=self.text)


# --- template lexing --------------------------------------------------------------

def template_env(template_dir: Path = Path("."), root: Path | None = None, compiled: Path | None = None):
    """A Jinja environment with the renderer's delimiters ({## ##} comments), loading from ``template_dir``
    (inside the study folder ``root``); ``compiled``: the render's folder of compiled templates, which holds
    them compiled with source marks, as the render's environment compiles them (so this one does too)."""
    from papergen.write.render import Renderer  # Jinja: only once a template is lexed (not on a no-op build)

    return Renderer(Path(template_dir), {}, root=root, compiled=compiled, source_map=compiled is not None).env


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


def lint_source(source: str, shown: str, env=None, hints: dict | None = None,
                allow_raw: frozenset = frozenset()) -> list[Finding]:
    """Every hand-typed number in one template's text, and its raw markup of a format not in ``allow_raw``."""
    env = env or template_env()
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # as Jinja reads it; lines stay the same
    from jinja2 import TemplateSyntaxError  # loaded already: template_env() made the environment

    try:
        toks = list(tokens(env, source, shown))
    except TemplateSyntaxError as exc:  # an unclosed string or raw block, a character Jinja does not know
        return [_unreadable(source, shown, exc)]
    out = raw_markup(source, shown, toks, allow_raw)
    recent = []
    for kind, text, at in toks:
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
            marked = recent[-2:] == [("name", "literal"), ("operator", "(")]  # literal("Ki-67"): marked as not data
            template_name = recent[-1:] and recent[-1] in _TEMPLATE_TAGS  # {% include "part2.md.j2" %}
            if not (kind == "string" and (marked or template_name)):
                out.append(_finding(source, shown, at, text.strip("\"'") if kind == "string" else text,
                                    "expression", hints))
        if kind not in ("whitespace",):
            recent = (recent + [(kind, text)])[-2:]
    return out


#: a string right after these names is a template's file name, not a number
_TEMPLATE_TAGS = {("name", "include"), ("name", "import"), ("name", "extends"), ("name", "from")}


def _unreadable(source: str, shown: str, exc: Exception) -> Finding:
    """Jinja's lexer error as one finding: its line, the column when the message gives the offset ("at 290")."""
    message = " ".join(str(getattr(exc, "message", None) or exc).split())
    m = re.search(r" at (\d+)$", message)
    if m and int(m[1]) <= len(source):
        line, col = _line_col(source, int(m[1]))
        message = message[:m.start()]
    else:
        line, col = getattr(exc, "lineno", None) or 1, 0
    return Finding(shown, line, col, f"Jinja cannot read the template: {message}", "syntax")


def raw_markup(source: str, shown: str, toks: list, allow_raw: frozenset = frozenset()) -> list[Finding]:
    """Raw blocks, raw inlines and HTML tags in the prose of one template (``toks``: its tokens()), unless
    their format is allowed."""
    prose = list(source)
    for kind, text, at in toks:
        if kind != "data":  # expressions, statements, comments: blanked, lines and columns kept
            prose[at:at + len(text)] = [c if c == "\n" else " " for c in text]
    prose = "".join(prose)
    found = [(m.start(1), m.group(2), "block") for m in _RAW_FENCE.finditer(prose)]
    found += [(m.start(), m.group(2), "inline") for m in _RAW_INLINE.finditer(prose)]
    plain = _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), prose)  # code shows tags as text
    found += [(m.start(), "html", "tag " + m.group()[:40]) for m in _HTML_TAG.finditer(plain)]
    out = []
    for offset, fmt, what in sorted(found):
        name = RAW_FORMATS.get(fmt.lower(), fmt.lower())
        if name in allow_raw:
            continue
        risk = _RAW_RISK.get(name, f"{fmt} output")
        out.append(_syntax(source, shown, offset, f"raw {name} {what}: pandoc passes it verbatim into the {risk}; "
                           f"write it in Markdown, or allow it in study/study.yaml with allow_raw: [{name}]", "raw"))
    return out


def _syntax(source, shown, offset, message, where: str = "syntax") -> Finding:
    line, col = _line_col(source, offset)
    return Finding(shown, line, col, message, where)


def _finding(source, shown, offset, text, where, hints) -> Finding:
    line, col = _line_col(source, offset)
    ref = re.search(r"\b(table|figure)\s+$", source[max(0, offset - 8):offset], re.IGNORECASE)
    lookup = f"{ref[1]} {text}".lower() if ref else text.lower()
    return Finding(shown, line, col, text, where, (hints or {}).get(lookup, "key"))


def lint_templates(template_dir: Path, shown_prefix: str = "templates", hints: dict | None = None,
                   allow_raw: frozenset = frozenset(), compiled: Path | None = None) -> list[Finding]:
    """Hand-typed numbers, raw markup not in ``allow_raw``, syntax errors and include loops in every ``*.j2``
    template under ``template_dir``: found before the data are read.

    Each template is compiled here, into ``compiled`` (the render's folder of compiled templates, where the
    render finds it again; an unchanged template is only loaded), so a syntax error fails the build at once.
    """
    from jinja2 import TemplateSyntaxError

    from papergen.write.render import include_loop

    root = Path(template_dir).absolute().parent  # the study folder: templates/ is one of its folders
    env = template_env(template_dir, root, compiled)
    out, loops = [], set()
    for path in sorted(Path(template_dir).rglob("*.j2")):
        name = path.relative_to(template_dir).as_posix()
        shown = f"{shown_prefix}/{name}"
        inside_folder(root, path, shown)  # a link out of the study is refused before it is read
        found = _linted(path.read_text(encoding="utf-8"), shown, env, hints, allow_raw)
        out += found
        if not any(f.text.startswith("Jinja cannot read") for f in found):
            try:
                env.get_template(name)
            except TemplateSyntaxError as exc:
                out.append(Finding(shown, exc.lineno or 1, 0, " ".join(str(exc.message or exc).split()), "syntax"))
        loop = include_loop(env, name)
        if loop and loop[:2] not in loops:
            loops.add(loop[:2])
            out.append(Finding(f"{shown_prefix}/{loop[0]}", loop[1], 0, loop[2], "syntax"))
    return out


_LINTED: dict[tuple, list[Finding]] = {}  # a template's findings by its text (watch and preview lint every build)


def _linted(source: str, shown: str, env, hints: dict | None, allow_raw: frozenset) -> list[Finding]:
    """lint_source, remembered in this process for the same text, name and allowed markup (without hints)."""
    if hints is not None:
        return lint_source(source, shown, env, hints, allow_raw)
    key = (source, shown, frozenset(allow_raw))
    if key not in _LINTED:
        if len(_LINTED) >= 256:
            _LINTED.clear()
        _LINTED[key] = lint_source(source, shown, env, None, allow_raw)
    return list(_LINTED[key])


def hints_from_ledger(ledger_path: Path) -> dict[str, str]:
    """Typed text -> the value that prints it, from the last build's numbers.json (if any).

    Lets the error say "e.g. {{ os.mean }}" for a typed "34.1" and
    "{{ tables.baseline.ref }}" for "Table 1". Text that more than one value prints (a small
    count, "eleven") gets no hint: a guess would mislead.
    """
    from papergen.ledger import read_ledger  # only when there is something to fix

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
                            shown_prefix: str = "templates", allow_raw: frozenset = frozenset(),
                            compiled: Path | None = None) -> None:
    """The build stage: raise HandTypedNumberError (RawMarkupError when all are raw markup) listing every
    finding, one line each. ``compiled``: the render's folder of compiled templates (see lint_templates)."""
    found = lint_templates(template_dir, shown_prefix, allow_raw=allow_raw, compiled=compiled)
    if found and ledger_path:  # the hints cost a read of the last ledger: only when there is something to fix
        found = lint_templates(template_dir, shown_prefix, hints_from_ledger(ledger_path), allow_raw)
    if found:
        error = RawMarkupError if all(f.where == "raw" for f in found) else HandTypedNumberError
        raise error("\n".join(str(f) for f in found))
