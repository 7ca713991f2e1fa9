"""Ties' scores weigh on one's own: every `score_every_days`, each scored person's score moves
toward the mean score of their scored ties (a commercial score that counts whom you know).
A tie to someone in a `cut_grades` grade is cut with chance `cut_share` (decided per pair):
their score no longer counts; so is a tie cut when one of the two was disclosed (disclose.py),
while they are on a published list.

Every new score is computed from the old scores before any is written, so the order of
visits does not matter; the histogram and census are then counted again.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import M, Plan
from ..engine.random import key2, stream_id, uniform
from ..engine.state import State, is_scored, recount
from ..society.ties import cut_by_disclosure, tie

BLOCK = 1 << 16
CUT = stream_id("cut ties")


@njit(parallel=True, cache=True)
def _weigh(people, start, n, bits, key, ties, weight, scored_mask, cut_grades, cut_share,
           cut_key, grade_of, pmin, new, cut_of_mask, disc_key):
    nb = (n + BLOCK - 1) // BLOCK
    for b in prange(nb):
        for local in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            me = people[start + local]
            own = np.int64(me.score)
            new[local] = own
            if not is_scored(me.flags, scored_mask):
                continue
            total = 0
            count = 0
            for d in range(ties):
                f = tie(local, d, n, bits, key)
                if f == local:
                    continue
                other = people[start + f]
                if (cut_grades >> grade_of[other.score - pmin]) & 1 and uniform(
                        key2(cut_key, start + local), start + f) < cut_share:
                    continue  # they cut this tie: a low scorer no longer counts
                if cut_by_disclosure(disc_key, start + local, start + f,
                                     cut_of_mask[other.lists]):
                    continue  # cut when the other was disclosed
                if is_scored(other.flags, scored_mask):
                    total += np.int64(other.score)
                    count += 1
            if count:
                new[local] = np.int64(np.floor((1.0 - weight) * own + weight * total / count
                                               + 0.5))


@njit(parallel=True, cache=True)
def _write(people, start, new, scored_mask):
    n = len(new)
    nb = (n + BLOCK - 1) // BLOCK
    moved = np.zeros(nb, dtype=np.int64)
    for b in prange(nb):
        for j in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            p = people[start + j]
            if is_scored(p.flags, scored_mask):
                moved[b] += new[j] - np.int64(p.score)
                p.score = new[j]
    return moved.sum()


def weigh_ties(plan: Plan, state: State) -> int:
    """Move every scored person's score toward their ties' mean; returns the net points."""
    w = plan.mech[M["score_weight"]]
    moved = 0
    for r in range(len(plan.region_names)):
        start, n = int(plan.region_start[r]), int(plan.region_size[r])
        new = np.empty(n, dtype=np.int64)
        _weigh(state.people, start, n, int(plan.region_bits[r]), plan.tie_key[r], plan.ties,
               w, plan.scored_mask, plan.cut_grades, plan.mech[M["cut_share"]],
               plan.tie_key[r] ^ CUT, plan.grade_of, plan.pmin, new, plan.cut_of_mask,
               plan.disc_cut_key)
        moved += int(_write(state.people, start, new, plan.scored_mask))
    recount(plan, state)
    return moved
