"""Rate: scores become grades.

The score histogram is kept up to date by every score change, so grade counts, the mean and
percentiles cost a pass over the score range, not over the citizens. A citizen's grade is a
table look-up (`Plan.grade_of`) wherever a stage needs it.
"""

from __future__ import annotations

import numpy as np

from ..engine.plan import Plan
from ..engine.state import State

PERCENTILES = (5, 25, 50, 75, 95)


def rate(plan: Plan, state: State) -> dict[str, float]:
    """Grade counts, mean score and percentiles of the scored citizens."""
    hist = state.hist
    total = int(hist.sum())
    counts = np.bincount(plan.grade_of, weights=hist, minlength=len(plan.grade_names))
    out: dict[str, float] = {f"grade_{g}": int(c) for g, c in zip(plan.grade_names, counts,
                                                                  strict=True)}
    values = np.arange(plan.pmin, plan.pmax + 1)
    out["scored"] = total
    out["mean_score"] = float(hist @ values) / total if total else float("nan")
    cum = np.cumsum(hist)
    for p in PERCENTILES:
        i = int(np.searchsorted(cum, p / 100 * total, side="left")) if total else 0
        out[f"score_p{p}"] = int(values[min(i, len(values) - 1)])
    return out
