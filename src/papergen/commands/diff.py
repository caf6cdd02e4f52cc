"""``python build.py diff REF``: the numbers that changed between REF and manuscript/, and the change report.

REF is a saved numbers.json (or a folder holding one), a submission kept in
submissions/LABEL/ (papergen.trace.diff.archive_ledger), or a git revision,
built with its own code in a temporary export of its tree. The comparison of
two ledgers is papergen.trace.diff; manuscript/ is built first when stale.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from papergen.commands import build
from papergen.errors import RevisionError
from papergen.pipeline.stages import build_metadata
from papergen.study import Study, StudyPaths
from papergen.trace.changes import write_report
from papergen.trace.diff import LABEL_RE, LEDGER, MARKDOWN, Version, markdown_in, compare, load_version, summary_lines


# --- REF: a file, a kept submission or a git revision ---------------------------------------

def resolve(paths: StudyPaths, ref: str, rebuild: bool = False) -> Version:
    """The version named by REF: a numbers.json (or a folder with one), submissions/REF/, or a git revision."""
    given = Path(ref).expanduser()
    for candidate in (given, paths.root / given):
        if candidate.is_file():
            return load_version(candidate, str(ref), markdown_in(candidate.parent))
        if (candidate / LEDGER).is_file():
            return load_version(candidate / LEDGER, str(ref), markdown_in(candidate))
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
        r = subprocess.run(["git", *args], cwd=root, capture_output=True, encoding="utf-8", timeout=60)
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
                                 encoding="utf-8", timeout=900)
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
        md = markdown_in(built)
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

def current_version(study: Study) -> Version:
    """manuscript/ as the new side; built first when missing or older than data/, study/ or templates/."""
    paths, out = study.paths, study.outputs()
    stale = True
    if out.ledger.is_file():
        try:
            recorded = json.loads(out.ledger.read_text(encoding="utf-8")).get("build", {}).get("inputs")
            stale = recorded != build_metadata(study)["inputs"]
        except ValueError:
            stale = True
    if stale:
        print(f"{paths.rel(paths.manuscript)}/ is missing or older than its inputs: building it first")
        build.run(paths, [])
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
    study = Study(paths)
    new = current_version(study)
    old = resolve(paths, args.ref, rebuild=args.rebuild)
    diff = compare(old, new)
    out = study.outputs()
    report = None
    if not args.no_report:
        write_report(diff, out.changes_html, out.changes_docx, docx_style=study.settings.get("docx_style"),
                     source_date_epoch=study.source_date_epoch)
        report = f"{paths.rel(out.changes_html)}, .docx"
    for line in summary_lines(diff, report):
        print(line)
    return 0
