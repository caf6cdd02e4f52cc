"""Bad-input corpus: real-world mistakes in a copy of the study, each run through the real CLI.

Every case makes one mistake (a few make several, to see them reported at
once) and expects: exit code 2, exactly one stderr line per problem naming
file, spreadsheet row (header = row 1), column, value and rule, no traceback
on the terminal (it is in .papergen/build.log), and manuscript/ from the last
good build byte for byte as it was.
"""
from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass

import pytest

from studycopy import (ROOT, add_column, add_redcap, append_row, copy_study, csv_frame, csv_to_parquet, csv_to_sav,
                       csv_to_xlsx, delete_rows, drop_column, read_rows, rename_column, run_build, save_xlsx, set_cell,
                       set_codebook_path, tree_hash, write_rows)

P, L, B, C = "data/patients.csv", "data/lesions.csv", "data/labs.csv", "data/complications.csv"
PX = "data/patients.xlsx"
HIDDEN = object()  # the line must not show any value (direct identifiers)


@dataclass(frozen=True)
class Line:
    """One expected stderr line: where, the value as printed (repr), and a phrase of the rule."""

    file: str
    row: int | None
    column: str | None
    value: object  # repr of the value, HIDDEN, or None (not checked)
    rule: str

    def matches(self, line: str) -> bool:
        where = "error: " + self.file + (f", row {self.row}" if self.row else "") + \
            (f", column {self.column}" if self.column else "")
        if not (line.startswith(where + ":") or line.startswith(where + " ")) or self.rule not in line:
            return False
        if self.value is HIDDEN:
            return "value" not in line.split(self.rule)[0].split(where)[1]
        return self.value is None or f": value {self.value}:" in line


def cells(**edits):
    """A mutation that sets cells: cells(P=[(row, column, value), ...])."""
    files = {"P": "patients.csv", "L": "lesions.csv", "B": "labs.csv", "C": "complications.csv"}

    def mutate(study):
        for key, items in edits.items():
            for row, column, value in items:
                set_cell(study, files[key], row, column, value)
    return mutate


def raw(file: str, data: bytes | str):
    def mutate(study):
        path = study / "data" / file
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return mutate


def then(*mutations):
    def mutate(study):
        for m in mutations:
            m(study)
    return mutate


def _semicolons(study):
    rows = read_rows(study, "patients.csv")
    (study / "data" / "patients.csv").write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")


def _latin1(study):
    text = (study / "data" / "complications.csv").read_text(encoding="utf-8")
    text = text.replace("bile leak", "fuite biliaire (drainée)")
    (study / "data" / "complications.csv").write_bytes(text.encode("latin-1"))


def _stray_comma(study):
    path = study / "data" / "patients.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].replace(",1.5,", ",1,5,")  # row 4: Ki-67 typed with a decimal comma, unquoted
    path.write_text("\n".join(lines), encoding="utf-8")


def _xlsx(edit):
    def mutate(study):
        wb = csv_to_xlsx(study, "patients")
        edit(wb.active, wb)
        save_xlsx(study, "patients", wb)
    return mutate


def _title_row(ws, wb):
    ws.insert_rows(1)
    ws["A1"] = "Table S1. Patients treated with hepatectomy and microwave ablation"


def _merged(ws, wb):
    ws["D3"] = "pancreas"
    ws["D4"] = None
    ws.merge_cells("D3:D4")


def _formula(ws, wb):
    ws["F2"] = "=17/2"


def _second_sheet(ws, wb):
    notes = wb.create_sheet("follow-up 2020")
    notes["A1"], notes["B1"] = "patient_id", "last_followup_date"
    notes["A2"], notes["B2"] = "P05", "2020-08-25"


def _serial_dates(ws, wb):
    for r in range(2, ws.max_row + 1):  # operation_date typed into a General-format column
        c = ws.cell(r, 8)
        c.value = (c.value.date() - __import__("datetime").date(1899, 12, 30)).days
        c.number_format = "General"


def _excel_error(ws, wb):
    ws["J5"] = "#DIV/0!"


RX, RD = "data/redcap_export.csv", "data/redcap_dictionary.csv"
#: cases in files the frozen row-by-row reader (reference_validate) cannot read: REDCap, SPSS, Parquet, SAS
OTHER_FORMATS = {"REDCap export column not in the dictionary", "REDCap dictionary field not in the export",
                 "REDCap choice code not in the dictionary", "SPSS file without its value label set",
                 "truncated Parquet file", "damaged SAS file"}


def _redcap(file: str, change):
    """Edit a REDCap file's rows (as csv lists) in place."""
    def mutate(study):
        path = study / "data" / file
        rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
        change(rows)
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    return mutate


def _codebook_values(study, old: str, new: str):
    book = study / "data" / "codebook.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _damaged_sas(study):
    import pyreadstat

    frame = csv_frame(study, "complications")
    dest = study / "data" / "complications.sas7bdat"
    pyreadstat.write_sas7bdat(frame, str(dest))
    data = bytearray(dest.read_bytes())
    data[200:208] = b"\xff" * 8  # the header's page size: no longer a SAS page layout
    dest.write_bytes(bytes(data))
    set_codebook_path(study, "complications", "complications.sas7bdat")


def _undecompressable_sas(study):
    import pyreadstat

    dest = study / "data" / "complications.sas7bdat"
    pyreadstat.write_sas7bdat(csv_frame(study, "complications"), str(dest), compress=True)  # RDC rows
    dest.write_bytes(dest.read_bytes().replace(b"SASYZCR2", b"SASYZCRL"))  # ... in a file that says RLE
    set_codebook_path(study, "complications", "complications.sas7bdat")


def _xls(study):
    (study / "data" / "patients.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))  # OLE2 header
    (study / "data" / "patients.csv").unlink()
    set_codebook_path(study, "patients", "patients.xls")


def _link_to(target: str):
    def mutate(study):
        (study / "data" / "patients.csv").unlink()
        (study / "data" / "patients.csv").symlink_to(target)
    return mutate


_link_to_passwd = _link_to("/etc/passwd")


def _csv_beside_the_study(study):
    """A valid patients.csv one folder above the study, named by a ``../`` path (it used to build, exit 0)."""
    shutil.copy2(study / "data" / "patients.csv", study.parent / "patients.csv")
    (study / "data" / "patients.csv").unlink()
    set_codebook_path(study, "patients", "../../patients.csv")


def _declared_identifier(column: str, values: list[str], rule: str | None = None):
    """A column added to patients.csv and declared in the codebook (``column``: its YAML, ``name: {...}``),
    with a rule (its YAML, ``{id: ..., kind: ...}``)."""
    def mutate(study):
        import yaml

        name, spec = next(iter(yaml.safe_load(column).items()))
        add_column(study, "patients.csv", name, values)
        path = study / "data" / "codebook.yaml"
        book = yaml.safe_load(path.read_text(encoding="utf-8"))
        book["files"]["patients"]["columns"][name] = spec
        if rule:
            book["files"]["patients"].setdefault("rules", []).append(yaml.safe_load(rule))
        path.write_text(yaml.safe_dump(book, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return mutate


NAMES = ["Wang Fang", "Li Na", "Zhang Wei", "Liu Yang", "Chen Jing", "Yang Li", "Huang Min", "Zhao Lei",
         "Wu Jun", "Zhou Tao", "Xu Ming"]
PHONES = [f"1381234{5600 + i}" for i in range(11)]
EMAILS = [f"patient{i}@example.org" for i in range(11)]
CN_IDS = ["11010519491231002X"] + [""] * 10  # the standard's own example number (GB 11643-1999)

CASES = {
    # --- the file's shape ---------------------------------------------------------------
    "missing column": (lambda s: drop_column(s, "patients.csv", "sex"),
                       [Line(P, 1, "sex", None, "required column is missing")]),
    "extra unknown column": (lambda s: add_column(s, "patients.csv", "comment", [""] * 11),
                             [Line(P, 1, "comment", "'comment'", "column is not in the codebook")]),
    "misspelled column": (lambda s: rename_column(s, "patients.csv", "ki67_percent", "ki67_pct"),
                          [Line(P, 1, "ki67_pct", "'ki67_pct'", "did you mean 'ki67_percent'?"),
                           Line(P, 1, "ki67_percent", None, "required column is missing")]),
    "empty file": (raw("patients.csv", b""), [Line(P, None, None, None, "file is empty")]),
    "header only": (lambda s: write_rows(s, "complications.csv", read_rows(s, "complications.csv")[:1]),
                    [Line(C, None, None, None, "file has a header but no data rows")]),
    "data file missing": (lambda s: (s / "data" / "complications.csv").unlink(),
                          [Line(C, None, None, None, "file not found")]),
    "semicolon-separated CSV": (_semicolons, [Line(P, 1, None, None, "separated by semicolons")]),
    "Latin-1 encoded file": (_latin1, [Line(C, 3, None, "'byte 0xe9'", "file is not UTF-8")]),
    "stray comma shifts a row": (_stray_comma, [Line(P, 4, None, None, "row has 18 cells but the header has 17")]),
    # --- types ----------------------------------------------------------------------------
    "decimal comma": (cells(P=[(4, "ki67_percent", "12,5")]),
                      [Line(P, 4, "ki67_percent", "'12,5'", "use '.' as the decimal separator")]),
    "n/a in a required number": (cells(P=[(3, "ki67_percent", "n/a")]),
                                 [Line(P, 3, "ki67_percent", "'n/a'", "marks a missing value")]),
    "question mark for a number": (cells(P=[(5, "age_years", "?")]),
                                   [Line(P, 5, "age_years", "'?'", "marks a missing value")]),
    "unit typed in the cell": (cells(P=[(2, "blood_loss_ml", "400 mL")]),
                               [Line(P, 2, "blood_loss_ml", "'400 mL'", "remove the unit")]),
    "percent sign": (cells(P=[(2, "ki67_percent", "8.5%")]),
                     [Line(P, 2, "ki67_percent", "'8.5%'", "remove the % sign")]),
    "thousands separator": (cells(P=[(3, "blood_loss_ml", "3,000")]),
                            [Line(P, 3, "blood_loss_ml", "'3,000'", "no thousands separator")]),
    "below detection limit": (cells(B=[(2, "value", "<5")]),
                              [Line(B, 2, "value", "'<5'", "qualified value")]),
    "missing required value": (cells(P=[(7, "age_years", "")]),
                               [Line(P, 7, "age_years", "''", "required value is missing")]),
    "event flag 2": (cells(P=[(2, "vital_status", "2")]), [Line(P, 2, "vital_status", "'2'", "expected 0 or 1")]),
    "event flag yes": (cells(P=[(3, "progressed", "yes")]),
                       [Line(P, 3, "progressed", "'yes'", "write 1 for yes and 0 for no")]),
    "id against its pattern": (cells(P=[(2, "patient_id", "P1")]),
                               [Line(P, 2, "patient_id", "'P1'", "does not match the pattern")]),
    # --- dates ----------------------------------------------------------------------------
    "impossible date 31/02/2016": (cells(P=[(5, "operation_date", "31/02/2016")]),
                                   [Line(P, 5, "operation_date", "'31/02/2016'", "not a real calendar date")]),
    "impossible date 2016-02-31": (cells(P=[(5, "operation_date", "2016-02-31")]),
                                   [Line(P, 5, "operation_date", "'2016-02-31'", "not a real calendar date")]),
    "ambiguous date 06/07/2015": (cells(P=[(2, "discharge_date", "06/07/2015")]),
                                  [Line(P, 2, "discharge_date", "'06/07/2015'", "ambiguous date")]),
    "date as Excel serial in a CSV": (cells(P=[(2, "operation_date", "42171")]),
                                      [Line(P, 2, "operation_date", "'42171'", "Excel date serial number (2015-06-16?)")]),
    "follow-up after the data cut-off": (cells(P=[(12, "last_followup_date", "2021-03-01")]),
                                         [Line(P, 12, "last_followup_date", "'2021-03-01'",
                                               "after the latest allowed date 2020-10-31")]),
    # --- ranges and categories -------------------------------------------------------------------
    "age 250": (cells(P=[(2, "age_years", "250")]),
                [Line(P, 2, "age_years", "'250'", "above the allowed maximum 100 years")]),
    "Ki-67 140 %": (cells(P=[(6, "ki67_percent", "140")]),
                    [Line(P, 6, "ki67_percent", "'140'", "above the allowed maximum 100 %")]),
    "negative blood loss": (cells(P=[(4, "blood_loss_ml", "-100")]),
                            [Line(P, 4, "blood_loss_ml", "'-100'", "below the allowed minimum 0 mL")]),
    "liver segment 9": (cells(L=[(2, "segment", "9")]), [Line(L, 2, "segment", "'9'", "above the allowed maximum 8")]),
    "category with a trailing space": (cells(P=[(2, "sex", "Male ")]),
                                       [Line(P, 2, "sex", "'Male '", "leading or trailing spaces; did you mean 'male'?")]),
    "category abbreviated": (cells(P=[(3, "sex", "m")]),
                             [Line(P, 3, "sex", "'m'", "not one of the allowed values female, male; did you mean 'male'?")]),
    "category in capitals": (cells(P=[(4, "sex", "M"), (5, "sex", "Female")]),
                             [Line(P, 4, "sex", "'M'", "did you mean 'male'?"),
                              Line(P, 5, "sex", "'Female'", "did you mean 'female'?")]),
    "unknown lab unit": (cells(B=[(3, "unit", "mg/dL")]), [Line(B, 3, "unit", "'mg/dL'", "allowed values umol/L")]),
    # --- keys and references ----------------------------------------------------------------------
    "duplicate patient id": (cells(P=[(3, "patient_id", "P01")]),
                             [Line(P, 3, "patient_id", "'P01'", "duplicate patient_id; first used in row 2")]),
    "lab measured twice": (lambda s: append_row(s, "labs.csv", ["P01", "total_bilirubin", "1", "30.1", "umol/L"]),
                           [Line(B, 57, "postoperative_day", "'P01 / total_bilirubin / 1'",
                                 "duplicate patient_id + analyte + postoperative_day; first used in row 3")]),
    "lesion of an unknown patient": (lambda s: append_row(s, "lesions.csv", ["P12", "P12-L01", "3", "10", "ablated"]),
                                     [Line(L, 104, "patient_id", "'P12'", "no such patient_id in data/patients.csv")]),
    "lab of an unknown patient": (lambda s: append_row(s, "labs.csv", ["P21", "total_bilirubin", "0", "9.9", "umol/L"]),
                                  [Line(B, 57, "patient_id", "'P21'", "no such patient_id in data/patients.csv")]),
    "lesion id of another patient": (cells(L=[(3, "lesion_id", "P02-L99")]),
                                     [Line(L, 3, "lesion_id", "'P02-L99'", "must start with patient_id (P01)")]),
    "day-1 bilirubin missing": (lambda s: delete_rows(s, "labs.csv", lambda r: (r["patient_id"], r["postoperative_day"]) != ("P03", "1")),
                                [Line(B, None, "postoperative_day", None,
                                      "patient_id P03 has no row with postoperative_day 1 (rule bilirubin_baseline_and_day1)")]),
    # --- cross-column rules -------------------------------------------------------------------
    "zero survival time": (cells(P=[(6, "last_followup_date", "2016-05-19")]),
                           [Line(P, 6, "last_followup_date", "'2016-05-19'",
                                 "must be after operation_date (2016-05-19) (rule followup_after_operation)")]),
    "last follow-up before operation": (cells(P=[(12, "last_followup_date", "2017-10-20")]),
                                        [Line(P, 12, "last_followup_date", "'2017-10-20'",
                                              "must be after operation_date (2018-01-09) (rule followup_after_operation)")]),
    "death before operation": (cells(P=[(4, "death_date", "2015-10-01")]),
                               [Line(P, 4, "death_date", "'2015-10-01'",
                                     "must be after operation_date (2015-11-10) (rule death_after_operation)")]),
    "progression after death": (cells(P=[(3, "progression_date", "2016-10-15")]),
                                [Line(P, 3, "progression_date", "'2016-10-15'",
                                      "must be on or before death_date (2016-09-30) (rule progression_not_after_death)")]),
    "progression flagged without a date": (cells(P=[(6, "progressed", "1")]),
                                           [Line(P, 6, "progression_date", "''",
                                                 "required when progressed is 1 (rule progression_requires_date)")]),
    "death date of a living patient": (cells(P=[(11, "death_date", "2020-10-13")]),
                                       [Line(P, 11, "death_date", "'2020-10-13'",
                                             "must be empty when vital_status is 0 (rule death_requires_date)")]),
    "last follow-up is not the death date": (cells(P=[(2, "last_followup_date", "2017-12-20")]),
                                             [Line(P, 2, "last_followup_date", "'2017-12-20'",
                                                   "must equal death_date (2017-12-09) when vital_status is 1")]),
    "discharge before operation": (cells(P=[(5, "discharge_date", "2016-02-20")]),
                                   [Line(P, 5, "discharge_date", "'2016-02-20'",
                                         "must be after operation_date (2016-02-24) (rule discharge_after_operation)")]),
    "death in hospital": (cells(P=[(6, "vital_status", "1"), (6, "death_date", "2016-05-24"),
                                   (6, "last_followup_date", "2016-05-24")]),
                          [Line(P, 6, "death_date", "'2016-05-24'",
                                "must be after discharge_date (2016-05-26) (rule no_in_hospital_death)")]),
    # --- direct identifiers ---------------------------------------------------------------------
    "undeclared name column": (lambda s: add_column(s, "patients.csv", "patient_name", NAMES),
                               [Line(P, 1, "patient_name", HIDDEN, "column name suggests a name, a direct identifier")]),
    "phone numbers in a contact column": (lambda s: add_column(s, "patients.csv", "contact", PHONES),
                                          [Line(P, 2, "contact", HIDDEN, "value looks like a phone number")]),
    "e-mail addresses": (lambda s: add_column(s, "complications.csv", "reported_by", EMAILS[:6]),
                         [Line(C, 2, "reported_by", HIDDEN, "value looks like an e-mail address")]),
    "Chinese resident id in a remarks column": (lambda s: add_column(s, "patients.csv", "remarks", CN_IDS),
                                                [Line(P, 2, "remarks", HIDDEN,
                                                      "value looks like a national or insurance id")]),
    "exact birth dates": (lambda s: add_column(s, "patients.csv", "dob", ["1959-03-02"] * 11),
                          [Line(P, 1, "dob", HIDDEN, "column name suggests an exact birth date")]),
    # --- Excel ------------------------------------------------------------------------------------
    "Excel title row above the header": (_xlsx(_title_row), [Line(PX, 2, None, None, "the header is in row 2, not row 1")]),
    "Excel merged cells": (_xlsx(_merged), [Line(PX, 3, "primary_site", "'D3:D4'", "merged cells")]),
    "Excel formula": (_xlsx(_formula), [Line(PX, 2, "ki67_percent", "'=17/2'", "cell holds a formula")]),
    "Excel second sheet with data": (_xlsx(_second_sheet),
                                     [Line(PX, None, None, "'patients, follow-up 2020'", "data on more than one sheet")]),
    "Excel dates stored as serial numbers": (
        _xlsx(_serial_dates),
        [Line(PX, r, "operation_date", None, "Excel date serial number") for r in range(2, 13)]),
    "Excel error value": (_xlsx(_excel_error), [Line(PX, 5, "blood_loss_ml", "'#DIV/0!'", "Excel error")]),
    "old Excel .xls workbook": (_xls, [Line("data/patients.xls", None, None, "'.xls'", "save this one as .xlsx")]),
    # --- REDCap, SPSS, SAS, Parquet (files written by their own writers) ----------------------------
    "REDCap export column not in the dictionary": (
        then(add_redcap, _redcap("redcap_export.csv", lambda rows: [r.append("bmi") for r in rows])),
        [Line(RX, 1, "bmi", "'bmi'", "column is not a field of the data dictionary data/redcap_dictionary.csv")]),
    "REDCap dictionary field not in the export": (
        then(add_redcap, _redcap("redcap_dictionary.csv", lambda rows: rows.insert(
            5, ["bmi", "baseline", "", "text", "BMI", "", "", "number"] + [""] * 10))),
        [Line(RD, 6, "bmi", None, "field of the data dictionary is not in the export data/redcap_export.csv")]),
    "REDCap choice code not in the dictionary": (
        then(add_redcap, _redcap("redcap_export.csv", lambda rows: rows[7].__setitem__(4, "3"))),
        [Line(RX, 8, "group", "'3'", "record P03: choice code is not in the data dictionary's choices for group "
                                    "(1, standard | 2, new) (rule redcap_choices)")]),
    "SPSS file without its value label set": (
        lambda s: csv_to_sav(s, "patients", {"sex": ["female", "male"]}, labels=False),
        [Line("data/patients.sav", None, "sex", None, "the file has no value label set for this variable")]),
    "R's NA in a required column, NA declared": (
        then(lambda s: _codebook_values(s, "    primary_key: patient_id\n", "    primary_key: patient_id\n    missing: [NA]\n"),
             cells(P=[(4, "age_years", "NA")])),
        [Line(P, 4, "age_years", "'NA'", "required value is missing ('NA' is a declared missing-value marker)")]),
    "truncated Parquet file": (
        lambda s: _truncate(csv_to_parquet(s, "labs")),
        [Line("data/labs.parquet", None, None, None, "not a readable Parquet file")]),
    "damaged SAS file": (
        _damaged_sas, [Line("data/complications.sas7bdat", None, None, None, "cannot be read as a SAS file")]),
    "SAS file whose compression cannot be decoded": (
        _undecompressable_sas, [Line("data/complications.sas7bdat", None, None, None,
                                     "a SAS file with RLE (COMPRESS=CHAR) compression whose rows pyreadstat cannot")]),
    # === issue 15, items 7, 10, 11 (guard): files outside the study; identifiers in rule messages ===
    # (kept as one block, apart from the other items of issue 15, so the two branches merge cleanly)
    "data file is a symbolic link to /etc/passwd": (
        _link_to_passwd, [Line(P, None, None, None, "(through a symbolic link), outside the study folder")]),
    "data file is a symbolic link to /dev/zero": (  # never opened: not to be checked, not to be hashed for the cache
        _link_to("/dev/zero"), [Line(P, None, None, None, "resolves to /dev/zero (through a symbolic link), outside")]),
    "codebook path ../../etc/passwd": (
        lambda s: set_codebook_path(s, "patients", "../../../../../../../../etc/passwd"),
        [Line("data/codebook.yaml", None, None, None,
              "files.patients.path '../../../../../../../../etc/passwd': resolves to /etc/passwd, outside the study")]),
    "codebook path to a CSV beside the study": (
        _csv_beside_the_study, [Line("data/codebook.yaml", None, None, None, "outside the study folder")]),
    "birth date (an identifier) in a rule": (
        _declared_identifier("birth_date: {type: date, role: identifier}", ["1959-03-02"] * 10 + ["2019-07-04"],
                             "{id: born_first, kind: before, columns: [birth_date, operation_date]}"),
        [Line(P, 12, "operation_date", "'2018-01-09'", "must be after birth_date (value withheld) (rule born_first)")]),
    "patient names (an identifier) in a starts_with rule": (
        _declared_identifier("full_name: {type: string, role: identifier}", NAMES,
                             "{id: named, kind: starts_with, columns: [full_name, patient_id]}"),
        [Line(P, r, "patient_id", f"'P{r - 1:02d}'", "must start with full_name (value withheld)") for r in range(2, 13)]),
    "misspelt name in an identifier category": (
        _declared_identifier(f"surgeon: {{type: category, role: identifier, values: [{NAMES[0]}, {NAMES[1]}]}}",
                             [NAMES[0]] * 10 + ["Wang Fagn"]),
        [Line(P, 12, "surgeon", HIDDEN, "not one of the allowed values of the codebook")]),
    "phone numbers with an area code in parentheses": (
        lambda s: add_column(s, "patients.csv", "contact", [f"(555) 123-45{i:02d}" for i in range(11)]),
        [Line(P, 2, "contact", HIDDEN, "value looks like a phone number")]),
    "phone numbers declared as text": (
        _declared_identifier("reachable_at: {type: string}", [f"(010) 6234-56{i:02d}" for i in range(11)]),
        [Line(P, 2, "reachable_at", HIDDEN, "value looks like a phone number")]),
    # === end of the guard block ====================================================================
    # --- several problems at once -----------------------------------------------------------------
    "problems in two files at once": (
        then(cells(P=[(2, "age_years", "250"), (9, "sex", "x")], L=[(10, "diameter_mm", "0")])),
        [Line(P, 2, "age_years", "'250'", "above the allowed maximum"),
         Line(P, 9, "sex", "'x'", "not one of the allowed values"),
         Line(L, 10, "diameter_mm", "'0'", "below the allowed minimum 1 mm")]),
}

#: cases stopped before the data are validated (by the study's path rule): test_validate_columns compares the
#: column-wise validator with the row-by-row one, so it leaves these out
BEFORE_VALIDATION = {"data file is a symbolic link to /etc/passwd", "codebook path ../../etc/passwd",
                     "data file is a symbolic link to /dev/zero",
                     "codebook path to a CSV beside the study"}


# --- issue 15 (items 9, 12-17): the study's own files checked, one line each --------------------
# YAML (aliases, duplicate keys, syntax) in every YAML the study reads, the codebook's own
# consistency, references.bib, the plan (non-finite values, empty lists, top-level errors),
# templates (include loops, unreadable text), and data cells too long to echo.

def _line(rel: str, needle: str) -> int:
    """1-based line of the first line of the repository's file ``rel`` holding ``needle``."""
    lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, start=1) if needle in text)


def _nlines(rel: str) -> int:
    return len((ROOT / rel).read_text(encoding="utf-8").splitlines())


def edit(rel: str, old: str, new: str):
    """A mutation replacing the one occurrence of ``old`` in a study file."""
    def mutate(study):
        path = study / rel
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{rel} has no single {old!r}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return mutate


def append_to(rel: str, text: str):
    def mutate(study):
        path = study / rel
        old = path.read_text(encoding="utf-8")
        path.write_text(old + ("" if old.endswith("\n") else "\n") + text, encoding="utf-8")
    return mutate


def _folder_for_data(study):
    (study / "data" / "complications.csv").unlink()
    (study / "data" / "complications.csv").mkdir()


def _one_patient(study):
    for f in ("patients.csv", "lesions.csv", "labs.csv", "complications.csv"):
        delete_rows(study, f, lambda r: r["patient_id"] == "P02")


def _include_loop(study):
    append_to("templates/conclusion.md.j2", '{% include "loop.txt" %}\n')(study)
    (study / "templates" / "loop.txt").write_text('again {% include "loop.txt" %}\n', encoding="utf-8")


def _long_line(study):
    path = study / "data" / "lesions.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(5, "x" * 10_000_000)  # row 6: 10 MB without a comma or a quote
    path.write_text("\n".join(lines), encoding="utf-8")


CB, SY, JY, BIB, PLAN = "data/codebook.yaml", "study/study.yaml", "study/journal.yaml", "study/references.bib", \
    "study/analysis_plan.py"
AGE, SEX, OPDATE = _line(CB, "      age_years:"), _line(CB, "      sex:"), _line(CB, "      operation_date:")
BOMB = "bomb:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))  # 10**9 x
PLAN_AT = _line(PLAN, "    ids = pts.index")  # the inserted line is the next one
YAML_LOOP = "loop_a: &loop {a: 1}\nloop_b: *loop\n"
ALIAS = "YAML aliases (*"
DUPLICATE = "not valid YAML: duplicate key"

CASES.update({
    # item 9: an alias (bomb) in any YAML the study reads
    "YAML alias bomb in the codebook": (lambda s: (s / CB).write_text(BOMB + (s / CB).read_text(encoding="utf-8"),
                                                                      encoding="utf-8"),
                                        [Line(f"{CB}:3:10", None, None, None, ALIAS + "a)")]),
    "YAML alias in study.yaml": (append_to(SY, YAML_LOOP), [Line(f"{SY}:{_nlines(SY) + 2}:9", None, None, None, ALIAS)]),
    "YAML alias in journal.yaml": (append_to(JY, YAML_LOOP),
                                   [Line(f"{JY}:{_nlines(JY) + 2}:9", None, None, None, ALIAS)]),
    # item 12: a key written twice (YAML keeps the last): the age range check vanished
    "duplicate column in the codebook": (
        edit(CB, "      sex: {type: category", "      age_years: {type: integer, unit: years}\n      sex: {type: category"),
        [Line(f"{CB}:{AGE + 1}:7", None, None, None, f"{DUPLICATE} 'age_years' (first at line {AGE})")]),
    "duplicate key in study.yaml": (append_to(SY, "csl: apa\n"),
                                    [Line(f"{SY}:{_nlines(SY) + 1}:1", None, None, None,
                                          f"{DUPLICATE} 'csl' (first at line {_line(SY, 'csl:')})")]),
    "duplicate key in journal.yaml": (append_to(JY, "journal: Another Journal\n"),
                                      [Line(f"{JY}:{_nlines(JY) + 1}:1", None, None, None,
                                            f"{DUPLICATE} 'journal' (first at line {_line(JY, 'journal:')})")]),
    "YAML syntax error names line and column": (edit(SY, "facts:\n", "facts:\n\tbroken: 1\n"),
                                                [Line(f"{SY}:{_line(SY, 'facts:') + 1}:1", None, None, None,
                                                      "not valid YAML: found character that cannot start any token")]),
    # item 13: two entries with one key in references.bib
    "duplicate key in references.bib": (
        edit(BIB, "@article{dasari2017,", "@article{yao2008,"),
        [Line(f"{BIB}:{_line(BIB, 'dasari2017')}", None, None, None,
              f"entry key 'yao2008' is used twice (lines {_line(BIB, 'yao2008')} and {_line(BIB, 'dasari2017')})")]),
    # item 14: a value that is not a finite number
    "plan registers NaN": (edit(PLAN, "    ids = pts.index\n", "    ids = pts.index\n    a.value('bad.nan', st.parameter("
                                "float('nan'), 'nan', a.source('patients', ['age_years'])), 'Not a number.')\n"),
                           [Line(f"{PLAN}:{PLAN_AT + 1}", None, None, None,
                                 "value 'bad.nan' is not a finite number (exact.value = nan)")]),
    "plan prints inf": (edit(PLAN, "    ids = pts.index\n", "    ids = pts.index\n    a.value('bad.inf', st.parameter("
                             "3, str(1e400), a.source('patients', ['age_years'])), 'Infinite.')\n"),
                        [Line(f"{PLAN}:{PLAN_AT + 1}", None, None, None, "value 'bad.inf' is not a finite number (text 'inf')")]),
    # item 15: the codebook's own mistakes, not the data's
    "codebook min above max": (edit(CB, "min: 18, max: 100", "min: 100, max: 18"),
                               [Line(f"{CB}:{AGE}", None, None, None,
                                     "files.patients.columns.age_years: min 100 is above max 18")]),
    "codebook date bounds reversed": (edit(CB, "min: '2015-01-01', max: '2018-12-31'", "min: '2018-12-31', max: '2015-01-01'"),
                                      [Line(f"{CB}:{OPDATE}", None, None, None,
                                            "columns.operation_date: min '2018-12-31' is after max '2015-01-01'")]),
    "codebook category without values": (edit(CB, "values: [female, male]", "values: []"),
                                         [Line(f"{CB}:{SEX}", None, None, None, "columns.sex: a category needs 'values'")]),
    "codebook value listed twice": (edit(CB, "values: [female, male]", "values: [female, male, male]"),
                                    [Line(f"{CB}:{SEX}", None, None, None, "columns.sex: values lists 'male' twice")]),
    "codebook range on a category": (edit(CB, "values: [female, male]", "values: [female, male], min: 0"),
                                     [Line(f"{CB}:{SEX}", None, None, None, "min applies to integer, number and date")]),
    # item 16: one clear line instead of "internal error"
    "data file is a folder": (_folder_for_data, [Line(C, None, None, None, "is a folder, not a file")]),
    "no item to list (listing without empty=)": (
        edit(PLAN, "    ids = pts.index\n", "    ids = pts.index\n    a.value('none.listed', st.listing([], "
             "[a.source('patients', ['sex'])]), 'Nothing.')\n"),
        [Line(f"{PLAN}:{PLAN_AT + 1}", None, None, None, "listing() got no items")]),
    "template includes itself": (_include_loop, [Line("templates/loop.txt:1", None, None, None,
                                                      "templates include each other without end (loop.txt -> loop.txt)")]),
    "fact without text": (edit(SY, '    text: "2020PHB334-01"\n', ""),
                          [Line(f"{SY}:{_line(SY, '  irb:')}", None, None, None, "facts.irb has no 'text:'")]),
    "section without template": (edit(SY, "{template: core_tip.md.j2, title: Core tip}", "{title: Core tip}"),
                                 [Line(f"{SY}:{_line(SY, 'core_tip.md.j2')}", None, None, None,
                                       "sections item 3 has no 'template:'")]),
    "references.bib missing": (lambda s: (s / BIB).unlink(), [Line(BIB, None, None, None, "bibliography not found")]),
    "mean and SD of one patient": (_one_patient, [Line(f"{PLAN}:{_line(PLAN, 'st.mean_sd(')}", None, None, None,
                                                       "one value has no standard deviation")]),
    "template Jinja cannot read": (append_to("templates/conclusion.md.j2", 'Text {{ "unclosed }}\n'),
                                   [Line(f"templates/conclusion.md.j2:{_nlines('templates/conclusion.md.j2') + 1}:9",
                                         None, None, None, "Jinja cannot read the template: unexpected char")]),
    "template syntax error": (append_to("templates/conclusion.md.j2", "{% endfor %}\n"),
                              [Line(f"templates/conclusion.md.j2:{_nlines('templates/conclusion.md.j2') + 1}", None, None,
                                    None, "Encountered unknown tag 'endfor'")]),
    "exception at the plan's top level": (edit(PLAN, "from papergen import statistics as st\n",
                                               "from papergen import statistics as st\nraise RuntimeError('stop')\n"),
                                          [Line(f"{PLAN}:{_line(PLAN, 'from papergen import statistics') + 1}", None, None,
                                                None, "RuntimeError: stop")]),
    # item 17: long lines and values: the row, and the value cut
    "10 MB line without commas": (_long_line, [Line(L, 6, "patient_id", "'" + "x" * 60 + "'... (10000000 characters)",
                                                    "a cell of more than 131,072 characters")]),
    "10 MB cell": (cells(P=[(4, "primary_site", "y" * 10_000_000)]),
                   [Line(P, 4, "primary_site", "'" + "y" * 60 + "'... (10000000 characters)",
                         "a cell of more than 131,072 characters")]),
    "120,000-character value": (cells(P=[(4, "ki67_percent", "7" * 120_000)]),
                                [Line(P, 4, "ki67_percent", "'" + "7" * 60 + "'... (120000 characters)",
                                      "above the allowed maximum 100 %")]),
})
# --- end of issue 15 (items 9, 12-17) --------------------------------------------------------


@pytest.fixture(scope="module")
def good_study(tmp_path_factory, built):
    """The study with a manuscript/ from a good build (the session build, copied)."""
    return copy_study(tmp_path_factory.mktemp("good") / "study", manuscript=built.outputs.dir)


@pytest.fixture
def study(good_study, tmp_path):
    dest = tmp_path / "study"
    shutil.copytree(good_study, dest)
    return dest


def test_corpus_has_thirty_distinct_mistakes():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_clearly_and_keeps_manuscript(study, case):
    mutate, expected = CASES[case]
    mutate(study)
    before = tree_hash(study / "manuscript")
    proc = run_build(study)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    problems = [ln for ln in lines if ln.startswith("error: ")]
    assert lines[-1].startswith("(manuscript/ was left as it was; details in .papergen/build.log)"), lines
    assert len(lines) == len(problems) + 1, f"stray stderr output:\n{proc.stderr}"
    assert len(problems) == len(expected), "\n".join(problems)
    for want in expected:
        hits = [ln for ln in problems if want.matches(ln)]
        assert len(hits) == 1, f"expected one line for {want}, got:\n" + "\n".join(problems)
    assert "Traceback" not in proc.stderr
    assert "Traceback" in (study / ".papergen" / "build.log").read_text(encoding="utf-8")
    assert tree_hash(study / "manuscript") == before
    assert before, "the good manuscript is missing"
    assert not list(study.glob(".manuscript.*")), "a staging folder was left behind"


def test_identifier_values_never_reach_the_terminal(study):
    add_column(study, "patients.csv", "patient_name", NAMES)
    add_column(study, "lesions.csv", "phone", [PHONES[0]] * 102)
    proc = run_build(study)
    assert proc.returncode == 2
    for secret in NAMES + PHONES[:1]:
        assert secret not in proc.stderr + proc.stdout
        assert secret not in (study / ".papergen" / "build.log").read_text(encoding="utf-8")


# === issue 15 item 10 (guard): every error kind the validator raises, on a declared identifier =========

_ID = {"role": "identifier"}
BIRTH, PHONE, NAME, OTHER = "1959-03-02", "13812345600", "Wang Fang", "Li Na"


def _one(column: dict, text: str, phrase: str, *secrets: str, **extra):
    """A file whose identifier column ``secret`` holds ``text``: the one problem expected, its secrets."""
    return ({"secret": {**column, **_ID}, **extra.pop("columns", {})}, extra.pop("rules", []),
            [{"secret": text, **extra}], phrase, (text, *secrets) if text.strip() else secrets)


_BIRTH = {"type": "date", "min": "1900-01-01"}
_VISIT = {"visit_date": {"type": "date"}}
_FLAG = {"reachable": {"type": "flag"}}
#: kind -> (identifier and helper columns, rules, rows, the phrase of the one expected line, secret texts);
#: a primary key is never an identifier (the codebook refuses one), so duplicate keys cannot name one
IDENTIFIER_SWEEP = {
    "required value missing": _one({"type": "string"}, "", "required value is missing"),
    "spaces around a category": _one({"type": "category", "values": [NAME, OTHER]}, f" {NAME}",
                                     "leading or trailing spaces", NAME, OTHER),
    "misspelt category": _one({"type": "category", "values": [NAME, OTHER]}, "Wang Fagn",
                              "not one of the allowed values", NAME, OTHER),
    "missing marker where required": _one({"type": "string"}, "Not Done", "marks a missing value"),
    "placeholder where optional": _one({"type": "string", "required": False}, "N.D.", "leave the cell empty"),
    "comma in a number": _one({"type": "integer"}, "47,11", "comma in a number"),
    "unit in a number": _one({"type": "integer"}, "4712 kg", "remove the unit", "4712"),
    "not a whole number": _one({"type": "integer"}, "X4713", "expected a whole number"),
    "percent sign": _one({"type": "number"}, "47.14%", "remove the % sign", "47.14"),
    "qualified value": _one({"type": "number"}, "<4715", "qualified value", "4715"),
    "above the maximum": _one({"type": "integer", "max": 1000}, "4716", "above the allowed maximum"),
    "flag not 0 or 1": _one({"type": "flag"}, "maybe", "expected 0 or 1"),
    "impossible date": _one(_BIRTH, "1959-02-30", "not a real calendar date"),
    "ambiguous date": _one(_BIRTH, "03/04/1959", "ambiguous date"),
    "Excel serial in a CSV": _one(_BIRTH, "21611", "Excel date serial number", BIRTH),
    "one-digit month": _one(_BIRTH, "1959-3-2", "two digits"),
    "date with a time": _one(_BIRTH, f"{BIRTH} 10:00", "time of day", BIRTH),
    "date before the minimum": _one(_BIRTH, "1890-05-05", "before the earliest allowed date"),
    "not a date": _one(_BIRTH, "2nd March 1959", "expected a date written"),
    "line break in a text": _one({"type": "string"}, "Zhao\nLei", "line break", "Zhao"),
    "text against its pattern": _one({"type": "string", "pattern": "^[A-Z]"}, "wu jun", "does not match the pattern"),
    "before, the identifier compared": _one(
        _BIRTH, BIRTH, "must be after secret (value withheld)", columns=_VISIT, visit_date="1950-01-01",
        rules=[{"id": "born_first", "kind": "before", "columns": ["secret", "visit_date"]}]),
    "before, the identifier reported": _one(
        _BIRTH, BIRTH, "must be before visit_date", columns=_VISIT, visit_date="1950-01-01",
        rules=[{"id": "born_first", "kind": "before", "columns": ["secret", "visit_date"], "column": "secret"}]),
    "not_after, the identifier compared": _one(
        _BIRTH, BIRTH, "must be on or after secret (value withheld)", columns=_VISIT, visit_date="1950-01-01",
        rules=[{"id": "born_first", "kind": "not_after", "columns": ["secret", "visit_date"]}]),
    "present_iff": _one({"type": "string", "required": False}, PHONE, "must be empty when reachable is 0",
                        columns=_FLAG, reachable="0",
                        rules=[{"id": "phone_iff", "kind": "present_iff", "columns": ["secret"], "flag": "reachable"}]),
    "equal_when, both identifiers": _one(
        {"type": "string"}, PHONE, "must equal secret (value withheld)", "13812345601",
        columns={**_FLAG, "phone2": {"type": "string", **_ID}}, reachable="1", phone2="13812345601",
        rules=[{"id": "same", "kind": "equal_when", "columns": ["secret", "phone2"], "flag": "reachable"}]),
    "starts_with, the identifier compared": _one(
        {"type": "string"}, NAME, "must start with secret (value withheld)", columns={"code": {"type": "string"}},
        code="C01", rules=[{"id": "prefix", "kind": "starts_with", "columns": ["secret", "code"]}]),
    "reference to an unknown key": _one({"type": "string", "references": "sweep_keys.kid"}, "K99", "no such kid"),
    "covers": _one({"type": "string", "references": "sweep_keys.kid"}, "K77", "has no row with day 1",
                   columns={"day": {"type": "integer"}}, day="0",
                   rules=[{"id": "both_days", "kind": "covers", "columns": ["secret", "day"], "values": [0, 1]}]),
    "Excel formula": _one({"type": "string"}, '=CONCAT("Zhou","Secretname")', "cell holds a formula", "Secretname"),
    "Excel error value": _one({"type": "string"}, "#REF!", "shows an Excel error"),
}


def _sweep_files(study):
    """Each kind of IDENTIFIER_SWEEP as its own data file of the study (one problem each), plus their key file."""
    import openpyxl
    import yaml

    book_path = study / "data" / "codebook.yaml"
    book = yaml.safe_load(book_path.read_text(encoding="utf-8"))
    book["files"]["sweep_keys"] = {"path": "sweep_keys.csv", "primary_key": "kid",
                                   "columns": {"kid": {"type": "string", "role": "pseudonym"}}}
    (study / "data" / "sweep_keys.csv").write_text("kid\nK77\n", encoding="utf-8")
    shown = {}
    for i, (kind, (columns, rules, rows, _, _)) in enumerate(sorted(IDENTIFIER_SWEEP.items())):
        excel = kind.startswith("Excel")
        name = f"sweep_{i:02d}.{'xlsx' if excel else 'csv'}"
        header = ["row_id", *columns]
        book["files"][f"sweep_{i:02d}"] = {"path": name, "primary_key": "row_id",
                                           "columns": {"row_id": {"type": "string"}, **columns}, "rules": rules}
        cells = [[f"R{k}", *(r.get(c, "") for c in columns)] for k, r in enumerate(rows, 1)]
        if excel:
            wb = openpyxl.Workbook()
            wb.active.append(header)
            for r in cells:
                wb.active.append(r)
            if "error" in kind:
                wb.active["B2"].data_type = "e"
            wb.save(study / "data" / name)
        else:
            write_rows(study, name, [header, *cells])
        shown[f"data/{name}"] = kind
    class Plain(yaml.SafeDumper):  # shared dicts written out in full: papergen refuses YAML aliases
        def ignore_aliases(self, data):
            return True

    book_path.write_text(yaml.dump(book, Dumper=Plain, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return shown


def test_every_error_kind_withholds_an_identifiers_value(study):
    """One build, one file per error kind the validator can raise (cells of each type, every rule kind in
    both directions, references, covers, Excel cells), each on a declared identifier: each problem is
    reported, and no value of an identifier reaches the terminal or .papergen/build.log."""
    from papergen.codebook import RULE_KINDS, TYPES

    swept = {c["kind"] for _, rules, *_ in IDENTIFIER_SWEEP.values() for c in rules}
    assert swept == set(RULE_KINDS), "a rule kind is missing from the sweep"
    assert {c["secret"]["type"] for c, *_ in IDENTIFIER_SWEEP.values()} == TYPES, "a column type is missing"
    shown = _sweep_files(study)
    proc = run_build(study)
    assert proc.returncode == 2, proc.stderr
    log = (study / ".papergen" / "build.log").read_text(encoding="utf-8")
    problems = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    for file, kind in shown.items():
        lines = [ln for ln in problems if ln.startswith(f"error: {file}")]
        phrase, secrets = IDENTIFIER_SWEEP[kind][3], IDENTIFIER_SWEEP[kind][4]
        assert len(lines) == 1 and phrase in lines[0] and "withheld" in lines[0], (kind, lines)
        for secret in secrets:
            for where, text in (("terminal", proc.stderr + proc.stdout), ("build.log", log)):
                assert secret not in text, f"{kind}: {secret!r} printed on the {where}"
    assert len(problems) == len(shown), "\n".join(problems)


# === end of the guard block ====================================================================


def test_problems_beyond_the_cap_are_counted(study):
    rows = read_rows(study, "labs.csv")
    write_rows(study, "labs.csv", [rows[0]] + [r[:3] + ["high"] + r[4:] for r in rows[1:]])
    proc = run_build(study)
    problems = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert proc.returncode == 2
    assert len(rows) - 1 == 55
    assert len(problems) == 51 and problems[-1] == "error: ... and 5 more problems"
    assert all(", column value: value 'high': expected a number" in ln for ln in problems[:50])
