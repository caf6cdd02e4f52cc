"""Commands: what ``python build.py COMMAND`` runs (build, check, diff, explain, new, pack, watch).

May import: the pipeline, every stage, the base and the utilities; never papergen.cli (the dispatch table above them).
"""
