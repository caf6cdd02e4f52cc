"""Write the example's REDCap files as REDCap writes them (synthetic data, NOT patient data).

    python data/make_redcap_export.py

``redcap_dictionary.csv`` is the data dictionary in the layout of REDCap 8 and
later (Project Setup > Data Dictionary > Download: the 18 columns, in order,
"Variable / Field Name" to "Field Annotation"); ``redcap_export.csv`` is the
"CSV / Microsoft Excel (raw data)" export of REDCap 13/14: the record id first,
then ``redcap_repeat_instrument`` and ``redcap_repeat_instance`` (the project
has a repeating instrument, ``followup_visit``), the fields form by form with a
checkbox as one 0/1 column per choice (``comorbidity___1``), and each form's
``<form>_complete`` status (0 incomplete, 1 unverified, 2 complete). Raw data
hold choice codes (1, 2), dates as YYYY-MM-DD, empty cells for no value, and
the project's missing-data codes (here UNK) as typed. The 12 patients are
those of ``papergen new``'s starter study; visits are invented around them.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
DICTIONARY_COLUMNS = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
#: (field, form, type, label, choices, validation, min, max, identifier, required)
FIELDS = [
    ("patient_id", "baseline", "text", "Study ID", "", "", "", "", "", ""),
    ("initials", "baseline", "text", "Patient initials", "", "", "", "", "y", ""),
    ("group", "baseline", "radio", "Treatment group", "1, standard | 2, new", "", "", "", "", "y"),
    ("age_years", "baseline", "text", "Age at start of treatment (years)", "", "integer", "18", "100", "", "y"),
    ("sex", "baseline", "dropdown", "Sex", "1, female | 2, male", "", "", "", "", "y"),
    ("start_date", "baseline", "text", "Date treatment started", "", "date_ymd", "2015-01-01", "today", "", "y"),
    ("comorbidity", "baseline", "checkbox", "Comorbidities", "1, Diabetes | 2, Hypertension | 3, COPD",
     "", "", "", "", ""),
    ("info_baseline", "baseline", "descriptive", "<b>Outcome</b> is recorded at the last contact", "", "", "",
     "", "", ""),
    ("time_months", "outcome", "text", "Months from start of treatment to death or last follow-up", "",
     "number", "0", "240", "", "y"),
    ("event", "outcome", "yesno", "Died during follow-up?", "", "", "", "", "", "y"),
    ("visit_date", "followup_visit", "text", "Visit date", "", "date_ymd", "2015-01-01", "today", "", "y"),
    ("weight_kg", "followup_visit", "text", "Body weight (kg)", "", "number", "30", "250", "", ""),
]
PATIENTS = [  # patient_id, initials, group, age, sex, start, comorbidities, time_months, event
    ("P01", "AB", 1, 52, 1, "2016-03-01", {1}, "15.5", 1), ("P02", "CD", 2, 59, 1, "2016-04-11", set(), "34.0", 1),
    ("P03", "EF", 1, 66, 2, "2016-05-20", {2}, "8.0", 1), ("P04", "GH", 2, 73, 1, "2016-06-02", {1, 2}, "26.5", 0),
    ("P05", "IJ", 1, 50, 1, "2016-07-15", set(), "33.0", 1), ("P06", "KL", 2, 57, 2, "2016-08-09", {3}, "19.0", 1),
    ("P07", "MN", 1, 64, 1, "2016-09-30", {2}, "25.5", 1), ("P08", "OP", 2, 71, 1, "2016-11-04", set(), "11.5", 0),
    ("P09", "QR", 1, 48, 2, "2017-01-12", {1}, "18.0", 1), ("P10", "ST", 2, 55, 1, "2017-02-23", set(), "36.5", 1),
    ("P11", "UV", 1, 62, 1, "2017-03-17", {2, 3}, "10.5", 1), ("P12", "WX", 2, 69, 2, "2017-05-05", set(), "29.0", 0),
]
WEIGHTS = (71.5, 64.0, 82.3, 58.9, 77.0, 90.2, 68.4, 55.1, 73.8, 61.6, 85.0, 79.4)


def dictionary_rows() -> list[list[str]]:
    rows = []
    for name, form, kind, label, choices, valid, lo, hi, ident, required in FIELDS:
        rows.append([name, form, "", kind, label, choices, "", valid, lo, hi, ident, "", required, "", "", "", "", ""])
    return rows


def export_rows() -> list[list[str]]:
    header = ["patient_id", "redcap_repeat_instrument", "redcap_repeat_instance", "initials", "group", "age_years",
              "sex", "start_date", "comorbidity___1", "comorbidity___2", "comorbidity___3", "baseline_complete",
              "time_months", "event", "outcome_complete", "visit_date", "weight_kg", "followup_visit_complete"]
    rows = [header]
    for (pid, initials, group, age, sex, start, comorb, months, event), weight in zip(PATIENTS, WEIGHTS):
        checks = ["1" if c in comorb else "0" for c in (1, 2, 3)]
        rows.append([pid, "", "", initials, str(group), str(age), str(sex), start, *checks, "2", months, str(event),
                     "2", "", "", ""])
        day = dt.date.fromisoformat(start)
        for instance, (after, change) in enumerate(((90, -1.2), (180, 0.4)), start=1):
            visit = (day + dt.timedelta(days=after)).isoformat()
            shown = "UNK" if pid == "P08" and instance == 2 else f"{weight + change:.1f}"  # weighing not done
            rows.append([pid, "followup_visit", str(instance), "", "", "", "", "", "", "", "", "", "", "", "", visit,
                         shown, "2"])
    return rows


def write(folder: Path = HERE) -> None:
    for name, rows in (("redcap_dictionary.csv", [DICTIONARY_COLUMNS] + dictionary_rows()),
                       ("redcap_export.csv", export_rows())):
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)


if __name__ == "__main__":
    write()
