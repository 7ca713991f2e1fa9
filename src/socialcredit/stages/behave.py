"""Behave: who commits which act today.

Pay per event: for each work block (act, region, trait class, chunk of ranks) the day's number
of acts is one Poisson draw, and each act picks its actor uniformly among the block's ranks.
A region's ranks map to citizen ids through a keyed permutation, so trait classes need no
stored column. Acts by age groups the act does not apply to are voided (actor -1); the age
group is recomputed from the citizen's trait stream, so this stage reads no citizen memory.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import Plan
from ..engine.random import below, derive, key2, permute, poisson, stream_id
from ..engine.state import FIRM, State
from ..society.traits import trait


@njit(parallel=True, cache=True)
def _count(ab_act, ab_region, ab_class, ab_n, ab_key, day_key, rate_day, mult, deter, out):
    for b in prange(len(ab_n)):
        a = ab_act[b]
        lam = ab_n[b] * rate_day[a] * mult[a, ab_class[b]] * deter[a, ab_region[b]]
        out[b] = poisson(key2(ab_key[b] ^ day_key, 0), 0, lam)


@njit(parallel=True, cache=True)
def _fill(ab_act, ab_region, ab_lo, ab_n, ab_key, day_key, count, offset, age_mask,
          region_start, region_size, region_bits, region_key, society_key, age_probs,
          region_firm, actor):
    for b in prange(len(ab_n)):
        k = key2(ab_key[b] ^ day_key, 1)
        r = ab_region[b]
        a = ab_act[b]
        o = offset[b]
        for j in range(count[b]):
            rank = ab_lo[b] + below(k, j, ab_n[b])
            local = permute(rank, region_size[r], region_bits[r], region_key[r])
            age = FIRM if region_firm[r] else trait(society_key[r], local, age_probs)[0]
            if (age_mask[a] >> age) & 1:
                actor[o + j] = region_start[r] + local
            else:
                actor[o + j] = -1


STREAM = stream_id("behave")


class Acts:
    """The day's acts, grouped by work block: actor ids (-1 void) and block offsets."""

    def __init__(self, count: np.ndarray, offset: np.ndarray, actor: np.ndarray):
        self.count = count
        self.offset = offset
        self.actor = actor


def behave(plan: Plan, state: State, day: int, deter: np.ndarray) -> Acts:
    """Draw today's acts; `deter` holds each (act, region) rate multiplier.

    An act's rate today comes from its timeline (plan.act_rates); a changed rate changes the
    Poisson counts drawn, never the stream keys, so random numbers stay common."""
    day_key = derive(plan.seed_key ^ STREAM, day)
    count = np.empty(len(plan.ab_n), dtype=np.int64)
    _count(plan.ab_act, plan.ab_region, plan.ab_class, plan.ab_n, plan.ab_key, day_key,
           plan.act_rates(day), plan.act_mult, deter, count)
    offset = np.zeros(len(count) + 1, dtype=np.int64)
    np.cumsum(count, out=offset[1:])
    actor = np.empty(int(offset[-1]), dtype=np.int64)
    _fill(plan.ab_act, plan.ab_region, plan.ab_lo, plan.ab_n, plan.ab_key, day_key, count,
          offset, plan.act_age_mask, plan.region_start, plan.region_size, plan.region_bits,
          plan.region_key, plan.society_key, plan.age_probs, plan.region_firm, actor)
    return Acts(count, offset, actor)
