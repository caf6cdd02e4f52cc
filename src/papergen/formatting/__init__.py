"""Numbers to journal text: half-up rounding, P values, counts in words, lists, dates.

Every number is printed in the active house style (papergen.formatting.house:
P values, intervals, ranges, ±, decimal mark, percent, units), so a manuscript
prints one journal's style throughout. A utility package: it imports nothing
from papergen outside itself, only the stdlib, num2words and pyyaml.
"""
import datetime
import decimal
import numbers
from decimal import Decimal

from papergen.formatting import house
from papergen.formatting.house import HouseStyle, active


PLUS_MINUS = "\u00b1"
EN_DASH = "\u2013"
MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")


def _type_name(x):
    return type(x).__name__


def _check_int(n, what="n"):
    """Return n as a Python int; bool is refused (True is an int, never a count)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} must be an integer, got {_type_name(n)} {n!r}")
    return int(n)


def _to_decimal(x, what="value"):
    """Exact Decimal of x as written: floats via their shortest repr, so 2.675 stays 2.675.

    numpy scalars go through float()/int() first (np.float32 thus uses its float64
    value). bool, None, strings are TypeError; nan and infinities are ValueError.
    """
    if isinstance(x, bool) or x is None:
        raise TypeError(f"{what} must be a number, got {_type_name(x)} {x!r}")
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, numbers.Integral):
        d = Decimal(int(x))
    elif isinstance(x, numbers.Real):
        d = Decimal(repr(float(x)))
    else:
        raise TypeError(f"{what} must be a number, got {_type_name(x)} {x!r}")
    if not d.is_finite():
        raise ValueError(f"{what} must be finite, got {x!r}")
    return d


def round_half_up(x, places: int) -> Decimal:
    """Round x half away from zero at `places` decimals, on its decimal value as written.

    Python's round() and '%.2f' round the binary float half-to-even (2.675 -> 2.67);
    journals expect 2.68. A negative zero result is returned as positive zero.
    """
    places = _check_int(places, "places")
    if places < 0:
        raise ValueError(f"places must be >= 0, got {places}")
    d = _to_decimal(x)
    with decimal.localcontext() as ctx:   # enough digits that quantize never overflows
        ctx.prec = max(28, d.adjusted() + places + 2)
        r = d.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    return abs(r) if r == 0 else r


def fmt_number(x, places=0, thousands=None) -> str:
    """Fixed-decimal text of x rounded half up; never "-0"; the house style's decimal mark.

    ``thousands``: True for comma thousands, False for none, None for the house
    style's separator (used from its ``thousands_from`` digits on).
    """
    style = active()
    text = format(round_half_up(x, places), "f")
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = digits.partition(".")
    sep = {True: ",", False: ""}.get(thousands, style.thousands)
    if sep and len(whole) >= (4 if thousands else style.thousands_from):
        whole = f"{int(whole):,}".replace(",", sep)
    return sign + whole + (style.decimal + frac if frac else "")


def restyle_decimals(text: str) -> str:
    """Text written with "." decimals (a parameter's "30.4375") in the house style's decimal mark."""
    import re

    mark = active().decimal
    return text if mark == "." else re.sub(r"(?<=\d)\.(?=\d)", mark, text)


def unit_text(unit):
    """A unit as the house style prints it ("months" -> "mo" for a journal that abbreviates)."""
    return active().unit(unit)


def with_unit(text: str, unit) -> str:
    """Append a unit (in the house style's form) with a space, except "%" which is written closed up (5.0%)."""
    unit = unit_text(unit)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def fmt_mean_pm(mean, spread, places=1, unit=None, spread_is="sd") -> str:
    """Mean and SD (or SE: ``spread_is="se"``) in the house style: "405.6 ± 39.4 min", "405.6 (SD, 39.4) min"."""
    if _to_decimal(spread, "spread") < 0:
        raise ValueError(f"spread must be >= 0, got {spread!r}")
    if spread_is not in ("sd", "se"):
        raise ValueError(f"spread_is must be 'sd' or 'se', got {spread_is!r}")
    form = active().mean_sd if spread_is == "sd" else active().mean_se
    text = form.format(mean=fmt_number(mean, places), spread=fmt_number(spread, places))
    return with_unit(text, unit)


def spread_words(spread_is="sd") -> str:
    """What the house style's ± means, to print beside it ("mean ± SD"); "" when the form names it itself."""
    style = active()
    form = style.mean_sd if spread_is == "sd" else style.mean_se
    return (style.sd_words if spread_is == "sd" else style.se_words) if PLUS_MINUS in form else ""


def mean_label(spread_is="sd") -> str:
    """How a table row names the summary: "mean ± SD" in a ± style, "mean (SD)" in one that names it."""
    name = "SD" if spread_is == "sd" else "SE"
    return spread_words(spread_is) or f"mean ({name})"


def _fmt_interval(low, high, places):
    """"a–b" with the house style's dash, or "a to b" when a bound prints negative (a dash would misread)."""
    lo, hi = fmt_number(low, places), fmt_number(high, places)
    sep = " to " if lo.startswith("-") or hi.startswith("-") else active().dash
    return f"{lo}{sep}{hi}"


def fmt_median_range(median, low, high, places=0, unit=None, style="range") -> str:
    """Median and range: "600 mL (range, 50 to 3000)" in the house style's form, or with
    style="dash" (tables) "600 mL (50–3000)"; style="iqr" for quartiles ("34 (IQR, 28 to 45)")."""
    m, lo, hi = (_to_decimal(v, w) for v, w in ((median, "median"), (low, "low"), (high, "high")))
    if not lo <= m <= hi:
        raise ValueError(f"need low <= median <= high, got {low!r}, {median!r}, {high!r}")
    head = with_unit(fmt_number(median, places), unit)
    if style in ("range", "iqr"):
        form = active().range if style == "range" else active().iqr
        return form.format(median=head, low=fmt_number(low, places), high=fmt_number(high, places))
    if style == "dash":
        return f"{head} ({_fmt_interval(low, high, places)})"
    raise ValueError(f"style must be 'range', 'iqr' or 'dash', got {style!r}")


def fmt_percent(count, total, places=None) -> str:
    """Percentage text "91%": whole numbers when total < 100, one decimal otherwise.

    Computed in exact integer arithmetic, rounded half up (1/8 -> "13%").
    """
    count, total = _check_int(count, "count"), _check_int(total, "total")
    if total <= 0 or not 0 <= count <= total:
        raise ValueError(f"need 0 <= count <= total and total > 0, got {count}/{total}")
    if places is None:
        places = 0 if total < 100 else 1
    places = _check_int(places, "places")
    if places < 0:
        raise ValueError(f"places must be >= 0, got {places}")
    q, r = divmod(count * 100 * 10 ** places, total)
    if 2 * r >= total:
        q += 1
    return percent_text(fmt_number(Decimal(q).scaleb(-places), places))


def percent_text(number: str) -> str:
    """A number already printed ("43.6") as a percentage in the house style ("43.6%")."""
    return active().percent.format(value=number)


def fmt_count_percent(count, total, places=None) -> str:
    """Count with its percentage: "10 (91%)"."""
    return f"{_check_int(count, 'count')} ({fmt_percent(count, total, places)})"


def fmt_p(p) -> str:
    """P value in the house style: "P < 0.001", 3 decimals below 0.01, 2 otherwise, "P > 0.99" above 0.99.

    A value below 0.01 that rounds up to 0.010 is printed with 2 decimals ("P = 0.01").
    A value below 0.05 never prints as "0.05": it gets the decimals it needs to stay
    below the threshold readers compare it with (0.045 -> "P = 0.045", 0.0499 -> "P = 0.0499").
    Below 0.001, a style whose smallest P is smaller (Lancet: 0.0001) prints 4 decimals.
    The label ("P", "p"), its spaces and the leading zero come from the house style;
    italics are markup, added where the value is printed (papergen.write.render).
    """
    style = active()
    d = _to_decimal(p, "p")
    if not 0 <= d <= 1:
        raise ValueError(f"p must be between 0 and 1, got {p!r}")
    return _p_label(style, *_p_parts(d, style))


def _p_parts(d: Decimal, style: HouseStyle) -> tuple[str, Decimal]:
    """(relation, number) of a P value: ("<", 0.001), (">", 0.99) or ("=", 0.003)."""
    low, high = Decimal(style.p_min), Decimal(style.p_max)
    if d < low:
        return "<", low
    if d > high:
        return ">", high
    r = round_half_up(d, 3 if d >= Decimal("0.001") else 4)
    if r >= Decimal("0.01"):
        r = round_half_up(d, 2)
    places = -r.as_tuple().exponent
    while d < Decimal("0.05") <= r:
        places += 1
        r = round_half_up(d, places)
    return "=", r


def _p_number(n: Decimal, style: HouseStyle) -> str:
    text = fmt_number(n, max(0, -n.as_tuple().exponent))
    return text[1:] if not style.p_leading_zero and text.startswith("0") and len(text) > 1 else text


def _p_label(style: HouseStyle, relation: str, n: Decimal) -> str:
    space = " " if style.p_spaces else ""
    return f"{style.p_label}{space}{relation}{space}{_p_number(n, style)}"


def number_to_words(n: int) -> str:
    """Integer in American words: 21 -> "twenty-one", 101 -> "one hundred one" (no "and")."""
    from num2words import num2words  # imported on first use: a cached build may print no word at all

    words = num2words(_check_int(n))
    return words.replace(",", "").replace(" and ", " ")


def spell_out(n, sentence_start=False) -> str:
    """Journal number rule: words for 0-9 and digits from 10 in running text;
    always words, capitalized, at the start of a sentence ("Forty-three")."""
    n = _check_int(n)
    if n < 0:
        raise ValueError(f"spell_out is for counts; got negative {n}")
    if sentence_start:
        return capitalize_first(number_to_words(n))
    return number_to_words(n) if n < 10 else str(n)


def count_phrase(n, singular, plural=None, sentence_start=False, zero="no") -> str:
    """Count and noun: "one patient", "10 patients", "Ten patients", "No patient".

    For zero the zero word is used; with the default "no" the noun stays singular
    ("No patient died"), with any other word (e.g. "zero") it is plural.
    """
    n = _check_int(n)
    for arg, what in ((singular, "singular"), (zero, "zero")):
        if not isinstance(arg, str):
            raise TypeError(f"{what} must be a str, got {_type_name(arg)} {arg!r}")
    if plural is None:
        plural = singular + "s"
    elif not isinstance(plural, str):
        raise TypeError(f"plural must be a str, got {_type_name(plural)} {plural!r}")
    if n == 0:
        text = f"{zero} {singular if zero == 'no' else plural}"
        return capitalize_first(text) if sentence_start else text
    return f"{spell_out(n, sentence_start)} {singular if n == 1 else plural}"


def join_and(items, oxford=True) -> str:
    """"a", "a and b", "a, b, and c" (serial comma unless oxford=False)."""
    items = list(items)
    if not items:
        raise ValueError("join_and needs at least one item")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"join_and items must be str, got {_type_name(item)} {item!r}")
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ("," if oxford else "") + " and " + items[-1]


def _check_date(date):
    if not isinstance(date, datetime.date):
        raise TypeError(f"expected a datetime.date, got {_type_name(date)} {date!r}")
    return date


def fmt_month_year(date) -> str:
    """"June 2015" (English month names, independent of the locale, unlike strftime %B)."""
    date = _check_date(date)
    return f"{MONTHS[date.month - 1]} {date.year}"


def fmt_date(date) -> str:
    """"July 6, 2021" (American order, English month names, locale independent)."""
    date = _check_date(date)
    return f"{MONTHS[date.month - 1]} {date.day}, {date.year}"


def fmt_p_table(p) -> str:
    """A P value for a table's P column: "0.003", "<0.001", ">0.99" (fmt_p without its label)."""
    style = active()
    d = _to_decimal(p, "p")
    if not 0 <= d <= 1:
        raise ValueError(f"p must be between 0 and 1, got {p!r}")
    relation, n = _p_parts(d, style)
    return ("" if relation == "=" else relation) + _p_number(n, style)


def fmt_ci(low, high, places=1) -> str:
    """Confidence interval bounds "12.3–45.6" (the house style's dash); "-1.2 to 3.4" when a bound prints negative.

    fmt_ci_text adds the label ("95%CI: ...").
    """
    if _to_decimal(low, "low") > _to_decimal(high, "high"):
        raise ValueError(f"need low <= high, got {low!r} > {high!r}")
    return _fmt_interval(low, high, places)


def ci_label(bounds: str, level=95) -> str:
    """Bounds already printed ("16.8–44.9") with the house style's label: "95%CI: 16.8–44.9", "95% CI, 16.8-44.9"."""
    return active().ci.format(level=level, interval=bounds)


def fmt_ci_text(low, high, places=1, level=95) -> str:
    """A confidence interval with its label, in the house style ("95%CI: 12.3–45.6")."""
    return ci_label(fmt_ci(low, high, places), level)


def capitalize_first(s) -> str:
    """Upper-case the first character only ("twenty-one MRI" -> "Twenty-one MRI")."""
    if not isinstance(s, str):
        raise TypeError(f"expected a str, got {_type_name(s)} {s!r}")
    return s[:1].upper() + s[1:]
