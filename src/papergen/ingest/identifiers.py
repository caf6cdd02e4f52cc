"""Recognise direct identifiers (names, phone numbers, e-mail, national and hospital ids, birth dates).

A data column that looks like one and is not declared ``role: identifier`` in
the codebook stops the build: otherwise a name could reach a table or the
ledger. The tests are deliberately simple (header words and value shapes);
they guard against the common accident, not against a determined adversary.
"""
from __future__ import annotations

import datetime as dt
import re

#: header pattern (on the header lower-cased, non-alphanumerics as "_") -> what it looks like
_HEADER_PATTERNS = [
    (r"^(patient_?|pt_?|full_?|first_?|last_?|given_?|family_?|middle_?|sur|fore|maiden_?)?names?$", "a name"),
    (r"(^|_)(tel|telephone|phone|mobile|cellphone|cell_phone|fax)(_?(no|number|num))?($|_)", "a phone number"),
    (r"(^|_)e_?mail(_?address)?($|_)", "an e-mail address"),
    (r"(^|_)(home_?|street_?|postal_?|mailing_?)?address($|_)|(^|_)(post_?code|zip_?code|zip)($|_)",
     "an address"),
    (r"(^|_)(id_?card|id_?number|national_?id|citizen_?id|identity_?(card|number|no)|ssn|social_?security"
     r"(_?number)?|passport(_?(no|number))?|nhs_?(no|number)|insurance_?(no|number))($|_)",
     "a national or insurance id"),
    (r"(^|_)(mrn|medical_?record(_?(no|number|num))?|hospital_?(no|number|num|id)|inpatient_?(no|number|id)|"
     r"outpatient_?(no|number|id)|admission_?(no|number)|case_?(no|number)|chart_?(no|number)|record_?(no|number))"
     r"($|_)", "a hospital or medical record number"),
    (r"(^|_)(dob|date_?of_?birth|birth_?date|birthday|birth_?day)($|_)", "an exact birth date"),
]
_HEADER_WORDS = [  # headers in Chinese, common in the spreadsheets this tool is used with
    ("姓名", "a name"), ("名字", "a name"), ("电话", "a phone number"), ("手机", "a phone number"),
    ("联系方式", "a phone number"), ("邮箱", "an e-mail address"), ("地址", "an address"),
    ("住址", "an address"), ("身份证", "a national or insurance id"), ("医保", "a national or insurance id"),
    ("住院号", "a hospital or medical record number"), ("病案号", "a hospital or medical record number"),
    ("门诊号", "a hospital or medical record number"), ("出生日期", "an exact birth date"),
]

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_PHONE = [
    re.compile(r"^(\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}$"),        # Chinese mobile number
    re.compile(r"^\(?0\d{2,3}\)?[ -]?\d{7,8}$"),                        # Chinese landline with area code
    re.compile(r"^\+\d{1,3}[ ()\d-]{7,16}\d$"),                         # international format
    # a national number written with separators: (010) 6234-5600, 010-6234-5600, 020 7946 0958,
    # 030 12345678: an area code in parentheses or after a trunk 0, at most one middle group, a last
    # group of four or more digits after a space or dash (so "2-3 cm", a date, "100-200 300-400",
    # "1000 2000 3000" or "12.5 13.2" never match); and the North American 555-123-4567
    re.compile(r"^(?:\(\d{2,5}\)[ -]?|0\d{1,4}[ -])(?:\d{3,8}[ -])?\d{4,8}$"),
    re.compile(r"^\d{3}[ -]\d{3}[ -]\d{4}$"),
    re.compile(r"^0\d(?:[ .]\d{2}){4}$"),                               # French: 01 23 45 67 89
]
#: digits in a phone number written with separators (E.164 allows at most 15)
_PHONE_DIGITS = range(10, 16)
_YEAR = re.compile(r"(?:19|20)\d\d")
_CN_ID = re.compile(r"^\d{17}[\dXx]$")
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def header_kind(header: str) -> str | None:
    """What a column header suggests the column holds, if it is a direct identifier; else None."""
    text = str(header).strip()
    for word, kind in _HEADER_WORDS:
        if word in text:
            return kind
    norm = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
    for pattern, kind in _HEADER_PATTERNS:
        if re.search(pattern, norm):
            return kind
    return None


def value_kind(value: str) -> str | None:
    """What one cell looks like, if it is a direct identifier (e-mail, phone, Chinese id); else None."""
    v = str(value).strip()
    if not v or len(v) > 80:
        return None
    if _EMAIL.match(v):
        return "an e-mail address"
    if _CN_ID.match(v) and _chinese_id_valid(v):
        return "a national or insurance id"
    if any(p.match(v) for p in _PHONE) and _phone_digits(v):
        return "a phone number"
    return None


def _phone_digits(v: str) -> bool:
    """As many digits as a phone number has, and not a list of years ("2019 2020 2021")."""
    groups = re.findall(r"\d+", v)
    return sum(map(len, groups)) in _PHONE_DIGITS and not all(_YEAR.fullmatch(g) for g in groups)


def _chinese_id_valid(v: str) -> bool:
    """ISO 7064 MOD 11-2 check digit and a real birth date, as in GB 11643-1999."""
    total = sum(int(d) * w for d, w in zip(v[:17], _CN_ID_WEIGHTS))
    check = "10X98765432"[total % 11]
    if v[17].upper() != check:
        return False
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return True
