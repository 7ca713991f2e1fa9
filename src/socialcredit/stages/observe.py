"""Observe: which acts become known, through which channel, and on whose record.

Each channel that watches an act sees it with its coverage for the actor's region type; the
first channel that sees it records it. With the channel's misattribution rate the record lands
on another scored citizen of the same region: the ledger marks it wrongful, the citizen cannot
tell. With informants on, an informant channel records an act only when one of the actor's
ties is an informant (the first one found reports it, and can be rewarded); its coverage is
then the chance that they report what they know. Draws are keyed by work block, position in it
and channel name, so adding a channel or a rule leaves every other draw unchanged.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import M, Plan
from ..engine.random import below, derive, key2, stream_id, uniform
from ..engine.state import FIRM, State
from ..society.ties import informs, tie
from ..society.traits import trait
from .behave import Acts

STREAM = stream_id("observe")


@njit(parallel=True, cache=True)
def _observe(ab_act, ab_region, ab_key, day_key, count, offset, actor, act_channels,
             channel_key, channel_cov, channel_mis, region_start, region_size, region_type,
             society_key, age_probs, scored_mask, channel_informant, informed, inform_share,
             informant_key, ties, region_bits, tie_key, region_firm, lists, black_mask,
             channel_cov_listed, channel, target, reporter, committed, observed):
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
            if informed:
                reporter[e] = -1
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
                cov = channel_cov[ch, rtype]
                if channel_cov_listed[ch] >= 0 and lists[cid] & black_mask:
                    cov = channel_cov_listed[ch]  # e.g. more inspections when blacklisted
                if uniform(ck, 0) < cov:
                    rep = -1
                    if informed and channel_informant[ch]:
                        # the actor's ties know; the first informant among them reports it
                        local = cid - region_start[r]
                        first = below(ck, 3, max(ties, 1))
                        for j in range(ties):
                            f = tie(local, (first + j) % ties, region_size[r], region_bits[r],
                                    tie_key[r])
                            if f != local and informs(informant_key, region_start[r] + f,
                                                      inform_share):
                                rep = region_start[r] + f
                                break
                        if rep < 0:
                            continue
                        reporter[e] = rep
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
                            age = (FIRM if region_firm[r]
                                   else trait(society_key[r], local, age_probs)[0])
                            if other != cid and (scored_mask >> age) & 1:
                                target[e] = other
                                break
                    break
        committed[b] = n_committed
        observed[b] = n_observed


class Observed:
    """Per act: channel (-1 unseen) and the citizen whose record it lands on."""

    def __init__(self, channel, target, reporter, committed, observed):
        self.channel = channel
        self.target = target
        self.reporter = reporter  # informant who reported it (-1 none; empty if no informants)
        self.committed = committed  # per work block
        self.observed = observed


def observe(plan: Plan, state: State, day: int, acts: Acts) -> Observed:
    """Decide which of today's acts are seen and on whose record they land."""
    n = len(acts.actor)
    channel = np.empty(n, dtype=np.int8)
    target = np.empty(n, dtype=np.int64)
    committed = np.empty(len(acts.count), dtype=np.int64)
    observed = np.empty(len(acts.count), dtype=np.int64)
    informed = bool(plan.mech[M["inform_on"]])
    reporter = np.empty(n if informed else 0, dtype=np.int64)
    _observe(plan.ab_act, plan.ab_region, plan.ab_key, derive(plan.seed_key ^ STREAM, day),
             acts.count, acts.offset, acts.actor, plan.act_channels, plan.channel_key,
             plan.channel_cov,
             plan.channel_mis, plan.region_start, plan.region_size, plan.region_type,
             plan.society_key, plan.age_probs, plan.scored_mask, plan.channel_informant,
             informed, plan.mech[M["inform_share"]], plan.informant_key, plan.ties,
             plan.region_bits, plan.tie_key, plan.region_firm, state.lists, plan.black_mask,
             plan.channel_cov_listed, channel, target, reporter, committed, observed)
    return Observed(channel, target, reporter, committed, observed)
