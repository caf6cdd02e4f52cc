"""Values and the registry: printing variants, keys, and the template namespace."""
from __future__ import annotations

import pytest

from papergen.errors import PapergenError, PlanError
from papergen.values import Printed, Registry, Value


def val(key, text="1", count=None, **kw):
    kw.setdefault("exact", {"n": count, "of": 11} if count is not None else {})
    return Value(key=key, text=text, count=count, **kw)


def test_printed_variants_remember_their_value():
    v = val("n_patients", "11", count=11)
    p = v.phrase("patient", start=True)
    assert isinstance(p, Printed) and p == "Eleven patients" and p.value is v
    assert v.words() == "eleven" and v.words(start=True) == "Eleven"
    assert v.phrase("patient") == "11 patients"
    assert val("x", "0", count=0).phrase("patient", start=True) == "No patient"


def test_part_and_unknown_part():
    v = val("os.mean", "34.1 ± 3.7", parts={"se": "3.7"})
    assert v.part("se") == "3.7"
    with pytest.raises(PapergenError, match="no part 'sd'"):
        v.part("sd")


def test_words_on_a_non_count_is_refused():
    with pytest.raises(PapergenError, match="not a count"):
        val("os.mean").words()


def test_registry_rejects_duplicates_and_bad_keys():
    r = Registry()
    r.add(val("os.mean", declared_at="plan.py:10"))
    with pytest.raises(PapergenError, match="declared twice: plan.py:10"):
        r.add(val("os.mean", declared_at="plan.py:12"))
    with pytest.raises(PapergenError, match="lower-case"):
        r.add(val("OS Mean"))


def test_tree_gives_dotted_access_and_refuses_value_group_clash():
    r = Registry()
    r.add(val("os.mean", "34.1"))
    r.add(val("os.y1", "100%"))
    t = r.tree()
    assert t.os.mean.text == "34.1" and sorted(dir(t.os)) == ["mean", "y1"]
    with pytest.raises(PapergenError, match="'os' .* is also the group of 'os.mean'"):
        r.add(val("os", "x"))
    with pytest.raises(PapergenError, match="'os.mean.se' .* puts a group under 'os.mean', which is a value"):
        r.add(val("os.mean.se", "3.7"))


def test_as_dict_is_json_plain():
    import json

    import numpy as np

    v = val("x", exact={"mean": np.float64(1.5), "n": np.int64(3)})
    d = v.as_dict()
    assert json.loads(json.dumps(d))["exact"] == {"mean": 1.5, "n": 3}


@pytest.mark.parametrize("exact, text, parts, shown", [
    ({"mean": float("nan"), "sd": 1.0}, "x", {}, "exact.mean = nan"),
    ({"ci": [1.0, float("inf")]}, "x", {}, "exact.ci.1 = inf"),
    ({"value": 3}, "inf", {}, "text 'inf'"),
    ({"value": 3}, "3", {"sd": "-inf"}, "part sd '-inf'"),
])
def test_registry_refuses_a_value_that_is_not_finite_naming_the_plan_line(exact, text, parts, shown):
    v = Value(key="bad.value", text=text, exact=exact, parts=parts, declared_at="study/analysis_plan.py:42")
    with pytest.raises(PlanError) as exc:
        Registry().add(v)
    assert str(exc.value).startswith(f"study/analysis_plan.py:42: value 'bad.value' is not a finite number ({shown})")


def test_words_that_contain_nan_or_inf_are_not_numbers():
    r = Registry()
    r.add(Value(key="study.authors", text="Nan L, Li S; infection, nanoparticles", exact={"text": "x"}))
    assert len(r) == 1


def test_many_row_ids_are_kept_as_the_ledger_summary_they_print():
    """Past ROW_LIST_LIMIT a Source keeps RowIds: the summary row_list gave of the full tuple, compared,
    hashed and pickled as four small fields; up to the limit the ids stay a tuple of texts."""
    import hashlib
    import pickle

    import numpy as np
    import pandas as pd

    from papergen.values import ROW_LIST_LIMIT, RowIds, Source, row_ids, row_list

    ids = tuple(f"P{i:07d}" for i in range(5000))
    expected = {"count": 5000, "first": list(ids[:10]), "last": list(ids[-10:]),
                "sha256": hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()}
    made = row_ids(pd.Index(ids, dtype=object))
    assert isinstance(made, RowIds) and row_list(made) == expected and len(made) == 5000
    assert made == ids and made == row_ids(list(ids)) and hash(made) == hash(row_ids(list(ids)))
    assert made != ids[:-1] + ("P9999999",) and made != row_ids(ids[1:])
    src = Source("data/x.csv", ("x",), ids)  # a tuple given is summarised too
    assert isinstance(src.rows, RowIds) and src.as_dict()["rows"] == expected and src.as_dict()["n_rows"] == 5000
    assert src == Source("data/x.csv", ("x",), made)
    assert len(pickle.dumps(src)) < 1000 and pickle.loads(pickle.dumps(src)) == src
    numbers = row_ids(pd.Index(np.arange(3000)))  # ids that are not texts: str() of each, as before
    assert numbers == tuple(map(str, range(3000)))
    assert row_list(numbers)["sha256"] == hashlib.sha256("\n".join(map(str, range(3000))).encode()).hexdigest()
    small = row_ids(pd.Index(ids[:ROW_LIST_LIMIT]))
    assert type(small) is tuple and small == ids[:ROW_LIST_LIMIT]
    assert Source("data/x.csv", ("x",), ids[:3]).rows == ids[:3]


def test_row_ids_of_pyarrow_strings_are_the_summary_of_their_texts():
    """An index of pyarrow strings (a composite key, ingest.validate) gives the RowIds its texts give as Python
    strings: count, ends and sha256 of the texts joined by line breaks, here hashed by hand; a missing id or a
    short index takes the path of Python objects."""
    import hashlib

    import pandas as pd
    import pyarrow as pa

    from papergen.values import ROW_LIST_LIMIT, arrow_texts, row_ids, row_list

    ids = [f"P{i:05d} / total_bilirubin / {i % 7} é" for i in range(3000)]
    arrow = pd.Index(pd.arrays.ArrowStringArray(pa.array(ids)))
    assert str(arrow.dtype) == "string" and arrow_texts(arrow) is not None
    made = row_list(row_ids(arrow))
    assert made == {"count": 3000, "first": ids[:10], "last": ids[-10:],
                    "sha256": hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()}
    assert row_ids(arrow) == row_ids(pd.Index(ids, dtype=object)) and row_ids(arrow) != row_ids(arrow[1:])
    assert row_ids(arrow[:ROW_LIST_LIMIT]) == tuple(ids[:ROW_LIST_LIMIT])
    gap = pd.Index(pd.arrays.ArrowStringArray(pa.array(ids[:1500] + [None])))
    assert arrow_texts(gap) is None and row_list(row_ids(gap))["last"][-1] == "<NA>"
    assert arrow_texts(pd.Index(ids, dtype=object)) is None


def test_row_ids_print_each_id_as_iterating_it_gives():
    """row_ids keeps str() of what a pandas Index or a numpy array yields when iterated (a DatetimeIndex
    yields Timestamps, a numpy array of dates numpy's datetime64), as the tuple of ids did."""
    import numpy as np
    import pandas as pd

    from papergen.values import row_ids, row_list

    days = pd.date_range("2020-01-01", periods=1500, freq="D")
    for ids in (days, days.to_numpy(), np.arange(1500) / 2):
        expected = tuple(str(i) for i in ids)
        assert row_ids(ids) == expected and row_list(row_ids(ids))["first"] == list(expected[:10])
        assert row_ids(ids[:5]) == expected[:5]
