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


# issue 15 item 11: phone numbers written with parentheses, spaces and dashes, and what must not look like one
@pytest.mark.parametrize("value", ["(010) 6234-5600", "(010)6234-5600", "010-6234-5600", "(555) 123-4567",
                                   "555-123-4567", "020 7946 0958", "030 12345678", "07700 900123",
                                   "+1 (555) 123-4567", "0755-12345678", "01 23 45 67 89"])
def test_phone_numbers_with_separators(value):
    assert value_kind(value) == "a phone number"


@pytest.mark.parametrize("value", ["2-3 cm", "2015-06-16", "2015-06-16 10:00", "20150616 103000", "2015 06 16 10 30",
                                   "2015-06-16 - 2016-01-01", "2019 2020 2021", "100-200 300-400", "12.5 13.2 14.1",
                                   "123.45 678.90", "0.5-1.0 x 10^9/L", "120/80", "1000-2000", "978-3-16-148410-0",
                                   "1 2 3 4 5 6 7 8 9 10", "1000 2000 3000", "P01-L02"])
def test_numeric_data_is_not_a_phone_number(value):
    assert value_kind(value) is None
