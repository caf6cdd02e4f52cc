"""A co-author's DOCX merged back into the templates: prose edits applied, edits of generated values refused.

The returned copy's text (tracked changes accepted, untracked edits included:
papergen.trace.wordtext) is compared with the text of the build it came from
(papergen.trace.sourcemap). Each stretch that differs is classified by where
its characters came from:

* a template's literal text: the edit goes to that file and offset (three-way
  when the template changed since the build was sent: base = the sent file,
  ours = the file now, theirs = the co-author's edit; a clash is a conflict,
  an edit the file already has is not applied twice);
* a generated value (a number, a spelled-out count, a table cell): refused and
  reported with its key, definition and the co-author's text; a study fact
  (study.yaml) is edited there when its text is written there literally;
* other generated text (a caption or table label from the analysis plan):
  applied to the plan or study.yaml where that text is written once, literally;
  citation numbers and the references are refused;
* an edit whose characters come from two places (across a ``{% if %}`` tag,
  two templates) or from text a loop printed twice: ambiguous, reported with
  the sent and the co-author's paragraph.

Nothing is written here: plan_merge() returns the new contents of each file,
papergen.commands.merge writes them all or none.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from papergen.trace.sourcemap import SentBuild
from papergen.trace.textdiff import opcodes
from papergen.trace.wordtext import WordText
from papergen.write.lint import typed_numbers

_MD_ESCAPE = re.compile(r"([\\`*_{}\[\]<>|^~$@])")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_COMMENT = re.compile(r"\{##.*?##\}\n?", re.DOTALL)
#: characters pandoc writes for what the source has (a space after "et al." becomes a no-break space; smart quotes)
_SAME = {" ": "[ \u00a0]", "\u00a0": "[ \u00a0]", "\u2019": "['\u2019]", "'": "['\u2019]", "\u2018": "['\u2018]",
         "\u201c": '["\u201c]', "\u201d": '["\u201d]'}
_SETTINGS_FILES = ("study/analysis_plan.py", "study/study.yaml")

APPLIED, VALUE, NUMBER, GENERATED, AMBIGUOUS, CONFLICT, ALREADY = (
    "applied", "value", "number", "generated", "ambiguous", "conflict", "already applied")


@dataclass
class Edit:
    """One stretch the co-author changed, and what the merge did with it."""

    status: str
    old: str
    new: str
    where: str = ""           # file:line, or the value's key
    authors: list[str] = field(default_factory=list)
    message: str = ""
    both: tuple[str, str] | None = None  # ambiguous or conflicting: the two texts the author must choose from


@dataclass
class CommentNote:
    author: str
    date: str
    text: str
    anchored: str
    where: str


@dataclass
class MergeResult:
    name: str
    build: str
    built: str
    edits: list[Edit] = field(default_factory=list)
    comments: list[CommentNote] = field(default_factory=list)
    formatting_changes: int = 0

    def count(self, status: str) -> int:
        return sum(1 for e in self.edits if e.status == status)


@dataclass
class _Pending:
    """A literal edit located in a file of the sent build: base[a:b] becomes ``text``."""

    file: str
    a: int
    b: int
    text: str
    edit: Edit


# --- diffs ------------------------------------------------------------------------------

def diff_ranges(a: str, b: str) -> list[tuple[int, int, int, int]]:
    """Stretches of ``a`` and ``b`` that differ, (a1, a2, b1, b2): paragraphs first, then words."""
    return _join_close([(a1, a2, b1, b2) for op, a1, a2, b1, b2 in opcodes(a, b) if op != "equal"], a, b)


def _join_close(ranges, a: str, b: str):
    """Join two changed stretches separated by one space (an edited phrase is one edit, not three)."""
    out: list[list[int]] = []
    for r in ranges:
        if out and r[0] - out[-1][1] == 1 and a[out[-1][1]] == " " and r[2] - out[-1][3] == 1:
            out[-1][1], out[-1][3] = r[1], r[3]
        else:
            out.append(list(r))
    return [tuple(r) for r in out]


class _Offsets:
    """Char offsets of one text in another, from difflib's opcodes: equal stretches map, changed ones clash."""

    def __init__(self, base: str, ours: str) -> None:
        self.ops = opcodes(base, ours, chars=10**6)

    def changed(self, a: int, b: int) -> list[tuple]:
        """The changed stretches of ``ours`` that touch base[a:b] (an insertion at a or b touches it)."""
        return [o for o in self.ops if o[0] != "equal" and (o[1] < b and o[2] > a or o[1] == o[2] and a <= o[1] <= b
                                                            or a == b and o[1] <= a <= o[2])]

    def point(self, x: int) -> int:
        for op, b1, b2, o1, o2 in self.ops:
            if op == "equal" and b1 <= x <= b2:
                return o1 + x - b1
        for op, b1, b2, o1, o2 in self.ops:
            if b1 <= x <= b2:
                return o1 if x == b1 else o2
        return len(self.ops) and self.ops[-1][4]


# --- the merge --------------------------------------------------------------------------

def plan_merge(sent: SentBuild, returned: WordText, name: str, current: dict[str, str | None],
               keep_comments: bool = False) -> tuple[MergeResult, dict[str, str]]:
    """What merging ``returned`` into the files ``current`` (path -> text now, None if gone) does.

    Returns the report and the new text of each file that changes; ``current`` is not modified.
    ``keep_comments``: each comment on template text is also kept as a Jinja comment after its line.
    """
    result = MergeResult(name, sent.build_id, sent.built, formatting_changes=returned.formatting_changes)
    uses = _literal_uses(sent)
    ranges = _join_within_values(sent, diff_ranges(sent.text, returned.text))
    pending: list[_Pending] = []
    for i1, i2, j1, j2 in ranges:
        authors = returned.authors(j1, j2, dated=True) or ["untracked edit"]
        pending += _classify(sent, returned.text, i1, i2, j1, j2, authors, uses, result)
    result.comments = _comments(sent, returned, ranges)
    if keep_comments:
        pending += _comment_lines(sent, returned, ranges)
    changed = _apply(sent, pending, current, result)
    result.edits = [e for e in result.edits if e.status != "comment kept"]
    return result, changed


def _classify(sent: SentBuild, theirs: str, i1: int, i2: int, j1: int, j2: int, authors: list[str],
              uses: dict, result: MergeResult) -> list[_Pending]:
    s = sent.text
    old, new = s[i1:i2], theirs[j1:j2]
    origins = [sent.origin(i) for i in range(i1, i2)]
    if i1 == i2:  # an insertion touches the characters on both sides
        left, right = sent.origin(i1 - 1) if i1 else None, sent.origin(i1)
        inside = [o for o in (left, right) if o is not None and o.kind == "v"]
        if len(inside) == 2 and inside[0].start == inside[1].start:
            origins = inside
    values = {}
    for o in origins:
        if o.kind == "v":
            values.setdefault((o.ref, o.start, o.end), o)
    if values:
        return _value_edits(sent, s, theirs, i1, i2, j1, j2, values, authors, result)
    kinds = {o.kind for o in origins}
    if i1 == i2 and all(o.kind == "g" for o in (sent.origin(max(i1 - 1, 0)), sent.origin(i1))):
        kinds = {"g"}  # an insertion into generated text (the references, a table's labels)
    if kinds == {"g"}:
        return _generated_edit(sent, s, i1, i2, new, authors, result)
    if kinds - {"t"}:
        result.edits.append(_ambiguous(sent, s, theirs, i1, i2, j1, j2, authors,
                                       "the edit covers both template text and text the build generated"))
        return []
    located = _locate(sent, s, i1, i2, new, uses)
    if isinstance(located, str):
        result.edits.append(_ambiguous(sent, s, theirs, i1, i2, j1, j2, authors, located))
        return []
    template, a, b, text = located
    edit = Edit(APPLIED, old, new, authors=authors)
    if typed_numbers(new):
        edit.status, edit.where = NUMBER, f"templates/{template}:{_line(sent.files[f'templates/{template}'], a)}"
        edit.message = ("a template may not hold a typed number: declare it as a value in the analysis plan "
                        "(or write digits that are not data as {{ literal(\"...\") }})")
        result.edits.append(edit)
        return []
    return [_Pending(f"templates/{template}", a, b, text, edit)]


def _join_within_values(sent: SentBuild, ranges):
    """Join changed stretches inside one printed value ("34.1" -> "35.0" differs in two digits): one edit."""
    out: list[tuple[int, int, int, int]] = []
    for r in ranges:
        if out:
            last = out[-1]
            lo, hi = sent.origin(max(last[1] - 1, 0)), sent.origin(r[0])
            if lo.kind == hi.kind == "v" and lo.start == hi.start and lo.ref == hi.ref:
                out[-1] = (last[0], r[1], last[2], r[3])
                continue
        out.append(r)
    return out


def _literal_uses(sent: SentBuild) -> dict[tuple[str, int], int]:
    """How often each template character is printed (more than once: a loop or macro printed it)."""
    out: dict[tuple[str, int], int] = {}
    for start, end, kind, ref, extra in sent.spans:
        if kind == "t":
            for off in extra:
                if off >= 0:
                    out[(ref, off)] = out.get((ref, off), 0) + 1
    return out


def _locate(sent: SentBuild, s: str, i1: int, i2: int, new: str, uses: dict):
    """(template, a, b, text): the edit as base_source[a:b] -> text, or why it cannot be placed."""
    if i1 == i2:
        return _locate_insertion(sent, s, i1, new)
    origins = [sent.origin(i) for i in range(i1, i2)]
    templates = {o.ref for o in origins}
    if len(templates) > 1:
        return f"the edit spans two templates ({', '.join(sorted(templates))})"
    template = templates.pop()
    offsets = [o.offset for o in origins if o.offset >= 0]
    if not offsets:
        return "no template character matches the edited text"
    if any(uses.get((template, off), 0) > 1 for off in offsets):
        return "a loop or macro prints this text more than once; edit the template by hand"
    source = sent.template_source(template) or ""
    a, b = min(offsets), max(offsets) + 1
    if "\n" in s[i1:i2]:  # a paragraph break in the edit: the whole blank line of the source with it
        while b < len(source) and source[b] == "\n" and source[b - 1] == "\n":
            b += 1
        while a > 0 and source[a - 1] == "\n" and source[a] == "\n":
            a -= 1
    span = source[a:b]
    comments = _COMMENT.findall(span)  # a {## strobe ##} between two paragraphs stays, before the new text
    bare = _COMMENT.sub("", span)
    if "{{" in bare or "{%" in bare or "{#" in bare or len(bare) > 2 * (i2 - i1) + 8:
        return "the edited text crosses template logic ({% if %}, {{ ... }}) in the template"
    if source[:a].rstrip(" ").endswith("%}") or source[b:].lstrip(" ").startswith("{%"):
        return "the edit touches the start or end of a {% if %} or {% for %} block; which side it belongs to is unclear"
    if bare.count("*") != s[i1:i2].count("*") or bare.count("_") != s[i1:i2].count("_"):
        return "the edited text crosses bold or italic markup (** or _) in the template"
    return template, a, b, "".join(c.rstrip("\n") for c in comments) + _template_text(new)


def _locate_insertion(sent: SentBuild, s: str, i: int, new: str):
    """Where text inserted before character ``i`` of the sent text goes: after its left or before its right neighbour."""
    if new.endswith("\n") and i > 1 and s[i - 1] == "\n":  # a new paragraph: after the previous one
        left = sent.origin(i - 2)
        if left.kind == "t" and left.offset >= 0:
            return left.ref, left.offset + 1, left.offset + 1, _template_text("\n" + new[:-1])
    left, right = (sent.origin(i - 1) if i else None), sent.origin(i)
    lt = left is not None and left.kind == "t" and left.offset >= 0
    rt = right.kind == "t" and right.offset >= 0 and i < len(s)
    if lt and rt and left.ref == right.ref:
        gap = _COMMENT.sub("", (sent.template_source(left.ref) or "")[left.offset + 1:right.offset])
        if "{{" in gap or "{%" in gap or "{#" in gap:
            return "the insertion falls between two branches or statements of template logic"
    if rt and (not lt or left.ref == right.ref):
        return right.ref, right.offset, right.offset, _template_text(new)
    if lt:
        return left.ref, left.offset + 1, left.offset + 1, _template_text(new)
    return "the insertion sits between generated texts; no template line holds this place"


def _template_text(new: str) -> str:
    """The co-author's text as template source: Markdown and Jinja characters escaped, a paragraph a blank line."""
    text = _MD_ESCAPE.sub(r"\\\1", new.translate(_QUOTES))
    text = re.sub(r"\n+", "\n\n", text)
    return re.sub(r"(?m)^#", r"\\#", text)


def _value_edits(sent, s, theirs, i1, i2, j1, j2, values, authors, result) -> list[_Pending]:
    pending = []
    for (key, vs, ve), o in values.items():
        ws, we = min(vs, i1), max(ve, i2)
        old = s[ws:we]
        new = s[ws:i1] + theirs[j1:j2] + s[i2:we] if i2 <= we and i1 >= ws else theirs[j1:j2]
        info = sent.values.get(key, {})
        if key.startswith("study.") and vs <= i1 and i2 <= ve:  # a title page fact: written in study.yaml
            found = _in_files(sent, s[vs:ve], ("study/study.yaml",))
            added = sorted(typed_numbers(theirs[j1:j2])) != sorted(typed_numbers(s[i1:i2]))
            if found and not added:
                file, at = found
                pending.append(_Pending(file, at + i1 - vs, at + i2 - vs, theirs[j1:j2].translate(_QUOTES),
                                        Edit(APPLIED, old, new, authors=authors)))
                continue
        source = ", ".join(info.get("inputs", [])) or info.get("declared_at", "") or "the analysis plan"
        definition = info.get("definition", "")
        message = (f"{key} is computed from {source}; change the data or the plan"
                   + (f" ({definition})" if definition else ""))
        if ws < vs or we > ve:  # prose and values edited together (a deleted paragraph, a rewritten sentence)
            keys = ", ".join(sorted({k for k, _, _ in values}))
            message = (f"the edit also changes generated values ({keys}); not applied: make the prose change "
                       f"in {o.where or 'the template'} by hand, keeping the values")
        result.edits.append(Edit(VALUE, old, new, where=f"{key} ({o.where})" if o.where else key,
                                 authors=authors, message=message))
        break  # one report for an edit, even if it touches two values
    return pending


def _generated_edit(sent, s, i1, i2, new, authors, result) -> list[_Pending]:
    """Text the plan or study.yaml generated: applied where that text is written literally, once."""
    o = sent.origin(i1 if i2 > i1 else max(i1 - 1, 0))
    line_start = max(s.rfind("\n", o.start, i1) + 1, o.start)
    line_end = s.find("\n", i2, o.end)
    line_end = o.end if line_end < 0 else line_end
    line = s[line_start:line_end]
    old = s[i1:i2]
    lead = len(line) - len(line.lstrip("\u00a0 "))
    inside = line_start + lead <= i1 and i2 <= line_start + len(line.rstrip("\u00a0 "))
    found = _in_files(sent, line.strip("\u00a0 "), _SETTINGS_FILES) if inside else None
    if found:
        file, at = found
        start = at + i1 - line_start - lead
        edit = Edit(APPLIED, old, new, authors=authors)
        if sorted(typed_numbers(new)) != sorted(typed_numbers(old)):
            edit.status, edit.where = NUMBER, f"{file}:{_line(sent.files[file], start)}"
            edit.message = "a number belongs to the data or the plan's computation, not its text"
            result.edits.append(edit)
            return []
        return [_Pending(file, start, start + (i2 - i1), new.translate(_QUOTES), edit)]
    result.edits.append(Edit(GENERATED, old, new, authors=authors,
                             where=_context(s, i1, i2),
                             message="this text is generated by the build (citation numbers, references, a table's "
                                     "layout) and is not written literally in the plan or study.yaml; not applied"))
    return []


def _in_files(sent: SentBuild, text: str, files) -> tuple[str, int] | None:
    """(file, offset) of ``text`` written exactly once in exactly one of ``files`` of the sent build."""
    if len(text) < 4:
        return None
    pattern = "".join(_SAME.get(ch, re.escape(ch)) for ch in text)
    hits = [(f, m.start()) for f in files for m in re.finditer(pattern, sent.files.get(f, ""))]
    return hits[0] if len(hits) == 1 else None


def _ambiguous(sent, s, theirs, i1, i2, j1, j2, authors, why) -> Edit:
    ps, pe = s.rfind("\n", 0, i1) + 1, s.find("\n", i2)
    qs, qe = theirs.rfind("\n", 0, j1) + 1, theirs.find("\n", j2)
    mine, yours = s[ps:pe if pe >= 0 else len(s)], theirs[qs:qe if qe >= 0 else len(theirs)]
    o = next((sent.origin(i) for i in range(ps, max(pe, ps + 1)) if sent.origin(i).kind == "t"), None)
    where = f"templates/{o.ref}:{_line(sent.template_source(o.ref) or '', o.offset)}" if o and o.offset >= 0 else ""
    return Edit(AMBIGUOUS, s[i1:i2], theirs[j1:j2], where=where, authors=authors, message=why, both=(mine, yours))


def _context(s: str, i1: int, i2: int) -> str:
    ps, pe = s.rfind("\n", 0, i1) + 1, s.find("\n", i2)
    return s[ps:pe if pe >= 0 else len(s)][:80]


def _line(source: str, offset: int) -> int:
    return source.count("\n", 0, max(offset, 0)) + 1


# --- applying, three-way -----------------------------------------------------------------

def _apply(sent: SentBuild, pending: list[_Pending], current: dict[str, str | None], result: MergeResult) -> dict[str, str]:
    by_file: dict[str, list[tuple[int, int, str, _Pending]]] = {}
    offsets: dict[str, _Offsets] = {}
    for p in pending:
        base, ours = sent.files.get(p.file), current.get(p.file)
        p.edit.where = f"{p.file}:{_line(base or '', p.a)}"
        if base is None or ours is None:
            p.edit.status, p.edit.message = CONFLICT, f"{p.file} no longer exists"
            result.edits.append(p.edit)
            continue
        if ours == base:
            by_file.setdefault(p.file, []).append((p.a, p.b, p.text, p))
            continue
        m = offsets.setdefault(p.file, _Offsets(base, ours))
        clash = m.changed(p.a, p.b)
        if not clash:
            c, d = m.point(p.a), m.point(p.b)
            p.edit.where = f"{p.file}:{_line(ours, c)}"
            by_file.setdefault(p.file, []).append((c, d, p.text, p))
            continue
        lo, hi = min([p.a] + [o[1] for o in clash]), max([p.b] + [o[2] for o in clash])
        c, d = min([m.point(lo)] + [o[3] for o in clash]), max([m.point(hi)] + [o[4] for o in clash])
        theirs = base[lo:p.a] + p.text + base[p.b:hi]
        p.edit.where = f"{p.file}:{_line(ours, c)}"
        if ours[c:d] == theirs:
            p.edit.status, p.edit.message = ALREADY, "the file has this edit already (an earlier merge)"
        else:
            p.edit.status = CONFLICT
            p.edit.message = "the file changed here since the DOCX was sent; merge by hand"
            p.edit.both = (ours[c:d], theirs)
        result.edits.append(p.edit)
    changed = {}
    for file, edits in by_file.items():
        text = current[file]
        edits.sort(key=lambda e: (e[0], e[1]))
        kept, last_end = [], -1
        for e in edits:
            if e[0] < last_end:
                e[3].edit.status, e[3].edit.message = CONFLICT, "overlaps another edit of this merge"
                result.edits.append(e[3].edit)
                continue
            kept.append(e)
            last_end = max(last_end, e[1])
        for a, b, new, p in reversed(kept):
            text = text[:a] + new + text[b:]
        for e in kept:
            result.edits.append(e[3].edit)
        changed[file] = text
    result.edits.sort(key=lambda e: _order(e.where))
    return changed


def _order(where: str):
    m = re.match(r"(.*):(\d+)$", where)
    return (m.group(1), int(m.group(2))) if m else (where, 0)


# --- comments ------------------------------------------------------------------------------

def _comments(sent: SentBuild, returned: WordText, ranges) -> list[CommentNote]:
    """Each comment with the text it anchors and the template line (or value) that text came from."""
    out = []
    for c in returned.comments:
        anchored = returned.text[c.start:c.end] if c.start >= 0 else ""
        where = ""
        if c.start >= 0:
            i = _to_sent(c.start, ranges)
            o = sent.origin(min(i, len(sent.text) - 1))
            if o.kind == "t" and o.offset >= 0:
                where = f"templates/{o.ref}:{_line(sent.template_source(o.ref) or '', o.offset)}"
            elif o.kind == "v":
                where = f"value {o.ref}" + (f" ({o.where})" if o.where else "")
            else:
                where = "generated text"
        out.append(CommentNote(c.author, c.date, c.text, anchored, where))
    return out


def _comment_lines(sent: SentBuild, returned: WordText, ranges) -> list[_Pending]:
    """A ``{## comment (author): text ##}`` line after the template line each comment is anchored in."""
    out = []
    for c in returned.comments:
        if c.start < 0:
            continue
        o = sent.origin(min(_to_sent(c.start, ranges), len(sent.text) - 1))
        if o.kind != "t" or o.offset < 0:
            continue
        source = sent.template_source(o.ref) or ""
        end = source.find("\n", o.offset)
        words = " ".join(f"{c.text}".replace("##}", "## }").split())
        text = f"{{## comment ({c.author}, {c.date[:10]}) on \"{' '.join(returned.text[c.start:c.end].split())}\": {words} ##}}"
        at, text = (len(source), "\n" + text) if end < 0 else (end + 1, text + "\n")  # the next line
        out.append(_Pending(f"templates/{o.ref}", at, at, text, Edit("comment kept", "", text.strip())))
    return out


def _to_sent(j: int, ranges) -> int:
    """The position in the sent text of position ``j`` of the returned text."""
    shift = 0
    for a1, a2, b1, b2 in ranges:
        if j < b1:
            break
        if j < b2:
            return a1
        shift = a2 - b2
    return j + shift
