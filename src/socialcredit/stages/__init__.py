"""The stages of one day, in order: behave, observe, score, rate, lists, gates, respond.

Each module has one entry function over the state columns and its numba kernel beside it.
"""
