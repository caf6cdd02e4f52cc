"""Direct-identifier detection: what must stop a build, and what must not (study codes, dates, lab values)."""
from __future__ import annotations

import pytest

from papergen.ingest.identifiers import header_kind, value_kind


@pytest.mark.parametrize("header, kind", [
    ("name", "a name"), ("Patient Name", "a name"), ("patient_name", "a name"), ("surname", "a name"),
    ("phone", "a phone number"), ("Mobile", "a phone number"), ("tel_no", "a phone number"),
    ("e-mail", "an e-mail address"), ("email", "an e-mail address"),
    ("address", "an address"), ("home_address", "an address"), ("zip_code", "an address"),
    ("id_card", "a national or insurance id"), ("national_id", "a national or insurance id"),
    ("SSN", "a national or insurance id"),
    ("mrn", "a hospital or medical record number"), ("hospital_number", "a hospital or medical record number"),
    ("Medical Record No", "a hospital or medical record number"),
    ("dob", "an exact birth date"), ("birth_date", "an exact birth date"), ("Date of birth", "an exact birth date"),
    ("姓名", "a name"), ("联系电话", "a phone number"), ("身份证号", "a national or insurance id"),
    ("住院号", "a hospital or medical record number"),
])
def test_identifying_headers(header, kind):
    assert header_kind(header) == kind


@pytest.mark.parametrize("header", ["patient_id", "lesion_id", "analyte", "complication", "operation_date",
                                    "unit", "birth_year", "age_years", "primary_site", "treatment", "value"])
def test_study_headers_are_not_identifiers(header):
    assert header_kind(header) is None


@pytest.mark.parametrize("value, kind", [
    ("13812345678", "a phone number"), ("+86 138 1234 5678", "a phone number"), ("010-62345678", "a phone number"),
    ("+44 20 7946 0958", "a phone number"),
    ("wang.fang@hospital.cn", "an e-mail address"),
    ("11010519491231002X", "a national or insurance id"),  # the example in GB 11643-1999
])
def test_identifying_values(value, kind):
    assert value_kind(value) == kind


@pytest.mark.parametrize("value", ["P01", "P01-L02", "2015-06-16", "28.5", "400", "umol/L", "IVa",
                                   "respiratory failure", "110105194912310021",  # wrong check digit
                                   "12345678901", ""])
def test_ordinary_values_are_not_identifiers(value):
    assert value_kind(value) is None
