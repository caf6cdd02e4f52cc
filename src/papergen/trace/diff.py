"""Which numbers changed between two versions of the manuscript: ``python build.py diff REF``.

Two ledgers (numbers.json) are compared key by key. A number whose printed
text (its text or one of its printed parts) changed is listed with the
sentences it appears in; added and removed numbers are listed too; a number
whose exact value changed but whose printed text did not is only counted.
Every build compares itself with the build it replaces; ``diff REF`` compares
manuscript/ with a saved numbers.json, a submission kept by archive_ledger()
(submissions/LABEL/), or a git revision built with its own code.
"""
from __future__ import annotations

import argparse
import filecmp
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from papergen.errors import LedgerError, RevisionError
from papergen.ledger import read_ledger
from papergen.study import OutputPaths, StudyPaths

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
    from papergen.trace.changes import place_section, place_text

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

    ``store`` (papergen.cache.BuildCache) keeps the Word styles (reference.docx) between builds.
    """
    if not (previous / LEDGER).is_file():
        return None
    try:
        old = load_version(previous / LEDGER, "the last build", previous / out.markdown.name)
    except RevisionError as exc:
        warnings.warn(f"not compared with the last build: {exc}", stacklevel=2)
        return None
    diff = compare(old, load_version(out.ledger, "this build", out.markdown))
    from papergen.trace.changes import write_report

    write_report(diff, out.changes_html, out.changes_docx, docx_style=docx_style, source_date_epoch=source_date_epoch,
                 store=store)
    return diff


# --- submissions: ledgers kept so that a later diff needs no rebuild -----------------------

def archive_ledger(paths: StudyPaths, label: str, manuscript_dir: Path | None = None, *,
                   replace: bool = False) -> Path:
    """Keep the ledger and rendered text of a submission in submissions/LABEL/ (tracked by git).

    A kept submission is a record: a different ledger under the same label is refused
    unless ``replace``. Returns the path of the kept numbers.json.
    """
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
    from papergen.pipeline.build import read_settings

    md = OutputPaths(src, read_settings(paths)["output_name"]).markdown
    if md.is_file():
        shutil.copyfile(md, dest / MARKDOWN)
    return dest / LEDGER


def _markdown_in(folder: Path) -> Path | None:
    """The rendered manuscript Markdown of a build folder (output name from the study settings)."""
    found = sorted(p for p in folder.glob("*.md") if p.name != "changes.md")
    return found[0] if len(found) == 1 else next((p for p in found if p.name == MARKDOWN), None)


# --- REF: a file, a kept submission or a git revision ---------------------------------------

def resolve(paths: StudyPaths, ref: str, rebuild: bool = False) -> Version:
    """The version named by REF: a numbers.json (or a folder with one), submissions/REF/, or a git revision."""
    given = Path(ref).expanduser()
    for candidate in (given, paths.root / given):
        if candidate.is_file():
            return load_version(candidate, str(ref), _markdown_in(candidate.parent))
        if (candidate / LEDGER).is_file():
            return load_version(candidate / LEDGER, str(ref), _markdown_in(candidate))
    if LABEL_RE.match(ref) and (paths.submissions / ref / LEDGER).is_file():
        kept = paths.submissions / ref
        return load_version(kept / LEDGER, f"submission {ref}", kept / MARKDOWN)
    sha = _git(paths.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if not sha:
        raise RevisionError(f"{ref}: not a numbers.json, a submission in {paths.rel(paths.submissions)}/ "
                            "or a git revision")
    label = f"{ref} ({sha[:7]})"
    cached = paths.cache / "ledgers" / sha
    if rebuild or not (cached / LEDGER).is_file():
        build_revision(paths, ref, sha, cached)
    return load_version(cached / LEDGER, label, cached / MARKDOWN)


def _git(root: Path, *args: str) -> str:
    try:
        r = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return r.stdout.strip() if r.returncode == 0 else ""


def build_revision(paths: StudyPaths, ref: str, sha: str, keep: Path) -> None:
    """Build revision ``sha`` with its own code in a temporary export of its tree; keep its ledger in ``keep``.

    ``git archive`` copies the revision's files without touching the repository (no
    worktree to register or clean up); the build runs in a child Python that finds the
    revision's src/ before the installed papergen.
    """
    prefix = _git(paths.root, "rev-parse", "--show-prefix")
    archive = subprocess.run(["git", "archive", "--format=tar", sha], cwd=paths.root, capture_output=True)
    if archive.returncode != 0:
        raise RevisionError(f"{ref}: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    log = paths.cache / f"diff-build-{sha[:7]}.log"
    with tempfile.TemporaryDirectory(prefix="papergen-rev-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        top = Path(tmp)
        root = top / prefix
        if not (root / "build.py").is_file():
            raise RevisionError(f"{ref} ({sha[:7]}): no build.py in {prefix or 'the repository root'}; cannot build it")
        src = next((d for d in (root / "src", top / "src") if (d / "papergen").is_dir()), None)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        if src:
            env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])
        try:
            run = subprocess.run([sys.executable, "build.py"], cwd=root, env=env, capture_output=True,
                                 text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise RevisionError(f"{ref} ({sha[:7]}): its build took longer than 15 minutes") from None
        paths.cache.mkdir(exist_ok=True)
        log.write_text(f"$ python build.py  (in {ref} = {sha})\n{run.stdout}\n{run.stderr}", encoding="utf-8")
        built = root / "manuscript"
        if run.returncode != 0 or not (built / LEDGER).is_file():
            why = _first_error(run.stderr, run.stdout) if run.returncode else f"it wrote no manuscript/{LEDGER}"
            raise RevisionError(f"{ref} ({sha[:7]}) could not be built with its own code: {why} "
                                f"(output in {paths.rel(log)})")
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built / LEDGER, keep / LEDGER)
        md = _markdown_in(built)
        if md:
            shutil.copyfile(md, keep / MARKDOWN)


def _first_error(stderr: str, stdout: str) -> str:
    lines = [ln.strip() for ln in (stderr + "\n" + stdout).splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(("error:", "internal error:")):
            return ln.split(":", 1)[1].strip() if ln.startswith("error:") else ln
    tail = [ln for ln in stderr.splitlines() if ln.strip()]
    return tail[-1].strip() if tail else "exit code not 0"


# --- the command -----------------------------------------------------------------------

def current_version(paths: StudyPaths, settings: dict) -> Version:
    """manuscript/ as the new side; built first when missing or older than data/, study/ or templates/."""
    from papergen.pipeline.build import build_metadata

    out = OutputPaths(paths.manuscript, settings["output_name"])
    stale = True
    if out.ledger.is_file():
        try:
            recorded = json.loads(out.ledger.read_text(encoding="utf-8")).get("build", {}).get("inputs")
            stale = recorded != build_metadata(paths)["inputs"]
        except ValueError:
            stale = True
    if stale:
        from papergen.cli import run as build

        print(f"{paths.rel(paths.manuscript)}/ is missing or older than its inputs: building it first")
        build(paths, [])
    return load_version(out.ledger, "this version", out.markdown)


def run(paths: StudyPaths, argv: list[str]) -> int:
    """``python build.py diff REF``: list the numbers that changed since REF and write the change report."""
    parser = argparse.ArgumentParser(
        prog="python build.py diff",
        description="Numbers that changed between REF and manuscript/ (built first if out of date).")
    parser.add_argument("ref", help="a git revision (HEAD~1, a tag), a submission label kept in submissions/, "
                                    "or a saved numbers.json (or a folder holding one)")
    parser.add_argument("--no-report", action="store_true", help="do not write manuscript/changes.html and .docx")
    parser.add_argument("--rebuild", action="store_true", help="rebuild a git revision even if its ledger is cached")
    args = parser.parse_args(argv)
    from papergen.pipeline.build import read_settings, source_date_epoch
    from papergen.trace.changes import write_report

    settings = read_settings(paths)
    new = current_version(paths, settings)
    old = resolve(paths, args.ref, rebuild=args.rebuild)
    diff = compare(old, new)
    out = OutputPaths(paths.manuscript, settings["output_name"])
    report = None
    if not args.no_report:
        write_report(diff, out.changes_html, out.changes_docx, docx_style=settings.get("docx_style"),
                     source_date_epoch=source_date_epoch(paths))
        report = f"{paths.rel(out.changes_html)}, .docx"
    for line in summary_lines(diff, report):
        print(line)
    return 0
