"""Gates: people try to use services; lists and grades deny them or grant a perk.

Attempts are drawn per work block (gate, region, chunk of ids) as a Poisson count, each at a
uniformly chosen citizen, so the cost is proportional to attempts. Counts are purchases or
requests, not people (a person can be turned away several times).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import Plan
from ..engine.random import below, derive, key2, poisson, stream_id
from ..engine.state import AGE, State

STREAM = stream_id("gates")


@njit(parallel=True, cache=True)
def _gates(gb_gate, gb_region, gb_lo, gb_n, gb_key, day_key, rate_day, age_mask, deny_lists,
           deny_grades, perk_grades, perk_lists, region_start, flags, lists, score, grade_of,
           pmin, scored_mask, out):
    for b in prange(len(gb_n)):
        g = gb_gate[b]
        k = key2(gb_key[b] ^ day_key, 0)
        n = poisson(k, 0, gb_n[b] * rate_day[g])
        k2 = key2(k, 1)
        base = region_start[gb_region[b]] + gb_lo[b]
        attempts = 0
        denied = 0
        perks = 0
        for j in range(n):
            cid = base + below(k2, j, gb_n[b])
            age = flags[cid] & AGE
            if not (age_mask[g] >> age) & 1:
                continue
            attempts += 1
            on = np.int64(lists[cid])
            scored = (scored_mask >> age) & 1
            grade = grade_of[score[cid] - pmin]
            if on & deny_lists[g] or (scored and (deny_grades[g] >> grade) & 1):
                denied += 1
            elif on & perk_lists[g] or (scored and (perk_grades[g] >> grade) & 1):
                perks += 1
        out[b, 0] = attempts
        out[b, 1] = denied
        out[b, 2] = perks


def gates(plan: Plan, state: State, day: int) -> np.ndarray:
    """Today's (attempts, denied, perks) per gate, as an int64[gates, 3] array."""
    out = np.zeros((len(plan.gb_n), 3), dtype=np.int64)
    _gates(plan.gb_gate, plan.gb_region, plan.gb_lo, plan.gb_n, plan.gb_key,
           derive(plan.seed_key ^ STREAM, day), plan.gate_rate_day, plan.gate_age_mask,
           plan.gate_deny_lists, plan.gate_deny_grades, plan.gate_perk_grades,
           plan.gate_perk_lists, plan.region_start, state.flags, state.lists, state.score,
           plan.grade_of, plan.pmin, plan.scored_mask, out)
    per_gate = np.zeros((len(plan.gate_names), 3), dtype=np.int64)
    np.add.at(per_gate, plan.gb_gate, out)
    return per_gate
