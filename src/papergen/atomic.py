"""Replace an output folder all at once, so a failed or killed build never leaves half a manuscript.

A build writes into a staging folder next to the final one
(``.manuscript.staging-<pid>``) and swaps it in only on success. On Linux the
swap is one ``renameat2(RENAME_EXCHANGE)`` call: manuscript/ is at every
instant either the old or the new folder, never missing. Elsewhere it is two
renames with the old folder parked as ``.manuscript.previous``, which
:func:`recover_interrupted` puts back if the process died between them.
Staging folders of processes that no longer run are removed by the next build.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it.

    The file gets the mode any other new file gets (0666 less the umask), not mkstemp's 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # a full disk: say which file did not fit
            exc.filename = str(path)
        raise


def umask() -> int:
    """The process's umask, read without changing it (/proc on Linux), so threads writing files meanwhile
    never see a zero umask; elsewhere it is set and put back at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def staging_dir(final: Path) -> Path:
    """A fresh, empty staging folder for ``final``, after recovering from earlier interrupted builds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted(final)
    clean_stale(final)
    staging = final.parent / f".{final.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def swap_in(staging: Path, final: Path) -> None:
    """Make ``staging`` the new ``final``; the previous ``final`` is deleted only afterwards."""
    staging, final = Path(staging), Path(final)
    if final.exists() and _exchange(staging, final):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous manuscript
        return
    old = _previous(final)
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def recover_interrupted(final: Path) -> bool:
    """If a build was killed between the two renames of :func:`swap_in`, put the last good folder back."""
    final = Path(final)
    old = _previous(final)
    if not final.exists() and old.exists():
        os.replace(old, final)
        return True
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)  # the swap finished; only the clean-up was cut short
    return False


def clean_stale(final: Path) -> list[Path]:
    """Remove staging folders left by builds that were killed (their process is gone)."""
    removed = []
    prefix = f".{Path(final).name}.staging-"
    for path in Path(final).parent.glob(prefix + "*"):
        pid = path.name[len(prefix):]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another build is running right now
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def keep_diagnostics(staging: Path, dest: Path) -> Path | None:
    """Copy a failed build's tool logs and the files they point into (.md, .typ) to ``dest``.

    The staging folder is deleted after a failure, so an error message that
    names a log in it would point nowhere. Returns ``dest``, or None if there
    was nothing to keep or it could not be copied (a full disk).
    """
    staging, dest = Path(staging), Path(dest)
    if not staging.is_dir():
        return None
    keep = [p for p in staging.iterdir() if p.is_file() and p.suffix in (".log", ".md", ".typ")]
    if not any(p.suffix == ".log" for p in keep):
        return None
    shutil.rmtree(dest, ignore_errors=True)
    try:
        dest.mkdir(parents=True)
        for p in keep:
            shutil.copy2(p, dest / p.name)
    except OSError:  # a full disk: keeping the logs must not keep the staging folder too
        shutil.rmtree(dest, ignore_errors=True)
        return None
    return dest


def _previous(final: Path) -> Path:
    return final.parent / f".{final.name}.previous"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False when the system cannot, so the caller falls back."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))
