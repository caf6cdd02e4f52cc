"""papergen: build a clinical manuscript from raw data, every number computed and traceable.

The public API an analysis plan uses: the statistics that return Values, the
formatting rules, and build_manuscript() for running a whole build.
"""
__version__ = "0.1.0"
