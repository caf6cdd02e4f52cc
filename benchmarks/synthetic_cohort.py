"""A synthetic cohort of any size, as a full study folder, for the build benchmark (NOT patient data).

``make_study(dest, n)`` copies the real study (templates, analysis plan,
settings, references, codebook) into ``dest`` and writes ``n`` invented
patients, with lesions, laboratory values and complications that scale with
them (about 4.5 lesions, 4 bilirubin values and 0.7 complications per
patient), obeying every rule of the codebook. Only three patients have a
serious complication, because the plan lists those by name: the manuscript
then has the same length at every size and the benchmark measures the data
and the statistics, not a longer text. The same ``n`` and ``seed`` always
give byte-identical files.

    python benchmarks/synthetic_cohort.py 1000 /tmp/study-1000
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
CUTOFF = dt.date(2020, 10, 31)
FIRST_OP, LAST_OP = dt.date(2015, 1, 1), dt.date(2018, 12, 31)
LAB_DAYS = (0, 1, 3, 5)
COMPLICATIONS = ("pleural effusion", "bile leak", "wound infection", "pneumonia", "ascites", "liver abscess")
#: Clavien-Dindo grades of most complications; grade V (death) would be an in-hospital death
GRADES = (("I", 0.55), ("II", 0.45))
#: the few patients with a serious (grade III or higher) complication, as in the demonstration cohort:
#: the plan lists their complications by name, so the manuscript keeps its length at any cohort size
SERIOUS = {3: ("respiratory failure", "IVa"), 7: ("bile leak", "IIIa"), 10: ("liver abscess", "IIIb")}


def _study_folder(dest: Path, n: int, what: str) -> tuple[dict, int]:
    """A fresh study folder (the real study, templates and build.py) and the codebook for ``n`` pseudonyms."""
    shutil.rmtree(dest, ignore_errors=True)
    for part in ("study", "templates"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "build.py", dest / "build.py")
    (dest / "data").mkdir(parents=True)
    book = yaml.safe_load((ROOT / "data" / "codebook.yaml").read_text(encoding="utf-8"))
    width = max(2, len(str(n)))
    cols = book["files"]
    cols["patients"]["columns"]["patient_id"]["pattern"] = f"^P[0-9]{{{width}}}$"
    cols["lesions"]["columns"]["lesion_id"]["pattern"] = f"^P[0-9]{{{width}}}-L[0-9]{{2}}$"
    book["cohort"] = f"synthetic {what} of {n} invented patients (not patient data)"
    return book, width


def make_study(dest: Path, n: int, seed: int = 20240611) -> Path:
    """Write a study folder with ``n`` synthetic patients into ``dest`` (replaced if it exists)."""
    dest = Path(dest)
    book, width = _study_folder(dest, n, "benchmark cohort")
    cols = book["files"]
    (dest / "data" / "codebook.yaml").write_text(yaml.safe_dump(book, sort_keys=False, allow_unicode=True),
                                                 encoding="utf-8")
    rng = np.random.default_rng(seed)
    tables = _cohort(rng, n, width)
    for name, rows in tables.items():
        spec = cols[name]
        header = list(spec["columns"])
        with open(dest / "data" / spec["path"], "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows([[r.get(c, _filler(spec["columns"][c], r)) for c in header] for r in rows])
    return dest


def _cohort(rng, n: int, width: int) -> dict[str, list[dict]]:
    ids = [f"P{i:0{width}d}" for i in range(1, n + 1)]
    op_span = (LAST_OP - FIRST_OP).days
    op = np.sort(rng.integers(0, op_span + 1, n))  # pseudonyms in order of operation date
    stay = rng.integers(5, 31, n)
    months_to_death = rng.exponential(48.0, n)
    months_to_progression = rng.exponential(9.0, n)
    lost = rng.random(n) < 0.15
    patients, lesions, labs, complications = [], [], [], []
    grades, weights = zip(*GRADES)
    for i, pid in enumerate(ids):
        op_date = FIRST_OP + dt.timedelta(days=int(op[i]))
        discharge = op_date + dt.timedelta(days=int(stay[i]))
        end = CUTOFF - dt.timedelta(days=int(rng.integers(0, 400))) if lost[i] else CUTOFF
        end = max(end, discharge)
        death = op_date + dt.timedelta(days=int(months_to_death[i] * 30.4375))
        dead = discharge < death <= end
        last = death if dead else end
        prog = op_date + dt.timedelta(days=max(1, int(months_to_progression[i] * 30.4375)))
        progressed = prog <= last
        ki67 = float(np.round(rng.gamma(2.0, 4.0), 1))
        patients.append({
            "patient_id": pid, "age_years": int(rng.integers(30, 86)), "sex": ("female", "male")[int(rng.integers(0, 2))],
            "primary_site": str(rng.choice(["pancreas", "small intestine", "rectum", "stomach", "unknown"],
                                           p=[0.4, 0.3, 0.1, 0.1, 0.1])),
            "who_grade": "G1" if ki67 < 3 else "G2" if ki67 <= 20 else "G3", "ki67_percent": f"{min(ki67, 100.0):.1f}",
            "metastasis_timing": ("synchronous", "metachronous")[int(rng.random() < 0.4)],
            "operation_date": op_date.isoformat(), "operation_minutes": int(np.clip(rng.normal(400, 60), 60, 900)),
            "blood_loss_ml": int(np.clip(rng.lognormal(6.3, 0.8), 0, 10000) // 50 * 50),
            "fever_days": int(rng.integers(0, 8)), "discharge_date": discharge.isoformat(),
            "progressed": int(progressed), "progression_date": prog.isoformat() if progressed else "",
            "vital_status": int(dead), "death_date": death.isoformat() if dead else "",
            "last_followup_date": last.isoformat()})
        k = int(rng.integers(2, 8))
        treatments = ["resected", "ablated"] + [("resected", "ablated")[int(rng.random() < 0.7)] for _ in range(k - 2)]
        for j, treatment in enumerate(treatments, start=1):
            lesions.append({"patient_id": pid, "lesion_id": f"{pid}-L{j:02d}", "segment": int(rng.integers(1, 9)),
                            "diameter_mm": int(rng.integers(5, 81)), "treatment": treatment})
        base = float(rng.uniform(6, 20))
        for day in LAB_DAYS:
            value = base if day == 0 else base * float(rng.uniform(1.2, 4.0)) / (1 + day / 4)
            labs.append({"patient_id": pid, "analyte": "total_bilirubin", "postoperative_day": day,
                         "value": f"{value:.1f}", "unit": "umol/L"})
        m = int(rng.choice([0, 0, 0, 1, 1, 2]))
        if i + 1 in SERIOUS:
            name, grade = SERIOUS[i + 1]
            complications.append({"patient_id": pid, "complication": name, "clavien_dindo": grade, "onset_day": 2})
        for name in rng.choice([c for c in COMPLICATIONS if i + 1 not in SERIOUS or c != SERIOUS[i + 1][0]],
                               size=m, replace=False):
            complications.append({"patient_id": pid, "complication": str(name),
                                  "clavien_dindo": str(rng.choice(grades, p=weights)),
                                  "onset_day": int(rng.integers(1, 15))})
    return {"patients": patients, "lesions": lesions, "labs": labs, "complications": complications}


def _filler(spec: dict, row: dict):
    """A valid value for a column this generator does not know (added to the codebook later)."""
    if not spec.get("required", True):
        return ""
    kind = spec.get("type")
    if kind == "category":
        return spec["values"][0]
    if kind in ("integer", "number"):
        return spec.get("min", 0)
    if kind == "flag":
        return 0
    if kind == "date":
        return row.get("operation_date", FIRST_OP.isoformat())
    return "x"


# --- registry scale: the same cohort drawn with numpy at once, written by pyarrow -----------------

def make_registry(dest: Path, n: int, fmt: str = "parquet", seed: int = 20240611) -> Path:
    """Like make_study, for registry sizes (a million patients, ten million rows): the columns are drawn with
    numpy at once (other draws than make_study's, the same rules obeyed) and written by pyarrow, as Parquet
    (``fmt`` "parquet") or as plain CSV ("csv", no quotes, as a registry extract holds it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    dest = Path(dest)
    book, width = _study_folder(dest, n, "registry-scale cohort")
    files = book["files"]
    tables = _registry(np.random.default_rng(seed), n, width)
    for name, columns in tables.items():
        spec = files[name]
        spec["path"] = f"{name}.{'parquet' if fmt == 'parquet' else 'csv'}"
        table = pa.table({c: columns[c] for c in spec["columns"]})
        if fmt == "parquet":
            pq.write_table(table, dest / "data" / spec["path"])
        else:
            with open(dest / "data" / spec["path"], "wb") as fh:
                fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
                pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    (dest / "data" / "codebook.yaml").write_text(yaml.safe_dump(book, sort_keys=False, allow_unicode=True),
                                                 encoding="utf-8")
    return dest


def _registry(rng, n: int, width: int) -> dict[str, dict]:
    """The four tables as columns (numpy and pyarrow arrays)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    day = np.timedelta64(1, "D")
    ids = pa.array([f"P{i:0{width}d}" for i in range(1, n + 1)])
    op = np.datetime64(FIRST_OP) + np.sort(rng.integers(0, (LAST_OP - FIRST_OP).days + 1, n)) * day
    discharge = op + rng.integers(5, 31, n) * day
    cutoff = np.datetime64(CUTOFF)
    end = np.where(rng.random(n) < 0.15, cutoff - rng.integers(0, 400, n) * day, cutoff)
    end = np.maximum(end, discharge)
    death = op + (rng.exponential(48.0, n) * 30.4375).astype(np.int64) * day
    dead = (discharge < death) & (death <= end)
    last = np.where(dead, death, end)
    prog = op + np.maximum(1, (rng.exponential(9.0, n) * 30.4375).astype(np.int64)) * day
    progressed = prog <= last
    ki67 = np.minimum(np.round(rng.gamma(2.0, 4.0, n), 1), 100.0)
    grade = np.where(ki67 < 3, "G1", np.where(ki67 <= 20, "G2", "G3"))
    sites = np.array(["pancreas", "small intestine", "rectum", "stomach", "unknown"])

    def dates(values, present=None):
        arr = pa.array(values.astype("datetime64[D]"), pa.date32())
        return arr if present is None else pc.if_else(pa.array(present), arr, pa.scalar(None, pa.date32()))

    patients = {
        "patient_id": ids, "age_years": rng.integers(30, 86, n), "sex": np.array(["female", "male"])[rng.integers(0, 2, n)],
        "primary_site": sites[rng.choice(5, n, p=[0.4, 0.3, 0.1, 0.1, 0.1])], "who_grade": grade, "ki67_percent": ki67,
        "metastasis_timing": np.where(rng.random(n) < 0.4, "metachronous", "synchronous"),
        "operation_date": dates(op), "operation_minutes": np.clip(rng.normal(400, 60, n), 60, 900).astype(np.int64),
        "blood_loss_ml": (np.clip(rng.lognormal(6.3, 0.8, n), 0, 10000) // 50 * 50).astype(np.int64),
        "fever_days": rng.integers(0, 8, n), "discharge_date": dates(discharge), "progressed": progressed.astype(np.int64),
        "progression_date": dates(prog, progressed), "vital_status": dead.astype(np.int64),
        "death_date": dates(death, dead), "last_followup_date": dates(last)}
    k = rng.integers(2, 8, n)  # lesions per patient: the first resected, the second ablated, the others at random
    owner = np.repeat(np.arange(n), k)
    j = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k) + 1
    treatment = np.where(j == 1, "resected", np.where(j == 2, "ablated",
                                                       np.where(rng.random(len(owner)) < 0.7, "ablated", "resected")))
    owners = ids.take(pa.array(owner))
    number = pc.utf8_lpad(pc.cast(pa.array(j), pa.string()), 2, "0")
    lesions = {"patient_id": owners, "lesion_id": pc.binary_join_element_wise(owners, number, "-L"),
               "segment": rng.integers(1, 9, len(owner)), "diameter_mm": rng.integers(5, 81, len(owner)),
               "treatment": treatment}
    days = np.tile(np.array(LAB_DAYS), n)
    base = np.repeat(rng.uniform(6, 20, n), len(LAB_DAYS))
    value = np.where(days == 0, base, base * rng.uniform(1.2, 4.0, len(days)) / (1 + days / 4))
    labs = {"patient_id": ids.take(pa.array(np.repeat(np.arange(n), len(LAB_DAYS)))),
            "analyte": np.full(len(days), "total_bilirubin"), "postoperative_day": days,
            "value": np.round(value, 1), "unit": np.full(len(days), "umol/L")}
    m = rng.choice([0, 0, 0, 1, 1, 2], n)  # complications per patient, distinct names
    who = np.repeat(np.arange(n), m)
    nth = np.arange(len(who)) - np.repeat(np.cumsum(m) - m, m)
    first = np.repeat(rng.integers(0, len(COMPLICATIONS), n), m)
    name = (first + nth * (1 + np.repeat(rng.integers(0, len(COMPLICATIONS) - 1, n), m))) % len(COMPLICATIONS)
    names = np.array(COMPLICATIONS)[name].astype(object)
    grades = np.where(rng.random(len(who)) < GRADES[0][1], GRADES[0][0], GRADES[1][0]).astype(object)
    onset = rng.integers(1, 15, len(who))
    keep = np.ones(len(who), dtype=bool)
    extra_who, extra = [], []
    for patient, (serious, grade_) in SERIOUS.items():  # the three serious complications the plan names
        if patient <= n:
            keep &= ~((who == patient - 1) & (names == serious))
            extra_who.append(patient - 1)
            extra.append((serious, grade_))
    who = np.concatenate([who[keep], extra_who]).astype(np.int64)
    order = np.argsort(who, kind="stable")
    complications = {"patient_id": ids.take(pa.array(who[order])),
                     "complication": np.concatenate([names[keep], [e[0] for e in extra]])[order].astype(str),
                     "clavien_dindo": np.concatenate([grades[keep], [e[1] for e in extra]])[order].astype(str),
                     "onset_day": np.concatenate([onset[keep], [2] * len(extra)])[order]}
    return {"patients": patients, "lesions": lesions, "labs": labs, "complications": complications}


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python benchmarks/synthetic_cohort.py N_PATIENTS DEST_FOLDER [parquet|csv]")
    if len(sys.argv) == 4:
        print(make_registry(Path(sys.argv[2]), int(sys.argv[1]), sys.argv[3]))
    else:
        print(make_study(Path(sys.argv[2]), int(sys.argv[1])))
