"""Synthetic citizens from aggregate figures: region sizes, age shares, household size.

No per-person input exists. Households are runs of consecutive ids (a flag marks each run's
first member, who is never a child); regions are id ranges; everything is drawn from
counter-based streams per block of ids, so a citizen's traits depend only on the seed and
the id.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import BLOCK, Plan
from ..engine.random import derive, key2, stream_id, uniform
from ..engine.state import HEAD, TRACKED, State


def age_probabilities(child: float, adult: float, elder: float, household: float):
    """Age probabilities for household heads and other members that give the overall shares.

    Heads (one in `household` people) are adults or elders in their overall proportion;
    the other members make up the rest of each share.
    """
    h = 1.0 / household
    head_adult = adult / (adult + elder)
    if h >= 1.0:
        return head_adult, 0.0, 1.0
    c = min(1.0, child / (1.0 - h))
    a = (adult - h * head_adult) / (1.0 - h)
    a = min(max(a, 0.0), 1.0 - c)
    return head_adult, c, a


@njit(parallel=True, cache=True)
def _generate(flags, start, n, seed_key, p_head, head_adult, p_child, p_adult):
    nb = (n + BLOCK - 1) // BLOCK
    for b in prange(nb):
        k = key2(seed_key, b)
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        for j in range(lo, hi):
            u_head = uniform(k, 2 * (j - lo))
            u_age = uniform(k, 2 * (j - lo) + 1)
            head = j == 0 or u_head < p_head
            if head:
                age = 1 if u_age < head_adult else 2
                flags[start + j] = np.uint8(age | HEAD)
            else:
                age = 0 if u_age < p_child else (1 if u_age < p_child + p_adult else 2)
                flags[start + j] = np.uint8(age)


def generate(plan: Plan, state: State) -> None:
    """Fill the citizens' fixed traits (age group, household starts, tracked cohort)."""
    soc = plan.scenario.society
    head_adult, p_child, p_adult = age_probabilities(
        soc.ages.child, soc.ages.adult, soc.ages.elder, soc.household_size)
    for r in range(len(plan.region_names)):
        rkey = derive(plan.seed_key ^ stream_id("society"), r)
        _generate(state.flags, int(plan.region_start[r]), int(plan.region_size[r]), rkey,
                  1.0 / soc.household_size, head_adult, p_child, p_adult)
    state.score[:] = plan.start_points
    rec = plan.scenario.recording
    n = plan.population
    if n <= rec.full_ledger_up_to:
        state.flags |= np.uint8(TRACKED)
    elif rec.cohort > 0:
        state.flags[cohort(plan, min(rec.cohort, n))] |= np.uint8(TRACKED)


def cohort(plan: Plan, size: int) -> np.ndarray:
    """`size` distinct citizen ids spread evenly over the population, same for a given seed."""
    n = plan.population
    step = n / size
    offset = float(uniform(derive(plan.seed_key, 7), 0))
    return np.unique((np.arange(size) * step + offset * step).astype(np.int64).clip(0, n - 1))
