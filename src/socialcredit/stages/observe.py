"""Observe: which acts become known, through which channel, and on whose record.

Each channel that watches an act sees it with its coverage for the actor's region type; the
first channel that sees it records it. With the channel's misattribution rate the record lands
on another scored citizen of the same region: the ledger marks it wrongful, the citizen cannot
tell. Draws are keyed by work block, position in it and channel name, so adding a channel or
a rule leaves every other draw unchanged.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import Plan
from ..engine.random import below, derive, key2, stream_id, uniform
from ..engine.state import State
from ..society.traits import trait
from .behave import Acts

STREAM = stream_id("observe")


@njit(parallel=True, cache=True)
def _observe(ab_act, ab_region, ab_key, day_key, count, offset, actor, act_channels,
             channel_key, channel_cov, channel_mis, region_start, region_size, region_type,
             society_key, age_probs, scored_mask, channel, target, committed, observed):
    for b in prange(len(count)):
        a = ab_act[b]
        r = ab_region[b]
        rtype = region_type[r]
        bk = key2(ab_key[b] ^ day_key, 2)
        n_committed = 0
        n_observed = 0
        for j in range(count[b]):
            e = offset[b] + j
            channel[e] = -1
            target[e] = -1
            cid = actor[e]
            if cid < 0:
                continue
            n_committed += 1
            ek = key2(bk, j)
            for c in range(act_channels.shape[1]):
                ch = act_channels[a, c]
                if ch < 0:
                    break
                ck = key2(ek, channel_key[ch])
                if uniform(ck, 0) < channel_cov[ch, rtype]:
                    channel[e] = ch
                    target[e] = cid
                    n_observed += 1
                    if uniform(ck, 1) < channel_mis[ch]:
                        # Someone else in the region is put on record, if a scored
                        # citizen turns up within a few draws.
                        sk = key2(ck, 2)
                        for t in range(16):
                            local = below(sk, t, region_size[r])
                            other = region_start[r] + local
                            age, _ = trait(society_key[r], local, age_probs)
                            if other != cid and (scored_mask >> age) & 1:
                                target[e] = other
                                break
                    break
        committed[b] = n_committed
        observed[b] = n_observed


class Observed:
    """Per act: channel (-1 unseen) and the citizen whose record it lands on."""

    def __init__(self, channel, target, committed, observed):
        self.channel = channel
        self.target = target
        self.committed = committed  # per work block
        self.observed = observed


def observe(plan: Plan, state: State, day: int, acts: Acts) -> Observed:
    """Decide which of today's acts are seen and on whose record they land."""
    n = len(acts.actor)
    channel = np.empty(n, dtype=np.int8)
    target = np.empty(n, dtype=np.int64)
    committed = np.empty(len(acts.count), dtype=np.int64)
    observed = np.empty(len(acts.count), dtype=np.int64)
    _observe(plan.ab_act, plan.ab_region, plan.ab_key, derive(plan.seed_key ^ STREAM, day),
             acts.count, acts.offset, acts.actor, plan.act_channels, plan.channel_key,
             plan.channel_cov,
             plan.channel_mis, plan.region_start, plan.region_size, plan.region_type,
             plan.society_key, plan.age_probs, plan.scored_mask, channel, target, committed,
             observed)
    return Observed(channel, target, committed, observed)
