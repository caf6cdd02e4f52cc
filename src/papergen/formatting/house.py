"""A journal's house style for numbers: P values, intervals, ranges, ±, decimals, percent, units.

One ``HouseStyle`` is active while a study's numbers are computed and printed
(``using(style)``); every formatter of papergen.formatting reads it, so one
manuscript cannot print two styles. Profiles ship in resources/house_styles/
(one YAML file per journal, with the source of each rule); a study's
journal.yaml names one (``house_style: jama``) and may override rules.
Hand-written: no maintained library formats clinical numbers to a journal's
style (gtsummary's style_pvalue is R and knows no Lancet mid-dot).
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

#: the folder of the shipped profiles (papergen/resources/house_styles/<name>.yaml)
SHIPPED = Path(__file__).resolve().parents[1] / "resources" / "house_styles"

#: rule -> what it sets, as the journal-profile table names it
RULES = {
    "p_value": "P values (label, italic, spaces, leading zero, smallest printed)",
    "ci": "confidence intervals",
    "dash": "interval dash (CI and table ranges)",
    "range": "median (range) and median (IQR)",
    "mean_sd": "mean and SD",
    "mean_se": "mean and SE",
    "decimal": "decimal mark and thousands",
    "percent": "percent",
    "units": "units and abbreviations",
}


@dataclass(frozen=True)
class HouseStyle:
    """How one journal prints numbers; the defaults are papergen's own style (no journal named)."""

    name: str = "papergen"
    journal: str = "papergen default"
    #: P values: "P = 0.003", "P < 0.001"; ``p_spaces`` False gives "P=0.003"; no leading zero gives "P = .003"
    p_label: str = "P"
    p_italic: bool = False
    p_spaces: bool = True
    p_leading_zero: bool = True
    p_min: str = "0.001"           # smaller P values print as "P < 0.001"
    p_max: str = "0.99"            # larger ones as "P > 0.99"
    #: a confidence interval with its label: {level} (95) and {interval} ("16.8–44.9")
    ci: str = "{level}%CI: {interval}"
    #: between the bounds of an interval ("–" en dash, "-" hyphen, " to "); " to " whenever a bound is negative
    dash: str = "\u2013"
    #: median with range / IQR in running text: {median} (with unit), {low}, {high} (bounds joined by " to ")
    range: str = "{median} (range, {low} to {high})"
    iqr: str = "{median} (IQR, {low} to {high})"
    #: mean with its spread: {mean}, {spread}; a form with ± must be defined where it is printed
    mean_sd: str = "{mean} \u00b1 {spread}"
    mean_se: str = "{mean} \u00b1 {spread}"
    #: words that define the spread after a ± value ("mean ± SD"): part("defined") adds them
    sd_words: str = "mean \u00b1 SD"
    se_words: str = "mean \u00b1 SE"
    decimal: str = "."
    thousands: str = ""            # "," or a thin space; "" prints 3000
    thousands_from: int = 5        # digits from which the separator is used (AMA: 4, Lancet: 5)
    percent: str = "{value}%"
    #: unit as the analysis plan names it -> as the journal prints it ("months" -> "mo")
    units: dict = field(default_factory=dict)
    #: the widths the journal prints a figure at, in cm: one column ("single") or the page ("double");
    #: figures are drawn at their column's width, so their text is its drawn size in print (publish/figure_size.py)
    figure_columns_cm: dict = field(default_factory=lambda: {"single": 8.4, "double": 17.4})
    #: rule -> where it comes from (journal page, manual), for the profile table
    sources: dict = field(default_factory=dict)
    #: rules that no page of the journal confirms (the project's choice)
    unconfirmed: tuple = ()

    def __hash__(self) -> int:  # units and sources are dicts
        return hash((self.name, tuple(sorted(self.units.items()))))

    def __post_init__(self) -> None:
        columns = self.figure_columns_cm
        if (not isinstance(columns, dict) or set(columns) != {"single", "double"}
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 2 <= v <= 30
                           for v in columns.values()) or columns["single"] > columns["double"]):
            raise ValueError(f"figure_columns_cm must be {{single: CM, double: CM}} with 2 <= single <= double <= 30; "
                             f"got {columns!r}")

    @property
    def uses_plus_minus(self) -> bool:
        """True when a mean prints with ±, which every section printing it must then define."""
        return "\u00b1" in self.mean_sd or "\u00b1" in self.mean_se

    def unit(self, unit: str | None) -> str | None:
        """A unit as the journal prints it: "months" -> "mo" in a profile that says so."""
        return self.units.get(unit, unit) if unit else unit

    def rule_text(self, rule: str) -> str:
        """One rule as the profile table shows it (an example of the form)."""
        label = f"{self.p_label}{' = ' if self.p_spaces else '='}"
        zero = "0" if self.p_leading_zero else ""
        dec = self.decimal
        return {
            "p_value": f"{'italic ' if self.p_italic else ''}{label}{zero}{dec}003; "
                       f"{self.p_label}{' < ' if self.p_spaces else '<'}{self.p_min.replace('.', dec).lstrip('0' if not self.p_leading_zero else '')}",
            "ci": self.ci.format(level=95, interval=f"1{dec}2{self.dash}3{dec}4"),
            "dash": {"\u2013": "en dash", "-": "hyphen", " to ": "'to'"}.get(self.dash, repr(self.dash)),
            "range": self.range.format(median="4", low="2", high="43"),
            "mean_sd": self.mean_sd.format(mean=f"405{dec}6", spread=f"39{dec}4"),
            "mean_se": self.mean_se.format(mean=f"34{dec}1", spread=f"3{dec}7"),
            "decimal": f"{dec!r}, thousands {self.thousands!r} from {self.thousands_from} digits"
                       if self.thousands else f"{dec!r}, no thousands separator",
            "percent": self.percent.format(value=f"43{dec}6"),
            "units": ", ".join(f"{k}: {v}" for k, v in sorted(self.units.items())) or "as the plan names them",
        }[rule]

    def with_rules(self, overrides: dict) -> "HouseStyle":
        """This style with some rules replaced (a study's journal.yaml ``house_rules:``)."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown house-style rule {unknown[0]!r}; rules: "
                             f"{', '.join(f.name for f in dataclasses.fields(self))}")
        values = dict(overrides)
        if "units" in values:
            values["units"] = {**self.units, **values["units"]}
        if "unconfirmed" in values:
            values["unconfirmed"] = tuple(values["unconfirmed"])
        return dataclasses.replace(self, **values)


DEFAULT = HouseStyle()
_ACTIVE: contextvars.ContextVar[HouseStyle] = contextvars.ContextVar("papergen_house_style", default=DEFAULT)


def active() -> HouseStyle:
    """The house style numbers are printed in now (papergen's default outside ``using``)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def using(style: HouseStyle | None):
    """Print numbers in ``style`` inside the block (None: leave the current style)."""
    if style is None:
        yield active()
        return
    token = _ACTIVE.set(style)
    try:
        yield style
    finally:
        _ACTIVE.reset(token)


def shipped_names() -> list[str]:
    """Names of the profiles papergen ships (jama, lancet, nejm, ama, ...)."""
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def from_mapping(data: dict) -> HouseStyle:
    """A HouseStyle from a profile file's mapping (unknown keys are a ValueError naming the key)."""
    data = dict(data)
    extends = data.pop("extends", None)
    base = shipped(extends) if extends else DEFAULT
    return base.with_rules(data)


def shipped(name: str) -> HouseStyle:
    """A profile shipped with papergen, by name; an unknown name is a ValueError listing the names."""
    import yaml

    path = SHIPPED / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"house style {name!r} is not shipped with papergen; shipped: {', '.join(shipped_names())}")
    return from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
