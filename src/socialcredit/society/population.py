"""Synthetic citizens from aggregate figures: region sizes, age shares, household size.

No per-person input exists. Households are runs of consecutive ids (each run's first member
is never a child); regions are id ranges; traits are pure functions of the seed and the id
(see `traits`), written here into the flags column with the region type, as is whether a
person is
outside the score (not a member of a voluntary score, or living outside its regions).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import Plan
from ..engine.random import derive, key2, stream_id, uniform
from ..engine.state import FIRM, RURAL, TRACKED, UNSCORED, State
from .traits import TRAIT_BLOCK, trait


@njit(parallel=True, cache=True)
def _generate(people, start, n, key, probs, member_key, members, scored_region, firms,
              rural):
    nb = (n + TRAIT_BLOCK - 1) // TRAIT_BLOCK
    for b in prange(nb):
        for j in range(b * TRAIT_BLOCK, min(n, (b + 1) * TRAIT_BLOCK)):
            f = FIRM if firms else trait(key, j, probs)[0]
            if rural:
                f |= RURAL
            if not scored_region or (members < 1.0
                                     and uniform(key2(member_key, start + j), 0) >= members):
                f |= UNSCORED
            people[start + j].flags = np.uint8(f)


def generate(plan: Plan, state: State) -> None:
    """Fill the citizens' fixed traits (age group, household starts, tracked cohort)."""
    member_key = derive(plan.seed_key ^ stream_id("members"), 0)
    for r in range(len(plan.region_names)):
        _generate(state.people, int(plan.region_start[r]), int(plan.region_size[r]),
                  plan.society_key[r], plan.age_probs, member_key, plan.members,
                  bool(plan.scored_regions[r]), bool(plan.region_firm[r]),
                  bool(plan.region_type[r] == 1))
    state.score[:] = plan.start_points
    rec = plan.scenario.recording
    n = plan.population
    if n <= rec.full_ledger_up_to:
        state.flags[:] |= np.uint8(TRACKED)
    elif rec.cohort > 0:
        ids = cohort(plan, min(rec.cohort, n))
        state.flags[ids] |= np.uint8(TRACKED)


def cohort(plan: Plan, size: int) -> np.ndarray:
    """`size` distinct citizen ids spread evenly over the population, same for a given seed."""
    n = plan.population
    step = n / size
    offset = float(uniform(derive(plan.seed_key, 7), 0))
    return np.unique((np.arange(size) * step + offset * step).astype(np.int64).clip(0, n - 1))
