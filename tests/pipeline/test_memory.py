"""papergen.pipeline.memory: freed arrays stay in malloc's heap, numpy's huge-page advice off, the user's choice kept.

Each case runs in a fresh Python process: the settings last for the process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

#: bytes of a numpy array's data living in mmapped blocks (glibc's mallinfo2().hblkhd), before and after one of 64 MB
_MMAPPED = """
    import ctypes, json, numpy as np

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                   "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = Info

    def mmapped_by_one_array():
        before = libc.mallinfo2().hblkhd
        a = np.ones(8 << 20)  # 64 MB, above glibc's largest own mmap threshold (32 MB)
        grown = libc.mallinfo2().hblkhd - before
        del a
        return grown
"""


def _run(code: str, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, encoding="utf-8",
                          timeout=60, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
                    reason="mallopt and mallinfo2 are glibc's")
def test_a_large_array_comes_from_the_heap_after_tuning():
    got = _run(textwrap.dedent(_MMAPPED) + textwrap.dedent("""
        from papergen.pipeline.memory import reuse_freed_memory
        first = mmapped_by_one_array()
        tuned = reuse_freed_memory()
        print(json.dumps({"before": first, "tuned": tuned, "after": mmapped_by_one_array(),
                          "again": reuse_freed_memory()}))
    """))
    assert got["before"] >= 64 << 20  # glibc's default: a block of its own, handed back to the kernel when freed
    assert got == {"before": got["before"], "tuned": True, "after": 0, "again": True}


def test_numpy_huge_page_advice_is_turned_off_before_and_after_numpy_is_imported():
    code = """
        import json, os, sys
        from papergen.pipeline.memory import reuse_freed_memory
        {imports}
        reuse_freed_memory()
        import numpy as np
        was = np._core.multiarray._set_madvise_hugepage(True)  # returns the setting it replaces
        print(json.dumps({{"was": was, "env": os.environ.get("NUMPY_MADVISE_HUGEPAGE")}}))
    """
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    for imports, expected_env in (("", "0"), ("import numpy", None)):
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code.format(imports=imports))],
                              capture_output=True, encoding="utf-8", timeout=60, env=env)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {"was": False, "env": expected_env}, imports


def test_the_users_numpy_setting_is_kept():
    got = _run("""
        import json
        from papergen.pipeline.memory import reuse_freed_memory
        reuse_freed_memory()
        import numpy as np
        print(json.dumps({"was": np._core.multiarray._set_madvise_hugepage(True)}))
    """, env={"NUMPY_MADVISE_HUGEPAGE": "1"})
    assert got == {"was": True}
