"""A citizen's fixed traits as a pure function of the seed and their place in their region.

Age group and household start are drawn from a counter-based stream keyed by the region and
the citizen's position, so any stage can recompute them without touching memory; the society
generator writes the same values into the flags column for the stages that read it there.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..engine.random import GOLDEN, mix

TRAIT_BLOCK = 1 << 18
"""Citizens per work block when writing traits."""
INV32 = 1.0 / 4294967296.0


def age_probabilities(child: float, adult: float, elder: float, household: float) -> np.ndarray:
    """[p_head, head_adult, p_child, p_adult]: age probabilities that give the overall shares.

    One in `household` people starts a household; heads are adults or elders in their overall
    proportion, and the other members make up the rest of each share.
    """
    h = 1.0 / household
    head_adult = adult / (adult + elder)
    if h >= 1.0:
        return np.array([1.0, head_adult, 0.0, 1.0])
    c = min(1.0, child / (1.0 - h))
    a = (adult - h * head_adult) / (1.0 - h)
    a = min(max(a, 0.0), 1.0 - c)
    return np.array([h, head_adult, c, a])


@njit(inline="always", cache=True)
def trait(key, j, probs):
    """(age group, starts a household) of the j-th citizen of the region keyed `key`.

    One hash gives two 32-bit uniforms: one decides the household start, one the age.
    """
    h = mix(key ^ (GOLDEN * (np.uint64(j) + np.uint64(1))))
    u_head = (h >> np.uint64(32)) * INV32
    u_age = (h & np.uint64(0xFFFFFFFF)) * INV32
    if j == 0 or u_head < probs[0]:
        return (1 if u_age < probs[1] else 2), True
    if u_age < probs[2]:
        return 0, False
    return (1 if u_age < probs[2] + probs[3] else 2), False


@njit(cache=True)
def representative(firm, region_start, region_size, region_home, society_key, probs, key):
    """The citizen who is the legal representative of agent `firm` (a firm): an adult of the
    firm's home region, a pure function of the seed and the firm's id."""
    r = np.searchsorted(region_start, firm, side="right") - 1
    h = region_home[r]
    n = region_size[h]
    local = 0
    for t in range(32):
        x = mix(key ^ (GOLDEN * (np.uint64(firm) + np.uint64(1))) ^ np.uint64(t))
        local = np.int64(x % np.uint64(n))
        if trait(society_key[h], local, probs)[0] == 1:
            break
    return region_start[h] + local
