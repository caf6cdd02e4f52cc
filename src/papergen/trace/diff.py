"""Which numbers changed between two versions of the manuscript (two ledgers), and the kept submissions.

Two ledgers (numbers.json) are compared key by key. A number whose printed
text (its text or one of its printed parts) changed is listed with the
sentences it appears in; added and removed numbers are listed too; a number
whose exact value changed but whose printed text did not is only counted.
Every build compares itself with the build it replaces (compare_with_last);
the command ``diff REF`` (papergen.commands.diff) compares manuscript/ with a
saved numbers.json, a submission kept by archive_ledger() (submissions/LABEL/),
or a git revision built with its own code.
"""
from __future__ import annotations

import filecmp
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

from papergen.errors import LedgerError, RevisionError
from papergen.ledger import read_ledger
from papergen.trace.changes import place_section, place_text, write_report
from papergen.study import OutputPaths, Study

LEDGER = "numbers.json"
MARKDOWN = "manuscript.md"   # name of the rendered text kept next to an archived or cached ledger
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class Version:
    """One version of the manuscript: its ledger values, build metadata and (if kept) rendered Markdown."""

    label: str
    values: dict
    build: dict
    markdown: str | None = None


@dataclass
class Diff:
    old: Version
    new: Version
    changed: list[str]      # printed text changed
    added: list[str]
    removed: list[str]
    exact_only: list[str]   # exact value changed, printed text did not

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)


def load_version(ledger: Path, label: str, markdown: Path | None = None) -> Version:
    """Read a numbers.json (and the Markdown rendered with it, if given and present)."""
    try:
        data = read_ledger(ledger)
        values = data["values"]
        for key, v in values.items():
            if not isinstance(v.get("text"), str):
                raise ValueError(f"value {key!r} has no printed text")
    except (LedgerError, ValueError, TypeError, AttributeError) as exc:
        raise RevisionError(f"{ledger}: not a readable papergen ledger ({type(exc).__name__}: {exc})") from None
    md = Path(markdown).read_text(encoding="utf-8") if markdown and Path(markdown).is_file() else None
    return Version(label=label, values=values, build=data.get("build") or {}, markdown=md)


def changed_parts(old: dict, new: dict) -> dict[str, tuple[str, str]]:
    """Printed forms that differ: the text, and each part both versions have (a part new to the
    engine, like a new table form, is not a change of the number)."""
    out = {"text": (old.get("text"), new.get("text"))}
    po, pn = old.get("parts") or {}, new.get("parts") or {}
    out.update({name: (po[name], pn[name]) for name in sorted(po.keys() & pn.keys())})
    return {name: pair for name, pair in out.items() if pair[0] != pair[1]}


def compare(old: Version, new: Version) -> Diff:
    both = [k for k in new.values if k in old.values]
    moved = {k for k in both if changed_parts(old.values[k], new.values[k])}
    return Diff(
        old=old, new=new,
        changed=sorted(moved),
        added=sorted(k for k in new.values if k not in old.values),
        removed=sorted(k for k in old.values if k not in new.values),
        exact_only=sorted(k for k in both if k not in moved
                          and old.values[k].get("exact") != new.values[k].get("exact")),
    )


def changed_texts(diff: Diff) -> dict[str, dict[str, str]]:
    """key -> {"old", "new"}: what each changed number printed before and prints now (its text, or the printed
    parts that moved when the text did not), for the preview's marks."""
    out = {}
    for k in diff.changed:
        parts = changed_parts(diff.old.values[k], diff.new.values[k])
        if "text" in parts:
            old, new = parts["text"]
        else:
            old, new = ("; ".join(f"{name} {pair[i]}" for name, pair in parts.items()) for i in (0, 1))
        out[k] = {"old": old, "new": new}
    return out


# --- terminal -------------------------------------------------------------------------

def summary_lines(diff: Diff, report: str | None = None) -> list[str]:
    """The terminal listing: one line per changed number, then its sentences (section: sentence)."""
    head = (f"numbers changed since {diff.old.label}: {len(diff.changed)} changed, {len(diff.added)} added, "
            f"{len(diff.removed)} removed; {len(diff.exact_only)} more changed beyond the printed precision")
    if not diff and not diff.exact_only:
        return [f"no number changed since {diff.old.label}"]
    lines = [head + (f" (report: {report})" if report and diff else "")]
    for k in diff.changed:
        old, new = diff.old.values[k], diff.new.values[k]
        parts = changed_parts(old, new)
        extra = "" if "text" in parts else "; ".join(f"{name} {a} -> {b}" for name, (a, b) in parts.items())
        lines.append(f"  {k}: {old['text']} -> {new['text']}" + (f" ({extra})" if extra else ""))
        lines += [f"      {where}" for where in _places(new)]
    for sign, keys, side in (("+", diff.added, diff.new), ("-", diff.removed, diff.old)):
        for k in keys:
            lines.append(f"  {sign} {k}: {side.values[k]['text']}")
            lines += [f"      {where}" for where in _places(side.values[k])]
    return lines


def _places(value: dict) -> list[str]:
    out = []
    for p in value.get("places") or []:
        text = place_text(p)
        line = f"{place_section(p)}: {text}" if text else place_section(p)
        if line not in out:
            out.append(line)
    return out or ["(not printed in the text)"]


# --- the automatic diff of each build ---------------------------------------------------

def compare_with_last(previous: Path, out: OutputPaths, *, docx_style: dict | None = None,
                      source_date_epoch: int | None = None, store=None) -> Diff | None:
    """Build stage: compare the new ledger with the one in ``previous`` (manuscript/) and write the report.

    ``store`` (papergen.pipeline.cache.BuildCache) keeps the Word styles (reference.docx) between builds.
    """
    if not (previous / LEDGER).is_file():
        return None
    try:
        old = load_version(previous / LEDGER, "the last build", previous / out.markdown.name)
    except RevisionError as exc:
        warnings.warn(f"not compared with the last build: {exc}", stacklevel=2)
        return None
    diff = compare(old, load_version(out.ledger, "this build", out.markdown))
    write_report(diff, out.changes_html, out.changes_docx, docx_style=docx_style, source_date_epoch=source_date_epoch,
                 store=store)
    return diff


# --- submissions: ledgers kept so that a later diff needs no rebuild -----------------------

def archive_ledger(study: Study, label: str, manuscript_dir: Path | None = None, *,
                   replace: bool = False) -> Path:
    """Keep the ledger and rendered text of a submission in submissions/LABEL/ (tracked by git).

    A kept submission is a record: a different ledger under the same label is refused
    unless ``replace``. Returns the path of the kept numbers.json.
    """
    paths = study.paths
    if not LABEL_RE.match(label):
        raise RevisionError(f"submission label {label!r}: use letters, digits, '.', '-' or '_'")
    src = Path(manuscript_dir or paths.manuscript)
    if not (src / LEDGER).is_file():
        raise RevisionError(f"{paths.rel(src / LEDGER)}: no ledger to keep; build the manuscript first")
    dest = paths.submissions / label
    if (dest / LEDGER).exists() and not replace and not filecmp.cmp(src / LEDGER, dest / LEDGER, shallow=False):
        raise RevisionError(f"{paths.rel(dest / LEDGER)} already holds another ledger; choose a new label")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / LEDGER, dest / LEDGER)
    md = study.outputs(src).markdown
    if md.is_file():
        shutil.copyfile(md, dest / MARKDOWN)
    return dest / LEDGER


def markdown_in(folder: Path) -> Path | None:
    """The rendered manuscript Markdown of a build folder (output name from the study settings)."""
    found = sorted(p for p in folder.glob("*.md") if p.name != "changes.md")
    return found[0] if len(found) == 1 else next((p for p in found if p.name == MARKDOWN), None)
