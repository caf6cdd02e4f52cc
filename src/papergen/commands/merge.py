"""``python build.py merge FILE.docx [FILE2.docx ...]``: co-authors' edited copies back into the templates.

Each file is merged against the build it came from (its papergen-build
property and .papergen/sent/<id>/), one after another, so an edit the first
already made is not made twice (papergen.trace.merge). Prose edits go to the
template lines they came from; edits of generated values are refused with
the value's definition; comments are listed. The report is printed and
written to manuscript/merge-report.html. Every file is read and every edit
checked before anything is written; then the edited files and the report
are written together, or, on any failure, nothing is.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import yaml

from papergen.atomic import umask
from papergen.errors import MergeError, NotFromPapergenError, ReturnedDocxError
from papergen.study import StudyPaths
from papergen.trace.merge import plan_merge
from papergen.trace.mergereport import html_report, terminal_lines
from papergen.trace.sourcemap import SentBuild
from papergen.trace.wordtext import read_word

REPORT = "merge-report.html"


def run(paths: StudyPaths, argv: list[str], echo=print) -> int:
    parser = argparse.ArgumentParser(prog="python build.py merge",
                                     description="Merge co-authors' edited DOCX copies back into the templates.")
    parser.add_argument("files", nargs="+", type=Path, help="DOCX files returned by co-authors, merged in this order")
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    parser.add_argument("--keep-comments", action="store_true",
                        help="also keep each comment as a {## ... ##} line after its template line")
    args = parser.parse_args(argv)
    loaded = [_load(paths, f) for f in args.files]  # every file checked before anything is merged
    current: dict[str, str | None] = {}
    results, changed = [], {}
    for name, sent, returned in loaded:
        for rel in sent.files:
            if rel not in current:
                f = paths.root / rel
                current[rel] = f.read_text(encoding="utf-8") if f.is_file() else None
        result, new = plan_merge(sent, returned, name, current, keep_comments=args.keep_comments)
        current.update(new)
        changed.update(new)
        results.append(result)
    for rel, text in changed.items():
        _check(rel, text)
    for r in results:
        for line in terminal_lines(r):
            echo(line)
    if args.dry_run:
        echo("dry run: nothing was written")
        return 0
    writes = {paths.root / rel: text for rel, text in changed.items()}
    writes[paths.manuscript / REPORT] = html_report(results)
    write_all(writes)
    shown = ", ".join(sorted(changed)) or "no file"
    echo(f"wrote {shown}; report in {paths.rel(paths.manuscript / REPORT)}"
         + ("; review with git diff" if changed else ""))
    return 0


def _load(paths: StudyPaths, file: Path):
    name = str(file)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ReturnedDocxError(f"{name}: cannot be read ({exc.strerror or exc}); nothing was merged") from None
    returned = read_word(data, name)
    if not returned.build_id:
        raise NotFromPapergenError(f"{name} was not built by papergen (it has no papergen-build document "
                                   "property); only a DOCX from python build.py can be merged; nothing was merged")
    return name, SentBuild.load(paths.sent, returned.build_id, name), returned


def _check(rel: str, text: str) -> None:
    """A merged file must still be read as what it is: a template Jinja parses, YAML, Python."""
    try:
        if rel.endswith(".j2"):
            from papergen.write.render import Renderer

            Renderer(Path("."), {}).env.parse(text)
        elif rel.endswith((".yaml", ".yml")):
            yaml.safe_load(text)
        elif rel.endswith(".py"):
            compile(text, rel, "exec")
    except Exception as exc:  # jinja2.TemplateSyntaxError, yaml.YAMLError, SyntaxError
        raise MergeError(f"{rel}: the merged edits would break it ({' '.join(str(exc).split())[:100]}); "
                         "nothing was written") from None


def write_all(files: dict[Path, str]) -> None:
    """Write every file, or none: all are written to temporary files first, then renamed into place."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".merge")
            os.fchmod(fd, 0o666 & ~umask())  # the mode of any new file, not mkstemp's 0600
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
