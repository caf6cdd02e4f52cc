"""One command on the terminal: a failure is one clear message and a non-zero exit; the traceback goes to a log.

papergen.cli runs every command through run_command(), and so does ``watch``
for each rebuild, so a rebuild fails exactly as ``python build.py`` does.
"""
from __future__ import annotations

import logging
import sys
import traceback
import warnings
from pathlib import Path

from papergen.errors import PapergenError, Stopped
from papergen.study import StudyPaths


def run_command(command: str, run, paths: StudyPaths, argv: list[str]) -> int:
    """``run(paths, argv)`` with one-line errors; its log is .papergen/build.log (build) or .papergen/COMMAND.log.

    Each command keeps its own log, so ``explain`` after a failed build keeps the build's traceback.
    """
    log_path = paths.log if command == "build" else paths.cache / f"{command}.log"
    log, log_file = _logger(log_path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = run(paths, argv)
        for w in caught:
            log.warning("%s: %s", w.category.__name__, w.message)
        return code
    except PapergenError as exc:
        log.error("%s", traceback.format_exc())
        for line in str(exc).splitlines() or [type(exc).__name__]:  # DataErrors: one line per problem
            print(f"error: {_bounded(line, log_path, paths.root)}", file=sys.stderr)
        _print_state(exc, _where(log_file, "details in", paths.root))
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or papergen.errors.Stopped: SIGTERM, SIGHUP, --timeout
        log.error("%s", traceback.format_exc())
        state = getattr(exc, "manuscript_state", None)
        reason = str(exc) if isinstance(exc, Stopped) else "stopped by Ctrl-C"
        print(f"{reason}; {state}" if state else reason, file=sys.stderr)
        return getattr(exc, "exit_code", 130)
    except Exception as exc:  # a bug in papergen or a study's plan: still no traceback on the terminal
        log.error("%s", traceback.format_exc())
        print(f"internal error: {_bounded(f'{type(exc).__name__}: {exc}', log_path, paths.root)}", file=sys.stderr)
        _print_state(exc, _where(log_file, "the traceback is in", paths.root))
        return 1


#: longest message line the terminal shows whole; messages cut the values they echo (errors.cut_text),
#: this bounds the rest (an exception's text holding a whole data cell)
LINE_LIMIT = 1000


def _bounded(line: str, log_path: Path, root: Path) -> str:
    if len(line) <= LINE_LIMIT:
        return line
    return f"{line[:LINE_LIMIT]}... ({len(line)} characters; all of it in {shown(log_path, root)})"


def _where(log_file: LogFile, words: str, root: Path) -> str:
    """ "details in .papergen/build.log", or why there are none (the log could not be written)."""
    if log_file.failed is not None:
        return f"the log could not be written either: {getattr(log_file.failed, 'strerror', None) or log_file.failed}"
    return f"{words} {shown(log_file.baseFilename, root)}"


def _print_state(exc: BaseException, details: str) -> None:
    """The checked state of the output folder a failed build leaves (papergen.pipeline.target), if it wrote one.

    Commands that do not write manuscript/ leave no state: their error is one line.
    """
    state = getattr(exc, "manuscript_state", None)
    if state:
        print(f"({state}; {details})", file=sys.stderr)


def shown(p: Path, root: Path) -> str:
    """A path as the author sees it: relative to the study folder when it is inside it."""
    try:
        return str(Path(p).resolve().relative_to(root))
    except ValueError:
        return str(p)


class LogFile(logging.FileHandler):
    """The command's log file; a record it cannot write (a full disk) is dropped, not printed as a
    "--- Logging error ---" traceback, and ``failed`` keeps why, so the terminal does not point at the log."""

    failed: OSError | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = sys.exc_info()[1] or self.failed


def _logger(path: Path) -> tuple[logging.Logger, LogFile]:
    log = logging.getLogger("papergen")
    log.handlers.clear()
    try:
        path.parent.mkdir(exist_ok=True)
        handler = LogFile(path, mode="w", encoding="utf-8")
    except OSError as exc:  # no room even for the log: try again at the first record, quietly
        handler = LogFile(path, mode="w", encoding="utf-8", delay=True)
        handler.failed = exc
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log, handler
