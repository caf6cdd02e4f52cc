"""Content hashes: of a file, a folder, the engine itself; and which files a build reads.

Every key of the build cache (papergen.pipeline.cache) is made of these hashes,
so a cached result is never served for changed inputs or code; python build.py
watch and preview follow the same files (input_folders, codebook_files, SKIP_DIRS).
A running watch or preview reads a file again only when its stat says it may have
changed (file_hash).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from papergen.codebook import read_codebook
from papergen.study import data_file

#: bump when the layout or meaning of cache entries changes
CACHE_VERSION = "2"
ENGINE_DIR = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"__pycache__", ".git", ".papergen", "manuscript"}


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes; read again unless this process hashed the same unchanged file before.

    watch and preview key every build by its inputs, and a registry's data are hundreds of MB. A file is
    taken as unchanged when its device, inode, size, modification and change times are those it had when it
    was hashed, and it had then been left alone for STEADY seconds (git's rule for "racy" files: a write
    within the file system's timestamp tick after the hash could keep all of them, so a file hashed while
    recently written is always read again). On POSIX systems the change time cannot be set back by ``touch``.
    """
    st = os.stat(path)
    sig = (os.fspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    known = _FILE_HASHES.get(sig)
    if known is not None:
        return known
    started = time.time_ns()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    sha = h.hexdigest()
    if started - max(st.st_mtime_ns, st.st_ctime_ns) > STEADY * 1e9:
        if len(_FILE_HASHES) >= 4096:
            _FILE_HASHES.clear()
        _FILE_HASHES[sig] = sha
    return sha


#: seconds a file must have been left alone before its hash is remembered (file_hash)
STEADY = 2.0
_FILE_HASHES: dict[tuple, str] = {}


def tree_hashes(folder: Path, base: Path) -> dict[str, str]:
    """Every file below ``folder`` (caches and hidden folders left out) -> its hash, by path from ``base``."""
    out = {}
    if not folder.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            p = Path(dirpath, name)
            out[p.relative_to(base).as_posix()] = _link_hash(p, base) or file_hash(p)
    return out


def _link_hash(p: Path, base: Path) -> str | None:
    """A symbolic link out of the study is keyed by where it points, not read (the build refuses it)."""
    if not p.is_symlink() or p.resolve().is_relative_to(Path(base).resolve()):
        return None
    return digest("symlink", os.readlink(p))


def digest(*parts) -> str:
    """One hash of several JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def engine_fingerprint() -> str:
    """The engine's files, every installed distribution (name and version) and the Python version (the files'
    hashes remembered by file_hash while they stay unchanged: watch and preview ask at every build)."""
    dists = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                dists.update(e.name for e in it if e.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return digest(CACHE_VERSION, str(ENGINE_DIR), tree_hashes(ENGINE_DIR, ENGINE_DIR), sorted(dists),
                  sys.version, sys.executable)


def git_commit(root: Path) -> str | None:
    """HEAD of the study's repository (the ledger records it), or None outside git."""
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, encoding="utf-8",
                           timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def input_folders(paths) -> list[Path]:
    """Folders whose every file a build may read (with the study's top-level files and codebook_files())."""
    return [paths.data, paths.study, paths.templates, paths.root / "submissions"]


def codebook_files(paths) -> list[Path]:
    """Data files the codebook lists (they may live outside data/); the codebook is read again only when
    its size or modification time changes (python build.py watch and preview ask after every file event)."""
    try:
        st = paths.codebook.stat()
    except OSError:  # no codebook: the data stage says so
        return []
    return list(_named_files(paths.codebook, paths.data, st.st_size, st.st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _named_files(codebook: Path, data: Path, size: int, mtime_ns: int) -> tuple[Path, ...]:
    try:
        book = read_codebook(codebook)
    except Exception:  # the data stage reports a broken codebook; here it only changes a key
        return ()
    named = [spec.path for spec in book.files.values()] + [s.dictionary for s in book.files.values() if s.dictionary]
    return tuple(dict.fromkeys(data_file(data, p).resolve() for p in named))
