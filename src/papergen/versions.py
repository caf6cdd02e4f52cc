"""Installed versions of the packages that did the work, looked up once per process.

importlib.metadata scans every folder of sys.path on each lookup (about 4 ms);
a build asks for the same dozen packages some sixty times (ledger, methods
section, build metadata), so each answer is kept.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import metadata


@lru_cache(maxsize=None)
def package_version(name: str) -> str | None:
    """Version of the installed distribution ``name``; None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
