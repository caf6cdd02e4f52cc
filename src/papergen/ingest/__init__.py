"""Ingest: the raw data files read and checked against the codebook, then typed tables (or every problem at once).

May import: the base (study, codebook, values, ledger) and the utilities (errors, ...); no other stage.
"""
