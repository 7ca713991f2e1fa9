"""Synthetic society: citizens generated from aggregate figures only.

`traits` gives a citizen's fixed traits as a pure function of seed and id; `population`
writes them into the state columns.
"""
