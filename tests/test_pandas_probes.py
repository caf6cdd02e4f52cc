"""pandas_probes: numpy's probes of a Series answered without building its index's hash table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from papergen import pandas_probes


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]"])
def test_asarray_of_a_series_with_a_text_index_builds_no_hash_table(dtype):
    pandas_probes.use()
    s = pd.Series(np.arange(5.0), index=pd.Index([f"P{i} / 1" for i in range(5)], dtype=dtype))
    assert np.array_equal(np.asarray(s), np.arange(5.0))
    assert "_engine" not in s.index._cache  # pandas keeps the hash table there once made
    s.loc["P3 / 1"]  # a lookup still makes it
    assert "_engine" in s.index._cache


def test_labels_read_as_attributes_and_the_probes_are_still_missing():
    pandas_probes.use()
    pandas_probes.use()  # twice: the same
    s = pd.Series([1, 2], index=["alpha", "beta"])
    assert s.beta == 2
    for name in pandas_probes.NUMPY_PROBES:
        assert not hasattr(s, name)
    assert pandas_probes.NUMPY_PROBES <= pd.Series._internal_names_set
