"""papergen.pipeline.keys: file hashes remembered only for files left alone; the engine's fingerprint follows them."""
from __future__ import annotations

import hashlib
import os

from papergen.pipeline import keys


def _reads(monkeypatch) -> list:
    """The files file_hash opens from now on."""
    opened, real = [], open
    monkeypatch.setattr(keys, "open", lambda path, *a, **k: opened.append(os.fspath(path)) or real(path, *a, **k),
                        raising=False)
    return opened


def test_a_recently_written_file_is_always_read_again(tmp_path, monkeypatch):
    data = tmp_path / "patients.csv"
    data.write_text("patient_id,age\nP01,61\n", encoding="utf-8")
    opened = _reads(monkeypatch)
    assert keys.file_hash(data) == hashlib.sha256(data.read_bytes()).hexdigest()
    assert keys.file_hash(data) == keys.file_hash(data)
    assert len(opened) == 3  # written within STEADY seconds: its timestamps could hide a second write


def test_a_steady_file_is_read_once_until_it_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "STEADY", 0.0)
    data = tmp_path / "patients.csv"
    data.write_text("patient_id,age\nP01,61\n", encoding="utf-8")
    opened = _reads(monkeypatch)
    first = keys.file_hash(data)
    assert keys.file_hash(data) == first and len(opened) == 1
    st = data.stat()
    data.write_text("patient_id,age\nP01,62\n", encoding="utf-8")  # same size
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))  # and its old modification time: the change time moves
    assert keys.file_hash(data) == hashlib.sha256(data.read_bytes()).hexdigest() != first
    assert len(opened) == 2


def test_engine_fingerprint_follows_every_engine_file(tmp_path, monkeypatch):
    engine = tmp_path / "papergen"
    (engine / "analysis").mkdir(parents=True)
    (engine / "__init__.py").write_text("", encoding="utf-8")
    code = engine / "analysis" / "survival.py"
    code.write_text("DAYS = 30.4375\n", encoding="utf-8")
    monkeypatch.setattr(keys, "ENGINE_DIR", engine)
    monkeypatch.setattr(keys, "STEADY", 0.0)
    first = keys.engine_fingerprint()
    assert keys.engine_fingerprint() == first
    code.write_text("DAYS = 30.4376\n", encoding="utf-8")  # same size
    changed = keys.engine_fingerprint()
    assert changed != first
    (engine / "analysis" / "new.py").write_text("", encoding="utf-8")
    assert keys.engine_fingerprint() not in (first, changed)
    (engine / "__pycache__").mkdir()
    (engine / "__pycache__" / "x.pyc").write_bytes(b"0")  # caches are not the engine
    assert keys.engine_fingerprint() == keys.engine_fingerprint()
