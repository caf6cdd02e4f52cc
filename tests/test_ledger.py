"""The ledger (numbers.json) checked against the data, templates and code it claims to trace.

Every expectation here is recomputed independently: rows with the csv module,
template lines by reading the templates, code lines by reading the source.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import subprocess
from importlib import metadata

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def ledger(built):
    def no_nan(name):
        raise AssertionError(f"numbers.json holds {name}: not strict JSON")

    return json.loads(built.outputs.ledger.read_text(encoding="utf-8"), parse_constant=no_nan)


@pytest.fixture(scope="module")
def values(ledger):
    return ledger["values"]


def _csv(name: str) -> dict[str, dict[str, str]]:
    with open(ROOT / "data" / name, newline="", encoding="utf-8") as fh:
        return {row["patient_id"]: row for row in csv.DictReader(fh)}


def _template_lines(pattern: str) -> dict[tuple[str, int], str]:
    out = {}
    for path in sorted((ROOT / "templates").glob("*.j2")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                out[(path.name, n)] = line
    return out


def test_every_entry_has_the_fields_of_a_trace(values):
    assert len(values) > 50
    for key, e in values.items():
        assert e["key"] == key
        for field in ("text", "exact", "unit", "definition", "method", "inputs", "places"):
            assert field in e, f"{key}: no {field}"
        assert e["definition"].strip(), key
        for src in e["inputs"]:
            assert src["n_rows"] == len(src["rows"]), key


def test_template_places_are_the_lines_that_print_the_value(values):
    # expected: every {{ expression }} in a template naming a key; conditional branches may stay unprinted
    keys = set(values)
    expected: dict[str, set] = {}
    conditional: set[tuple[str, int]] = set()
    for (name, n), line in _template_lines(r"\{\{").items():
        if "{% if" in line:
            conditional.add((name, n))
        for m in re.finditer(r"\{\{\s*([a-z_][\w.]*)", line):
            path = m.group(1).split(".")
            if path[0] in ("tables", "figures") and len(path) >= 3 and path[2] == "ref":
                path = ["ref", f"{path[0][:-1]}_{path[1]}"]
            for i in range(len(path), 0, -1):
                if ".".join(path[:i]) in keys:
                    expected.setdefault(".".join(path[:i]), set()).add((name, n))
                    break
    assert "os.mean" in expected
    for key, e in values.items():
        actual = {(p["template"], p["line"]) for p in e["places"] if "table" not in p and "image" not in p}
        want = expected.get(key, set())
        assert actual <= want, f"{key}: recorded at {sorted(actual - want)}, which print no such value"
        assert want - actual <= conditional, f"{key}: printed at {sorted(want - actual)} but not recorded"
    os_places = {(p["template"], p["line"]) for p in values["os.mean"]["places"]}
    assert os_places == expected["os.mean"]


def test_table_cells_name_their_table_row_and_column(values):
    ((name, line),) = _template_lines(r"tables\.baseline\.markdown")
    (male,) = [p for p in values["baseline.male"]["places"] if p.get("table")]
    assert (male["template"], male["line"], male["table"], male["row"]) == (name, line, "Table 1", "Male")
    patients = _csv("patients.csv")
    n_male = sum(r["sex"] == "male" for r in patients.values())
    assert male["printed"] == f"{n_male} ({round(100 * n_male / len(patients))}%)"
    caption = [p for p in values["ref.table_baseline"]["places"] if p.get("table")]
    assert caption and caption[0]["row"] == "caption"


def test_figure_at_risk_counts_and_legend_values_name_the_figure(values):
    ((name, line),) = _template_lines(r"figures\.os\.path")
    patients = _csv("patients.csv")
    months = {}
    for pid, r in patients.items():
        end = r["death_date"] if r["vital_status"] == "1" else r["last_followup_date"]
        days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(r["operation_date"])).days
        months[pid] = days / (365.25 / 12)
    at_risk = {k: e for k, e in values.items() if k.startswith("figure.os.at_risk.")}
    assert len(at_risk) >= 4
    for key, e in at_risk.items():
        t = e["exact"]["time"]
        assert e["exact"]["n"] == sum(m >= t for m in months.values()), key
        (place,) = e["places"]
        assert (place["template"], place["line"], place["figure"], place["image"]) == (name, line, "Figure 1",
                                                                                       "figures/os.png")
    legend = [p for p in values["os.mean"]["places"] if p["template"] == name]
    assert legend and legend[0]["figure"] == "Figure 1"


def test_row_values_are_the_data_as_read(values):
    patients = _csv("patients.csv")
    checked = 0
    for key, e in values.items():
        for src in e["inputs"]:
            if src["file"] != "data/patients.csv" or "values" not in src:
                continue
            assert list(src["values"]) == src["rows"], key
            for pid, cells in src["values"].items():
                for col, got in cells.items():
                    raw = patients[pid][col]
                    if got is None:
                        assert raw == "", (key, pid, col)
                    elif isinstance(got, (int, float)) and not isinstance(got, bool):
                        assert float(raw) == got, (key, pid, col)
                    else:
                        assert str(got) == raw, (key, pid, col)
                    checked += 1
    assert checked > 500


def test_os_mean_traces_to_the_eleven_patients_and_their_survival_times(values):
    e = values["os.mean"]
    patients = _csv("patients.csv")
    assert e["inputs"][0]["rows"] == sorted(patients) and len(patients) == 11
    derived = e["inputs"][0]["derived"]
    for pid, r in patients.items():
        end = r["death_date"] or r["last_followup_date"]
        days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(r["operation_date"])).days
        assert derived["values"][pid] == pytest.approx(days / 30.4375), pid


def test_method_points_at_the_code_and_names_the_library(values):
    m = values["os.mean"]["method"]
    assert m["module"] == "papergen.analysis.statistics" and m["function"] == "papergen.analysis.statistics.km_mean"
    for ref in (m["code"], re.search(r"\((.+)\)", m["maths"]).group(1)):
        file, line = ref.rsplit(":", 1)
        source = (ROOT / file).read_text(encoding="utf-8").splitlines()
        assert source[int(line) - 1].startswith("def km_mean("), ref
    assert m["library"] == f"numpy {metadata.version('numpy')}"
    risk = values["figure.os.at_risk.overall_survival.m12"]["method"]
    file, line = risk["code"].rsplit(":", 1)
    assert (ROOT / file).read_text(encoding="utf-8").splitlines()[int(line) - 1].startswith("def at_risk(")


def test_build_metadata_hashes_versions_and_commit(ledger):
    b = ledger["build"]
    for name in ("data/patients.csv", "study/analysis_plan.py", "templates/results.md.j2"):
        assert b["inputs"][name] == hashlib.sha256((ROOT / name).read_bytes()).hexdigest(), name
    assert b["packages"]["numpy"] == metadata.version("numpy")
    assert b["packages"]["lifelines"] == metadata.version("lifelines")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    assert b["git_commit"] == (head.stdout.strip() if head.returncode == 0 else None)


def test_a_large_row_set_is_summarised_and_a_small_one_listed():
    from papergen.trace import explain, review
    from papergen.ledger import ledger_dict
    from papergen.values import ROW_LIST_LIMIT, Registry, Source, Value

    ids = tuple(f"P{i:05d}" for i in range(5000))
    reg = Registry()
    reg.add(Value("big.mean", "2.5", {"mean": 2.5}, definition="mean of x",
                  inputs=[Source("data/big.csv", ("x",), ids, values={"P00000": {"x": 1}})]))
    reg.add(Value("edge.n", str(ROW_LIST_LIMIT), {"n": ROW_LIST_LIMIT}, definition="count",
                  inputs=[Source("data/big.csv", ("x",), ids[:ROW_LIST_LIMIT])]))
    led = json.loads(json.dumps(ledger_dict(reg, {})))
    src = led["values"]["big.mean"]["inputs"][0]
    assert src["rows"] == {"count": 5000, "first": [f"P{i:05d}" for i in range(10)],
                           "last": [f"P{i:05d}" for i in range(4990, 5000)],
                           "sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest()}
    assert src["n_rows"] == 5000 and "values" not in src
    assert len(json.dumps(src)) < 1000  # the 5,000 ids take over 40,000 characters
    assert led["values"]["edge.n"]["inputs"][0]["rows"] == list(ids[:ROW_LIST_LIMIT])
    text = explain.render_text(led["values"]["big.mean"])
    assert "5000 rows (first P00000, P00001" in text and "last P04990" in text
    assert src["rows"]["sha256"] in text
    card = review.card_html(led["values"]["big.mean"])
    assert "5000 rows (first P00000" in card and src["rows"]["sha256"] in card


def test_the_ledger_text_is_the_indenting_encoder_s_byte_for_byte(built):
    """numbers.json as ledger_text() writes it (entries remembered by their compact JSON) is what
    json.dumps(indent=1) writes, for the study's ledger, again with one entry changed, and for odd entries."""
    from papergen.ledger import ledger_text

    def plain(obj):
        return json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=False, allow_nan=False) + "\n"

    text = built.outputs.ledger.read_text(encoding="utf-8")
    ledger = json.loads(text)
    assert ledger_text(ledger) == plain(ledger) == text
    first = next(iter(ledger["values"]))
    ledger["values"][first] = {**ledger["values"][first], "text": "changed\nline", "extra": {"a": [], "b": {}}}
    assert ledger_text(ledger) == plain(ledger) != text
    odd = {"format": 1, "build": {}, "values": {"é\"k": {"t": "µ ± 1", "n": [1, [2, {}]], "z": None, "f": 1.5}}}
    assert ledger_text(odd) == plain(odd)
    for other in ({"format": 1, "build": {"x": 1}, "values": {}}, {"values": {"k": {}}, "format": 1, "build": {}}):
        assert ledger_text(other) == plain(other)
    with pytest.raises(ValueError):
        ledger_text({"format": 1, "build": {}, "values": {"k": {"x": float("nan")}}})


def test_build_metadata_takes_the_hashes_the_build_cache_made_and_hashes_the_rest(tmp_path):
    """The ledger's input hashes are the build cache's where it made them (a registry's data are not hashed
    twice), and the same as hashing every file anew."""
    from papergen.pipeline.cache import BuildCache
    from papergen.pipeline.stages import build_metadata
    from papergen.study import Study
    from studycopy import copy_study

    study = Study(copy_study(tmp_path))
    known = BuildCache(study, study.paths.manuscript).inputs
    assert "data/patients.csv" in known
    assert build_metadata(study, known)["inputs"] == build_metadata(study)["inputs"]
    wrong = {**known, "data/patients.csv": "0" * 64}  # taken as given: it is the cache's hash of this build
    assert build_metadata(study, wrong)["inputs"]["data/patients.csv"] == "0" * 64
