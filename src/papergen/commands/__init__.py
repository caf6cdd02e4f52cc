"""Commands: what ``python build.py COMMAND`` runs (build, check, diff, explain, new, pack, preview,
watch; server: the preview's web server).

May import: the pipeline, every stage, the base and the utilities; never papergen.cli (the dispatch table above them).
"""
