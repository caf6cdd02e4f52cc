"""Run a study's analysis plan: the one place where every reported number is defined.

The plan is a Python file with a function ``analysis(a)``; ``a`` is an
Analysis that gives it the validated data and records each Value it declares
with a key, a definition and the plan line that declared it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from papergen import formatting as fmt
from papergen import pandas_probes
from papergen.analysis import statistics as st
from papergen.analysis import survival as sv
from papergen.analysis.provenance import row_values
from papergen.analysis.tables import TableBuilder
from papergen.errors import AnalysisError, DataError, DataErrors, PapergenError, PlanError, StudyLayoutError
from papergen.values import Registry, RowIds, Source, Value, arrow_texts, joined_texts, key_part, row_ids


class FigureSpec:
    """A figure the plan asks for; drawn by the build from the same data."""

    def __init__(self, key: str, number: int, curves: list, options: dict, ref: Value, columns: int = 2):
        if columns not in (1, 2):
            raise AnalysisError(f"figure {key!r}: columns={columns!r}; a figure takes 1 column or 2 (the page)")
        self.key, self.number, self.curves, self.options, self.ref = key, number, curves, options, ref
        self.columns = columns  # the journal column it is drawn and placed at (publish/figure_size.py)
        self.path = f"figures/{key}.png"
        self.notes: list = []  # (Value, text) printed on the plot


@dataclass
class Identity:
    """A sum the analysis plan asserts (total = sum of parts), checked by papergen.checks."""

    total: object
    parts: list
    description: str
    declared_at: str


class Analysis:
    """What an analysis plan sees: data tables, and methods to declare values, tables, figures."""

    def __init__(self, tables: dict, plan_path: Path, root: Path, settings: dict, codebook=None):
        pandas_probes.use()  # np.asarray(series) in the plan and here builds no hash table of a text index
        self.codebook = codebook
        self.data = {name: t.frame for name, t in tables.items()}
        self._tables = tables
        self.settings = settings
        self.registry = Registry()
        self.tables: dict[str, TableBuilder] = {}
        self.figures: dict[str, FigureSpec] = {}
        self.identities: list[Identity] = []  # sums the build checks (require_sum)
        self._plan_path, self._root = plan_path.resolve(), root.resolve()
        self.km_conf_type = "log-log"  # the CI scale of every Kaplan-Meier value; a.km_ci_transform() declares it
        self._survivals_made = False

    # -- provenance ----------------------------------------------------------
    def _caller(self) -> str:
        f = sys._getframe(1)
        while f is not None and Path(f.f_code.co_filename).resolve() != self._plan_path:
            f = f.f_back
        if f is None:
            return ""
        return f"{self._plan_path.relative_to(self._root).as_posix()}:{f.f_lineno}"

    def file_of(self, table: str) -> str:
        return self._tables[table].shown_as

    def source(self, table: str, columns: list[str], rows=None, filter: str = "") -> Source:
        """Name the inputs of a value computed outside a Measure (a list, a parameter).

        Without ``rows`` the source is every row of the table, so a reviewer
        still sees which records the value came from.
        """
        rows = _index_rows(self.data[table].index, hashed=False)[0] if rows is None else row_ids(rows)
        return Source(file=self.file_of(table), columns=tuple(columns), rows=rows, filter=filter)

    def linked_rows(self, table: str, column: str):
        """Each row's row number in the table that ``column`` references (the codebook's ``references``), -1 where
        the cell is empty: each lesion's patient, for counts or maxima per patient with numpy. Validation looked
        each distinct id up once (ingest.validate.Link); the rows are checked against the frames as they are now,
        and a column the plan changed is looked up again (pandas' get_indexer)."""
        import numpy as np
        import pandas as pd

        spec = self._tables[table].spec.columns.get(column) if table in self._tables else None
        if spec is None or not spec.references:
            raise AnalysisError(f"linked_rows({table!r}, {column!r}): the codebook declares no references for "
                                f"{table}.{column} (write references: file.column under it, e.g. patients.patient_id)")
        target, _, tcol = spec.references.partition(".")
        values, targets = self.data[table][column].to_numpy(), self.data[target][tcol].to_numpy()
        link = self._tables[table].links.get(column)
        if link is not None and link.target_rows == len(targets):
            rows = link.rows()
            if len(rows) == len(values) and (rows >= 0).all() and _all_equal(targets[rows], values):
                return rows
        index = pd.Index(targets)
        if not index.is_unique:
            raise AnalysisError(f"linked_rows({table!r}, {column!r}): {target}.{tcol} holds a value on more than "
                                "one row, so a row of it cannot be named")
        rows = np.asarray(index.get_indexer(values))
        unmatched = (rows < 0) & ~pd.isna(values)
        if unmatched.any():
            raise AnalysisError(f"linked_rows({table!r}, {column!r}): {int(unmatched.sum())} rows name no row of "
                                f"{target}.{tcol} (the first: {values[np.flatnonzero(unmatched)[0]]!r})")
        return rows

    def primary_key(self, table: str) -> tuple[str, ...]:
        """The codebook's primary key of a table (the frame's index)."""
        return tuple(self._tables[table].spec.primary_key)

    def table_one(self, key: str, caption: str, table: str, groups: list, rows: list, **options) -> TableBuilder:
        """Table 1 by group in one call (papergen.table_one): n (%), summaries, missing rows, P values, SMDs."""
        from papergen.analysis.table_one import table_one

        return table_one(self, key, caption, table, groups, rows, **options)

    def cox(self, key: str, survival: st.Survival, table: str, covariates: list, **options):
        """One Cox fit, each term's HR a value ``key.<term>`` (papergen.regression.cox)."""
        from papergen.analysis.regression import cox

        return cox(self, key, survival, table, covariates, **options)

    def logistic(self, key: str, outcome: st.Measure, table: str, covariates: list, **options):
        """One logistic fit of a 0/1 outcome, each term's OR a value ``key.<term>`` (papergen.regression.logistic)."""
        from papergen.analysis.regression import logistic

        return logistic(self, key, outcome, table, covariates, **options)

    def logistic_table(self, key: str, caption: str, outcome: st.Measure, table: str, covariates: list, **options):
        """Univariable and multivariable logistic fits side by side (papergen.regression.logistic_table)."""
        from papergen.analysis.regression import logistic_table

        return logistic_table(self, key, caption, outcome, table, covariates, **options)

    def cox_table(self, key: str, caption: str, survival: st.Survival, table: str, covariates: list, **options):
        """Univariable and multivariable Cox fits side by side as a table (papergen.regression.cox_table)."""
        from papergen.analysis.regression import cox_table

        return cox_table(self, key, caption, survival, table, covariates, **options)

    def codebook_values(self, table: str, column: str) -> tuple[str, ...]:
        """Allowed values of a category column, in the codebook's order (for table rows)."""
        return self._tables[table].spec.columns[column].levels

    # -- measures ------------------------------------------------------------
    def column(self, table: str, column: str, label: str = "", where=None, filter: str = "") -> st.Measure:
        """One column of a data table as a Measure (optionally only rows where ``where`` is true)."""
        frame = self.data[table]
        if column not in frame:
            raise AnalysisError(f"analysis plan asks for {table}.{column}, which the codebook does not define")
        s = frame[column] if where is None else frame.loc[where, column]
        m = self.measure(s, table, [column], label or column, filter)
        spec = self._tables[table].spec.columns.get(column)
        if spec is not None:
            m.kind, m.levels = spec.type, spec.levels
        return m

    def measure(self, series, table: str, columns: list[str], label: str, filter: str = "") -> st.Measure:
        """A derived per-subject variable; name the table and columns it was computed from."""
        src = Source(file=self.file_of(table), columns=tuple(columns),
                     rows=_index_rows(series.index)[0], filter=filter, digest=_digest(series, label),
                     **row_values(self.data[table], series, columns, label))
        return st.Measure(series=series, source=src, label=label)

    def survival(self, time: st.Measure, event: st.Measure) -> st.Survival:
        """Time to event and its 0/1 event flag for the same subjects; CIs on the declared km_ci_transform."""
        if time.series.index is not event.series.index and list(time.series.index) != list(event.series.index):
            raise AnalysisError(f"{time.label} and {event.label} are not for the same subjects")
        self._survivals_made = True
        return st.Survival(time=time, event=event, conf_type=self.km_conf_type)

    def km_ci_transform(self, conf_type: str, key: str = "method.km_ci") -> Value:
        """Declare the scale of every Kaplan-Meier CI (R survfit's conf.type): "log-log", "log" or "plain".

        The value it registers (text "log-log", part ``words`` "log-log
        transformed", part ``r`` 'conf.type = "log-log"') is what the methods
        text prints, so the text cannot disagree with the computation. Declare
        it before the first ``a.survival(...)``. R's own default is "log";
        papergen's default, when nothing is declared, is "log-log".
        """
        sv.check_conf_type(conf_type)
        if self._survivals_made and conf_type != self.km_conf_type:
            raise AnalysisError(f"km_ci_transform({conf_type!r}) comes after a.survival(...) made curves with "
                                f"{self.km_conf_type!r}; declare it before the first a.survival(...)")
        self.km_conf_type = conf_type
        return self.value(key, _conf_type_value(conf_type),
                          "Scale on which the 95% confidence limits of Kaplan-Meier estimates are computed "
                          "(Greenwood variance; R survfit conf.type)")

    def groups(self, table: str, column: str, labels: dict | None = None,
               keys: dict | None = None) -> list[st.Group]:
        """Subgroups by a category column, in the codebook's order of values (e.g. treatment arms).

        ``labels`` maps a value to the text printed for it (table headings, figure
        legend); ``keys`` maps it to the name used in value keys (default: the value).
        """
        frame, labels, keys = self.data[table], labels or {}, keys or {}
        out = []
        for level in self.codebook_values(table, column):
            key = keys.get(level) or key_part(level)
            out.append(st.Group(key=key, label=labels.get(level, str(level)), mask=frame[column] == level,
                                filter=f"{column} = {level}"))
        return out

    def stratified(self, key: str, statistic, measure, groups: list[st.Group], definition: str,
                   overall: bool = True, **options) -> list[Value]:
        """One value per group (``key.<group>``) and, with ``overall``, for everyone (``key.all``).

        ``statistic`` is a papergen statistic taking a Measure or Survival first, e.g.
        ``a.stratified("baseline.age", st.median_range, age, arms, "Median age", unit="yr")``.
        Returns the values in group order, the overall one last: one Table 1 row.
        """
        if not definition.strip():
            raise AnalysisError(f"value {key!r} needs a definition")
        out = []
        for g in groups:
            v = statistic(measure.where(g.mask, g.filter), **options)
            v.key, v.definition, v.declared_at = f"{key}.{g.key}", f"{definition} ({g.label})", self._caller()
            out.append(self.registry.add(v))
        if overall:
            v = statistic(measure, **options)
            v.key, v.definition, v.declared_at = f"{key}.all", f"{definition} (all subjects)", self._caller()
            out.append(self.registry.add(v))
        return out

    # -- declarations --------------------------------------------------------
    def value(self, key: str, value: Value, definition: str) -> Value:
        """Register a statistic under a stable key with a definition a clinician can read."""
        if not definition.strip():
            raise AnalysisError(f"value {key!r} needs a definition")
        value.key, value.definition, value.declared_at = key, definition, self._caller()
        return self.registry.add(value)

    def text(self, key: str, text: str, definition: str, source: str = "study.yaml") -> Value:
        """A fact that is not computed from data (title, approval number), traced to its file."""
        v = Value(key=key, text=str(text), exact={"text": str(text)}, definition=definition,
                  inputs=[Source(file=source, columns=())], method={"function": "study settings"})
        v.declared_at = self._caller() or source
        return self.registry.add(v)

    def table(self, key: str, caption: str, header: list[str]) -> TableBuilder:
        number = len(self.tables) + 1
        ref = self._ref(f"ref.table_{key}", f"Table {number}", number, "table")
        t = TableBuilder(key=key, number=number, caption=caption, header=header, ref=ref)
        self.tables[key] = t
        return t

    def figure(self, key: str, curves: list[tuple[str, st.Survival]], annotate=(), ci_bands: bool = False,
               columns: int = 2, **options) -> FigureSpec:
        """A Kaplan-Meier figure of ``curves``; ``annotate`` values (a log-rank P, an HR) are printed on the plot.

        ``columns``: 1 for one journal column, 2 for the page's width (the house style's widths).

        ``ci_bands`` shades each curve's pointwise 95% band on the analysis' declared
        scale (a.km_ci_transform), the same limits the text prints.

        Text on the plot comes from registered values only, so it is traced
        like any number (its place names the figure).
        """
        number = len(self.figures) + 1
        ref = self._ref(f"ref.figure_{key}", f"Figure {number}", number, "figure")
        notes = []
        for item in annotate:  # a value, a part of one, or (words before it, value)
            words, item = item if isinstance(item, tuple) else ("", item)
            value = item if isinstance(item, Value) else getattr(item, "value", None)
            if value is None or value.key not in self.registry or any(c.isdigit() for c in words):
                raise AnalysisError(f"figure {key!r}: annotate takes registered values (or their parts), with "
                                    f"words before them that hold no digits; got {item!r}")
            notes.append((value, f"{words}{item}"))
        if notes:
            options = {**options, "note": "; ".join(text for _, text in notes)}
        if ci_bands:
            options = {**options, "ci": self.km_conf_type}
        options = {**options, **_decimal_option()}
        f = FigureSpec(key, number, curves, options, ref, columns)
        f.notes = notes
        self.figures[key] = f
        return f

    def forest(self, key: str, fit, labels: dict | None = None, xlabel: str = "Hazard ratio (log scale)",
               columns: int = 2) -> FigureSpec:
        """A forest plot of a fitted model (``a.cox(...)``): each term's ratio and CI, reference levels at 1.

        ``columns``: 1 for one journal column, 2 for the page's width (the house style's widths).

        The estimates printed beside the plot are the terms' values, traced as text on the plot.
        """
        from papergen.analysis.regression import forest_rows

        number = len(self.figures) + 1
        ref = self._ref(f"ref.figure_{key}", f"Figure {number}", number, "figure")
        rows, notes = forest_rows(fit, labels or {})
        f = FigureSpec(key, number, [], {"kind": "forest", "rows": rows, "xlabel": xlabel, **_decimal_option()}, ref,
                       columns)
        f.notes = notes
        self.figures[key] = f
        return f

    def require_sum(self, total, parts: list, description: str) -> None:
        """Declare that ``total`` equals the sum of ``parts``; the build checks it.

        Either counts (Values, or text printed from them such as a table header)
        or per-subject Measures, compared subject by subject. A violation stops the
        build with one line naming both sides and this plan line.
        """
        if not description.strip():
            raise AnalysisError("require_sum needs a description of the identity")
        self.identities.append(Identity(total, list(parts), description, self._caller()))

    def _ref(self, key: str, text: str, number: int, kind: str) -> Value:
        v = Value(key=key, text=text, exact={"number": number},
                  definition=f"Cross-reference: {kind}s are numbered in the order the analysis plan declares them.",
                  method={"function": f"{__name__}.Analysis.{kind}"})
        v.declared_at = self._caller()
        return self.registry.add(v)


def _digest(series, label: str) -> str:
    """Fingerprint of a measure (its label, subjects and values): equal only for the same data.

    Numbers, booleans and dates of numpy's own types are hashed as their bytes with their dtype (one
    sha256 over the buffer, no copy); texts joined (_text_hash); other data by pandas' hash of each value.
    """
    import numpy as np
    import pandas as pd

    h = hashlib.sha256(label.encode("utf-8") + b"\0")
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufcmM":
        values = np.ascontiguousarray(series.to_numpy())
        h.update(b"numpy\0" + values.dtype.str.encode("ascii") + b"\0")
        h.update(values.view(np.uint8))  # bytes of any dtype (dates too, which have no buffer format)
    elif _is_its_index(series):  # a key column (set_index keeps its array): its texts are hashed once, as the index
        h.update(_index_rows(series.index)[1])
    else:
        data = _text_hash(series)
        if data is None:
            plain = series.dtype == object and not series.hasnans  # same hashes without factorising first
            data = pd.util.hash_pandas_object(series, index=False, categorize=not plain).to_numpy().tobytes()
        h.update(data)
    h.update(b"\0" + _index_rows(series.index)[1])
    return h.hexdigest()[:16]


_INDEXES: list[list] = []  # [index, row ids, hash or None] of the last few indexes seen


def _is_its_index(series) -> bool:
    """Whether a Series of texts holds the very array of its index (a table's key column): the same bytes."""
    import numpy as np

    if series.dtype != object or series.index.dtype != object or series.index.nlevels != 1:
        return False
    values, ids = series.to_numpy(), series.index.to_numpy()
    return values.shape == ids.shape and values.strides == ids.strides and \
        values.__array_interface__["data"][0] == ids.__array_interface__["data"][0]


def _all_equal(a, b) -> bool:
    """Whether two arrays hold equal values at every position (numpy's ==; a comparison that fails: not equal)."""
    import numpy as np

    try:
        return bool(np.all(np.asarray(a == b, dtype=bool)))
    except (TypeError, ValueError):
        return False


def _index_rows(index, hashed: bool = True) -> tuple[tuple[str, ...] | RowIds, bytes | None]:
    """Row ids (values.row_ids) and, with ``hashed``, the hash of an index, made once: most measures of a
    plan share one index object. Without ``hashed`` (a source naming a whole table) no hash is made."""
    entry = next((e for e in _INDEXES if e[0] is index), None)
    if entry is None:  # an equal index made anew (ids.to_series()): same ids, same hash
        entry = next((e for e in _INDEXES if _same_ids(e[0], index)), None)
        entry = [index, row_ids(index), None] if entry is None else [index, entry[1], entry[2]]
        _INDEXES.insert(0, entry)
        del _INDEXES[8:]
    if hashed and entry[2] is None:
        entry[2] = _index_hash(index)
    return entry[1], entry[2]


def _index_hash(index) -> bytes:
    """The bytes _digest hashes for an index: its texts at once (_text_hash), else pandas' hash of each id."""
    import pandas as pd

    hashed = _text_hash(index)
    if hashed is None:
        # without missing ids, hashing each id (no factorising first) gives the same hashes, faster on unique ids
        plain = index.dtype == object and index.nlevels == 1 and not index.hasnans
        hashed = pd.util.hash_pandas_object(index, categorize=not plain).to_numpy().tobytes()
    return hashed


def _text_hash(data) -> bytes | None:
    """sha256 of a Series' or Index's texts joined by NUL, when every item is a text without NUL; else None.

    One join and one hash instead of pandas hashing each object; the count and
    the joined texts pin the items down, and the marker keeps these bytes apart
    from pandas' hashes of other data.
    """
    import pandas as pd

    texts = arrow_texts(data)
    if texts is not None and len(texts):  # pyarrow's strings (a composite key): the same bytes, no str per text
        import pyarrow.compute as pc

        if pc.any(pc.match_substring(texts, "\0")).as_py():
            return None
        digest = hashlib.sha256(joined_texts(texts, "\0")).digest()
        return b"texts\0" + str(len(texts)).encode("ascii") + b"\0" + digest
    if data.dtype != object or isinstance(data, pd.MultiIndex) or not len(data):
        return None
    items = data.to_numpy()  # not the Series itself: numpy's probe of its attributes builds pandas' index lookup
    if pd.api.types.infer_dtype(items, skipna=False) != "string":
        return None
    texts = items.tolist()
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:
        return None
    digest = hashlib.sha256(joined.encode("utf-8", "surrogatepass")).digest()
    return b"texts\0" + str(len(texts)).encode("ascii") + b"\0" + digest


def _same_ids(known, index) -> bool:
    """Equal indexes of whole numbers or of strings (equal there means the same text, so the same ids)."""
    if len(known) != len(index) or known.dtype != index.dtype:
        return False
    if known.dtype.kind not in "iu" and not (known.inferred_type == index.inferred_type == "string"):
        return False
    return bool(known.equals(index))


def load_plan(path: Path):
    """Import the study's analysis plan module from its file."""
    if not path.exists():
        raise StudyLayoutError(f"{path}: analysis plan not found")
    spec = importlib.util.spec_from_file_location("papergen_study_plan", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "analysis"):
        raise StudyLayoutError(f"{path}: the analysis plan must define a function analysis(a)")
    return module


def _conf_type_value(conf_type: str) -> Value:
    return Value(key="", text=conf_type, exact={"conf_type": conf_type},
                 inputs=[], method={"function": "papergen.survival.check_conf_type", "library": "numpy"},
                 parts={"words": sv.CONF_TYPES[conf_type], "r": f'conf.type = "{conf_type}"'})


def run_plan(path: Path, tables: dict, root: Path, settings: dict, codebook=None) -> Analysis:
    """Run analysis(a) and return the Analysis with every value, table and figure declared.

    Any exception the plan raises becomes a PlanError: one line naming the
    plan file:line where it happened (the innermost frame in the plan), the
    message and, where it helps, a hint (the tables' columns, the group keys).
    """
    a = Analysis(tables, path, root, settings, codebook)
    try:
        module = load_plan(path)  # the plan's top level runs here: its errors name their line too
        module.analysis(a)
        _check_conf_types(a)
    except PlanError:
        raise
    except (DataError, DataErrors, StudyLayoutError):
        raise
    except Exception as exc:  # noqa: BLE001 - every failure of the plan is reported at its plan line
        raise PlanError(_plan_message(exc, a)) from exc
    finally:
        _forget()
    return a


def _forget() -> None:
    """Let go of what the plan's caches hold (indexes, subgroups' ids, life tables: at a million patients
    hundreds of MB) once it has run: ``watch`` and ``preview`` build again in the same process."""
    _INDEXES.clear()
    st._SUBSETS.clear()
    sv._TABLES.clear()


def _decimal_option() -> dict:
    """The house style's decimal mark for a figure's axes, when it is not "." (figures drawn as before otherwise)."""
    mark = fmt.active().decimal
    return {"decimal": mark} if mark != "." else {}


def _check_conf_types(a: Analysis) -> None:
    """Every Kaplan-Meier CI uses the declared scale; one is registered (method.km_ci) for the methods text."""
    used = {v.exact["conf_type"]: v for v in a.registry if isinstance(v.exact, dict) and "conf_type" in v.exact
            and v.key != "method.km_ci"}
    declared = next((v for v in a.registry if v.key == "method.km_ci"), None)
    for conf_type, v in used.items():
        if declared is not None and conf_type != declared.exact["conf_type"]:
            raise AnalysisError(f"{v.declared_at}: {v.key} uses {conf_type!r} CIs but the analysis declares "
                                f"{declared.exact['conf_type']!r} ({declared.declared_at})")
    if declared is None and used:
        if len(used) > 1:
            raise AnalysisError(f"Kaplan-Meier values use several CI scales ({', '.join(sorted(used))}); "
                                "declare one with a.km_ci_transform(...)")
        v = _conf_type_value(next(iter(used)))
        v.key, v.declared_at = "method.km_ci", "papergen default (a.km_ci_transform was not called)"
        v.definition = ("Scale on which the 95% confidence limits of Kaplan-Meier estimates are computed "
                        "(Greenwood variance; R survfit conf.type); papergen's default")
        a.registry.add(v)


def _plan_message(exc: BaseException, a: Analysis) -> str:
    """ "study/analysis_plan.py:42: KeyError: 'group' (hint)": the innermost plan frame of the traceback."""
    where, shown = "", a._plan_path.relative_to(a._root).as_posix()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).resolve() == a._plan_path:
            where = f"{shown}:{frame.lineno}"
            break
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == a._plan_path:
        return f"{shown}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"  # the plan did not compile: no frame of it ran
    text = str(exc)
    if where and text.startswith(where):  # the message already names its plan line
        return text
    name = "" if isinstance(exc, PapergenError) else f"{type(exc).__name__}: "
    hint = _hint(exc, a)
    return f"{where or a._plan_path.name}: {name}{text}{'; ' + hint if hint else ''}"


def _hint(exc: BaseException, a: Analysis) -> str:
    """A short hint for a missing key: the tables, a table's columns, or the values registered under a prefix."""
    if not isinstance(exc, KeyError) or not exc.args:
        return ""
    missing = str(exc.args[0])
    if missing not in a.data and all(missing not in f.columns for f in a.data.values()):
        tables = ", ".join(a.data)
        columns = "; ".join(f"{t}: {', '.join(map(str, f.columns[:12]))}{' ...' if len(f.columns) > 12 else ''}"
                            for t, f in a.data.items())
        return f"no table or column is named {missing!r} (tables: {tables}; columns: {columns})"
    return ""
