"""Diff between two versions: a real follow-up extension of the demonstration cohort.

The study is copied to a temporary git repository and built; then the
follow-up of the alive patients is extended (two last contacts moved later,
one patient now dead) and the study rebuilt. Which numbers must move is worked
out here from the CSV rows with lifelines and plain counting, not with
papergen's statistics.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import subprocess

import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time
from num2words import num2words

from papergen import cli
from papergen.commands import diff as diff_command
from papergen.trace import diff
from papergen.trace.wordtext import read_word
from papergen.errors import RevisionError
from papergen.study import Study, StudyPaths
from studycopy import copy_study

DAYS_PER_MONTH = 30.4375
OLD_CUTOFF, NEW_CUTOFF = "2020-10-31", "2021-06-30"
SURVIVAL = ("os.", "pfs.", "followup.", "figure.os.at_risk.", "figure.pfs.at_risk.")
NEVER = ("lesions.", "surgery.", "postop.", "baseline.", "labs.", "table.", "study.", "software.", "method.",
         "n_patients", "period", "ref.")


def _git(root, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root,
                   check=True, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def extend_follow_up(root):
    """Move two alive patients' last contact later and turn the third alive patient into a death."""
    rows = _read(root / "data" / "patients.csv")
    alive = [r for r in rows if r["vital_status"] == "0"]
    assert len(alive) >= 3
    for r, day in zip(alive[:2], ("2021-05-31", "2021-06-15")):
        r["last_followup_date"] = day
    alive[2]["vital_status"] = "1"
    alive[2]["death_date"] = alive[2]["last_followup_date"]
    _write(root / "data" / "patients.csv", rows)
    book = root / "data" / "codebook.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace(f"'{OLD_CUTOFF}'", f"'{NEW_CUTOFF}'"), encoding="utf-8")
    return {r["patient_id"] for r in alive}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    root = copy_study(tmp_path_factory.mktemp("study"))
    _git(root, "init", "-q")
    _git(root, "add", "data", "study", "templates", "build.py")
    first = _git(root, "commit", "-q", "-m", "first submission")
    before = _read(root / "data" / "patients.csv")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main([], root=root) == 0
    paths = StudyPaths(root)
    kept = diff.archive_ledger(Study(paths), "first")
    old_ledger = json.loads((root / "manuscript" / "numbers.json").read_text(encoding="utf-8"))
    changed_rows = extend_follow_up(root)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main([], root=root) == 0
    new_ledger = json.loads((root / "manuscript" / "numbers.json").read_text(encoding="utf-8"))
    return {"root": root, "paths": paths, "first": first, "kept": kept, "terminal": out.getvalue(),
            "before": before, "after": _read(root / "data" / "patients.csv"), "changed_rows": changed_rows,
            "old": old_ledger["values"], "new": new_ledger["values"]}


def _listed(terminal: str) -> tuple[set, set, set]:
    """Changed, added and removed keys as the build printed them after its summary."""
    changed, added, removed = set(), set(), set()
    for line in terminal.splitlines():
        s = line.strip()
        if line.startswith("  + "):
            added.add(s[2:].split(":")[0])
        elif line.startswith("  - "):
            removed.add(s[2:].split(":")[0])
        elif line.startswith("  ") and not line.startswith("      ") and " -> " in s:
            changed.add(s.split(":")[0])
    return changed, added, removed


# --- what must change, from the rows --------------------------------------------------

def _date(s):
    return dt.date.fromisoformat(s) if s else None


def survival_times(rows):
    os_t, os_e, pfs_t, pfs_e = [], [], [], []
    for r in rows:
        op = _date(r["operation_date"])
        dead = r["vital_status"] == "1"
        end = _date(r["death_date"]) if dead else _date(r["last_followup_date"])
        os_t.append((end - op).days / DAYS_PER_MONTH)
        os_e.append(int(dead))
        firsts = [d for d in (_date(r["progression_date"]), _date(r["death_date"])) if d]
        pfs_end = min(firsts) if firsts else _date(r["last_followup_date"])
        pfs_t.append((pfs_end - op).days / DAYS_PER_MONTH)
        pfs_e.append(int(bool(firsts)))
    return {"os": (os_t, os_e), "pfs": (pfs_t, pfs_e)}


def _km(t, e):
    return KaplanMeierFitter().fit(t, e)


def expected(rows_before, rows_after, at_risk_keys):
    """Keys that must be listed as changed, and keys that must not be, computed from the rows."""
    b, a = survival_times(rows_before), survival_times(rows_after)
    must, must_not = {"followup.cutoff"}, set()
    moved = [i for i, (x, y) in enumerate(zip(rows_before, rows_after)) if x != y]
    for curve in ("os", "pfs"):
        # S(t) and its Greenwood CI use only the risk sets and events up to t: rows whose old and
        # new times both lie beyond t cannot move the t-month rate
        for m, year in ((12, 1), (36, 3), (60, 5)):
            if all(min(b[curve][0][i], a[curve][0][i]) > m for i in moved):
                must_not.add(f"{curve}.y{year}")
    deaths = (sum(b["os"][1]), sum(a["os"][1]))
    (must if deaths[0] != deaths[1] else must_not).add("os.deaths")
    progressed = [sum(r["progressed"] == "1" for r in rows) for rows in (rows_before, rows_after)]
    (must if progressed[0] != progressed[1] else must_not).add("pfs.progressions")
    # Kaplan-Meier mean (area up to the longest time), landmark rates, reverse-KM follow-up, PFS range
    mean = [round(restricted_mean_survival_time(_km(*x["os"]), t=max(x["os"][0])), 1) for x in (b, a)]
    if mean[0] != mean[1]:
        must.add("os.mean")
    for m, key in ((12, "os.y1"), (36, "os.y3"), (60, "os.y5")):
        est = [(max(x["os"][0]) >= m, round(100 * float(_km(*x["os"]).predict(m)), 1)) for x in (b, a)]
        if est[0][0] != est[1][0] or (est[0][0] and est[0][1] != est[1][1]):
            must.add(key)
    for m, key in ((60, "pfs.y5"),):
        if (max(b["pfs"][0]) >= m) != (max(a["pfs"][0]) >= m):
            must.add(key)
    fu = [round(_km(x["os"][0], [1 - e for e in x["os"][1]]).median_survival_time_, 1) for x in (b, a)]
    if fu[0] != fu[1]:
        must.add("followup.median")
    if round(max(b["pfs"][0])) != round(max(a["pfs"][0])):
        must.add("pfs.median")
    # numbers at risk: patients whose time is at least the tick
    for key in at_risk_keys:
        curve = "os" if key.startswith("figure.os.") else "pfs"
        tick = int(key.rsplit(".m", 1)[1])
        n = [sum(t >= tick for t in x[curve][0]) for x in (b, a)]
        (must if n[0] != n[1] else must_not).add(key)
    return must, must_not


def test_build_lists_exactly_the_survival_numbers_that_moved(scenario):
    changed, added, removed = _listed(scenario["terminal"])
    both = set(scenario["old"]) & set(scenario["new"])
    at_risk = {k for k in both if ".at_risk." in k}
    must, must_not = expected(scenario["before"], scenario["after"], at_risk)
    assert must <= changed, f"missing: {must - changed}"
    assert not (changed & must_not), f"listed but unchanged: {changed & must_not}"
    assert all(k.startswith(SURVIVAL) for k in changed), changed
    assert not any(k.startswith(NEVER) for k in changed | added | removed)
    assert removed == set()
    # a longer follow-up adds ticks to the at-risk tables and nothing else
    assert added == {k for k in set(scenario["new"]) - set(scenario["old"])}
    assert all(".at_risk." in k for k in added)


def test_terminal_shows_old_new_and_the_sentence(scenario):
    lines = scenario["terminal"].splitlines()
    deaths = [sum(r["vital_status"] == "1" for r in rows) for rows in (scenario["before"], scenario["after"])]
    i = lines.index(f"  os.deaths: {deaths[0]} -> {deaths[1]}")
    sentence = lines[i + 1].strip()
    assert sentence.startswith("Results: ") and f"{num2words(deaths[1])} patients died" in sentence


def test_exact_only_changes_are_counted_not_listed(scenario):
    old, new = scenario["old"], scenario["new"]
    quiet = [k for k in set(old) & set(new)
             if old[k]["text"] == new[k]["text"] and old[k]["exact"] != new[k]["exact"]]
    head = scenario["terminal"].split("numbers changed since the last build: ", 1)[1].splitlines()[0]
    assert f"; {len(quiet)} more changed beyond the printed precision" in head
    changed, _, _ = _listed(scenario["terminal"])
    assert not set(quiet) & changed


def _html(scenario) -> str:
    """changes.html with pandoc's line wrapping folded into single spaces."""
    return " ".join((scenario["root"] / "manuscript" / "changes.html").read_text(encoding="utf-8").split())


def test_report_shows_old_struck_and_new_highlighted_in_context(scenario):
    manuscript = scenario["root"] / "manuscript"
    html = _html(scenario)
    deaths = [sum(r["vital_status"] == "1" for r in rows) for rows in (scenario["before"], scenario["after"])]
    old, new = (f"{num2words(n)} patients" for n in deaths)
    numbers = html.split('id="numbers-that-changed"', 1)[1].split('id="prose-that-changed"', 1)[0]
    results = numbers.split('<h2 id="results">Results</h2>', 1)[1].split("<h2", 1)[0]
    assert f"During follow-up <del>{old}</del> <mark>{new}</mark> died" in results
    methods = numbers.split('<h2 id="materials-and-methods">', 1)[1].split("<h2", 1)[0]
    assert "<del>October 31, 2020</del> <mark>June 30, 2021</mark>" in methods
    tracked = read_word((manuscript / "changes.docx").read_bytes())  # Word's tracked changes, all accepted
    para = next(line for line in tracked.text.split("\n") if "During follow-up" in line)
    assert f"During follow-up {new} died" in para
    start = tracked.text.index(para)
    mine = [(c.kind, c.text.strip(), c.author) for c in tracked.changes if start <= c.start <= start + len(para)]
    assert mine == [("del", old, "papergen"), ("ins", new, "papergen")]


def test_report_lists_the_prose_that_changed(scenario):
    # the 5-year overall survival became estimable, so the template prints another clause
    prose = _html(scenario).split('id="prose-that-changed"', 1)[1]
    assert "<del>could not be estimated because no patient</del>" in prose
    assert '<h2 id="results-1">Results</h2>' in prose


def test_diff_against_a_kept_submission_needs_no_build(scenario, capsys):
    assert scenario["kept"] == scenario["root"] / "submissions" / "first" / "numbers.json"
    assert diff_command.run(scenario["paths"], ["first", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("numbers changed since submission first:")
    assert _listed(out) == _listed(scenario["terminal"])


def test_diff_against_a_git_revision_builds_it(scenario, capsys):
    assert diff_command.run(scenario["paths"], [scenario["first"], "--no-report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"numbers changed since {scenario['first']} ({scenario['first'][:7]}):")
    assert _listed(out) == _listed(scenario["terminal"])


def test_a_revision_that_cannot_build_is_one_clear_line(scenario):
    root = scenario["root"]
    results = root / "templates" / "results.md.j2"
    good = results.read_text(encoding="utf-8")
    results.write_text(good + "\n{{ os.no_such_value }}\n", encoding="utf-8")
    broken = _git(root, "commit", "-q", "-am", "broken template")
    results.write_text(good, encoding="utf-8")
    with pytest.raises(RevisionError) as exc:
        diff_command.resolve(scenario["paths"], broken)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"{broken} ({broken[:7]}) could not be built with its own code: templates/results.md.j2:")
    assert "no_such_value" in msg


def test_unknown_ref_and_refused_label(scenario):
    with pytest.raises(RevisionError, match="not a numbers.json, a submission in submissions/ or a git revision"):
        diff_command.resolve(scenario["paths"], "no-such-thing")
    with pytest.raises(RevisionError, match="already holds another ledger"):
        diff.archive_ledger(Study(scenario["paths"]), "first")
    with pytest.raises(RevisionError, match="use letters, digits"):
        diff.archive_ledger(Study(scenario["paths"]), "../x")
