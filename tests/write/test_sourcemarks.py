"""Source marks: each literal stretch of a template marked with its file and offset; removed for the build."""
from __future__ import annotations

from papergen.values import Value
from papergen.write import sourcemarks
from papergen.write.render import Renderer

SOURCE = ("# RESULTS\n\n## Patients\n\nThe mean was {{ v }} in all.\n"
          "{% if flag %}\nShown branch.\n{% endif %}\n::: {.note}\nA note.\n:::\n")


def _render(tmp_path, source=SOURCE):
    (tmp_path / "t.md.j2").write_text(source, encoding="utf-8")
    r = Renderer(tmp_path, {"t.md.j2": "Results"}, source_map=True)
    v = Value(key="os.mean", text="34.1", exact={"mean": 34.1}, definition="d")
    return r.render("t.md.j2", {"v": v, "flag": True})


def test_marks_name_the_source_of_each_literal_stretch(tmp_path):
    out = _render(tmp_path)
    found = [sourcemarks.read_mark(m) for m in sourcemarks.MARK_RE.finditer(out)]
    plain = sourcemarks.strip(out)
    for template, offset, length in found:
        assert template == "t.md.j2" and SOURCE[offset:offset + length] in plain
    starts = [SOURCE[o:o + 12] for _, o, _ in found]
    assert "RESULTS\n\n## " in starts          # after the heading's "# ", never before it
    assert any(s.startswith("Shown branch") for s in starts)


def test_block_syntax_stays_at_the_line_start(tmp_path):
    out = _render(tmp_path)
    lines = out.splitlines()
    assert lines[0].startswith("# ") and lines[2].startswith("## ") and any(line.startswith(":::") for line in lines)


def test_stripped_output_is_the_unmarked_render(tmp_path):
    (tmp_path / "t.md.j2").write_text(SOURCE, encoding="utf-8")
    plain = Renderer(tmp_path, {}).render("t.md.j2", {"v": Value(key="os.mean", text="34.1", exact={},
                                                                    definition="d"), "flag": True})
    assert sourcemarks.strip(_render(tmp_path)) == plain
