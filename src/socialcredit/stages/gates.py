"""Gates: people try to use services; lists and grades deny them or grant a perk.

A gate's answer depends only on which lists a person is on, their age group and their grade,
and the census keeps how many citizens are in each such cell. So each day, for each gate and
cell, the number of attempts is one Poisson draw over the cell's people, and all of them get
the cell's answer: the cost does not grow with the population or with the attempts. Counts
are purchases or requests, not people (a person can be turned away several times; people a
list turns away try `listed_attempts` times as often as others). Outside a gate's timeline
dates nobody is denied and nobody gets a perk. A gate for children (school places) is tried
for the children of the adults in each cell, as many as there are children per adult, and
answered by the parent's cell. A gate that checks the published lists (`deny_disclosed`)
turns away, in a cell of people on a published list, the share of that list's listings that
are public today (disclose.py counts them), drawn as a Poisson stream of its own.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..engine.plan import AGE_BITS, Plan
from ..engine.random import derive, key2, poisson, stream_id
from ..engine.state import AGE, State

STREAM = stream_id("gates")


@njit(cache=True)
def _gates(census, day_key, gate_keys, rate_day, age_mask, deny_lists, deny_grades,
           perk_grades, perk_lists, listed_mult, deny_disclosed, published, public_share,
           out):
    n_masks, n_ages, n_slots = census.shape
    unscored = n_slots - 1
    for g in range(len(rate_day)):
        gk = key2(gate_keys[g], day_key)
        for m in range(n_masks):
            for a in range(n_ages):
                if not (age_mask[g] >> (a & AGE)) & 1:
                    continue
                for s in range(n_slots):
                    people = census[m, a, s]
                    if people <= 0:
                        continue
                    cell = (m * n_ages + a) * n_slots + s
                    lam = people * rate_day[g]
                    if m & deny_lists[g]:
                        lam *= listed_mult[g]  # turned away, they try again
                    graded = s < unscored
                    if (deny_disclosed[g] and m & published and not m & deny_lists[g]
                            and not (graded and (deny_grades[g] >> s) & 1)):
                        # the cell's people whose listing is public now are turned away
                        shown = 0.0
                        for li in range(len(public_share)):
                            if (m & published) >> li & 1:
                                shown = max(shown, public_share[li])
                        n = poisson(key2(gk, cell), 0, lam * shown)
                        out[g, 0] += n
                        out[g, 1] += n
                        out[g, 3] += n
                        lam *= 1.0 - shown
                        cell += n_masks * n_ages * n_slots  # a stream of its own
                    n = poisson(key2(gk, cell), 0, lam)
                    out[g, 0] += n
                    if m & deny_lists[g] or (graded and (deny_grades[g] >> s) & 1):
                        out[g, 1] += n
                        if m & deny_lists[g]:
                            out[g, 3] += n  # turned away because of a list
                    elif m & perk_lists[g] or (graded and (perk_grades[g] >> s) & 1):
                        out[g, 2] += n


def gates(plan: Plan, state: State, day: int, public_share: np.ndarray | None = None
          ) -> np.ndarray:
    """Today's (attempts, denied, perks, denied for a list) per gate, as int64[gates, 4].
    `public_share`: of each list's listings in force, the share public now (disclosure)."""
    out = np.zeros((len(plan.gate_names), 4), dtype=np.int64)
    on = ((plan.gate_days[:, 0] <= day) & (day < plan.gate_days[:, 1])).astype(np.int64)
    kids = plan.gate_children
    rate = np.where(kids, plan.gate_rate_day * plan.children_per_adult, plan.gate_rate_day)
    ages = np.where(kids, 1 << AGE_BITS["adult"], plan.gate_age_mask)
    _gates(state.census, derive(plan.seed_key ^ STREAM, day), plan.gate_keys,
           rate, ages, plan.gate_deny_lists * on,
           plan.gate_deny_grades * on, plan.gate_perk_grades * on, plan.gate_perk_lists * on,
           plan.gate_listed_mult, plan.gate_deny_disclosed * on, plan.published_mask,
           np.zeros(len(plan.list_names)) if public_share is None else public_share, out)
    return out
