"""Trustworthy builds: nothing lost on failure or kill, byte-identical rebuilds, no identifier leaks,
templates that cannot reach Python internals, and tool failures reported in one line."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from papergen import atomic
from papergen.errors import TemplateError
from papergen.study import Study
from papergen.write.render import Renderer
from papergen.values import Registry, Value
from studycopy import ROOT, add_column, copy_study, run_build, set_cell, tree_hash

HINT = "(manuscript/ was left as it was; details in .papergen/build.log)"


@pytest.fixture
def study(tmp_path, built):
    """A copy of the study holding a good manuscript/ (the session build)."""
    return copy_study(tmp_path / "study", manuscript=built.outputs.dir)


def _append(path: Path, text: str) -> int:
    """Append lines to a template; returns the line number of the first one."""
    old = path.read_text(encoding="utf-8")
    if not old.endswith("\n"):
        old += "\n"
    path.write_text(old + text, encoding="utf-8")
    return old.count("\n") + 1


def _one_error_line(proc, hint: str = HINT) -> str:
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 2 and lines[1] == hint, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# --- nothing lost -----------------------------------------------------------------------------

def test_template_error_names_line_and_keeps_manuscript(study):
    line = _append(study / "templates" / "results.md.j2", "The mean was {{ os.meen }}.\n")
    before = tree_hash(study / "manuscript")
    err = _one_error_line(run_build(study))
    assert err.startswith(f"error: templates/results.md.j2:{line}: ")
    assert "closest known names: mean" in err
    assert tree_hash(study / "manuscript") == before


def test_pandoc_failure_is_one_line_with_its_log_and_keeps_manuscript(study):
    _append(study / "templates" / "conclusion.md.j2", "\n![Missing figure](figures/no-such-figure.png)\n")
    before = tree_hash(study / "manuscript")
    err = _one_error_line(run_build(study))
    m = re.fullmatch(r"error: pandoc failed: (.*) \(full log: (\S+)\)", err)
    assert m, err
    assert "Could not fetch resource figures/no-such-figure.png" in m.group(1)
    log = study / m.group(2)
    assert log.is_file() and "no-such-figure.png" in log.read_text(encoding="utf-8")
    assert tree_hash(study / "manuscript") == before
    assert not list(study.glob(".manuscript.*"))


def test_typst_failure_points_at_the_kept_source_line(study):
    settings = study / "study" / "study.yaml"  # raw Typst is refused by the lint unless the study allows it
    settings.write_text("allow_raw: [typst]\n" + settings.read_text(encoding="utf-8"), encoding="utf-8")
    _append(study / "templates" / "conclusion.md.j2", "\n```{=typst}\n#let broken = (\n```\n")
    before = tree_hash(study / "manuscript")
    err = _one_error_line(run_build(study))
    m = re.fullmatch(r"error: typst failed: error: (.*) at (\S+):(\d+):\d+ \(full log: (\S+)\)", err)
    assert m, err
    typ, line, log = study / m.group(2), int(m.group(3)), study / m.group(4)
    assert "#let broken = (" in typ.read_text(encoding="utf-8").splitlines()[line - 1]
    assert log.is_file()
    assert tree_hash(study / "manuscript") == before


def test_build_killed_during_export_leaves_last_good_outputs(study):
    before = tree_hash(study / "manuscript")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.Popen([sys.executable, "build.py"], cwd=study, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    deadline = time.monotonic() + 180
    try:
        while True:  # the Markdown is written when rendering ends and the export begins
            if any((s / "manuscript.md").exists() for s in study.glob(".manuscript.staging-*")):
                break
            assert proc.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never reached the export stage"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build and the pandoc it may be running
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert tree_hash(study / "manuscript") == before
    assert list(study.glob(".manuscript.staging-*")), "the killed build left no staging folder to clean"

    again = run_build(study)
    assert again.returncode == 0, again.stderr
    assert not list(study.glob(".manuscript.*")), "stale staging folder not cleaned"
    assert (study / "manuscript" / "manuscript.docx").stat().st_size > 0


def test_build_recovers_from_a_kill_between_the_renames(study):
    """Without renameat2 the swap is two renames; dying between them parks manuscript/ aside."""
    before = tree_hash(study / "manuscript")
    os.replace(study / "manuscript", study / ".manuscript.previous")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (study / f".manuscript.staging-{dead.stdout.strip()}" / "figures").mkdir(parents=True)
    (study / "data" / "patients.csv").write_text("", encoding="utf-8")  # and this build fails
    proc = run_build(study)
    assert proc.returncode == 2
    assert "restored the last good manuscript" in proc.stdout
    assert tree_hash(study / "manuscript") == before
    assert not list(study.glob(".manuscript.*"))


def test_swap_in_replaces_the_folder_whole(tmp_path):
    final = tmp_path / "manuscript"
    final.mkdir()
    (final / "old.txt").write_text("old")
    staging = atomic.staging_dir(final)
    (staging / "new.txt").write_text("new")
    atomic.swap_in(staging, final)
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manuscript"]


def test_only_staging_folders_of_dead_builds_are_removed(tmp_path):
    final = tmp_path / "manuscript"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for pid in (dead.stdout.strip(), live.pid):
            (tmp_path / f".manuscript.staging-{pid}").mkdir()
        atomic.clean_stale(final)
        assert [p.name for p in tmp_path.iterdir()] == [f".manuscript.staging-{live.pid}"]
    finally:
        live.kill()
        live.wait()


# --- byte-identical rebuilds --------------------------------------------------------------------

def _all_text(path: Path) -> str:
    """Every output as text: zip entries (DOCX) unpacked, PDF text extracted, other files decoded."""
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    data = path.read_bytes().decode("utf-8", "replace")
    if path.suffix == ".pdf":
        from conftest import pdf_text

        data += "\n" + pdf_text(path)
    return data


def test_two_clean_builds_are_byte_identical(tmp_path):
    a, b = copy_study(tmp_path / "first"), copy_study(tmp_path / "second" / "elsewhere")
    first = run_build(a)
    assert first.returncode == 0, first.stderr
    second = run_build(b, env={"TZ": "Asia/Shanghai", "LC_ALL": "C.UTF-8"})
    assert second.returncode == 0, second.stderr
    ha, hb = tree_hash(a / "manuscript"), tree_hash(b / "manuscript")
    assert set(ha) == set(hb)
    assert {"manuscript.docx", "manuscript.pdf", "numbers.json", "figures/os.png"} <= set(ha)
    assert [f for f in ha if ha[f] != hb[f]] == []
    for f in ha:
        text = _all_text(b / "manuscript" / f)
        assert str(tmp_path) not in text and "/elsewhere" not in text, f"{f} holds a build path"
    with zipfile.ZipFile(a / "manuscript" / "manuscript.docx") as z:
        core = z.read("docProps/core.xml").decode()
    assert ">2020-10-31T00:00:00Z</dcterms:modified>" in core  # the data cut-off, not the clock


def test_source_date_epoch_comes_from_the_data_cutoff(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert Study(ROOT).source_date_epoch == 1_604_102_400  # `date -u -d 2020-10-31 +%s`
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert Study(ROOT).source_date_epoch == 1_700_000_000
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    study = copy_study(tmp_path / "study")
    book = study / "data" / "codebook.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace("  cutoff_date: '2020-10-31'\n", ""), encoding="utf-8")
    assert Study(study).source_date_epoch == 946_684_800  # 2000-01-01, documented default


# --- identifiers ----------------------------------------------------------------------------------

FAKE_NAMES = ["Qiao Yunfei", "Mo Chenxi", "Duan Ruolan", "Xiang Haoyu", "Feng Qingzhi", "Ning Weiran",
              "Tang Shuyao", "Lu Jingchen", "Song Yiwei", "Kong Mingxuan", "Bai Ziyan"]
FAKE_MRNS = [f"ZY2015{n:05d}" for n in range(31047, 31058)]


def test_declared_identifiers_never_reach_any_output(tmp_path):
    study = copy_study(tmp_path / "study")
    add_column(study, "patients.csv", "patient_name", FAKE_NAMES)
    add_column(study, "patients.csv", "hospital_number", FAKE_MRNS)
    book = study / "data" / "codebook.yaml"
    text = book.read_text(encoding="utf-8")
    anchor = "      age_years: {type: integer"
    declared = ('      patient_name: {type: string, role: identifier, description: "Full name (never printed)."}\n'
                '      hospital_number: {type: string, role: identifier, pattern: "^ZY[0-9]{9}$", '
                'description: "Hospital record number (never printed)."}\n')
    book.write_text(text.replace(anchor, declared + anchor, 1), encoding="utf-8")
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    outputs = [p for p in (study / "manuscript").rglob("*") if p.is_file()]
    assert any(p.suffix == ".docx" for p in outputs) and any(p.suffix == ".pdf" for p in outputs)
    for path in outputs:
        text = _all_text(path)
        for secret in FAKE_NAMES + FAKE_MRNS:
            assert secret not in text, f"{secret!r} leaked into {path.name}"
    assert "P01" in (study / "manuscript" / "numbers.json").read_text(encoding="utf-8")  # pseudonyms may appear


def test_identifier_columns_are_not_given_to_the_analysis(tmp_path):
    from papergen.codebook import read_codebook
    from papergen.ingest.load import read_raw
    from papergen.ingest.validate import validate

    study = copy_study(tmp_path / "study")
    add_column(study, "patients.csv", "patient_name", FAKE_NAMES)
    book = study / "data" / "codebook.yaml"
    text = book.read_text(encoding="utf-8")
    book.write_text(text.replace("      age_years: {type: integer",
                                 "      patient_name: {type: string, role: identifier}\n      age_years: {type: integer", 1),
                    encoding="utf-8")
    cb = read_codebook(book)
    raws = {n: read_raw(n, study / "data" / s.path, f"data/{s.path}") for n, s in cb.files.items()}
    frame = validate(cb, raws)["patients"].frame
    assert "patient_name" not in frame.columns and "age_years" in frame.columns
    assert not any(name in frame.to_csv() for name in FAKE_NAMES)


# --- templates --------------------------------------------------------------------------------

@pytest.fixture
def renderer(tmp_path):
    r = Registry()
    r.add(Value(key="os.mean", text="34.1 ± 3.7", exact={"mean": 34.1}, parts={"se": "3.7"}))
    r.add(Value(key="n_patients", text="11", exact={"n": 11}, count=11))
    tree = r.tree()
    ctx = {name: getattr(tree, name) for name in dir(tree)}

    def render(source: str) -> str:
        (tmp_path / "results.md.j2").write_text(source, encoding="utf-8")
        return Renderer(tmp_path, {"results.md.j2": "Results"}).render("results.md.j2", ctx)
    render.registry = r
    return render


@pytest.mark.parametrize("source, closest", [
    ("Intro.\n\n{{ os.meen }}", "mean"),
    ("Intro.\n\n{{ n_patient }}", "n_patients"),
])
def test_undefined_name_names_template_line_and_closest(renderer, source, closest):
    with pytest.raises(TemplateError) as info:
        renderer(source)
    msg = str(info.value)
    assert msg.startswith("templates/results.md.j2:3: ") and f"closest known names: {closest}" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("attack", [
    "{{ os.mean.__class__.__mro__ }}",
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ self.__init__.__globals__ }}",
    "{{ os.mean|attr('__class__') }}",
    "{{ '{0.__class__}'.format(os.mean) }}",
    "{{ os.mean.__dict__ }}",
    "{{ os.mean._need_count(1) }}",
])
def test_python_internals_are_refused(renderer, attack):
    with pytest.raises(TemplateError, match=r"^templates/results.md.j2:2: refused: access to attribute") as info:
        renderer("Intro.\n" + attack)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("attack", [
    "{{ os.mean.exact.update({'mean': 99.9}) }}",
    "{% set e = os.mean.exact %}{{ e.clear() }}",
    "{{ os.mean.places.append('x') }}",
])
def test_templates_cannot_change_a_value(renderer, attack):
    with pytest.raises(TemplateError, match="refused"):
        renderer(attack)
    v = renderer.registry["os.mean"]
    assert v.exact == {"mean": 34.1} and v.places == []


@pytest.mark.parametrize("source, message", [
    ("{{ os.mean.part('sd') }}", "value 'os.mean' has no part 'sd'"),
    ("{% for i in range(10**9) %}{% endfor %}", "Range too big"),
    ("{% include '../../etc/passwd' %}", "template not found"),
])
def test_other_template_failures_are_one_line_template_errors(renderer, source, message):
    with pytest.raises(TemplateError, match=re.escape(message)) as info:
        renderer(source)
    assert "\n" not in str(info.value)


def test_failure_while_figures_are_drawn_leaves_no_staging_folder(study):
    """Figures are drawn in a helper process beside the rendering: a build that fails meanwhile waits
    for the drawing before it removes its staging folder, so no half folder is left behind."""
    from papergen.pipeline.build import build_manuscript

    before = tree_hash(study / "manuscript")
    _append(study / "templates" / "results.md.j2", "\n{{ no_such_value_anywhere }}\n")
    with pytest.raises(TemplateError):
        build_manuscript(study, echo=lambda *_: None, force=True)  # force: both figures are drawn again
    time.sleep(1.0)  # a drawing that outlived the build would have written by now
    assert not list(study.glob(".manuscript.staging-*"))
    assert tree_hash(study / "manuscript") == before


def test_a_mistake_in_the_analysis_plan_is_the_plans_error_not_internal(study):
    plan = study / "study" / "analysis_plan.py"
    text = plan.read_text(encoding="utf-8")
    anchor = "    ids = pts.index\n"
    assert anchor in text
    plan.write_text(text.replace(anchor, anchor + '    arms = pts["group"]\n', 1), encoding="utf-8")
    line = text[:text.index(anchor)].count("\n") + 2
    before = tree_hash(study / "manuscript")
    err = _one_error_line(run_build(study))
    assert err.startswith(f"error: study/analysis_plan.py:{line}: KeyError: 'group'"), err
    assert "internal error" not in err and "columns: patients:" in err
    assert tree_hash(study / "manuscript") == before


def test_out_onto_a_folder_papergen_did_not_write_is_refused_and_kept(study, tmp_path):
    other = tmp_path / "other-project"
    other.mkdir()
    (other / "notes.txt").write_text("my notes\n", encoding="utf-8")
    err = _one_error_line(run_build(study, "--out", str(other)), hint=f"({other}/ was not replaced (its files "
                          "were not checked: papergen did not write them); details in .papergen/build.log)")
    assert "holds files papergen did not write" in err
    assert (other / "notes.txt").read_text(encoding="utf-8") == "my notes\n" and len(list(other.iterdir())) == 1


def test_a_file_where_the_manuscript_folder_should_be_is_refused_and_kept(tmp_path):
    study = copy_study(tmp_path / "s")
    (study / "manuscript").write_text("not a folder\n", encoding="utf-8")
    err = _one_error_line(run_build(study))
    assert "manuscript is a file, not a folder" in err
    assert (study / "manuscript").read_text(encoding="utf-8") == "not a folder\n"
    assert not [p for p in study.iterdir() if p.name.startswith(".manuscript")]  # no hidden staging left


# --- file modes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o007])
def test_every_output_follows_the_umask(tmp_path, umask):
    """DOCX and PDF were written through mkstemp (mode 0600) while the rest followed the umask."""
    study = copy_study(tmp_path / "study")
    proc = run_build(study, umask=umask)
    assert proc.returncode == 0, proc.stderr
    out = study / "manuscript"
    modes = {p.relative_to(study).as_posix(): p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    want = {p: (0o777 if (study / p).is_dir() else 0o666) & ~umask for p in modes}
    assert {"manuscript/manuscript.docx", "manuscript/manuscript.pdf", "manuscript/numbers.json"} <= set(modes)
    assert {p: oct(m) for p, m in modes.items() if m != want[p]} == {}


# --- what a failed build says about manuscript/ ---------------------------------------------------

def _insert_in_plan(study: Path, code: str) -> None:
    """Put ``code`` (indented lines) at the start of the plan's analysis(a)."""
    plan = study / "study" / "analysis_plan.py"
    text = plan.read_text(encoding="utf-8")
    anchor = "def analysis(a):\n"
    assert text.count(anchor) == 1
    plan.write_text(text.replace(anchor, anchor + code, 1), encoding="utf-8")


def test_a_plan_that_deletes_an_output_is_not_reported_as_leaving_manuscript_as_it_was(study):
    assert run_build(study).returncode == 0  # the build cache records what this build leaves in manuscript/
    _insert_in_plan(study, '    import pathlib\n    pathlib.Path("manuscript/manuscript.pdf").unlink()\n'
                           '    raise ValueError("after deleting the PDF")\n')
    proc = run_build(study)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 2, proc.stderr
    assert lines[0].startswith("error: study/analysis_plan.py:") and "after deleting the PDF" in lines[0]
    assert "left as it was" not in proc.stderr
    assert lines[1] == ("(manuscript/ was not replaced, but its files differ from what the last build wrote "
                        "(manuscript.pdf removed); the next good build rewrites them; details in .papergen/build.log)")


C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "", "PYTHONCOERCECLOCALE": "0"}


def test_a_build_in_the_c_locale_prints_utf8_and_finishes(study):
    """Under LC_ALL=C stdout was ASCII: the change report's "±" raised after the new manuscript/ was swapped in."""
    first = run_build(study, env=C_LOCALE)  # the study's text has ± and en dashes
    assert first.returncode == 0, first.stderr
    old = set_cell(study, "patients.csv", 2, "operation_minutes", "399")
    assert old != "399"
    proc = run_build(study, env=C_LOCALE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert re.search(r"surgery\.op_time: .*[\d.]+ .*± [\d.]+.* -> .*[\d.]+ .*± [\d.]+", proc.stdout), proc.stdout


# --- a full disk ---------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A real 8 MB filesystem (tmpfs) to fill up. Mounting needs root: skipped without it, except under CI,
    which runs as root, where a skip would silently drop the test, so it fails instead."""
    disk = tmp_path / "disk"
    disk.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True,
                          text=True) if shutil.which("mount") else None
    if made is None or made.returncode != 0:
        why = f"cannot mount a tmpfs ({made.stderr.strip() if made else 'no mount command'})"
        if os.environ.get("CI"):
            pytest.fail(why + "; CI runs as root and must run this test")
        pytest.skip(why)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of the disk's free space."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            fh.write(b"\0" * max(st.f_bavail * st.f_frsize - leave, 0))
            while leave == 0:  # take the last pages too
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


@pytest.fixture(scope="module")
def edited_reference(tmp_path_factory):
    """The outputs of a clean build of the study with the edit made below (on a disk with room)."""
    study = copy_study(tmp_path_factory.mktemp("reference") / "study")
    set_cell(study, "patients.csv", 2, "operation_minutes", "399")
    assert run_build(study).returncode == 0
    return tree_hash(study / "manuscript")


@pytest.mark.parametrize("leave_kb", [0, 200, 1000])
def test_a_full_disk_is_one_line_leaves_nothing_and_the_next_build_works(small_disk, edited_reference, leave_kb):
    study = copy_study(small_disk / "study")
    assert run_build(study).returncode == 0
    set_cell(study, "patients.csv", 2, "operation_minutes", "399")
    before = tree_hash(study / "manuscript")
    filler = _fill(small_disk, leave_kb * 1024)
    proc = run_build(study)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 2, proc.stderr
    assert lines[0].startswith("error: no space left on device while writing "), lines
    assert lines[1].startswith("(manuscript/ was left as it was; "), lines
    assert "Traceback" not in proc.stderr + proc.stdout and "Logging error" not in proc.stderr
    assert not list(study.glob(".manuscript.*")), "the staging folder was left on the full disk"
    assert not (study / ".papergen" / "last-failed").exists()
    assert tree_hash(study / "manuscript") == before

    filler.unlink()
    again = run_build(study)
    assert again.returncode == 0, again.stderr
    after = tree_hash(study / "manuscript")
    assert {f: after[f] for f in edited_reference} == edited_reference  # as a clean build of the same inputs


# --- stopped from outside --------------------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent PID, session id) of a process from /proc, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[4])


def _in_session(sid: int) -> list[str]:
    """Live processes of a session (the build was started as its leader), as "PID command"."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[2] == sid and st[0] != "Z":
            out.append(f"{entry.name} {(entry / 'comm').read_text(errors='replace').strip()}")
    return out


def _wait_for_descendant(proc, is_it, what: str, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while not any(is_it(pid) for pid in _descendants(proc.pid)):
        assert proc.poll() is None, f"the build ended before {what} ran: {proc.communicate()}"
        assert time.monotonic() < deadline, f"{what} never ran"
        time.sleep(0.01)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[0] != "Z":
            children.setdefault(st[1], []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        out += children.get(todo[-1], [])
        todo = todo[:-1] + children.get(todo[-1], [])
    return out


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text(errors="replace").strip()
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


MOMENTS = {  # what the build is doing when the signal comes, and how to see it from outside
    "figure helper": (None, lambda pid: "build.py" in _cmdline(pid)),
    "pandoc": (None, lambda pid: _comm(pid) == "pandoc"),
    "plan's own subprocess": ('    import subprocess\n    subprocess.run(["sleep", "60"])\n',
                              lambda pid: _comm(pid) == "sleep"),
}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="processes are looked up in /proc")
@pytest.mark.parametrize("sig, group", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGHUP, False),
                                        (signal.SIGINT, True)], ids=["SIGINT", "SIGTERM", "SIGHUP", "Ctrl-C"])
@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_a_signal_stops_the_build_and_every_helper_process(study, moment, sig, group):
    """The signal goes to the build alone (as `kill PID` sends it), and the helpers it started must end with
    it; or, as Ctrl-C in a terminal, to its whole process group, and no helper may print a traceback."""
    plan_code, is_it = MOMENTS[moment]
    if plan_code:
        _insert_in_plan(study, plan_code)
    before = tree_hash(study / "manuscript")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    out = study / "stdout.txt", study / "stderr.txt"  # files, not pipes: an orphan would hold a pipe open
    with open(out[0], "wb") as stdout, open(out[1], "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "build.py", "--force"], cwd=study, stdout=stdout, stderr=stderr,
                                start_new_session=True, env=env)
    try:
        _wait_for_descendant(proc, is_it, moment)
        os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
        proc.wait(timeout=60)
        time.sleep(0.2)
        survivors = _in_session(proc.pid)
    finally:
        for left in _in_session(proc.pid):  # what the build left, by PID (its session: only what it started)
            os.kill(int(left.split()[0]), signal.SIGKILL)
        proc.wait()
    name = {signal.SIGINT: "Ctrl-C"}.get(sig, sig.name)
    err = out[1].read_text(encoding="utf-8")
    assert (proc.returncode, err) == (128 + sig, f"stopped by {name}; manuscript/ was left as it was\n")
    assert survivors == [], "a helper process outlived the build"
    assert not list(study.glob(".manuscript.*")), "the staging folder was left behind"
    assert tree_hash(study / "manuscript") == before


LOOPS = {  # a build that would run forever, and the stage it hangs in
    "analysis plan": lambda study: _insert_in_plan(study, "    while True:\n        pass\n"),
    "render templates": lambda study: _append(study / "templates" / "results.md.j2",
                                              '{% set n = literal("99999")|int %}{% for i in range(n) %}'
                                              '{% for j in range(n) %}{% endfor %}{% endfor %}\n'),
}


@pytest.mark.parametrize("stage", sorted(LOOPS))
def test_a_build_that_never_ends_says_so_and_stops_at_its_timeout(study, stage):
    LOOPS[stage](study)
    before = tree_hash(study / "manuscript")
    t0 = time.monotonic()
    proc = run_build(study, "--timeout", "14", timeout=120)
    took = time.monotonic() - t0
    assert proc.returncode == 124, proc.stderr
    assert re.fullmatch(rf"stopped: the build ran past --timeout 14 s; stage '{stage}' \(\d+ s\) was still running; "
                        r"manuscript/ was left as it was\n", proc.stderr), proc.stderr
    assert re.search(rf"^  still running: {stage} \(5 s\); Ctrl-C stops the build$", proc.stdout, re.M), proc.stdout
    assert took < 40
    assert not list(study.glob(".manuscript.*")), "the staging folder was left behind"
    assert tree_hash(study / "manuscript") == before


# --- issue 15 item 7: every file the study reads resolves inside the study folder -------------------

def _outside(tmp_path, name: str, text: str) -> Path:
    target = tmp_path / "elsewhere" / name
    target.parent.mkdir(exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize("what", ["template", "included template", "references.bib", "templates folder"])
def test_a_symbolic_link_out_of_the_study_is_refused(study, tmp_path, what):
    secret = "Secret text of another project 4711\n"
    if what == "template":
        link = study / "templates" / "results.md.j2"
        link.unlink()
        link.symlink_to(_outside(tmp_path, "results.md.j2", secret))
    elif what == "included template":
        (study / "templates" / "extra.txt").symlink_to(_outside(tmp_path, "extra.txt", secret))
        _append(study / "templates" / "results.md.j2", '{% include "extra.txt" %}\n')
    elif what == "references.bib":
        link = study / "study" / "references.bib"
        link.unlink()
        link.symlink_to(_outside(tmp_path, "references.bib", "@article{x, title={" + secret + "}}\n"))
    else:
        moved = tmp_path / "elsewhere" / "templates"
        moved.parent.mkdir()
        (study / "templates").rename(moved)
        (study / "templates").symlink_to(moved)
    before = tree_hash(study / "manuscript")
    err = _one_error_line(run_build(study))
    assert "(through a symbolic link), outside the study folder" in err, err
    assert str(tmp_path / "elsewhere") in err and "4711" not in err
    assert tree_hash(study / "manuscript") == before


@pytest.mark.parametrize("setting, shown", [
    ("csl", "study/study.yaml: csl '../../elsewhere/style.csl': resolves to"),
    ("image", "templates: image '/etc/passwd': resolves to /etc/passwd, outside the study folder"),
])
def test_a_path_out_of_the_study_is_refused(study, tmp_path, setting, shown):
    if setting == "csl":
        _outside(tmp_path, "style.csl", "<style/>\n")
        settings = study / "study" / "study.yaml"
        text = settings.read_text(encoding="utf-8")
        settings.write_text(text.replace("csl: baishideng-publishing-group.csl", "csl: ../../elsewhere/style.csl"),
                            encoding="utf-8")
    else:
        _append(study / "templates" / "results.md.j2", "![A picture](/etc/passwd)\n")
    err = _one_error_line(run_build(study))
    assert err.startswith("error: " + shown), err


# --- issue 15 item 8: raw DOCX, Typst, HTML and LaTeX markup in a template -----------------------------

INCLUDETEXT = '```{=openxml}\n<w:p><w:fldSimple w:instr="INCLUDETEXT /etc/passwd"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>\n```\n'


@pytest.mark.parametrize("raw, shown", [
    (INCLUDETEXT, "raw openxml block: pandoc passes it verbatim into the DOCX"),
    ('Read `#read("/etc/passwd")`{=typst} here.\n', "raw typst inline: pandoc passes it verbatim into the PDF"),
    ("A <script>document.title = 'x'</script> here.\n", "raw html tag <script>"),
    ("```{=latex}\n\\input{/etc/passwd}\n```\n", "raw latex block"),
])
def test_raw_markup_in_a_template_is_refused_naming_its_line(study, raw, shown):
    line = _append(study / "templates" / "results.md.j2", "\n" + raw) + 1
    err = _one_error_line(run_build(study))
    assert err.startswith(f"error: templates/results.md.j2:{line}:") and shown in err, err


def test_raw_markup_allowed_by_the_study_is_reported_as_a_warning(study):
    settings = study / "study" / "study.yaml"
    settings.write_text("allow_raw: [openxml]\n" + settings.read_text(encoding="utf-8"), encoding="utf-8")
    _append(study / "templates" / "results.md.j2", "\n" + INCLUDETEXT)
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    assert "raw openxml markup" in proc.stdout and "advisory: journal profile: raw openxml markup: allowed by " \
        "study/study.yaml allow_raw, passed into the output verbatim" in proc.stdout
    with zipfile.ZipFile(study / "manuscript" / "manuscript.docx") as z:
        assert "INCLUDETEXT" in z.read("word/document.xml").decode("utf-8")  # allowed: it is there, as the report says


def test_raw_markup_printed_by_an_expression_is_refused(study):
    _append(study / "templates" / "results.md.j2", '\n{{ "<script>document.title = \'x\'</script>" }}\n')
    err = _one_error_line(run_build(study))
    assert err.startswith('error: templates: the manuscript holds raw html markup ("<script>'), err


def test_an_unknown_raw_format_in_the_settings_is_one_line(study):
    settings = study / "study" / "study.yaml"
    settings.write_text("allow_raw: [docx, rtf]\n" + settings.read_text(encoding="utf-8"), encoding="utf-8")
    err = _one_error_line(run_build(study))
    assert err == "error: study/study.yaml: allow_raw: 'rtf' is not one of html, latex, openxml, typst"


# --- issue 15 (items 14-16): what the corpus cannot hold (an environment variable; a build that succeeds) ---

@pytest.mark.parametrize("epoch", ["99999999999", "1e9", "-5", " "])
def test_a_source_date_epoch_papergen_cannot_stamp_fails_before_any_stage(study, epoch):
    before = tree_hash(study / "manuscript")
    proc = run_build(study, env={"SOURCE_DATE_EPOCH": epoch})
    err = _one_error_line(proc)
    assert err.startswith(f"error: SOURCE_DATE_EPOCH {epoch!r}: expected whole seconds since 1970-01-01 UTC"), err
    assert "read and validate data" not in proc.stdout  # refused up front, not as a missing reference.docx
    assert tree_hash(study / "manuscript") == before


def test_valid_data_without_a_serious_complication_builds_and_says_none(study):
    """The plan lists the serious complications with st.listing(..., empty="none"): no grade III is valid data."""
    path = study / "data" / "complications.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",").index("clavien_dindo")
    rows = [line.split(",") for line in lines[1:]]
    for r in rows:
        r[head] = "II" if r[head].startswith(("III", "IV", "V")) else r[head]
    path.write_text("\n".join([lines[0]] + [",".join(r) for r in rows]) + "\n", encoding="utf-8")
    proc = run_build(study)
    assert proc.returncode == 0, proc.stderr
    text = (study / "manuscript" / "manuscript.md").read_text(encoding="utf-8")
    assert 'had a serious complication: [none]{.pg-value data-key="postop.serious_list"' in text
