"""Trace: how each number can be followed: explain, the review edition, the diff of two ledgers, the change report.

May import: publish, write, the base and the utilities; never the pipeline or a command.
"""
