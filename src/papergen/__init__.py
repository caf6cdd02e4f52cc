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
    "papergen.analysis.statistics": (
        "Measure", "Survival", "Group",
        "count", "category_count", "most_common", "parameter", "mean_sd", "median_range",
        "date_range", "listing", "date_value",
        "km_mean", "km_median", "km_median_range", "survival_at", "followup_median", "events", "logrank",
        "count_present", "median_iqr", "compare", "smd",
    ),
    "papergen.analysis.table_one": ("RowSpec",),
    "papergen.formatting": (
        "round_half_up", "fmt_number", "fmt_mean_pm", "fmt_median_range", "fmt_percent", "fmt_count_percent",
        "fmt_p", "fmt_ci", "fmt_date", "fmt_month_year", "number_to_words", "spell_out", "count_phrase",
        "join_and", "capitalize_first",
    ),
    "papergen.publish.figures": ("km_figure",),
    "papergen.analysis.tables": ("TableBuilder",),
    "papergen.analysis.plan": ("Analysis", "run_plan"),
    "papergen.pipeline.build": ("build_manuscript",),
    "papergen.values": ("Value", "Source", "Registry"),
    "papergen.write.render": ("literal",),
    "papergen.errors": ("PapergenError",),
    "papergen.study": ("StudyPaths",),
    "papergen.commands.new": ("create_study",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
#: engine modules that study code imports by their short name: ``from papergen import statistics as st``
_MODULES = {"statistics": "papergen.analysis.statistics", "models": "papergen.models"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    """Import a public name (or module) from its module on first use (PEP 562)."""
    if name in _MODULES:
        value = import_module(_MODULES[name])
    elif name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'papergen' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_MODULES))
