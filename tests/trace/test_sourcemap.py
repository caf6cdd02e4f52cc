"""papergen.trace.sourcemap: the DOCX's text and each character's origin, from the marked render.

(tests/trace/test_merge.py applies a co-author's edits through the source map end to end.)
"""
from __future__ import annotations

import re

from papergen.pipeline import build as pipeline
from papergen.publish import chunks
from papergen.trace.sourcemap import expected_text
from papergen.write import sourcemarks
from tests.conftest import ROOT


def test_the_parts_kept_between_reads_give_the_same_map(tmp_path, monkeypatch):
    """expected_text() with the marked Markdown read part by part (papergen.publish.chunks, parts kept from an
    earlier read) equals it read whole, after a prose edit in one template."""
    seen = {}

    def capture(study, rendered, out, store=None):
        seen["args"] = rendered[2], rendered[1], {f.name: f.read_text(encoding="utf-8")
                                                   for f in study.paths.templates.rglob("*.j2")}, out.dir
        return "", []

    monkeypatch.setattr(pipeline, "map_sources", capture)
    monkeypatch.setattr(pipeline, "write_source_map", lambda *a: None)
    pipeline.build_manuscript(ROOT, out_dir=tmp_path / "manuscript", echo=lambda *_: None)
    marked, printed, templates, _ = seen["args"]
    assert sourcemarks.START in marked and not chunks.shared(marked) and len(chunks.split(marked)) > 10
    kept = tmp_path / "kept"
    kept.mkdir()
    whole = expected_text(marked, printed, templates, tmp_path)
    assert expected_text(marked, printed, templates, tmp_path, kept) == whole  # nothing kept: read at once
    assert any(kept.iterdir())
    at = next(m.start() for m in re.finditer(r"^# .*DISCUSSION$", marked, re.M))  # marks after the "# "
    edited = marked[:at] + "A sentence added before the discussion.\n\n" + marked[at:]
    assert expected_text(edited, printed, templates, tmp_path, kept) == expected_text(edited, printed, templates,
                                                                                       tmp_path)
