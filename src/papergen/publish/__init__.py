"""Publish: what leaves for the journal: the pandoc AST, DOCX, PDF, figures, the journal-profile check, STROBE.

May import: the stages below it (write), the base and the utilities; never trace, the pipeline or a command.
"""
