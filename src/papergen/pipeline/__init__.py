"""Pipeline: build_manuscript(), the list of stage calls, with its cache and staging; makes manuscript/.

May import: every stage, the base and the utilities; never a command (a stage never imports the pipeline).
"""
