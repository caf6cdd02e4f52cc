"""papergen.pipeline.keys: the engine's fingerprint follows its files, made again only when one changed."""
from __future__ import annotations

import os

from papergen.pipeline import keys


def test_engine_fingerprint_follows_every_engine_file(tmp_path, monkeypatch):
    engine = tmp_path / "papergen"
    (engine / "analysis").mkdir(parents=True)
    (engine / "__init__.py").write_text("", encoding="utf-8")
    code = engine / "analysis" / "survival.py"
    code.write_text("DAYS = 30.4375\n", encoding="utf-8")
    monkeypatch.setattr(keys, "ENGINE_DIR", engine)
    reads = []
    real = keys.tree_hashes
    monkeypatch.setattr(keys, "tree_hashes", lambda *a: reads.append(a) or real(*a))
    first = keys.engine_fingerprint()
    assert keys.engine_fingerprint() == first and len(reads) == 1  # unchanged files: not read again
    code.write_text("DAYS = 30.4376\n", encoding="utf-8")  # same size, new content and time
    os.utime(code, ns=(1, 1))
    changed = keys.engine_fingerprint()
    assert changed != first and len(reads) == 2
    (engine / "analysis" / "new.py").write_text("", encoding="utf-8")
    assert keys.engine_fingerprint() not in (first, changed) and len(reads) == 3
    (engine / "__pycache__").mkdir()
    (engine / "__pycache__" / "x.pyc").write_bytes(b"0")  # caches are not the engine
    assert len({keys.engine_fingerprint(), keys.engine_fingerprint()}) == 1 and len(reads) == 3
