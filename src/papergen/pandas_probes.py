"""numpy's probes of a pandas Series answered without building the hash table of its index (pandas 2.3).

``np.asarray(series)`` first asks the Series for ``__array_struct__`` and ``__array_interface__``. pandas answers
attribute names it does not know in ``NDFrame.__getattr__``, which looks the name up among the index labels (for
``series.label``), and for a text index that lookup builds the index's hash table: 0.5 s for the four million
composite keys of a million-patient lab table, on the plan's first ``labs[mask]``. numpy's protocol names are
never labels a codebook allows (they start with ``__``), so ``use()`` adds them to the names pandas answers as plain
attributes: the same AttributeError numpy expects, without the lookup. Written by hand because pandas offers no
switch; it changes nothing else (``series.label`` still works).
"""
from __future__ import annotations

#: the attributes numpy reads from an object before its __array__ (numpy/_core/src/multiarray/ctors.c)
NUMPY_PROBES = frozenset({"__array_struct__", "__array_interface__"})


def use() -> None:
    """Make pandas answer numpy's probes of a Series as plain attributes (idempotent; process-wide)."""
    import pandas as pd

    names = getattr(pd.Series, "_internal_names_set", None)
    if isinstance(names, (set, frozenset)) and not NUMPY_PROBES <= names:
        pd.Series._internal_names_set = set(names) | NUMPY_PROBES
