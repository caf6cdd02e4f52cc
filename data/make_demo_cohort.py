"""Generate the DEMONSTRATION cohort for papergen (NOT patient data).

The paper this project regenerates (Zhang et al., World J Clin Cases
2021;9(19):5064-5072; 11 patients, microwave ablation combined with
hepatectomy for neuroendocrine tumour liver metastases) published no
patient-level data.  This script builds an invented cohort of 11 rows whose
aggregates agree with every figure the paper reports, so that the pipeline
can be run end to end.  Nothing here describes a real person.

How the values were made
------------------------
* Almost every value is chosen by hand and written out in the tables below
  (with a comment where the choice matters for a published figure).
* Exactly one thing is found by a search: three death dates (P04, P07, P09)
  are shifted by a few days, searched deterministically over a small grid,
  so that the Kaplan-Meier mean of overall survival and its standard error
  land well inside the published rounding bands (34.1 and 3.7 months).
  See ``search_death_offsets``.  No random numbers are used anywhere.
* Baseline characteristics (age, sex, primary site, WHO grade, Ki-67,
  metastasis timing) are not reported by the paper: they are invented but
  plausible, and are marked ``published: false`` in codebook.yaml.

Running ``python data/make_demo_cohort.py`` rewrites patients.csv,
lesions.csv, labs.csv and complications.csv byte-identically and then checks
every published target from the written rows (AssertionError on failure).

Survival-time convention (also in codebook.yaml ``conventions``):
months = (end_date - operation_date).days / 30.4375  (30.4375 = 365.25 / 12).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import statistics
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DAYS_PER_MONTH = 30.4375          # 365.25 / 12
CUTOFF = dt.date(2020, 10, 31)    # data cut-off (last possible follow-up)
BILI_ULN = 21.0                   # upper limit of normal, total bilirubin, umol/L

# ---------------------------------------------------------------------------
# 1. Baseline characteristics -- INVENTED (the paper does not report them)
# ---------------------------------------------------------------------------
# id:     age, sex,      primary site,      grade, Ki-67 %, metastasis timing
BASELINE = {
    "P01": (56, "male",   "pancreas",        "G2",  8.5, "synchronous"),
    "P02": (47, "female", "pancreas",        "G2", 15.0, "synchronous"),
    "P03": (63, "male",   "small intestine", "G1",  1.5, "metachronous"),
    "P04": (52, "female", "rectum",          "G2",  6.0, "synchronous"),
    "P05": (69, "female", "small intestine", "G1",  1.0, "metachronous"),
    "P06": (58, "male",   "pancreas",        "G2",  4.5, "metachronous"),
    "P07": (44, "male",   "small intestine", "G2",  3.5, "synchronous"),
    "P08": (61, "male",   "pancreas",        "G3", 25.0, "synchronous"),  # the only G3
    "P09": (38, "female", "stomach",         "G2", 12.0, "synchronous"),
    "P10": (72, "male",   "unknown",         "G2",  5.0, "synchronous"),
    "P11": (50, "female", "pancreas",        "G1",  2.0, "metachronous"),
}

# ---------------------------------------------------------------------------
# 2. Operation and postoperative course (hand-chosen to meet the targets)
# ---------------------------------------------------------------------------
# operation_minutes: sum 4462 -> mean 405.636 (405.6); sample SD 39.401 (39.4)
# blood_loss_ml:     median 600, min 50 (P05), max 3000 (P02, 18 resections)
# fever_days:        P05 afebrile; median 3; max 21 (P08, complicated course)
# stay_days:         discharge day after operation (P08 longest)
# id:     operation date, minutes, blood loss, fever days, stay days
OPERATION = {
    "P01": ("2015-06-16", 398,  400,  3, 10),  # first operation: June 2015
    "P02": ("2015-08-27", 473, 3000,  5, 16),
    "P03": ("2015-11-10", 361,  200,  2,  8),
    "P04": ("2016-02-24", 421,  800,  4, 12),
    "P05": ("2016-05-19", 342,   50,  0,  7),
    "P06": ("2016-07-12", 388,  600,  3,  9),
    "P07": ("2016-10-20", 405,  500,  2,  9),
    "P08": ("2017-02-15", 462, 1200, 21, 28),  # respiratory/renal failure
    "P09": ("2017-05-23", 431, 1000,  3, 13),
    "P10": ("2017-09-06", 396,  600,  1, 11),
    "P11": ("2018-01-09", 385,  300,  4,  8),  # last operation: January 2018
}

# ---------------------------------------------------------------------------
# 3. Follow-up (hand-chosen; the death dates of P04, P07 and P09 are then
#    fine-tuned by the search below).  Everyone who died progressed first;
#    early progressors die earlier.  Alive patients are censored at their
#    last contact, on or before the cut-off.
# ---------------------------------------------------------------------------
# id:     progression date, death date, last contact if alive
FOLLOWUP = {
    "P01": ("2015-11-12", "2017-12-09", None),
    "P02": ("2015-10-29", "2016-09-30", None),          # PFS minimum (~2 mo)
    "P03": ("2016-08-04", "2019-03-18", None),
    "P04": ("2016-06-21", "2018-02-19", None),          # death date searched
    "P05": (None,         None,         "2020-08-25"),  # PFS 51 mo, censored; longest follow-up (tau)
    "P06": ("2017-07-06", "2020-04-08", None),
    "P07": ("2017-05-16", "2019-09-10", None),          # death date searched
    "P08": ("2017-05-18", "2018-07-11", None),
    "P09": ("2018-01-23", "2020-01-27", None),          # PFS ~8.0 mo = median; death date searched
    "P10": ("2019-05-09", None,         "2020-10-13"),  # progressed, alive
    "P11": (None,         None,         "2020-10-20"),  # progression-free, alive
}
SEARCHED = ("P04", "P07", "P09")   # death dates shifted by the search
SEARCH_RANGE = range(-15, 16)      # days, per patient

# Targets for the search: well inside the published rounding bands.
OS_MEAN_BAND = (34.110, 34.120)    # published 34.1 -> [34.05, 34.15)
OS_SE_BAND = (3.695, 3.705)        # published 3.7  -> [3.65, 3.75)

# ---------------------------------------------------------------------------
# 4. Liver lesions: (segment, diameter mm), resected then ablated.
#    Counts per patient give nodules median 4 (2-43), resected median 1
#    (1-18), ablated median 3 (1-38).  Ablated lesions are <= 30 mm.
# ---------------------------------------------------------------------------
LESIONS = {
    "P01": ([(6, 42)],
            [(2, 15), (4, 18), (8, 12)]),
    "P02": ([(5, 38), (5, 22), (5, 14), (5, 11), (6, 45), (6, 27), (6, 19),
             (6, 12), (6, 9), (7, 33), (7, 24), (7, 16), (7, 10), (8, 41),
             (8, 28), (8, 17), (8, 13), (8, 8)],          # right hemihepatectomy
            [(3, 16), (4, 21)]),
    "P03": ([(3, 35)],
            [(7, 14), (8, 19)]),
    "P04": ([(6, 29), (7, 24)],
            [(2, 11), (3, 9), (4, 16), (5, 13), (8, 18)]),
    "P05": ([(4, 31)],
            [(7, 12)]),
    "P06": ([(2, 38)],
            [(5, 14), (6, 10), (8, 17)]),
    "P07": ([(5, 27), (6, 22)],
            [(4, 15), (8, 20)]),
    "P08": ([(6, 52), (6, 34), (7, 41), (7, 26), (5, 30)],  # 43 nodules in all
            [(1, 8), (1, 11),
             (2, 6), (2, 9), (2, 14), (2, 18),
             (3, 7), (3, 10), (3, 12), (3, 21),
             (4, 5), (4, 8), (4, 9), (4, 13), (4, 16), (4, 19),
             (5, 6), (5, 9), (5, 11), (5, 15), (5, 22),
             (6, 7), (6, 10), (6, 12), (6, 17), (6, 20),
             (7, 5), (7, 8), (7, 13), (7, 14), (7, 18),
             (8, 6), (8, 7), (8, 9), (8, 11), (8, 15), (8, 16), (8, 19)]),
    "P09": ([(2, 28), (3, 24), (3, 15)],
            [(5, 17), (7, 13), (8, 22)]),
    "P10": ([(7, 47)],
            [(2, 12), (4, 10), (5, 16), (8, 14)]),
    "P11": ([(3, 33)],
            [(6, 11), (7, 15), (8, 13)]),
}

# ---------------------------------------------------------------------------
# 5. Total bilirubin, umol/L, on postoperative days 0 (preoperative), 1, 3, 5, 7.
#    Day 1: median 28.5 (P01), min 10.7 (P05), max 98.9 (P08).
#    Patients below 21.0 on day 1 (P03, P05, P11) peak above it on day 3.
# ---------------------------------------------------------------------------
LAB_DAYS = (0, 1, 3, 5, 7)
BILIRUBIN = {
    "P01": (12.4, 28.5, 24.1, 18.2, 14.6),
    "P02": ( 9.8, 52.3, 47.6, 33.0, 22.4),
    "P03": (11.2, 19.6, 23.8, 17.5, 13.1),
    "P04": (14.1, 34.7, 29.3, 21.6, 16.0),
    "P05": ( 8.3, 10.7, 23.4, 16.4, 11.8),
    "P06": (10.5, 24.8, 26.3, 19.0, 14.2),
    "P07": ( 7.6, 22.1, 24.6, 15.3, 11.0),
    "P08": (15.8, 98.9, 112.4, 86.7, 61.3),
    "P09": (13.0, 41.2, 36.5, 25.8, 18.9),
    "P10": ( 9.1, 31.6, 27.2, 20.3, 15.5),
    "P11": ( 6.9, 17.3, 22.8, 16.1, 12.4),
}

# ---------------------------------------------------------------------------
# 6. Complications (Clavien-Dindo).  One serious course (P08); three minor.
# ---------------------------------------------------------------------------
COMPLICATIONS = [
    # id,  complication,           grade,  onset day
    ("P02", "pleural effusion",     "I",    4),
    ("P04", "bile leak",            "I",    3),
    ("P08", "respiratory failure",  "IVa",  2),
    ("P08", "renal insufficiency",  "IVa",  3),
    ("P08", "pneumonia",            "II",   5),
    ("P09", "wound infection",      "II",   6),
]

# ===========================================================================
# Helpers
# ===========================================================================


def d(s: str | None) -> dt.date | None:
    return None if s is None else dt.date.fromisoformat(s)


def months(start: dt.date, end: dt.date) -> float:
    return (end - start).days / DAYS_PER_MONTH


def round_half_up(x: float, places: int = 1) -> float:
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def km_mean_se(time, event, tau: float):
    """Kaplan-Meier mean restricted to tau and its SPSS / R-survival SE.

    mean = area under the KM step curve on [0, tau].
    Var  = sum over distinct event times t_j <= tau of
           A_j^2 * d_j / (n_j * (n_j - d_j)),  A_j = area from t_j to tau
           (term is 0 when n_j == d_j).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    t_ev = np.unique(time[(event == 1) & (time <= tau)])
    s = 1.0
    steps = []                       # (t_j, n_j, d_j, S(t_j))
    for t in t_ev:
        n_j = int((time >= t).sum())
        d_j = int(((time == t) & (event == 1)).sum())
        s *= 1.0 - d_j / n_j
        steps.append((t, n_j, d_j, s))
    knots = [0.0] + [st[0] for st in steps] + [tau]
    levels = [1.0] + [st[3] for st in steps]
    pieces = [levels[i] * (knots[i + 1] - knots[i]) for i in range(len(levels))]
    mean = sum(pieces)
    var = 0.0
    for j, (_, n_j, d_j, _) in enumerate(steps):
        area_after = sum(pieces[j + 1:])
        if n_j > d_j:
            var += area_after ** 2 * d_j / (n_j * (n_j - d_j))
    return mean, var ** 0.5


def km_median(time, event):
    """Smallest time at which the KM survival is <= 0.5 (None if never)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    s = 1.0
    for t in np.unique(time[event == 1]):
        n_j = (time >= t).sum()
        d_j = ((time == t) & (event == 1)).sum()
        s *= 1.0 - d_j / n_j
        if s <= 0.5:
            return float(t)
    return None


def os_arrays(death_dates: dict):
    """OS months and event flags for all patients, given the death dates."""
    T, E = [], []
    for pid in OPERATION:
        op = d(OPERATION[pid][0])
        death = death_dates[pid]
        end = death if death is not None else d(FOLLOWUP[pid][2])
        T.append(months(op, end))
        E.append(1 if death is not None else 0)
    return T, E


# ===========================================================================
# The search (the only non-hand-chosen values)
# ===========================================================================


def search_death_offsets():
    """Shift the death dates of SEARCHED patients by whole days.

    Every combination of offsets in SEARCH_RANGE is tried (31^3 = 29,791).
    Among those whose KM mean and SE fall inside OS_MEAN_BAND / OS_SE_BAND,
    choose the one with the smallest total |shift|; ties broken by the
    distance to the band centres, then by the offsets themselves
    (lexicographic).  Fully deterministic.
    """
    base = {pid: d(FOLLOWUP[pid][1]) for pid in OPERATION}
    centre = (sum(OS_MEAN_BAND) / 2, sum(OS_SE_BAND) / 2)
    best = None
    for offs in itertools.product(SEARCH_RANGE, repeat=len(SEARCHED)):
        deaths = dict(base)
        for pid, o in zip(SEARCHED, offs):
            deaths[pid] = base[pid] + dt.timedelta(days=o)
        T, E = os_arrays(deaths)
        mean, se = km_mean_se(T, E, tau=max(T))
        if not (OS_MEAN_BAND[0] <= mean <= OS_MEAN_BAND[1]
                and OS_SE_BAND[0] <= se <= OS_SE_BAND[1]):
            continue
        key = (sum(abs(o) for o in offs),
               abs(mean - centre[0]) / 0.01 + abs(se - centre[1]) / 0.01,
               offs)
        if best is None or key < best[0]:
            best = (key, deaths)
    assert best is not None, "search found no death dates meeting the OS targets"
    return best[1]


# ===========================================================================
# Build the rows and write the CSVs
# ===========================================================================


def build():
    deaths = search_death_offsets()

    patients = []
    for pid in OPERATION:
        age, sex, site, grade, ki67, timing = BASELINE[pid]
        op_s, minutes, loss, fever, stay = OPERATION[pid]
        op = d(op_s)
        prog_s, _, lastfu_s = FOLLOWUP[pid]
        death = deaths[pid]
        last = death if death is not None else d(lastfu_s)
        patients.append({
            "patient_id": pid,
            "age_years": age,
            "sex": sex,
            "primary_site": site,
            "who_grade": grade,
            "ki67_percent": f"{ki67:.1f}",
            "metastasis_timing": timing,
            "operation_date": op.isoformat(),
            "operation_minutes": minutes,
            "blood_loss_ml": loss,
            "fever_days": fever,
            "discharge_date": (op + dt.timedelta(days=stay)).isoformat(),
            "progressed": 0 if prog_s is None else 1,
            "progression_date": prog_s or "",
            "vital_status": 0 if death is None else 1,
            "death_date": "" if death is None else death.isoformat(),
            "last_followup_date": last.isoformat(),
        })

    lesions = []
    for pid, (resected, ablated) in LESIONS.items():
        rows = [(s, m, "resected") for s, m in resected] + \
               [(s, m, "ablated") for s, m in ablated]
        for k, (seg, mm, how) in enumerate(rows, start=1):
            lesions.append({"patient_id": pid, "lesion_id": f"{pid}-L{k:02d}",
                            "segment": seg, "diameter_mm": mm, "treatment": how})

    labs = []
    for pid, values in BILIRUBIN.items():
        for day, v in zip(LAB_DAYS, values):
            labs.append({"patient_id": pid, "analyte": "total_bilirubin",
                         "postoperative_day": day, "value": f"{v:.1f}",
                         "unit": "umol/L"})

    complications = [{"patient_id": p, "complication": c, "clavien_dindo": g,
                      "onset_day": o} for p, c, g, o in COMPLICATIONS]

    return {"patients": patients, "lesions": lesions, "labs": labs,
            "complications": complications}


def write_csv(name: str, rows: list[dict]) -> None:
    with open(HERE / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def read_csv(name: str) -> list[dict]:
    with open(HERE / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ===========================================================================
# Checks: every published target, recomputed from the written CSV files
# ===========================================================================


def check():
    P = read_csv("patients")
    L = read_csv("lesions")
    B = read_csv("labs")
    C = read_csv("complications")
    ids = [p["patient_id"] for p in P]
    med = statistics.median
    r1 = round_half_up

    # n and period
    assert len(P) == 11 and len(set(ids)) == 11, "n must be 11 distinct patients"
    ops = {p["patient_id"]: d(p["operation_date"]) for p in P}
    first, last = min(ops.values()), max(ops.values())
    assert (first.year, first.month) == (2015, 6), f"first operation {first}, want June 2015"
    assert (last.year, last.month) == (2018, 1), f"last operation {last}, want January 2018"

    # nodules
    res = {i: sum(1 for x in L if x["patient_id"] == i and x["treatment"] == "resected") for i in ids}
    abl = {i: sum(1 for x in L if x["patient_id"] == i and x["treatment"] == "ablated") for i in ids}
    tot = {i: res[i] + abl[i] for i in ids}
    for name, cnt, want in (("nodules", tot, (4, 2, 43)), ("resected", res, (1, 1, 18)),
                            ("ablated", abl, (3, 1, 38))):
        v = list(cnt.values())
        got = (med(v), min(v), max(v))
        assert got == want, f"{name}: median/min/max {got}, want {want}"
    assert len({x["lesion_id"] for x in L}) == len(L), "lesion_id not unique"
    assert all(1 <= int(x["segment"]) <= 8 for x in L), "segment outside 1-8"
    assert all(x["lesion_id"].startswith(x["patient_id"] + "-") for x in L), "lesion_id prefix"
    assert all(res[i] >= 1 and abl[i] >= 1 for i in ids), "each patient: >=1 resected and >=1 ablated"
    assert all(int(x["diameter_mm"]) <= 30 for x in L if x["treatment"] == "ablated"), "ablated lesion > 30 mm"

    # operation time: mean 405.6, sample SD 39.4
    mins = np.array([int(p["operation_minutes"]) for p in P], dtype=float)
    assert r1(mins.mean()) == 405.6, f"operation time mean {mins.mean():.4f}"
    assert r1(mins.std(ddof=1)) == 39.4, f"operation time SD {mins.std(ddof=1):.4f}"

    # blood loss: median 600 (50-3000)
    bl = [int(p["blood_loss_ml"]) for p in P]
    assert (med(bl), min(bl), max(bl)) == (600, 50, 3000), f"blood loss {med(bl), min(bl), max(bl)}"

    # fever: 10 of 11; median 3 (0-21)
    fv = [int(p["fever_days"]) for p in P]
    assert sum(f > 0 for f in fv) == 10, "fever: want exactly 10 febrile patients"
    assert (med(fv), min(fv), max(fv)) == (3, 0, 21), f"fever days {med(fv), min(fv), max(fv)}"

    # bilirubin
    bili = {(x["patient_id"], int(x["postoperative_day"])): float(x["value"]) for x in B}
    pod1 = [bili[(i, 1)] for i in ids]
    assert (r1(med(pod1)), min(pod1), max(pod1)) == (28.5, 10.7, 98.9), \
        f"bilirubin POD1 median/min/max {med(pod1), min(pod1), max(pod1)}"
    for i in ids:
        base = bili[(i, 0)]
        post = [bili[(i, t)] for t in (1, 3, 5, 7)]
        assert 5.0 <= base <= 18.0, f"{i}: preoperative bilirubin {base} not normal"
        assert max(post) > BILI_ULN and max(post) > base, f"{i}: bilirubin never raised"
        assert post.index(max(post)) <= 1, f"{i}: bilirubin peak not on day 1-3"
        assert post[-1] < max(post), f"{i}: bilirubin not declining by day 7"

    # complications: exactly one patient with grade >= III
    serious = {"IIIa", "IIIb", "IVa", "IVb", "V"}
    sp = sorted({c["patient_id"] for c in C if c["clavien_dindo"] in serious})
    assert len(sp) == 1, f"patients with Clavien-Dindo >= III: {sp}"
    seq = [(c["complication"], c["clavien_dindo"]) for c in C if c["patient_id"] == sp[0]]
    assert seq == [("respiratory failure", "IVa"), ("renal insufficiency", "IVa"),
                   ("pneumonia", "II")], f"serious course {seq}"
    minor = [c for c in C if c["patient_id"] != sp[0]]
    assert 2 <= len(minor) <= 4 and all(c["clavien_dindo"] in ("I", "II") for c in minor)
    assert all("fever" not in c["complication"] for c in C), "fever is its own variable"

    # dates: ordering, no in-hospital deaths, cut-off, stay length
    for p in P:
        i, op = p["patient_id"], ops[p["patient_id"]]
        dis, lf = d(p["discharge_date"]), d(p["last_followup_date"])
        stay = (dis - op).days
        assert 7 <= stay <= 30, f"{i}: stay {stay} d"
        assert int(p["fever_days"]) < stay, f"{i}: fever longer than stay"
        assert all(int(c["onset_day"]) < stay for c in C if c["patient_id"] == i)
        assert op < dis <= lf <= CUTOFF, f"{i}: date order / cut-off"
        assert (p["progressed"] == "1") == (p["progression_date"] != ""), f"{i}: progression date"
        assert (p["vital_status"] == "1") == (p["death_date"] != ""), f"{i}: death date"
        if p["death_date"]:
            assert p["death_date"] == p["last_followup_date"], f"{i}: last follow-up != death"
            assert d(p["death_date"]) > dis, f"{i}: in-hospital death"
            assert p["progressed"] == "1", f"{i}: died without prior progression"
        if p["progression_date"]:
            pg = d(p["progression_date"])
            assert op < pg <= lf, f"{i}: progression outside follow-up"
            if p["death_date"]:
                assert pg < d(p["death_date"]), f"{i}: progression not before death"

    # survival times
    os_t, os_e, pfs_t, pfs_e = [], [], [], []
    for p in P:
        op = ops[p["patient_id"]]
        lf = d(p["last_followup_date"])
        os_t.append(months(op, lf))
        os_e.append(int(p["vital_status"]))
        ends = [d(x) for x in (p["progression_date"], p["death_date"]) if x]
        pfs_t.append(months(op, min(ends) if ends else lf))
        pfs_e.append(1 if ends else 0)

    # PFS: median 8 (KM and sample), range 2-51, the 51-month patient censored & alive
    km_med = km_median(pfs_t, pfs_e)
    assert km_med is not None and r1(km_med, 0) == 8, f"PFS KM median {km_med}"
    assert r1(med(pfs_t), 0) == 8, f"PFS sample median {med(pfs_t)}"
    assert r1(min(pfs_t), 0) == 2, f"PFS min {min(pfs_t)}"
    assert r1(max(pfs_t), 0) == 51, f"PFS max {max(pfs_t)}"
    k = int(np.argmax(pfs_t))
    assert pfs_e[k] == 0 and os_e[k] == 0, "51-month PFS patient must be censored and alive"

    # OS: KM mean restricted to the largest observed time, SE (SPSS / R survival)
    tau = max(os_t)
    assert tau >= 51 - 0.5, f"tau {tau}"
    mean, se = km_mean_se(os_t, os_e, tau)
    assert r1(mean) == 34.1 and 34.10 <= mean <= 34.13, f"OS KM mean {mean:.4f}"
    assert r1(se) == 3.7 and 3.68 <= se <= 3.72, f"OS KM mean SE {se:.4f}"
    # 1-year and 3-year OS estimable (follow-up beyond 36 months at risk)
    assert tau > 36, "3-year OS not estimable"

    # Independent check with lifelines
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time
    kmf = KaplanMeierFitter().fit(os_t, os_e)
    rmst = restricted_mean_survival_time(kmf, t=tau)
    assert abs(rmst - mean) < 1e-9, f"lifelines RMST {rmst} != {mean}"
    kmp = KaplanMeierFitter().fit(pfs_t, pfs_e)
    assert r1(kmp.median_survival_time_, 0) == 8, f"lifelines PFS median {kmp.median_survival_time_}"

    # Invented baseline plausibility
    for p in P:
        g, k67 = p["who_grade"], float(p["ki67_percent"])
        ok = {"G1": k67 < 3, "G2": 3 <= k67 <= 20, "G3": k67 > 20}[g]
        assert ok, f"{p['patient_id']}: Ki-67 {k67} inconsistent with {g}"
        assert 38 <= int(p["age_years"]) <= 72

    # CSV headers agree with the codebook
    import yaml
    cb = yaml.safe_load((HERE / "codebook.yaml").read_text(encoding="utf-8"))
    for name, rows in (("patients", P), ("lesions", L), ("labs", B), ("complications", C)):
        assert list(rows[0]) == list(cb["files"][name]["columns"]), f"{name}: columns != codebook"

    return {"os_t": os_t, "os_e": os_e, "pfs_t": pfs_t, "pfs_e": pfs_e,
            "mean": mean, "se": se, "tau": tau, "km_med": km_med,
            "sample_med": med(pfs_t), "ids": ids, "ops": ops}


def main():
    tables = build()
    for name, rows in tables.items():
        write_csv(name, rows)
    r = check()
    print("demonstration cohort written and checked (NOT patient data)")
    print(f"{'id':4} {'operation':10} {'OS mo':>6} {'dead':>4} {'PFS mo':>6} {'event':>5}")
    for i, pid in enumerate(r["ids"]):
        print(f"{pid:4} {r['ops'][pid].isoformat()} {r['os_t'][i]:6.2f} {r['os_e'][i]:4d} "
              f"{r['pfs_t'][i]:6.2f} {r['pfs_e'][i]:5d}")
    print(f"OS KM mean (tau {r['tau']:.2f} mo) {r['mean']:.4f}, SE {r['se']:.4f}")
    print(f"PFS median: KM {r['km_med']:.4f}, sample {r['sample_med']:.4f}")
    print(f"cut-off {CUTOFF.isoformat()}")


if __name__ == "__main__":
    main()
