"""The reporting checklist of the study's design, filled in from the templates: STROBE, CONSORT 2010 or CARE.

A template declares the items its text addresses with a Jinja comment written
next to that text, ``{## strobe: 6a, 12b ##}`` (``consort:`` for a randomised
trial, ``care:`` for a case report), so the checklist cannot drift from the
manuscript. The build writes ``<guideline>-checklist.md`` and ``.docx`` (a
real Word table) listing each item, what it asks and the section(s) that
address it; an item no template declares is listed as missing. A declaration
of another guideline than the design's is an error naming its line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from papergen.errors import TemplateError
from papergen.study import Study
from papergen.write.lint import template_env, tokens
from papergen.yamlfile import read_yaml

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
#: guideline -> (items file, its name in messages, the checklist's heading)
GUIDELINES = {
    "strobe": (RESOURCES / "strobe_cohort.yaml", "STROBE", "STROBE checklist: cohort study"),
    "consort": (RESOURCES / "consort_2010.yaml", "CONSORT", "CONSORT 2010 checklist: randomised trial"),
    "care": (RESOURCES / "care_2013.yaml", "CARE", "CARE checklist: case report"),
}
ITEMS_FILE = GUIDELINES["strobe"][0]
_DECLARATION = re.compile(r"^\s*(strobe|consort|care)\s*:\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(\{[^}]*\})?\s*$")


@dataclass
class Item:
    item: str
    topic: str
    text: str
    places: list[str] = field(default_factory=list)  # "Materials and methods: Patients (templates/methods.md.j2:5)"


def load_items(path: Path = ITEMS_FILE) -> list[Item]:
    items = read_yaml(path)
    return [Item(str(d["item"]), d["topic"], d["text"]) for d in items]


def declarations(template_dir: Path, sections: dict[str, str], shown_prefix: str = "templates",
                 guideline: str = "strobe"):
    """Every ``{## strobe: ... ##}`` comment: (item ids as written, section name, template:line)."""
    env = template_env()
    out = []
    for path in sorted(Path(template_dir).rglob("*.j2")):
        name = path.relative_to(template_dir).as_posix()
        source = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        for kind, text, at in tokens(env, source, name):
            m = _DECLARATION.match(text) if kind == "comment" else None
            if not m:
                continue
            line = source.count("\n", 0, at) + 1
            if m.group(1).lower() != guideline:
                raise TemplateError(f"{shown_prefix}/{name}:{line}: declares {GUIDELINES[m.group(1).lower()][1]} items, "
                                    f"but the study's design asks for {GUIDELINES[guideline][1]} "
                                    f"(study.yaml design:); write {{## {guideline}: ... ##}}")
            ids = [x for x in re.split(r"[\s,;]+", m.group(2)) if x]
            out.append((ids, _section(source, line, sections.get(name, name)), f"{shown_prefix}/{name}:{line}"))
    return out


def _section(source: str, line: int, title: str) -> str:
    """The manuscript section of a template line: its title, and the sub-heading above the line if any."""
    for text in reversed(source.splitlines()[:line]):
        m = _HEADING.match(text)
        if m and len(m.group(1)) > 1 and "{{" not in m.group(2):
            return f"{title}: {m.group(2)}"
        if m:
            break
    return title


def fill(items: list[Item], decls, guideline: str = "strobe") -> list[Item]:
    """Attach each declaration to its items; an unknown item id is a TemplateError naming the line."""
    by_id = {i.item.lower(): i for i in items}
    for ids, section, where in decls:
        for raw in ids:
            key = raw.lower()
            hit = [i for i in items if i.item.lower() == key or re.fullmatch(rf"{re.escape(key)}[a-z]", i.item.lower())]
            if not hit:
                known = ", ".join(by_id)
                raise TemplateError(f"{where}: unknown {GUIDELINES[guideline][1]} item {raw!r}; the items are {known}")
            for i in hit:
                if section not in i.places:
                    i.places.append(section)
    return items


def checklist(study: Study) -> list[Item]:
    g = study.guideline
    return fill(load_items(GUIDELINES[g][0]), declarations(study.paths.templates, study.sections, guideline=g), g)


def missing_items(study: Study) -> list[str]:
    return [i.item for i in checklist(study) if not i.places]


def to_markdown(items: list[Item], title: str, heading: str = GUIDELINES["strobe"][2]) -> str:
    """The checklist as a pandoc pipe table (a real table in the DOCX)."""
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    done = sum(1 for i in items if i.places)
    lines = [f"# {heading}", "",
             f"{esc(title)}", "",
             f"Items addressed: {done} of {len(items)}. Sections are those whose text declares the item.", "",
             "| Item | Topic | Recommendation (paraphrased) | Addressed in |", "|:---|:---|:---|:---|"]
    for i in items:
        where = "; ".join(i.places) if i.places else "**missing**"
        lines.append(f"| {i.item} | {esc(i.topic)} | {esc(i.text)} | {esc(where)} |")
    return "\n".join(lines) + "\n"


def write_checklist(study: Study, out, store=None) -> list[str]:
    """The build stage: strobe-checklist.md and .docx in ``out.dir``; returns a warning naming missing items.

    With ``store`` (papergen.pipeline.cache.BuildCache) the DOCX is reused while its Markdown, style and the
    engine are unchanged (most builds), and made with the Word styles the manuscript uses.
    """
    items = checklist(study)
    title = str(study.settings.get("facts", {}).get("title", {}).get("text", ""))
    heading = GUIDELINES[study.guideline][2]
    if study.guideline == "strobe" and study.design != "cohort":  # STROBE's cohort wording, named for the design
        heading = f"STROBE checklist: {study.design} (worded for cohort studies; see strobe-statement.org)"
    text = to_markdown(items, title, heading)
    out.strobe_md.write_text(text, encoding="utf-8")
    _docx(study.docx_style, out, text, study.source_date_epoch, store)
    missing = [i.item for i in items if not i.places]
    name = GUIDELINES[study.guideline][1]
    return [f"{name}: {len(missing)} of {len(items)} items declared by no template (missing): {', '.join(missing)}"] \
        if missing else []


def _docx(style: dict, out, text: str, epoch: int | None, store=None) -> None:
    """strobe-checklist.docx; with ``store`` (papergen.pipeline.cache.BuildCache) kept by its Markdown, style and
    epoch in a folder of the build cache, which a change anywhere in the engine empties."""
    import hashlib
    import json
    import shutil

    from papergen.publish import export
    from papergen.publish.reference_docx import build_reference_docx

    if store is None:
        ref = build_reference_docx(out.dir / "strobe-reference.docx", **style)
        try:
            export.to_docx(out.strobe_md, out.strobe_docx, resource_path=out.dir, bibliography=None, csl=None,
                           reference_docx=ref, source_date_epoch=epoch, citeproc=False)
        finally:
            ref.unlink(missing_ok=True)
        return
    key = hashlib.sha256(json.dumps([text, style, epoch], sort_keys=True, default=str).encode("utf-8")).hexdigest()
    cached = store.folder("strobe") / f"{key[:20]}.docx"
    if cached.exists() and not store.force:
        shutil.copyfile(cached, out.strobe_docx)
        return
    export.to_docx(out.strobe_md, out.strobe_docx, resource_path=out.dir, bibliography=None, csl=None,
                   reference_docx=store.reference_docx(style), source_date_epoch=epoch, citeproc=False)
    for old in cached.parent.glob("*.docx"):  # keep only the latest
        old.unlink(missing_ok=True)
    shutil.copyfile(out.strobe_docx, cached)
