"""papergen: build a clinical manuscript from raw data, every number computed and traceable.

The public API an analysis plan uses: the statistics that return Values
(``papergen.km_median``, ``papergen.category_count``, ...), the formatting rules
(``papergen.fmt_p``, ...), figures and tables, ``Analysis`` (what the plan's
``analysis(a)`` receives) and ``build_manuscript()`` for running a whole build.
Names are imported on first use, so ``import papergen`` stays light (no pandas,
numpy or matplotlib until a statistic or figure is asked for).
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "papergen.statistics": (
        "Measure", "Survival", "Group",
        "count", "category_count", "most_common", "parameter", "mean_sd", "median_range",
        "date_range", "listing", "date_value",
        "km_mean", "km_median", "km_median_range", "survival_at", "followup_median", "events", "logrank",
    ),
    "papergen.formatting": (
        "round_half_up", "fmt_number", "fmt_mean_pm", "fmt_median_range", "fmt_percent", "fmt_count_percent",
        "fmt_p", "fmt_ci", "fmt_date", "fmt_month_year", "number_to_words", "spell_out", "count_phrase",
        "join_and", "capitalize_first",
    ),
    "papergen.figures": ("km_figure",),
    "papergen.tables": ("TableBuilder",),
    "papergen.plan": ("Analysis", "run_plan"),
    "papergen.build": ("build_manuscript",),
    "papergen.values": ("Value", "Source", "Registry"),
    "papergen.render": ("literal",),
    "papergen.errors": ("PapergenError",),
    "papergen.paths": ("StudyPaths",),
    "papergen.scaffold": ("create_study",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    """Import a public name from its module on first use (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'papergen' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
