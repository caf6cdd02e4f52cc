"""merge: a co-author's DOCX (real OOXML with Word's tracked changes and comments) back into the templates.

One real build of a copy of the study; each test copies its templates, plan,
settings and .papergen/sent/ (what merge reads), edits the built DOCX the way
Word does (tests/ooxml.py) and runs ``python build.py merge`` in-process.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import copy_study  # noqa: E402
from ooxml import Docx  # noqa: E402

from papergen.cli import main  # noqa: E402

TALLY = {"applied": 0, "refused": 0, "ambiguous": 0}


@pytest.fixture(scope="module")
def sent(tmp_path_factory) -> Path:
    """A study copy built once: its manuscript.docx is the copy sent to co-authors."""
    from papergen.pipeline.build import build_manuscript

    root = copy_study(tmp_path_factory.mktemp("sent"))
    build_manuscript(root, echo=lambda *_: None)
    return root


@pytest.fixture
def study(sent, tmp_path) -> Path:
    """What merge needs of the sent study, in a folder a test may change."""
    root = tmp_path / "study"
    for name in ("study", "templates", "data"):
        shutil.copytree(sent / name, root / name)
    shutil.copytree(sent / ".papergen" / "sent", root / ".papergen" / "sent")
    shutil.copy(sent / "manuscript" / "manuscript.docx", tmp_path / "sent.docx")
    (root / "manuscript").mkdir()
    return root


def returned(study: Path, name: str = "returned.docx") -> Docx:
    return Docx(study.parent / "sent.docx")


def merge(study: Path, *docs: Docx | Path, capsys=None) -> tuple[int, str, str]:
    files = []
    for k, d in enumerate(docs):
        files.append(str(d.save(study.parent / f"returned-{k}.docx") if isinstance(d, Docx) else d))
    code = main(["merge", *files], root=study)
    out, err = capsys.readouterr() if capsys else ("", "")
    _tally(out)
    return code, out, err


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".papergen" not in p.parts}


def template(study: Path, name: str) -> str:
    return (study / "templates" / name).read_text(encoding="utf-8")


def _tally(out: str) -> None:
    for line in out.splitlines():
        word = line.split()[0] if line.split() else ""
        if word == "applied":
            TALLY["applied"] += 1
        elif word == "refused":
            TALLY["refused"] += 1
        elif word == "ambiguous":
            TALLY["ambiguous"] += 1


# --- prose applied, values refused ---------------------------------------------------------

def test_a_tracked_prose_edit_goes_to_its_template_line(study, capsys):
    d = returned(study)
    d.replace("were men", "were male")
    code, out, _ = merge(study, d, capsys=capsys)
    assert code == 0
    text = template(study, "results.md.j2")
    assert '{{ baseline.male.phrase("patient") }} were male. The primary tumor' in text
    assert "were men" not in text
    assert "templates/results.md.j2:6" in out and "J. Smith" in out


def test_an_edited_number_is_refused_with_its_key_and_definition_and_never_written(sent, study, capsys):
    before = snapshot(study)
    old = json.loads((sent / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["values"]["os.mean"]["text"]
    new = old.replace("34.1", "35.0")  # e.g. "34.1 (± 3.7) mo" -> "35.0 (± 3.7) mo"
    d = returned(study)
    d.replace(old, new)
    code, out, _ = merge(study, d, capsys=capsys)
    assert code == 0
    assert f'"{old}' in out and f'-> "{new}' in out  # as printed (the house style may add "(mean ± SE)")
    assert "os.mean is computed from data/patients.csv; change the data or the plan" in out
    assert "Kaplan-Meier mean overall survival" in out  # the definition
    after = snapshot(study)
    assert {k: v for k, v in after.items() if "merge-report" not in k} == before
    assert "35.0" not in "".join(p.read_text() for p in (study / "templates").glob("*.j2"))


def test_a_spelled_out_count_is_a_value_and_a_title_page_fact_goes_to_study_yaml(study, capsys):
    d = returned(study)
    d.replace("Eleven patients underwent", "Twelve patients underwent")
    d.replace("Ablation with hepatectomy for NET", "Ablation and hepatectomy for NET")  # the running title
    code, out, _ = merge(study, d, capsys=capsys)
    assert '"Eleven patients" -> "Twelve patients": n_patients is computed from' in out
    settings = (study / "study" / "study.yaml").read_text(encoding="utf-8")
    assert "Ablation and hepatectomy for NET" in settings and "Ablation with hepatectomy" not in settings
    assert "Twelve" not in template(study, "results.md.j2")


def test_a_typed_number_in_new_prose_is_refused(study, capsys):
    d = returned(study)
    d.insert_after("This study has limitations.", " Twelve patients were lost and 3 withdrew.")
    code, out, _ = merge(study, d, capsys=capsys)
    assert "refused (typed number)" in out
    assert "withdrew" not in template(study, "discussion.md.j2")


def test_a_table_cell_is_a_value_and_its_caption_is_plan_text(study, capsys):
    d = returned(study)
    d.replace("Baseline characteristics of the patients", "Baseline characteristics of the cohort")
    d.replace("Pancreas", "Pancreas (head or tail)")  # a row label, written in the plan
    code, out, _ = merge(study, d, capsys=capsys)
    plan = (study / "study" / "analysis_plan.py").read_text(encoding="utf-8")
    assert '"Baseline characteristics of the cohort"' in plan
    assert "study/analysis_plan.py:" in out


def test_a_table_cell_value_is_refused(study, capsys):
    d = returned(study)
    run = d.cell_run("Pancreas")
    old = run.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t").text
    d.replace(old, "9 (81.8%)", run=run)
    code, out, _ = merge(study, d, capsys=capsys)
    assert f'refused (value)          "{old}" -> "9 (81.8%)": ' in out
    assert "81.8" not in (study / "study" / "analysis_plan.py").read_text(encoding="utf-8")


def test_comments_are_listed_with_author_anchor_and_template_line(study, capsys):
    d = returned(study)
    d.comment("median follow-up", "Say how complete the follow-up was?", author="A. Reviewer")
    code, out, _ = merge(study, d, capsys=capsys)
    assert "A. Reviewer" in out and '"median follow-up"' in out and "templates/" in out
    html = (study / "manuscript" / "merge-report.html").read_text(encoding="utf-8")
    assert "Say how complete the follow-up was?" in html and "A. Reviewer" in html


def test_comments_can_be_kept_beside_their_line_once(study, capsys):
    d = returned(study)
    d.comment("were men", "Sex or gender?", author="A. Reviewer")
    files = [str(d.save(study.parent / "commented.docx"))]
    assert main(["merge", "--keep-comments", *files], root=study) == 0
    assert main(["merge", "--keep-comments", *files], root=study) == 0  # the same file again: not twice
    lines = template(study, "results.md.j2").splitlines()
    at = next(i for i, line in enumerate(lines) if "were men" in line)
    assert lines[at + 1] == '{## comment (A. Reviewer, 2026-11-03) on "were men": Sex or gender? ##}'
    assert sum("Sex or gender?" in line for line in lines) == 1


# --- paragraphs, moves, formatting, untracked --------------------------------------------------

def test_deleted_and_inserted_paragraphs(study, capsys):
    d = returned(study)
    d.delete_paragraph("We reviewed our experience with hepatectomy")
    d.insert_paragraph_after("This study has limitations.", "A closing paragraph the co-author wrote.")
    code, out, _ = merge(study, d, capsys=capsys)
    assert "We reviewed our experience" not in template(study, "introduction.md.j2")
    text = template(study, "discussion.md.j2")
    assert "combination.\n\nA closing paragraph the co-author wrote." in text


def test_an_edit_spanning_two_paragraphs(study, capsys):
    d = returned(study)
    d.join_paragraphs("within reach of surgical treatment.")
    d.insert_after("within reach of surgical treatment.", " ")
    code, out, _ = merge(study, d, capsys=capsys)
    text = template(study, "introduction.md.j2")  # the paragraphs joined; the STROBE comment between them kept
    assert "within reach of surgical treatment. {## strobe: 3 ##}\nWe reviewed" in text


def test_moved_text_untracked_edits_and_formatting(study, capsys):
    d = returned(study)
    d.move(" steadily", "over recent decades")
    d.untracked("Larger prospective or multicenter studies", "Larger prospective, multicenter studies")
    d.make_bold("Kaplan-Meier method")
    code, out, _ = merge(study, d, capsys=capsys)
    assert "Larger prospective, multicenter studies" in template(study, "discussion.md.j2")
    assert "have risen over recent decades steadily, partly" in template(study, "introduction.md.j2")
    assert "untracked edit" in out
    assert "1 formatting-only tracked changes ignored" in out


def test_an_edit_across_if_is_ambiguous_and_reported_with_both_texts(study, capsys):
    before = template(study, "results.md.j2")
    d = returned(study)
    d.replace("followed that long.", "followed for five years")
    code, out, _ = merge(study, d, capsys=capsys)
    assert "ambiguous" in out or "refused (typed number)" in out
    d = returned(study)
    d.replace("that long.", "that long enough;")
    code, out, _ = merge(study, d, capsys=capsys)
    assert "ambiguous" in out and "sent:" in out and "co-author:" in out
    assert template(study, "results.md.j2") == before


# --- three-way, several co-authors ----------------------------------------------------------

@pytest.mark.parametrize("ours, expect", [
    (("## Survival", "## Survival and follow-up"), ("were male", "## Survival and follow-up")),  # elsewhere: applied
    (("were men", "were men (sex at birth)"), ("were men (sex at birth)", "conflict")),          # here: a conflict
])
def test_three_way_when_the_template_changed_since_sending(study, capsys, ours, expect):
    path = study / "templates" / "results.md.j2"
    path.write_text(path.read_text().replace(*ours))
    d = returned(study)
    d.replace("were men", "were male")
    code, out, _ = merge(study, d, capsys=capsys)
    text = template(study, "results.md.j2")
    assert expect[0] in text and expect[1] in text + out
    if expect[1] == "conflict":
        assert "were male" not in text and "now: " in out


def test_several_coauthors_one_after_another_and_no_edit_twice(study, capsys):
    a, b = returned(study), returned(study)
    a.replace("were men", "were male", author="A. One")
    b.replace("were men", "were male", author="B. Two")
    b.replace("Larger prospective or multicenter", "Larger prospective and multicenter", author="B. Two")
    code, out, _ = merge(study, a, b, capsys=capsys)
    text = template(study, "results.md.j2")
    assert text.count("were male") == 1 and "already applied" in out
    assert "Larger prospective and multicenter" in template(study, "discussion.md.j2")
    code, out, _ = merge(study, study.parent / "returned-0.docx", capsys=capsys)  # the same file again
    assert "already applied" in out and template(study, "results.md.j2").count("were male") == 1


# --- files that cannot be merged --------------------------------------------------------------

def _docx_without_build(path: Path) -> Path:
    import docx

    doc = docx.Document()
    doc.add_paragraph("Some text a colleague wrote.")
    doc.save(str(path))
    return path


@pytest.mark.parametrize("kind", ["foreign", "unknown", "corrupt", "protected", "missing"])
def test_a_file_that_cannot_be_merged_is_one_line_and_nothing_changes(study, tmp_path, capsys, kind):
    before = snapshot(study)
    bad = tmp_path / f"{kind}.docx"
    if kind == "foreign":
        _docx_without_build(bad)
        expect = "was not built by papergen"
    elif kind == "unknown":
        shutil.rmtree(study / ".papergen" / "sent")
        (study / ".papergen" / "sent").mkdir()
        shutil.copy(study.parent / "sent.docx", bad)
        expect = "which this study has no record of"
    elif kind == "corrupt":
        bad.write_bytes((study.parent / "sent.docx").read_bytes()[:5000])
        expect = "is damaged or not a DOCX"
    elif kind == "protected":
        bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptionInfo".encode("utf-16-le"))
        expect = "is password-protected"
    else:
        expect = "cannot be read"
    good = returned(study)
    good.replace("were men", "were male")
    code, out, err = merge(study, good, bad, capsys=capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and expect in lines[0] and "Traceback" not in err
    assert snapshot(study) == before  # the good file was not merged either


def test_dry_run_writes_nothing(study, capsys):
    before = snapshot(study)
    d = returned(study)
    d.replace("were men", "were male")
    assert main(["merge", "--dry-run", str(d.save(study.parent / "dry.docx"))], root=study) == 0
    assert "templates/results.md.j2:6" in capsys.readouterr().out and snapshot(study) == before


def test_report_the_tally(capsys):
    """Prints how many of this file's test edits were applied, refused and ambiguous (for the notes)."""
    with capsys.disabled():
        print(f"\nmerge test edits: {TALLY['applied']} applied, {TALLY['refused']} refused, "
              f"{TALLY['ambiguous']} ambiguous")


# --- the rules on a small made-up source map ---------------------------------------------------

def _sent(text: str, source: str, offsets: list[int]):
    from papergen.trace.sourcemap import SentBuild

    return SentBuild({"build": "b", "built": "", "text": text, "values": {},
                      "spans": [[0, len(text), "t", "a.md.j2", offsets]], "files": {"templates/a.md.j2": source}})


def test_text_a_loop_printed_twice_is_ambiguous():
    from papergen.trace.merge import plan_merge
    from papergen.trace.wordtext import WordText

    source = "{% for x in xs %}\nOne line.\n{% endfor %}\n"
    line = source.index("One")
    sent = _sent("One line.\nOne line.", source, [line + k for k in range(10)] + [line + k for k in range(9)])
    result, changed = plan_merge(sent, WordText("One line.\nOne row."), "r.docx", {"templates/a.md.j2": source})
    (edit,) = result.edits
    assert edit.status == "ambiguous" and "loop" in edit.message and edit.both == ("One line.", "One row.")
    assert changed == {}


def test_literal_edit_in_a_made_up_map_goes_to_its_offset():
    from papergen.trace.merge import plan_merge
    from papergen.trace.wordtext import WordText

    source = "# Title\n\nPlain words here.\n"
    start = source.index("Plain")
    sent = _sent("Plain words here.", source, [start + k for k in range(17)])
    result, changed = plan_merge(sent, WordText("Plain sentences here."), "r.docx", {"templates/a.md.j2": source})
    assert changed == {"templates/a.md.j2": "# Title\n\nPlain sentences here.\n"}
    assert [e.where for e in result.edits] == ["templates/a.md.j2:3"]
