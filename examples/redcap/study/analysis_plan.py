"""Analysis plan of the REDCap example: every number it reports, from the two tables of one REDCap export.

``patients`` holds the records' rows (baseline and outcome forms), ``followup_visit``
the instances of the repeating instrument; choice codes arrive as their labels
(the codebook's ``labels:``), so groups are named as the REDCap form shows them.
"""
from papergen import statistics as st
from papergen import RowSpec

KM_CI = "log-log"        # scale of Kaplan-Meier CIs (R survfit conf.type)
CI_LEVEL = 95            # percent
ARMS = {"standard": "Standard treatment", "new": "New treatment"}


def analysis(a):
    arms = a.groups("patients", "group", labels=ARMS)
    a.value("method.ci_level", st.parameter(CI_LEVEL, f"{CI_LEVEL}%", a.source("patients", [])),
            "Confidence level of every interval reported.")
    a.km_ci_transform(KM_CI)
    a.stratified("cohort.n", st.count, a.column("patients", "patient_id", "patients"), arms, "Patients")
    a.table_one("baseline", "Patients at the start of treatment (REDCap baseline form)", "patients", arms,
                [RowSpec("age_years", "Age, yr", summary="median_range"), RowSpec("sex", "Sex"),
                 RowSpec("comorbidity___1", "Diabetes")])
    a.value("visits.n", st.count(a.column("followup_visit", "visit_date", "follow-up visits")),
            "Follow-up visits recorded (instances of the repeating instrument followup_visit).")
    a.value("visits.weight", st.median_range(a.column("followup_visit", "weight_kg", "body weight"), places=1,
                                             unit="kg"),
            "Median (range) body weight at the follow-up visits where it was measured.")
    os_ = a.survival(a.column("patients", "time_months", "survival time"), a.column("patients", "event", "death"))
    a.value("os.deaths", st.events(os_), "Deaths during follow-up.")
    a.stratified("os.median", st.km_median, os_, arms,
                 f"Kaplan-Meier median overall survival with its {CI_LEVEL}% CI", unit="months")
    curves = [(g.label, os_.where(g.mask, g.filter)) for g in arms]
    logrank = a.value("os.logrank", st.logrank(curves), "Log-rank test of equal overall survival in the groups.")
    a.figure("os", curves, xlabel="Months", ylabel="Overall survival probability", annotate=[("Log-rank ", logrank)])
