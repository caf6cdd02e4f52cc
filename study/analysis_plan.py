"""Analysis plan: the definition of every number the manuscript reports.

Read this file to answer "where does this number come from?". Each
``a.value(key, statistic, definition)`` line declares one printed number: the
statistic (a papergen function), the data it reads and a definition in words.
The templates print these values by key, e.g. ``{{ os.mean }}``.

Study: hepatectomy combined with microwave ablation for neuroendocrine tumour
liver metastases (demonstration cohort; see data/README.md).
"""
import numpy as np
import pandas as pd

from papergen import statistics as st

# --- parameters: fixed choices of this analysis, not results -----------------
DAYS_PER_MONTH = 365.25 / 12   # survival times in months = days / 30.4375
BILIRUBIN_ULN = 21.0           # umol/L, upper limit of normal for total bilirubin (codebook, labs.unit)
SERIOUS_GRADES = ("IIIa", "IIIb", "IVa", "IVb", "V")   # Clavien-Dindo grade III or higher
KM_CI = "log-log"        # scale of Kaplan-Meier CIs (R survfit conf.type; R's default is "log")
CI_LEVEL = 95                  # percent, for every confidence interval
LANDMARK_MONTHS = (12, 36, 60)  # 1-, 3- and 5-year survival
EARLY_BILI_DAY = 1             # postoperative day of the early total bilirubin reported


def analysis(a):
    pts, les, labs, comp = a.data["patients"], a.data["lesions"], a.data["labs"], a.data["complications"]
    ids = pts.index
    # each lesion's and each complication's patient as a row number of patients.csv (the codebook's references):
    # every count or maximum per patient below is arithmetic on these numbers, fast at registry scale
    lesion_patient = a.linked_rows("lesions", "patient_id")
    complication_patient = a.linked_rows("complications", "patient_id")

    # --- parameters printed in the methods --------------------------------------
    a.value("method.days_per_month", st.parameter(DAYS_PER_MONTH, "30.4375", a.source("patients", [])),
            "Days per month used to convert survival times (365.25 / 12).")
    a.value("method.ci_level", st.parameter(CI_LEVEL, f"{CI_LEVEL}%", a.source("patients", [])),
            "Confidence level of every interval reported.")
    a.km_ci_transform(KM_CI)  # the methods text prints it: {{ method.km_ci.part("words") }}
    a.value("labs.bili_uln", st.parameter(BILIRUBIN_ULN, f"{BILIRUBIN_ULN:.1f} µmol/L", a.source("labs", ["unit"])),
            "Upper limit of normal for serum total bilirubin; a higher value counts as raised.")
    a.value("postop.serious_grade", st.parameter("III", "III", a.source("complications", ["clavien_dindo"])),
            "Lowest Clavien-Dindo grade counted as a serious complication.")

    # --- cohort -------------------------------------------------------------------
    n = a.value("n_patients", st.count(a.column("patients", "patient_id", "patients")),
                "Patients who underwent hepatectomy combined with microwave ablation (one row each in patients.csv).")
    a.value("period", st.date_range(a.column("patients", "operation_date", "operation date")),
            "Month and year of the first and the last operation.")
    cutoff = a.settings["conventions"]["cutoff_date"]
    a.value("followup.cutoff", st.date_value(_date(cutoff), a.source("patients", ["last_followup_date"])),
            "Data cut-off date: the end of follow-up (codebook conventions.cutoff_date).")

    required = [c for c, spec in a.codebook.files["patients"].columns.items() if spec.required and c in pts]
    a.value("data.incomplete", st.count(a.measure(pts[required].isna().any(axis=1), "patients", required,
                                                  "incomplete record", filter="any required column empty")),
            "Patients with a missing value in any required (analysed) column of patients.csv.")

    # --- baseline (Table 1) -----------------------------------------------------
    male = a.value("baseline.male", st.count(a.measure(pts["sex"] == "male", "patients", ["sex"], "male sex")),
                   "Patients of male sex.")
    female = a.value("baseline.female", st.count(a.measure(pts["sex"] == "female", "patients", ["sex"], "female sex")),
                     "Patients of female sex.")
    age = a.value("baseline.age", st.median_range(a.column("patients", "age_years", "age"), unit="yr"),
                  "Median (range) age in years at the operation.")
    ki67 = a.value("baseline.ki67", st.median_range(a.column("patients", "ki67_percent", "Ki-67"), places=1, unit="%"),
                   "Median (range) Ki-67 proliferation index of the tumour.")
    a.value("baseline.top_site", st.most_common(a.column("patients", "primary_site", "primary site")),
            "Most frequent site of the primary tumour.")

    # --- lesions ------------------------------------------------------------------
    def per_patient(where, what):
        counts = _count_per_patient(lesion_patient, where, ids)
        return a.measure(counts, "lesions", ["patient_id", "treatment"], f"{what} per patient",
                         filter=f"lesion rows counted per patient ({what})")

    a.value("lesions.total", st.count(a.column("lesions", "lesion_id", "lesions")),
            "Liver metastases treated, resected or ablated (rows of lesions.csv).")
    all_pp, resected_pp, ablated_pp = (per_patient(les["treatment"].notna(), "all lesions"),
                                       per_patient(les["treatment"] == "resected", "resected lesions"),
                                       per_patient(les["treatment"] == "ablated", "ablated lesions"))
    a.require_sum(all_pp, [resected_pp, ablated_pp], "each patient's metastases are the resected plus the ablated ones")
    nodules = a.value("lesions.nodules", st.median_range(all_pp),
                      "Median (range) number of liver metastases per patient (resected plus ablated).")
    resected = a.value("lesions.resected", st.median_range(resected_pp),
                       "Median (range) number of lesions resected per patient.")
    ablated = a.value("lesions.ablated", st.median_range(ablated_pp),
                      "Median (range) number of lesions ablated per patient.")
    largest = _max_per_patient(lesion_patient, les["diameter_mm"], ids)
    size = a.value("lesions.largest", st.median_range(a.measure(largest, "lesions", ["patient_id", "diameter_mm"],
                                                                "largest lesion diameter"), unit="mm"),
                   "Median (range) diameter of each patient's largest liver metastasis.")

    # --- operation and postoperative course -------------------------------------------
    op_time = a.value("surgery.op_time", st.mean_sd(a.column("patients", "operation_minutes", "operation time"), unit="min"),
                      "Mean ± sample standard deviation of the operation time, skin incision to closure.")
    blood = a.value("surgery.blood_loss", st.median_range(a.column("patients", "blood_loss_ml", "blood loss"), unit="mL"),
                    "Median (range) estimated intraoperative blood loss.")
    fever_n = a.value("postop.fever_n", st.count(a.measure(pts["fever_days"] > 0, "patients", ["fever_days"], "fever",
                                                           filter="fever_days > 0")),
                      "Patients with at least one day of postoperative fever.")
    fever_days = a.value("postop.fever_days", st.median_range(a.column("patients", "fever_days", "fever duration"), unit="d"),
                         "Median (range) days of postoperative fever; afebrile patients count as 0 days.")
    stay_days = (pts["discharge_date"] - pts["operation_date"]).dt.days
    stay = a.value("postop.stay", st.median_range(a.measure(stay_days, "patients", ["operation_date", "discharge_date"],
                                                            "hospital stay"), unit="d"),
                   "Median (range) days from operation to discharge.")

    bili = labs[labs["analyte"] == "total_bilirubin"]
    post = bili[bili["postoperative_day"] > 0]
    a.value("labs.days", st.listing([str(d) for d in sorted(post["postoperative_day"].unique())],
                                    [a.source("labs", ["postoperative_day"])]),
            "Postoperative days on which total bilirubin was measured.")
    a.value("labs.early_day", st.parameter(EARLY_BILI_DAY, str(EARLY_BILI_DAY), a.source("labs", ["postoperative_day"])),
            "Postoperative day of the early total bilirubin reported in the results.")
    pod1 = bili[bili["postoperative_day"] == EARLY_BILI_DAY].set_index("patient_id")["value"].reindex(ids)
    bili_pod1 = a.value("postop.bili_pod1", st.median_range(a.measure(pod1, "labs", ["patient_id", "postoperative_day", "value"],
                                                                      "bilirubin day 1", filter="total bilirubin on postoperative day 1"),
                                                            places=1, unit="µmol/L"),
                        "Median (range) serum total bilirubin on the first postoperative day.")
    peak = post.groupby("patient_id", sort=False)["value"].max().reindex(ids)
    bili_peak = a.value("postop.bili_peak", st.median_range(a.measure(peak, "labs", ["patient_id", "postoperative_day", "value"],
                                                                      "peak bilirubin", filter="highest postoperative total bilirubin"),
                                                            places=1, unit="µmol/L"),
                        "Median (range) of each patient's highest postoperative total bilirubin.")
    raised = a.value("postop.bili_raised", st.count(a.measure(peak > BILIRUBIN_ULN, "labs", ["patient_id", "postoperative_day", "value"],
                                                              "raised bilirubin", filter="any postoperative total bilirubin above the upper limit of normal")),
                     "Patients with any postoperative total bilirubin above the upper limit of normal.")

    had_serious = _count_per_patient(complication_patient, comp["clavien_dindo"].isin(SERIOUS_GRADES), ids) > 0
    serious = a.value("postop.serious_n", st.count(a.measure(had_serious, "complications",
                                                             ["patient_id", "clavien_dindo"], "serious complication",
                                                             filter="Clavien-Dindo grade III or higher")),
                      "Patients with at least one complication of Clavien-Dindo grade III or higher.")
    listed = comp[had_serious.to_numpy()[complication_patient]]
    a.value("postop.serious_list", st.listing(list(listed["complication"]),
                                              [a.source("complications", ["patient_id", "complication", "clavien_dindo"],
                                                        rows=[f"{p} {c}" for p, c in zip(listed["patient_id"], listed["complication"])],
                                                        filter="all complications of patients with a grade III or higher complication")],
                                              empty="none"),
            "Complications of the patients with a serious complication, in the order recorded (none if no patient had one).")
    any_complication = _count_per_patient(complication_patient, None, ids) > 0
    minor = a.value("postop.minor_n", st.count(a.measure(any_complication & ~had_serious,
                                                         "complications", ["patient_id", "clavien_dindo"], "minor complication",
                                                         filter="complications of grade I-II only")),
                    "Patients whose complications were all below Clavien-Dindo grade III.")
    died_in_hospital = pts["death_date"].notna() & (pts["death_date"] <= pts["discharge_date"])
    in_hosp = a.value("postop.deaths_in_hospital", st.count(a.measure(died_in_hospital, "patients",
                                                                      ["death_date", "discharge_date"], "in-hospital death",
                                                                      filter="death on or before the discharge date")),
                      "Patients who died before discharge after the operation.")

    # --- survival -------------------------------------------------------------------
    os_end = pts["death_date"].where(pts["vital_status"] == 1, pts["last_followup_date"])
    os_time = a.measure((os_end - pts["operation_date"]).dt.days / DAYS_PER_MONTH, "patients",
                        ["operation_date", "death_date", "last_followup_date"], "overall survival time",
                        filter="months from operation to death or last follow-up")
    os_event = a.measure(pts["vital_status"].astype(int), "patients", ["vital_status"], "death")
    os_ = a.survival(os_time, os_event)
    a.value("os.mean", st.km_mean(os_, unit="months"),
            "Kaplan-Meier mean overall survival: area under the curve up to the longest follow-up, ± its standard error (SPSS / R survival).")
    a.value("os.median", st.km_median(os_, unit="months"), "Kaplan-Meier median overall survival with its 95% CI.")
    a.value("os.deaths", st.events(os_), "Deaths from any cause during follow-up.")
    for m in LANDMARK_MONTHS:
        a.value(f"os.y{m // 12}", st.survival_at(os_, m), f"Kaplan-Meier overall survival at {m} months, with its 95% CI.")
    a.value("followup.median", st.followup_median(os_, unit="months"),
            "Median follow-up by the reverse Kaplan-Meier method (death censors, censoring is the event).")

    first_event = pts[["progression_date", "death_date"]].min(axis=1)
    pfs_event_flag = first_event.notna()
    pfs_end = first_event.where(pfs_event_flag, pts["last_followup_date"])
    pfs_time = a.measure((pfs_end - pts["operation_date"]).dt.days / DAYS_PER_MONTH, "patients",
                         ["operation_date", "progression_date", "death_date", "last_followup_date"],
                         "progression-free survival time", filter="months from operation to progression, death or last follow-up")
    pfs_event = a.measure(pfs_event_flag.astype(int), "patients", ["progression_date", "death_date"], "progression or death")
    pfs = a.survival(pfs_time, pfs_event)
    a.value("pfs.median", st.km_median_range(pfs, unit="months"),
            "Kaplan-Meier median progression-free survival with the range of observed times (events and censored).")
    a.value("pfs.median_ci", st.km_median(pfs, unit="months"), "Kaplan-Meier median progression-free survival with its 95% CI.")
    a.value("pfs.progressions", st.count(a.measure(pts["progressed"] == 1, "patients", ["progressed"], "progression")),
            "Patients with documented disease progression during follow-up.")
    for m in LANDMARK_MONTHS:
        a.value(f"pfs.y{m // 12}", st.survival_at(pfs, m), f"Kaplan-Meier progression-free survival at {m} months, with its 95% CI.")

    # --- tables -----------------------------------------------------------------------
    n_col = n  # every table column is the whole cohort: its header prints n_patients itself
    t1 = a.table("baseline", "Baseline characteristics of the patients", ["Characteristic", n_col.part("n_equals")])
    t1.row("Age, yr, median (range)", age.part("table"))
    t1.heading("Sex, n (%)")
    t1.row("Male", male.part("n_percent"), indent=1).row("Female", female.part("n_percent"), indent=1)
    for title, column in (("Primary tumor site, n (%)", "primary_site"), ("WHO grade, n (%)", "who_grade"),
                          ("Liver metastases, n (%)", "metastasis_timing")):
        t1.heading(title)
        for level in a.codebook_values("patients", column):
            v = a.value(f"baseline.{column}.{level.replace(' ', '_').lower()}",
                        st.count(a.measure(pts[column] == level, "patients", [column], level)),
                        f"Patients whose {column.replace('_', ' ')} is {level}.")
            if v.count:
                t1.row(level.capitalize() if column != "who_grade" else level, v.part("n_percent"), indent=1)
    t1.row("Ki-67 index, %, median (range)", ki67.part("table"))
    t1.row("Liver metastases per patient, median (range)", nodules.part("table"))
    t1.row("Largest metastasis, mm, median (range)", size.part("table"))
    t1.footnote("Baseline characteristics of the demonstration cohort other than the lesion counts are invented "
                "(the published article does not report them). WHO: World Health Organization.")

    t2 = a.table("outcomes", "Operative and postoperative outcomes", ["Outcome", n_col.part("n_equals")])
    t2.row("Lesions resected per patient, median (range)", resected.part("table"))
    t2.row("Lesions ablated per patient, median (range)", ablated.part("table"))
    t2.row(f"Operation time, min, {st.mean_label()}", op_time.part("table"))
    t2.row("Intraoperative blood loss, mL, median (range)", blood.part("table"))
    t2.row("Postoperative fever, n (%)", fever_n.part("n_percent"))
    t2.row("Duration of fever, d, median (range)", fever_days.part("table"))
    t2.row("Total bilirubin on postoperative day 1, µmol/L, median (range)", bili_pod1.part("table"))
    t2.row("Peak postoperative total bilirubin, µmol/L, median (range)", bili_peak.part("table"))
    t2.row("Raised total bilirubin after surgery, n (%)", raised.part("n_percent"))
    t2.heading("Worst complication, Clavien-Dindo grade, n (%)")
    grade_rank = {g: i for i, g in enumerate(a.codebook_values("complications", "clavien_dindo"))}  # mildest first
    worst_rank = _max_per_patient(complication_patient, comp["clavien_dindo"].map(grade_rank), ids)  # none: NaN
    worst_n = {}
    for grade in a.codebook_values("complications", "clavien_dindo"):
        v = a.value(f"postop.worst_grade.{grade.lower()}",
                    st.count(a.measure(worst_rank == grade_rank[grade], "complications", ["patient_id", "clavien_dindo"], f"grade {grade}",
                                       filter="each patient's highest Clavien-Dindo grade")),
                    f"Patients whose worst complication was Clavien-Dindo grade {grade}.")
        worst_n[grade] = v
        if v.count:
            t2.row(grade, v.part("n_percent"), indent=1)
    t2.row("In-hospital death, n (%)", in_hosp.part("n_percent"))
    t2.row("Postoperative hospital stay, d, median (range)", stay.part("table"))
    t2.footnote("SD: standard deviation. Serious complications are those of Clavien-Dindo grade III or higher.")

    # --- identities the build checks: counts that must add up ------------------------
    a.require_sum(n, [male, female], "every patient is male or female")
    a.require_sum(serious, [v for g, v in worst_n.items() if g in SERIOUS_GRADES],
                  "patients with a serious complication are those whose worst grade is III or higher")
    a.require_sum(minor, [v for g, v in worst_n.items() if g not in SERIOUS_GRADES],
                  "patients with only minor complications are those whose worst grade is below III")
    for t in a.tables.values():
        a.require_sum(n, [h for h in t.header if hasattr(h, "value")], f"the n in the header of {t.ref.text}")

    # --- figures ----------------------------------------------------------------------
    a.figure("os", [("Overall survival", os_)], xlabel="Months after surgery", ylabel="Overall survival probability")
    a.figure("pfs", [("Progression-free survival", pfs)], xlabel="Months after surgery",
             ylabel="Progression-free survival probability")


def _count_per_patient(rows, where, ids):
    """How many linked rows each patient has (``where``: only the rows where it is True), 0 for none."""
    picked = rows if where is None else rows[where.to_numpy(dtype=bool)]
    return pd.Series(np.bincount(picked, minlength=len(ids)), index=ids)


def _max_per_patient(rows, values, ids):
    """Each patient's largest value over the linked rows (pandas' max: missing values skipped); NaN for none."""
    return values.groupby(rows).max().reindex(range(len(ids))).set_axis(ids)


def _date(text):
    import datetime

    return datetime.date.fromisoformat(str(text))
