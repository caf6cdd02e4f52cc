"""How the build process reuses memory: large freed arrays kept for the next ones, not zeroed anew by the kernel.

Reading and validating a registry of a million patients makes and frees hundreds of arrays of tens of MB
(codes, masks, takes). glibc's malloc hands each one above its mmap threshold (at most 32 MB) back to the
kernel when it is freed, and numpy asks for transparent huge pages for each; the kernel then zeroes fresh
pages, 2 MB a fault, for the next array. On this 2-core VM that was about 4 of the 20 s of the million-patient
build (kernel time in clear_page), 3 s of them in reading and validating. Raising the mmap threshold (and
keeping a pad at the heap's top) lets malloc reuse freed memory; without madvise(MADV_HUGEPAGE) the heap's
pages are not replaced by huge pages. One malloc arena for all threads: the threads that read files at the
same time (ingest.load.read_all) take their arrays from that heap too (2.8 GB peak at a million patients
against 3.1 GB with an arena per thread). Peak memory stays about what it was without these settings; a
long-running ``watch`` keeps more of its peak between builds. Numbers do not change: only where the bytes live.
"""
from __future__ import annotations

import ctypes
import os
import sys

#: malloc serves requests up to this from its heap, reused when freed (glibc's default grows to at most 32 MB)
MMAP_THRESHOLD = 1 << 30
#: extra bytes the heap grows by, and keeps when it shrinks (glibc's default 128 KB)
TOP_PAD = 256 << 20
_M_TOP_PAD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -2, -3, -8  # glibc's malloc.h
_tuned: bool | None = None  # what the first call returned


def reuse_freed_memory() -> bool:
    """Set the process' malloc and numpy to reuse freed memory (once; later calls do nothing).

    True when glibc's mallopt took both settings (Linux with glibc); elsewhere (macOS, musl) malloc is as it
    was. numpy's huge-page advice is turned off unless NUMPY_MADVISE_HUGEPAGE says otherwise.
    """
    global _tuned
    if _tuned is None:
        _tuned = _tune()
    return _tuned


def _tune() -> bool:
    if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:  # the user's own choice wins
        numpy = sys.modules.get("numpy")
        if numpy is not None:  # what numpy's import does with the variable (a private function of numpy 2)
            setting = getattr(getattr(getattr(numpy, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
            if setting is not None:
                setting(False)
        else:
            os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"  # read by numpy when it is imported
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # one arena: an array made by a thread that reads or checks a file (load.read_all) comes from the heap that
    # the main thread's next arrays reuse, not from an arena of that thread's own (mmap'd, at most 64 MB a heap)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TOP_PAD, TOP_PAD)) and \
        bool(mallopt(_M_ARENA_MAX, 1))
