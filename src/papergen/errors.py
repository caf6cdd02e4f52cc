"""The errors papergen raises: one root type, one subclass per problem the user has.

Each error carries what the user needs to fix it (file, row, column, value,
rule) as attributes, and its message is one line that says what to do next.
"""
from __future__ import annotations


class PapergenError(Exception):
    """Root of every error papergen reports to the user (exit code 2)."""

    exit_code = 2


class Stopped(KeyboardInterrupt):
    """The build was stopped from outside (Ctrl-C, SIGTERM, SIGHUP) or by ``--timeout``: not a mistake in the study.

    A KeyboardInterrupt, not an Exception, so no ``except Exception`` in a plan or a library swallows it.
    The message is the one line shown ("stopped by SIGTERM"); ``exit_code`` is 128 + the signal's number.
    """

    def __init__(self, message: str, exit_code: int) -> None:
        self.exit_code = exit_code
        super().__init__(message)


class DiskFullError(PapergenError):
    """The disk the build writes to is full (ENOSPC, or a quota): the build stopped and removed what it wrote."""


class StudyLayoutError(PapergenError):
    """A file or folder the study needs is missing or misplaced."""


class OutsideStudyError(StudyLayoutError):
    """A path the study names (data file, template, bibliography, style, image) resolves outside the study
    folder, directly or through a symbolic link: a study reads only its own files."""


class DataError(PapergenError):
    """One problem in an input data file, located to file, row and column."""

    def __init__(self, file, row, column, value, rule):
        self.file, self.row, self.column, self.value, self.rule = file, row, column, value, rule
        where = f"{file}"
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!s}"
        shown = "" if value is None else f": value {shown_value(value)}"
        super().__init__(f"{where}{shown}: {rule}")


class DataErrors(PapergenError):
    """All problems found in the input data, reported at once (capped), one line each."""

    def __init__(self, errors: list[DataError], cap: int = 50):
        self.errors = errors
        lines = [str(e) for e in errors[:cap]]
        if len(errors) > cap:
            lines.append(f"... and {len(errors) - cap} more problems")
        super().__init__("\n".join(lines))


class CodebookError(PapergenError):
    """The codebook itself is malformed (unknown type, missing key)."""


class AnalysisError(PapergenError):
    """A statistic cannot be computed from the data given (e.g. empty input)."""


class PlanError(AnalysisError):
    """The analysis plan failed; the message names the plan file:line where it happened."""


class FigureError(PlanError):
    """A figure the plan asks for cannot be drawn as asked (too narrow for its labels, counts that touch)."""


class TemplateError(PapergenError):
    """A manuscript template failed to render (undefined name, syntax, unsafe access)."""


class HandTypedNumberError(PapergenError):
    """A template contains a number typed by hand instead of a generated value."""


class RawMarkupError(PapergenError):
    """A template holds raw DOCX, Typst, HTML or LaTeX markup that the study has not allowed (study.yaml allow_raw:)."""


class ExportError(PapergenError):
    """pandoc or Typst failed; the message names the first real error and the log."""

    def __init__(self, message: str, *, tool: str = "", log_path=None):
        self.tool, self.log_path = tool, log_path
        super().__init__(message)


class RevisionError(PapergenError):
    """An earlier version to compare with cannot be found, read or built (git revision, label, ledger)."""


class JournalProfileError(PapergenError):
    """The manuscript breaks a rule of the journal profile (section, word limit)."""


class LedgerError(PapergenError):
    """manuscript/numbers.json is missing or unreadable, or has no number by that key or text."""


class ConsistencyError(PapergenError):
    """Two numbers that must agree do not (a sum, a table's n, one statistic declared twice)."""


class ReturnedDocxError(PapergenError):
    """A DOCX given to ``merge`` cannot be merged; nothing was changed."""


class NotFromPapergenError(ReturnedDocxError):
    """The DOCX carries no papergen build identifier (it was not built by papergen, or lost its properties)."""


class UnknownBuildError(ReturnedDocxError):
    """The DOCX names a build this study has no record of (.papergen/sent/ lacks it)."""


class CorruptDocxError(ReturnedDocxError):
    """The file is damaged, or not a DOCX at all."""


class ProtectedDocxError(ReturnedDocxError):
    """The DOCX is encrypted with a password."""


class MergeError(PapergenError):
    """The merge would leave a template that does not render (it was not written)."""

#: a value longer than SHOWN_WHOLE characters is cut in messages to its first CUT_AT and its length
SHOWN_WHOLE, CUT_AT = 80, 60


def cut_text(text: str) -> str:
    """A text as a message shows it: whole, or its first CUT_AT characters and "... (120000 characters)"."""
    text = str(text)
    return text if len(text) <= SHOWN_WHOLE else f"{text[:CUT_AT]}... ({len(text)} characters)"


def shown_value(value) -> str:
    """repr() of a value for a message, cut like cut_text: a 120,000-character cell is not echoed whole."""
    if isinstance(value, str) and len(value) > SHOWN_WHOLE:
        return f"{value[:CUT_AT]!r}... ({len(value)} characters)"
    return cut_text(repr(value))


class PortInUseError(PapergenError):
    """The preview's server cannot listen on the port asked for: another program holds it."""
