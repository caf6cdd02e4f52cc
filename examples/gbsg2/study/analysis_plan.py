"""Analysis plan of the GBSG2 example: every number the manuscript prints is declared here.

Data: the German Breast Cancer Study Group 2 data set (data/gbsg2.csv, exported
from lifelines). Comparison: recurrence-free survival (RFS) of women who did and
did not receive hormonal therapy. Each ``a.value`` / ``a.stratified`` line declares
printed numbers; templates print them by key, e.g. ``{{ rfs.median.ht }}``.
"""
from papergen import statistics as st
from papergen import RowSpec

# --- parameters: fixed choices of this analysis, not results -----------------
DAYS_PER_MONTH = 365.25 / 12   # times in the data are days; the paper reports months
TAU_MONTHS = 60                # restricted mean survival time up to 5 years
LANDMARK_MONTHS = 60           # 5-year recurrence-free survival
KM_CI = "log-log"        # scale of Kaplan-Meier CIs (R survfit conf.type; R's default is "log")
CI_LEVEL = 95                  # percent, for every confidence interval
LABELS = {"horTh": "Hormonal therapy", "age": "Age, per year", "menostat": "Menopausal status",
          "tsize": "Tumour size, per mm", "tgrade": "Tumour grade", "pnodes": "Positive lymph nodes, per node",
          "progrec": "Progesterone receptor, per fmol/mg", "estrec": "Oestrogen receptor, per fmol/mg"}
ARM_LABELS = {"no": "No hormonal therapy", "yes": "Hormonal therapy"}
ARM_KEYS = {"no": "no_ht", "yes": "ht"}   # value keys: rfs.median.no_ht, rfs.median.ht


def analysis(a):
    pts = a.data["patients"]
    arms = a.groups("patients", "horTh", labels=ARM_LABELS, keys=ARM_KEYS)

    # --- parameters printed in the methods --------------------------------------
    a.value("method.days_per_month", st.parameter(DAYS_PER_MONTH, "30.4375", a.source("patients", ["time"])),
            "Days per month used to convert the survival times (365.25 / 12).")
    a.value("method.ci_level", st.parameter(CI_LEVEL, f"{CI_LEVEL}%", a.source("patients", [])),
            "Confidence level of every interval reported.")
    a.km_ci_transform(KM_CI)  # the methods text prints it: {{ method.km_ci.part("words") }}
    a.value("method.tau", st.parameter(TAU_MONTHS, f"{TAU_MONTHS} months", a.source("patients", ["time"])),
            "Time horizon of the restricted mean survival time.")

    # --- cohort and Table 1 ---------------------------------------------------------
    patients = a.column("patients", "patient", "patients")
    n = a.stratified("cohort.n", st.count, patients, arms, "Women in the data set")
    columns = [(f"{g.label}, ", v.part("n_equals")) for g, v in zip(arms, n)] + [("All, ", n[-1].part("n_equals"))]
    a.value("cohort.ht", st.category_count(a.column("patients", "horTh", "hormonal therapy"), "yes"),
            "Women who received hormonal therapy, out of all women in the data set.")
    rows = [RowSpec("age", "Age, yr", summary="mean_sd"),
            RowSpec("menostat", "Menopausal status", levels={"Pre": "Premenopausal", "Post": "Postmenopausal"}),
            RowSpec("tsize", "Tumour size, mm", summary="median_range"),
            RowSpec("tgrade", "Tumour grade"),
            RowSpec("pnodes", "Positive lymph nodes", summary="median_range"),
            RowSpec("progrec", "Progesterone receptor, fmol/mg", summary="median_range"),
            RowSpec("estrec", "Oestrogen receptor, fmol/mg", summary="median_range")]
    a.table_one("baseline", "Characteristics of the women by hormonal therapy", "patients", arms, rows, smd=True)

    # --- recurrence-free survival --------------------------------------------------
    time = a.measure(pts["time"] / DAYS_PER_MONTH, "patients", ["time"], "recurrence-free survival time",
                     filter="days / 30.4375 = months")
    rfs = a.survival(time, a.column("patients", "cens", "recurrence or death"))
    curves = [(g.label, rfs.where(g.mask, g.filter)) for g in arms]

    events = a.stratified("rfs.events", st.events, rfs, arms, "Women with recurrence or death during follow-up")
    median = a.stratified("rfs.median", st.km_median, rfs, arms,
                          f"Kaplan-Meier median recurrence-free survival with its Brookmeyer-Crowley {CI_LEVEL}% CI", unit="months")
    rmst = a.stratified("rfs.rmst", st.km_mean, rfs, arms,
                        f"Restricted mean recurrence-free survival up to {TAU_MONTHS} months (area under the Kaplan-Meier curve) ± its standard error",
                        tau=TAU_MONTHS, unit="months")
    at5 = a.stratified("rfs.y5", st.survival_at, rfs, arms,
                       f"Kaplan-Meier recurrence-free survival at {LANDMARK_MONTHS} months with its log-log {CI_LEVEL}% CI", at=LANDMARK_MONTHS)
    a.value("rfs.logrank", st.logrank(curves), "Log-rank test of equal recurrence-free survival with and without hormonal therapy.")
    a.value("followup.median", st.followup_median(rfs, unit="months"),
            "Median follow-up by the reverse Kaplan-Meier method (recurrence or death censors, censoring is the event).")

    t2 = a.table("survival", "Recurrence-free survival by hormonal therapy", ["Outcome"] + columns)
    t2.row("Recurrence or death, n (%)", *[v.part("n_percent") for v in events])
    t2.row(f"Median, months ({CI_LEVEL}% CI)", *[(v.part("median"), " (", v.part("ci"), ")") for v in median])
    t2.row(f"Restricted mean to {TAU_MONTHS} months, months ± SE", *[(v.part("mean"), " ± ", v.part("se")) for v in rmst])
    t2.row(f"Survival at {LANDMARK_MONTHS} months, % ({CI_LEVEL}% CI)", *[(v.part("survival"), " (", v.part("ci"), ")") for v in at5])
    t2.footnote("CI: confidence interval; SE: standard error. Kaplan-Meier estimates; the restricted mean is the "
                f"area under the Kaplan-Meier curve up to {TAU_MONTHS} months.")


    # --- prognostic factors: univariable and multivariable Cox models --------------------
    covariates = ["horTh", "age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec"]
    _, multi, _ = a.cox_table("cox", "Cox proportional-hazards models of recurrence-free survival", rfs, "patients", covariates,
                labels=LABELS,
                reference={"horTh": "no", "menostat": "Pre", "tgrade": "I"},
                level_labels={"horTh": {"no": "No", "yes": "Yes"},
                              "menostat": {"Pre": "Premenopausal", "Post": "Postmenopausal"}})
    a.forest("forest", multi, labels=LABELS)
    hr = a.registry["cox.uni.horth.yes"]
    a.figure("rfs", curves, xlabel="Months", ylabel="Recurrence-free survival probability",
             annotate=[("Log-rank ", a.registry["rfs.logrank"]), ("Hormonal therapy: HR ", hr.part("table"))],
             ci_bands=True, columns=1)  # one journal column (the house style's width)
