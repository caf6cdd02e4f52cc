"""Analysis plan: the definition of every number the manuscript reports.

Each ``a.value(key, statistic, definition)`` declares one printed number; the
templates print it by key, e.g. ``{{ os.median }}``. ``a.stratified`` declares one
value per group plus one for everyone (keys ``KEY.<group>`` and ``KEY.all``).
EDIT: replace the demonstration analysis with yours (see the papergen guide).
"""
from papergen import statistics as st
from papergen import RowSpec

# --- parameters: fixed choices of this analysis, not results -----------------
KM_CI = "log-log"        # scale of Kaplan-Meier CIs (R survfit conf.type; R's default is "log")
CI_LEVEL = 95            # percent, for every confidence interval
TAU_MONTHS = 24          # horizon of the restricted mean survival time
GROUP_LABELS = {"standard": "Standard treatment", "new": "New treatment"}


def analysis(a):
    groups = a.groups("patients", "group", labels=GROUP_LABELS)

    a.value("method.ci_level", st.parameter(CI_LEVEL, f"{CI_LEVEL}%", a.source("patients", [])),
            "Confidence level of every interval reported.")
    a.km_ci_transform(KM_CI)  # the methods text prints it: {{ method.km_ci.part("words") }}
    a.value("method.tau", st.parameter(TAU_MONTHS, f"{TAU_MONTHS} months", a.source("patients", ["time_months"])),
            "Time horizon of the restricted mean survival time.")

    # --- patients (Table 1 by group, with P values by gtsummary's rule) -------------------------
    a.stratified("cohort.n", st.count, a.column("patients", "patient_id", "patients"), groups, "Patients")
    a.table_one("baseline", "Characteristics of the patients", "patients", groups,
                [RowSpec("age_years", "Age, yr", summary="median_range"), RowSpec("sex", "Sex")])

    # --- survival ---------------------------------------------------------------------
    os_ = a.survival(a.column("patients", "time_months", "survival time"), a.column("patients", "event", "death"))
    a.value("os.deaths", st.events(os_), "Deaths during follow-up.")
    a.stratified("os.median", st.km_median, os_, groups,
                 f"Kaplan-Meier median overall survival with its {CI_LEVEL}% CI", unit="months")
    a.stratified("os.rmst", st.km_mean, os_, groups,
                 f"Restricted mean overall survival up to {TAU_MONTHS} months ± its standard error",
                 tau=TAU_MONTHS, unit="months")
    curves = [(g.label, os_.where(g.mask, g.filter)) for g in groups]
    logrank = a.value("os.logrank", st.logrank(curves), "Log-rank test of equal overall survival in the groups.")
    hr = a.cox("cox", os_, "patients", ["group", "age_years"], reference={"group": "standard"}, ph_test=True)
    a.figure("os", curves, xlabel="Months", ylabel="Overall survival probability",
             annotate=[("Log-rank ", logrank), ("New treatment: adjusted HR ", hr["group:new"].part("table"))])
