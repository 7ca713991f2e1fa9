"""Rate: scores become grades.

The score histogram is kept up to date by every score change, so grade counts, the mean and
percentiles cost a pass over the score range, not over the citizens. A citizen's grade is a
table look-up (`Plan.grade_of`) wherever a stage needs it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..engine.plan import Plan
from ..engine.state import State

PERCENTILES = (5, 25, 50, 75, 95)
_SHARES = np.array(PERCENTILES, dtype=np.float64) / 100


@njit(cache=True)
def _summary(hist, grade_of, n_grades, shares):
    """One pass over the score range: scored citizens per grade, their number, the sum of
    their scores, and for each share the index of the first score whose running count
    reaches that share of them."""
    counts = np.zeros(n_grades, dtype=np.int64)
    total = np.int64(0)
    weighted = np.int64(0)
    for v in range(len(hist)):
        counts[grade_of[v]] += hist[v]
        total += hist[v]
        weighted += hist[v] * v
    at = np.zeros(len(shares), dtype=np.int64)
    if total:
        run = np.int64(0)
        k = 0
        for v in range(len(hist)):
            run += hist[v]
            while k < len(shares) and run >= shares[k] * total:
                at[k] = v
                k += 1
        for j in range(k, len(shares)):
            at[j] = len(hist) - 1
    return counts, total, weighted, at


def rate(plan: Plan, state: State) -> dict[str, float]:
    """Grade counts, mean score and percentiles of the scored citizens."""
    counts, total, weighted, at = _summary(state.hist, plan.grade_of, len(plan.grade_names),
                                           _SHARES)
    out: dict[str, float] = {f"grade_{g}": int(c) for g, c in zip(plan.grade_names, counts,
                                                                  strict=True)}
    total = int(total)
    out["scored"] = total
    # the sum of scores is the sum of (score - pmin) plus pmin for each scored citizen
    out["mean_score"] = float(int(weighted) + plan.pmin * total) / total if total else float(
        "nan")
    for p, i in zip(PERCENTILES, at.tolist(), strict=True):
        out[f"score_p{p}"] = int(plan.pmin + i)  # the lowest score when nobody is scored
    return out
