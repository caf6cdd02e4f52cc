"""The source map of a sent DOCX: where each character of its text came from, kept per build in .papergen/sent/<id>/.

For every character of the DOCX text (as papergen.trace.wordtext reads it) the
map says whether it is a template's literal text (file and source offset), a
generated value (its key and the template line that printed it) or other text
the build generated (a table's labels, a citation number, the references).
It is made from the rendered Markdown with source marks
(papergen.write.sourcemarks): pandoc reads it into an AST, the AST's text is
aligned with each literal stretch's source, and then with the DOCX's own text
(citeproc and the DOCX writer change a little). The record also keeps the
template sources, the analysis plan and study.yaml as they were, and each
value's text and definition, so that a copy returned months later merges
against the build it came from (papergen.trace.merge).
"""
from __future__ import annotations

import bisect
import difflib
import gzip
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from papergen.atomic import write_bytes
from papergen.errors import UnknownBuildError
from papergen.publish import chunks, pandoc
from papergen.trace.textdiff import opcodes
from papergen.trace.wordtext import read_word
from papergen.write import sourcemarks

RECORD = "map.json.gz"
FORMAT = 1


# --- making the map ------------------------------------------------------------------------

def write_record(expected: tuple[str, list], docx: Path, root: Path, files: list[Path],
                 values: dict, dest_parent: Path, built: str, memo: dict | None = None) -> Path | None:
    """The source map of ``docx`` into ``dest_parent/<build id>/``; nothing if that build is kept already.

    ``expected``: what expected_text() returned for the render that made ``docx``; ``files``: the study
    files edits may be applied to (templates, plan, study.yaml), kept as they are now; ``values``: the
    ledger's values; ``built``: the build date (ISO); ``memo``: alignments of paragraphs kept between
    builds (papergen.trace.textdiff.opcodes).
    """
    data = Path(docx).read_bytes()
    sent = read_word(data, Path(docx).name)
    if not sent.build_id:
        return None
    dest = Path(dest_parent) / sent.build_id
    if (dest / RECORD).exists():
        return dest / RECORD
    spans = align(*expected, sent.text, memo)
    record = {
        "format": FORMAT, "build": sent.build_id, "built": built, "text": sent.text, "spans": spans,
        "files": {Path(f).relative_to(root).as_posix(): f.read_text(encoding="utf-8") for f in files},
        "values": {k: {"text": v.get("text", ""), "definition": v.get("definition", ""),
                       "inputs": sorted({i.get("file", "") for i in v.get("inputs", []) if i.get("file")}),
                       "declared_at": v.get("declared_at", "")} for k, v in values.items()},
    }
    raw = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
    write_bytes(dest / RECORD, gzip.compress(raw, mtime=0))
    return dest / RECORD


def expected_text(marked_md: str, printed: list[dict] | None, templates: dict[str, str], cwd: Path,
                  kept: Path | None = None) -> tuple[str, list]:
    """The manuscript's text as the DOCX shows it, from the marked Markdown, and each character's origin.

    An origin is ``("t", template, offset)`` (offset -1: no source character matched), ``("v", key, place)``
    or ``("g",)``. ``kept``: a folder keeping the ASTs of the Markdown's parts (papergen.publish.chunks), so
    that pandoc reads only the parts an edit changed.
    """
    def read(text: str) -> dict:
        with tempfile.TemporaryDirectory(dir=cwd) as tmp:
            md, ast = Path(tmp) / "marked.md", Path(tmp) / "marked.json"
            md.write_text(text, encoding="utf-8")
            pandoc.run_pandoc([str(md), "--from=markdown", "--to=json", f"--output={ast}"], out=ast,
                              log_path=Path(tmp) / "pandoc.log", cwd=Path(tmp), epoch=None, strict=False)
            return json.loads(ast.read_text(encoding="utf-8"))

    doc = chunks.read_markdown(marked_md, read, kept)
    w = _AstText(printed or [])
    w.blocks(doc["blocks"])
    text = "".join(w.chars)
    origins = list(w.origins)
    for template, offset, length, positions in w.runs:  # literal characters -> their source offsets
        source = templates.get(template, "")[offset:offset + length]
        rendered = "".join(w.chars[p] for p in positions)
        for p, off in zip(positions, _subsequence(rendered, source)):
            origins[p] = ("t", template, offset + off if off >= 0 else -1)
    return text, origins


def _subsequence(rendered: str, source: str, window: int = 12) -> list[int]:
    """The source index of each rendered character (-1: none), for text that is its source minus markup.

    Greedy: each character is looked for in the next ``window`` source characters (Markdown drops
    ``**``, ``\\``, ``## `` and blank lines; smart quotes change ``'``); when more than a tenth stays
    unmatched, difflib aligns the two instead.
    """
    out, j = [], 0
    for i, ch in enumerate(rendered):
        k = source.find(ch, j, j + window) if ch != "\n" else _newline(source, j, window)
        if k < 0 and ch != "\n":  # skipped source (a citation key the DOCX shows as a number): jump to what follows
            k = source.find(rendered[i:i + 4], j, j + 40 * window) if len(rendered) - i >= 4 else -1
        out.append(k)
        if k >= 0:
            j = k + 1
    if sum(1 for k in out if k < 0) * 10 > len(out) + 10:
        out = [-1] * len(rendered)
        for a, b, n in difflib.SequenceMatcher(None, rendered, source, autojunk=False).get_matching_blocks():
            for k in range(n):
                out[a + k] = b + k
    return out


def _newline(source: str, j: int, window: int) -> int:
    """A paragraph break: the last newline of the run of newlines ahead (a blank line is two)."""
    k = source.find("\n", j, j + window)
    while 0 <= k < len(source) - 1 and source[k + 1] == "\n":
        k += 1
    return k


class _AstText:
    """Walks pandoc's AST the way pandoc's DOCX writer lays it out: one paragraph per block, cells in order."""

    def __init__(self, printed: list[dict]) -> None:
        self.printed = printed
        self.chars: list[str] = []
        self.origins: list = []
        self.runs: list[tuple[str, int, int, list[int]]] = []
        self.cur = ("g",)
        self._run: list[int] | None = None

    def _emit(self, text: str, origin=None) -> None:
        for ch in text:
            self.chars.append(ch)
            o = origin or self.cur
            self.origins.append(o)
            if origin is None and self._run is not None:
                self._run.append(len(self.chars) - 1)

    def _para_end(self) -> None:
        if self.chars and self.chars[-1] != "\n":
            self._emit("\n")

    def blocks(self, blocks: list) -> None:
        for b in blocks:
            t, c = b.get("t"), b.get("c")
            if t in ("Para", "Plain"):
                self.inlines(c)
                self._para_end()
            elif t == "Header":
                self.inlines(c[2])
                self._para_end()
            elif t in ("Div", "BlockQuote"):
                self.blocks(c[1] if t == "Div" else c)
            elif t in ("BulletList", "OrderedList"):
                for item in (c if t == "BulletList" else c[1]):
                    self.blocks(item)
            elif t == "LineBlock":
                for line in c:
                    self.inlines(line)
                    self._para_end()
            elif t == "CodeBlock":
                self._emit(c[1], ("g",))
                self._para_end()
            elif t == "Table":
                self.blocks(c[1][1])  # the caption, written above the table
                head, bodies, foot = c[3], c[4], c[5]
                rows = head[1] + [r for body in bodies for r in body[2] + body[3]] + foot[1]
                for row in rows:
                    for cell in row[1]:
                        self.blocks(cell[4])
            elif t == "Figure":
                self.blocks(c[2])
                self.blocks(c[1][1])
            elif t == "DefinitionList":
                for term, defs in c:
                    self.inlines(term)
                    self._para_end()
                    for d in defs:
                        self.blocks(d)

    def inlines(self, inlines: list, origin=None) -> None:
        for i in inlines:
            t, c = i.get("t"), i.get("c")
            if t == "Str":
                self._str(c, origin)
            elif t in ("Space", "SoftBreak", "LineBreak"):
                self._emit(" ", origin)
            elif t in ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps"):
                self.inlines(c, origin)
            elif t == "Quoted":
                left, right = ("\u201c", "\u201d") if c[0]["t"] == "DoubleQuote" else ("\u2018", "\u2019")
                self._emit(left, origin)
                self.inlines(c[1], origin)
                self._emit(right, origin)
            elif t == "Cite":
                self.inlines(c[1], ("g",))
            elif t in ("Code", "Math"):
                self._emit(c[1], origin or ("g",))
            elif t == "Link":
                self.inlines(c[1], origin)
            elif t == "Span":
                attrs = dict(c[0][2])
                if "pg-value" in c[0][1]:
                    at = attrs.get("data-pg-at")
                    place = self.printed[int(at)] if at is not None and int(at) < len(self.printed) else {}
                    where = f"templates/{place['template']}:{place['line']}" if place.get("template") else ""
                    self.inlines(c[1], ("v", attrs.get("data-key", ""), where))
                else:
                    self.inlines(c[1], origin)
            # Image, Note, RawInline: no text in the DOCX paragraph

    def _str(self, text: str, origin) -> None:
        pos = 0
        for m in sourcemarks.MARK_RE.finditer(text):
            self._emit(text[pos:m.start()], origin)
            pos = m.end()
            if origin is not None:
                continue
            found = sourcemarks.read_mark(m)
            if found is None:
                self.cur, self._run = ("g",), None
            else:
                self._run = []
                self.runs.append((*found, self._run))
                self.cur = ("t", found[0], -1)
        self._emit(text[pos:], origin)


def align(expected: str, origins: list, actual: str, memo: dict | None = None) -> list[list]:
    """Spans ``[start, end, kind, ref, extra]`` of ``actual`` (the DOCX text), with the origins of ``expected``.

    Paragraphs, words, then the characters of short stretches that differ are aligned (papergen.trace.textdiff);
    what the DOCX has that the Markdown had not (citation numbers, the references) is generated text.
    ``extra`` holds the source offset of each character for a literal span, the printing place for a value.
    """
    out: list = [("g",)] * len(actual)
    for op, e1, e2, a1, a2 in opcodes(expected, actual, chars=40, memo=memo):
        if op == "equal":
            out[a1:a2] = origins[e1:e2]
    return _spans(out)


def _spans(origins: list) -> list[list]:
    spans: list[list] = []
    for i, o in enumerate(origins):
        kind, ref = o[0], (o[1] if len(o) > 1 else "")
        last = spans[-1] if spans else None
        if last and last[2] == kind and last[3] == ref and last[1] == i and (kind != "v" or last[4] == o[2]):
            last[1] = i + 1
            if kind == "t":
                last[4].append(o[2])
            continue
        spans.append([i, i + 1, kind, ref, [o[2]] if kind == "t" else (o[2] if kind == "v" else "")])
    return spans


# --- reading it back ------------------------------------------------------------------------

@dataclass
class Origin:
    kind: str          # "t" literal template text, "v" a generated value, "g" other generated text
    ref: str = ""      # the template file name, or the value's key
    offset: int = -1   # the source offset of a literal character (-1: none matched)
    where: str = ""    # for a value: the template line that printed it
    start: int = 0     # the span of text this origin covers in the sent text
    end: int = 0


class SentBuild:
    """A sent build's record: its text, each character's origin, its files and values as they were."""

    def __init__(self, record: dict) -> None:
        self.build_id = record["build"]
        self.built = record.get("built", "")
        self.text: str = record["text"]
        self.files: dict[str, str] = record["files"]
        self.values: dict[str, dict] = record["values"]
        self.spans: list[list] = record["spans"]  # [start, end, kind, ref, offsets or place] (trace.sourcemap.align)
        self._starts = [s[0] for s in self.spans]

    @classmethod
    def load(cls, sent_dir: Path, build_id: str, name: str) -> "SentBuild":
        path = Path(sent_dir) / build_id / RECORD
        try:
            return cls(json.loads(gzip.decompress(path.read_bytes()).decode("utf-8")))
        except FileNotFoundError:
            raise UnknownBuildError(f"{name} comes from build {build_id}, which this study has no record of "
                                    f"(no {path.parent.name} in .papergen/sent/): it was built from another "
                                    "copy of the study, or .papergen/ was deleted; nothing was merged") from None

    def origin(self, i: int) -> Origin:
        """The origin of character ``i`` of the sent text."""
        k = bisect.bisect_right(self._starts, i) - 1
        if k < 0 or i >= len(self.text):
            return Origin("g")
        s = self.spans[k]
        if s[2] == "t":
            return Origin("t", s[3], s[4][i - s[0]], start=s[0], end=s[1])
        if s[2] == "v":
            return Origin("v", s[3], where=s[4], start=s[0], end=s[1])
        return Origin("g", start=s[0], end=s[1])

    def template_source(self, name: str) -> str | None:
        return self.files.get(f"templates/{name}")
