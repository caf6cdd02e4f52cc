"""build_manuscript(): the pipeline as a list of stage calls.

read the study -> lint the templates -> read and validate data -> run the
analysis plan -> draw figures -> render templates -> read the manuscript and
write the ledger -> journal profile, STROBE, DOCX, PDF, review edition and the
comparison with the last build -> swap the new manuscript in. Everything is
written to a staging folder first, so a failed build leaves the last good
manuscript/ as it was; a failure, a full disk, Ctrl-C, SIGTERM, SIGHUP or the
timeout removes the staging folder and ends the helper processes (_clean_up).
What each call does with the Study is in papergen.pipeline.stages; the runner
(timing, skipping, running together, "still running", the timeout) in
papergen.pipeline.runner.
"""
from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from papergen.analysis.consistency import check_consistency
from papergen.atomic import keep_diagnostics, staging_dir, swap_in
from papergen.errors import DiskFullError, ExportError, StudyLayoutError
from papergen.pipeline.cache import BuildCache
from papergen.pipeline import stopping
from papergen.pipeline.runner import Stages
from papergen.pipeline.stages import (
    compare_with_last,
    draw_figures,
    export_docx,
    export_pdf,
    journal_report,
    load_data,
    map_sources,
    read_manuscript,
    render_manuscript,
    run_analysis,
    write_numbers,
    write_review,
    write_source_map,
)
from papergen.publish import journal, strobe
from papergen.publish.bibliography import check_bibliography
from papergen.study import OutputPaths, Study, env_source_date_epoch
from papergen.write import lint


@dataclass
class BuildResult:
    outputs: OutputPaths
    registry: object
    timings: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the numbers that changed since the build this one replaced (papergen.trace.diff.Diff), None if none was there
    changes: object = None
    #: stages skipped because their inputs were unchanged (papergen.pipeline.cache)
    skipped: list[str] = field(default_factory=list)
    #: nothing changed since the last build and its outputs were intact: no stage ran
    up_to_date: bool = False


def build_manuscript(root: Path | Study, out_dir: Path | None = None, echo=print, force: bool = False,
                     on_page=None, timeout: float | None = None) -> BuildResult:
    """Build the study at ``root`` (a folder, or a Study already read) into manuscript/ (or ``out_dir``), atomically.

    Stages whose inputs did not change since a cached run are skipped (papergen.pipeline.cache);
    ``force`` runs every stage; after ``timeout`` seconds the build stops (papergen.errors.Stopped).
    ``on_page(outputs)`` (the preview) puts the page before the rest: the review
    edition is written first, alone, and handed over in the staging folder (``outputs``: its OutputPaths)
    before the DOCX, PDF, checklist and change report; manuscript/ is still swapped in whole at the end.
    """
    study = root if isinstance(root, Study) else Study(root)
    paths = study.paths
    final = Path(out_dir).resolve() if out_dir else paths.manuscript
    _check_target(final)
    # read up front, so that a mistake in any of them fails the build before a stage runs
    env_source_date_epoch()
    study.journal_profile  # noqa: B018 (read, so that a mistake in journal.yaml fails here)
    check_bibliography(paths.bibliography, paths.rel(paths.bibliography))
    c = BuildCache(study, final, force=force)
    last = c.up_to_date()
    if last is not None:  # no input changed and manuscript/ is as the last build left it
        echo(f"  {'all stages':<28} {0:6.2f} s  skipped (unchanged)")
        journal.echo_last(study.outputs(final), echo)
        return BuildResult(outputs=study.outputs(final), registry=last[0],
                           warnings=last[1], skipped=["all stages"], up_to_date=True)
    staging, s = None, Stages(echo, timeout=timeout)  # also says when a stage runs long
    try:
        staging = staging_dir(final)
        out = study.outputs(staging)
        s.run("lint templates", lint.assert_no_typed_numbers, paths.templates, final / "numbers.json",
              allow_raw=study.allow_raw, compiled=c.compiled_templates())
        tables = s.run("read and validate data", load_data, study, cache=c.data)
        analysis = s.run("analysis plan", run_analysis, study, tables, cache=c.analysis)
        s.run("consistency checks", check_consistency, analysis, cache=c.checked)
        s.run("figures", draw_figures, analysis, out, c.figures, study.docx_style.get("font"), study.house_style,
              cache=c.figures)
        rendered = s.run("render templates", render_manuscript, study, analysis, out, c)
        ast, _ = s.together(s.call("read manuscript", read_manuscript, study, out, c),
                            s.call("ledger", write_numbers, study, analysis, out, rendered, c))
        drawn = c.figures.finish  # the figures are drawn in a helper process since the figures stage
        if on_page is not None:  # the page before the rest
            if c.figures.pending:
                s.run("figures drawn", drawn)
            s.run("review edition", write_review, ast, out, c)
            on_page(out)
        # the stages that show the figures wait for them (after=drawn); the others start at once
        waiting = [s.call("figures drawn", drawn)] if c.figures.pending else []
        review = [] if on_page is not None else [s.call("review edition", write_review, ast, out, c, after=drawn)]
        report, checklist, _, _, changes, expected, *_ = s.together(  # independent; pandoc and Typst on both cores
            s.call("journal profile", journal_report, study, out, ast, echo, c, after=drawn),
            s.call("STROBE checklist", strobe.write_checklist, study, out, c),
            s.call("export DOCX", export_docx, study, out, c, cache=c.docx(out), after=drawn),
            s.call("export PDF", export_pdf, out, study, c, cache=c.pdf(out), after=drawn),
            s.call("compare with last build", compare_with_last, study, final, out, c),
            s.call("map template sources", map_sources, study, rendered, out, c),
            *review, *waiting, background=on_page is not None)
        report += checklist
        s.run("source map of the DOCX", write_source_map, study, expected, out, c)
        out.ast.unlink()  # read by the writers above; not an output
        s.run("swap in manuscript/", swap_in, staging, final)
        s.run("remember for next build", c.remember, final, analysis.registry, report)
    except BaseException as exc:
        with stopping.deferred():  # a second Ctrl-C, or the timeout, must not leave the staging folder behind
            told = _clean_up(exc, study, final, staging, c)
        if told is exc:
            raise
        raise told from exc
    finally:
        s.close()
    return BuildResult(outputs=OutputPaths(final, out.name), registry=analysis.registry, timings=s.timings,
                       changes=changes, warnings=report, skipped=s.skipped)


def _clean_up(exc: BaseException, study: Study, final: Path, staging: Path | None, c: BuildCache) -> BaseException:
    """After a failure: no helper process, no staging folder; the exception to report (``exc`` or a clearer one).

    Tool logs are kept in .papergen/last-failed (the staging folder they were in is removed) when the
    disk has room; a full disk is one DiskFullError naming the file that did not fit.
    """
    c.figures.abandon()  # a figure still being drawn would write into the staging folder removed below
    stopped = stopping.raised()
    if stopped is not None and exc is not stopped:  # e.g. the helper process ended by the stop: still the stop
        exc = stopped
    if staging is None:
        return _disk_full(exc, study, final, staging) or exc
    try:
        kept = keep_diagnostics(staging, study.paths.cache / "last-failed")  # tool logs outlive the staging folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    full = _disk_full(exc, study, final, staging)
    if full is not None:
        return full
    if kept and isinstance(exc, ExportError) and exc.log_path:
        shown = os.path.relpath(kept, study.paths.root)
        return ExportError(str(exc).replace(str(staging), shown), tool=exc.tool,
                           log_path=kept / Path(exc.log_path).name)
    return exc


def _disk_full(exc: BaseException, study: Study, final: Path, staging: Path | None) -> DiskFullError | None:
    """A DiskFullError if ``exc`` (or what caused it) is ENOSPC or EDQUOT; the file is named by its final place."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            written = seen.filename2 or seen.filename  # a copy's error names the source first
            where = f"{study.paths.rel(final)}/"
            if written:
                where = study.paths.rel(Path(os.fsdecode(written)))
                if staging is not None:  # its name in the staging folder, removed now, is its name to be
                    where = where.replace(study.paths.rel(staging), study.paths.rel(final))
            return DiskFullError(f"no space left on device while writing {where}: free some space on that disk "
                                 "and build again (this build's unfinished files were removed)")
        seen = seen.__cause__ or seen.__context__
    return None


def _check_target(final: Path, marker: str = "numbers.json") -> None:
    """Refuse a target that is a file, or a folder holding files papergen did not write (no ``marker``).

    The swap replaces the target whole, so building into someone's folder would delete what it held.
    """
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise StudyLayoutError(f"{final} is a file, not a folder: papergen writes the manuscript there; "
                               "move the file away or choose another folder with --out")
    if final.is_dir() and any(final.iterdir()) and not (final / marker).exists():
        raise StudyLayoutError(f"{final} holds files papergen did not write (it has no {marker}); a build replaces "
                               "the folder whole, so choose an empty or new folder with --out")
