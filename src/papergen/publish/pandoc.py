"""pandoc, run as a tool: the bundled binary, its reading arguments, and its failures as one line.

Everything runs through the pandoc binary bundled with pypandoc-binary
(``pandoc_path()``, called with :mod:`subprocess`), so no system tools are
needed. A failure of pandoc raises :class:`papergen.errors.ExportError` with a
one-line message (tool, first real error line, log file); the tool's full
output is written next to the output file (``paper.docx.pandoc.log``); a
successful run keeps a log only if the tool printed warnings.
"""
from __future__ import annotations

import errno
import functools
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from papergen.errors import ExportError

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
LUA_FILTER = RESOURCES / "papergen.lua"

#: Timestamp used when no SOURCE_DATE_EPOCH is given (2000-01-01T00:00:00Z).
DEFAULT_EPOCH = 946684800

#: pandoc warnings that mean the manuscript is wrong, not merely untidy.
_FATAL_WARNINGS = (
    re.compile(r"Could not fetch resource"),
    re.compile(r"[Cc]itation \S+ not found"),
)


PathLike = str | os.PathLike

#: what pandoc (the Haskell runtime) prints when the disk is full
_NO_SPACE = "No space left on device"


def read_json(source: Path | None, from_format: str, to_format: str, what: str, error=ExportError,
              data: bytes | None = None):
    """pandoc's JSON output (an AST, CSL JSON) of ``source`` (or of ``data`` on stdin), parsed.

    A failure raises ``error`` naming ``what`` and pandoc's first message line.
    """
    import json

    cmd = [str(pandoc_path()), *([str(source)] if data is None else []), f"--from={from_format}", f"--to={to_format}"]
    proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        first = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[0]
        raise error(f"{source}: pandoc cannot read the {what}: {first}")
    return json.loads(proc.stdout)


@functools.lru_cache(maxsize=1)
def pandoc_path() -> Path:
    """The pandoc binary bundled with pypandoc-binary.

    Looked up where pypandoc-binary installs it (``pypandoc/files/pandoc``) before asking
    pypandoc, whose import (urllib, http, email) takes 85 ms of every build.
    """
    from importlib.util import find_spec

    spec = find_spec("pypandoc")
    if spec and spec.origin:
        for name in ("pandoc", "pandoc.exe"):
            bundled = Path(spec.origin).parent / "files" / name
            if bundled.is_file():
                return bundled
    import pypandoc

    return Path(pypandoc.get_pandoc_path())


# --------------------------------------------------------------------------
# error handling
# --------------------------------------------------------------------------

def one_line(text: str) -> str:
    return " ".join(text.split())


def first_pandoc_error(stderr: str) -> str:
    """The first line of pandoc's stderr that is a real error, not a warning."""
    lines = [ln.rstrip() for ln in stderr.splitlines()]
    for i, line in enumerate(lines):
        s = line.strip()
        if not s or s.startswith(("[WARNING]", "[INFO]")):
            continue
        if s.startswith("HasCallStack backtrace"):
            break
        # "Error parsing YAML metadata at ... :" -> the detail is on the next line
        if s.endswith(":") and i + 1 < len(lines) and lines[i + 1].strip():
            s = f"{s} {lines[i + 1].strip()}"
        return one_line(s)
    return "pandoc failed without an error message"


def write_log(log_path: Path, text: str) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(text, encoding="utf-8")


def fail(tool: str, first_line: str, log_path: Path, out: Path | None = None) -> ExportError:
    if out is not None and out.exists():
        out.unlink()  # never leave a half-made or wrong output behind
    msg = one_line(f"{tool} failed: {first_line} (full log: {log_path})")
    return ExportError(msg, tool=tool, log_path=log_path)


def log_path_for(out: Path, tool: str) -> Path:
    """``paper.docx`` -> ``paper.docx.pandoc.log`` (one log per output and tool)."""
    return out.with_name(f"{out.name}.{tool}.log")


def run_pandoc(args: list[str], *, out: Path, log_path: Path, cwd: Path,
               epoch: int | None, strict: bool) -> str:
    """Run pandoc; raise ExportError on failure (or fatal warning if strict).

    ``out`` is removed on failure.
    """
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    cmd = [str(pandoc_path()), *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    except OSError as exc:
        write_log(log_path, f"$ {' '.join(cmd)}\n{exc}\n")
        raise fail("pandoc", f"cannot run pandoc: {exc}", log_path, out) from exc
    stderr = proc.stderr.decode("utf-8", errors="replace")
    log_text = f"$ {' '.join(cmd)}\n(exit code {proc.returncode})\n{stderr}"
    if proc.returncode != 0:
        if _NO_SPACE in stderr:  # "hPutBuf: resource exhausted (No space left on device)": the disk, not pandoc
            out.unlink(missing_ok=True)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))
        write_log(log_path, log_text)
        raise fail("pandoc", first_pandoc_error(stderr), log_path, out)
    if strict:
        for line in stderr.splitlines():
            if any(p.search(line) for p in _FATAL_WARNINGS):
                write_log(log_path, log_text)
                detail = re.sub(r"^\[WARNING\]\s*", "", line.strip())
                detail = re.sub(r"^Scripting warning at .*?: ", "", detail)
                raise fail("pandoc", detail, log_path, out)
    if stderr.strip():
        write_log(log_path, log_text)  # warnings only: keep them for inspection
    elif log_path.exists():
        log_path.unlink()  # stale log from an earlier failed build
    return stderr


def resource_folders(resource_path: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(resource_path, (str, os.PathLike)):
        items = [resource_path]
    else:
        items = list(resource_path)
    return [Path(p).resolve() for p in items]


def common_args(source: Path, resource_dirs: list[Path], bibliography, csl, citeproc: bool = True) -> list[str]:
    """pandoc's reading arguments. ``source`` is Markdown (citeproc runs here unless ``citeproc`` is False, for a
    text that cites nothing; then the Lua filter) or a ``.json`` AST from papergen.publish.document, whose
    citations are already resolved."""
    if Path(source).suffix == ".json":
        args = [str(source), "--from=json"]
    else:
        args = [str(source), "--from=markdown", *(["--citeproc"] if citeproc else [])]
        if bibliography is not None:
            args.append(f"--bibliography={Path(bibliography).resolve()}")
        if csl is not None:
            args.append(f"--csl={Path(csl).resolve()}")
    return args + [f"--resource-path={os.pathsep.join(str(d) for d in resource_dirs)}", f"--lua-filter={LUA_FILTER}"]


def epoch_of(source_date_epoch: int | None) -> int:
    if source_date_epoch is not None:
        return int(source_date_epoch)
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(env) if env.isdigit() else DEFAULT_EPOCH
