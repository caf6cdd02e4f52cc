"""Analysis: the study's analysis plan run on the typed tables; Values (statistics, survival, tables) in a Registry.

May import: the base and the utilities; no other stage (it never sees templates, pandoc or the build).
"""
