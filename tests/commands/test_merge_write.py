"""papergen.commands.merge: files written back follow the umask (mkstemp alone made them 0600)."""
from __future__ import annotations

from papergen.atomic import umask
from papergen.commands.merge import write_all


def test_merged_files_follow_the_umask(tmp_path):
    target = tmp_path / "templates" / "results.md.j2"
    write_all({target: "The mean was {{ os.mean }}.\n"})
    assert target.read_text(encoding="utf-8") == "The mean was {{ os.mean }}.\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~umask())
    assert [p.name for p in target.parent.iterdir()] == ["results.md.j2"]
