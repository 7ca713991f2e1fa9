"""Attitudes: each adult approves of the system or not (R11), and what they meet moves it.

One bit per citizen says whether they approve; counts per census group are kept as bits
change, so the daily share costs nothing. At the start a share `approval` approves. Then an
approver turns against the system, with a chance of its own, when penalised, when penalised
for an act they did not commit, when put on a black list, when turned away at a gate
because of a list, when their listing is made public, and when a tie is penalised or
disclosed. People are told the risks at a rate; a share `told_keeps` of approvers still
approve once told (R11: 29% of 53%), the same people however often they are told. Someone
who disapproves may come to approve again at `regain_per_year`. The form of all this is
assumed; R11 gives only the starting share and the effect of being told.

Everything is paid per event: the people penalised, listed, disclosed and turned away today,
and Poisson draws of the people told or regained. Changes are made in one thread, in a fixed
order, from counter-based streams, so results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import M, Plan
from ..engine.random import below, derive, key2, poisson, stream_id, uniform
from ..engine.state import AGE, GROUP, GROUPS, State
from ..society.ties import tie
from .score import APPLIED, LISTS_ONLY, SABOTAGE, Scored

STREAM = stream_id("attitudes")


def on(plan: Plan) -> bool:
    return bool(plan.mech[M["att_on"]])


@njit(inline="always", cache=True)
def holds_view(people, citizens, i, age_mask):
    return i < citizens and (age_mask >> (people[i].flags & AGE)) & 1


@njit(inline="always", cache=True)
def turn(people, approve, approve_n, citizens, age_mask, i, chance, k, j):
    """Citizen `i`, if an approver, stops approving with `chance` (draw j of stream k);
    returns 1 if they did. The draw comes first: most events turn nobody, and then the
    citizen's record is never read."""
    if chance <= 0 or i >= citizens or (chance < 1.0 and uniform(k, j) >= chance):
        return 0
    byte, bit = i >> 3, np.uint8(1 << (i & 7))
    if not approve[byte] & bit:  # the bit first: it lies in a far smaller array
        return 0
    if not (age_mask >> (people[i].flags & AGE)) & 1:
        return 0
    approve[byte] &= ~bit
    approve_n[people[i].flags & GROUP] -= 1
    return 1


@njit(inline="always", cache=True)
def _tie_of(t, r, d, region_start, region_size, region_bits, tie_key):
    """(t's region, t's tie d as a citizen id, or -1 where the tie is t); `r` is t's region
    if known, else -1, found once."""
    if r < 0:
        r = np.searchsorted(region_start, t, side="right") - 1
    local = t - region_start[r]
    f = tie(local, d, region_size[r], region_bits[r], tie_key[r])
    return r, (region_start[r] + f if f != local else -1)


@njit(cache=True)
def turn_ties(people, approve, approve_n, citizens, age_mask, t, chance, k, region_start,
              region_size, region_bits, tie_key, ties):
    """Each tie of `t` stops approving with `chance`, if an approver; returns how many did.
    The draw comes first, so a tie is looked up only when it may turn."""
    if chance <= 0 or ties == 0:
        return 0
    n = 0
    r = -1
    for d in range(ties):
        if uniform(k, 16 + d) >= chance:
            continue
        r, f = _tie_of(t, r, d, region_start, region_size, region_bits, tie_key)
        if f >= 0:
            n += turn(people, approve, approve_n, citizens, age_mask, f, 1.0, k, 16 + d)
    return n


@njit(parallel=True, cache=True)
def _seed(people, approve, citizens, age_mask, share, key, groups):
    """The starting views: each citizen who holds one approves with chance `share`; returns
    the approvers per census group."""
    nbytes = len(approve)
    nb = (nbytes + (1 << 17) - 1) >> 17
    part = np.zeros((nb, groups), dtype=np.int64)
    for b in prange(nb):
        for byte in range(b << 17, min(nbytes, (b + 1) << 17)):
            v = 0
            for bit in range(8):
                i = (byte << 3) + bit
                if holds_view(people, citizens, i, age_mask) and uniform(key, i) < share:
                    v |= 1 << bit
                    part[b, people[i].flags & GROUP] += 1
            approve[byte] = v
    return part.sum(axis=0)


def seed(plan: Plan, state: State) -> None:
    """Set everyone's starting view (nobody approves when attitudes are off)."""
    state.approve[:] = 0
    state.approve_n[:] = 0
    if on(plan):
        state.approve_n[:] = _seed(state.people, state.approve, plan.citizens,
                                   plan.att_age_mask, plan.mech[M["att_start"]],
                                   derive(plan.att_key, 0), GROUPS)


@njit(inline="always", cache=True)
def _who_may_turn(i, target, actor, kind, info, old, new, p_pen, p_wrong, p_tie, key,
                  region_start, region_size, region_bits, tie_key, ties, out):
    """Record i's penalty: the people whose own draw says they may stop approving (the
    person, then each tie), written to `out` if given; returns how many."""
    if not info[i] & APPLIED or info[i] & LISTS_ONLY or new[i] >= old[i]:
        return 0
    t = target[i]
    wrongful = kind[i] <= SABOTAGE and t != actor[i]
    k = key2(key, i)
    chance = p_wrong if wrongful else p_pen
    m = 0
    if chance > 0 and (chance >= 1.0 or uniform(k, 0) < chance):
        if len(out):
            out[m] = t
        m += 1
    if p_tie <= 0 or ties == 0:
        return m
    r = -1
    for d in range(ties):
        if uniform(k, 16 + d) >= p_tie:
            continue
        r, f = _tie_of(t, r, d, region_start, region_size, region_bits, tie_key)
        if f >= 0:
            if len(out):
                out[m] = f
            m += 1
    return m


@njit(parallel=True, cache=True)
def _candidates(target, actor, kind, info, old, new, p_pen, p_wrong, p_tie, key, region_start,
                region_size, region_bits, tie_key, ties):
    """Everyone today's penalties may turn, in the records' order (the draws, in parallel)."""
    n = len(target)
    nc = (n + 4095) >> 12
    per = np.zeros(n + 1, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    for c in prange(nc):
        for i in range(c << 12, min(n, (c + 1) << 12)):
            per[i + 1] = _who_may_turn(i, target, actor, kind, info, old, new, p_pen, p_wrong,
                                       p_tie, key, region_start, region_size, region_bits,
                                       tie_key, ties, none)
    for i in range(n):
        per[i + 1] += per[i]
    out = np.empty(per[n], dtype=np.int64)
    for c in prange(nc):
        for i in range(c << 12, min(n, (c + 1) << 12)):
            if per[i + 1] > per[i]:
                _who_may_turn(i, target, actor, kind, info, old, new, p_pen, p_wrong, p_tie,
                              key, region_start, region_size, region_bits, tie_key, ties,
                              out[per[i]:per[i + 1]])
    return out


@njit(cache=True)
def _turn_all(who, people, approve, approve_n, citizens, age_mask):
    """Each of `who`, in order, stops approving if an approver; returns how many did. Each
    batch's approval bytes are touched first, so their misses overlap."""
    lost = 0
    sink = np.uint8(0)
    for b in range(0, len(who), 64):
        end = min(len(who), b + 64)
        for j in range(b, end):
            if who[j] < citizens:
                sink |= approve[who[j] >> 3]
        for j in range(b, end):
            lost += turn(people, approve, approve_n, citizens, age_mask, who[j], 1.0, 0, 0)
    return lost, sink


def after_scores(plan: Plan, state: State, day: int, scored: Scored) -> int:
    """Views after today's penalties; returns how many stopped approving."""
    if not on(plan) or not len(scored.info):
        return 0
    m, rec = plan.mech, scored.records
    who = _candidates(rec.target, rec.actor, rec.kind, scored.info, scored.old, scored.new,
                      m[M["att_penalty"]], m[M["att_wrongful"]], m[M["att_tie"]],
                      derive(plan.att_key ^ STREAM, day, 1), plan.region_start,
                      plan.region_size, plan.region_bits, plan.tie_key, plan.ties)
    return int(_turn_all(who, state.people, state.approve, state.approve_n, plan.citizens,
                         plan.att_age_mask)[0])


@njit(parallel=True, cache=True)
def _told_draws(key, told_key, citizens, told_day, keeps, regain_day):
    """Today's draws, in parallel: the people told the risks whose own draw says they would
    stop approving, and the people who may come round, each in draw order."""
    chance = 1.0 - keeps
    told = np.empty(poisson(key2(key, 0), 0, citizens * told_day), dtype=np.int64)
    sways = np.zeros(len(told), dtype=np.bool_)
    k = key2(key, 1)
    for c in prange((len(told) + 4095) >> 12):
        for j in range(c << 12, min(len(told), (c + 1) << 12)):
            i = below(k, j, citizens)
            told[j] = i
            # whether an approver is swayed by the risks is the person's own, not the
            # telling's: told again, they answer the same
            sways[j] = chance > 0 and (chance >= 1.0 or uniform(key2(told_key, i), 0) < chance)
    regain = np.empty(poisson(key2(key, 2), 0, citizens * regain_day), dtype=np.int64)
    k = key2(key, 3)
    for c in prange((len(regain) + 4095) >> 12):
        for j in range(c << 12, min(len(regain), (c + 1) << 12)):
            regain[j] = below(k, j, citizens)
    return told[sways], regain


@njit(cache=True)
def _regain_all(who, people, approve, approve_n, citizens, age_mask):
    """Each of `who` who holds a view and does not approve comes round; returns how many.
    Each batch's approval bytes are touched first, so their misses overlap."""
    regained = 0
    sink = np.uint8(0)
    for b in range(0, len(who), 64):
        end = min(len(who), b + 64)
        for j in range(b, end):
            sink |= approve[who[j] >> 3]
        for j in range(b, end):
            i = who[j]
            byte, bit = i >> 3, np.uint8(1 << (i & 7))
            if approve[byte] & bit:
                continue
            if holds_view(people, citizens, i, age_mask):
                approve[byte] |= bit
                approve_n[people[i].flags & GROUP] += 1
                regained += 1
    return regained, sink


def told_and_regained(plan: Plan, state: State, day: int) -> tuple[int, int]:
    """Today's people told the risks and people who came round: (stopped, started)."""
    m = plan.mech
    if not on(plan) or (m[M["att_told_day"]] <= 0 and m[M["att_regain_day"]] <= 0):
        return 0, 0
    told, regain = _told_draws(derive(plan.att_key ^ STREAM, day, 2), derive(plan.att_key, 1),
                               plan.citizens, m[M["att_told_day"]], m[M["att_keeps"]],
                               m[M["att_regain_day"]])
    # first everyone told, then everyone who comes round, as the draws were made
    lost = _turn_all(told, state.people, state.approve, state.approve_n, plan.citizens,
                     plan.att_age_mask)[0]
    regained = _regain_all(regain, state.people, state.approve, state.approve_n,
                           plan.citizens, plan.att_age_mask)[0]
    return int(lost), int(regained)


def holders(plan: Plan, state: State) -> np.ndarray:
    """People who hold a view, per census group (from the census)."""
    per_group = state.census.sum(axis=(0, 2))
    groups = np.arange(GROUPS)
    return np.where((plan.att_age_mask >> (groups & AGE)) & 1, per_group, 0)


def approval(plan: Plan, state: State) -> float | None:
    """Share of those who hold a view who approve now (None when attitudes are off)."""
    if not on(plan):
        return None
    n = int(holders(plan, state).sum())
    return float(state.approve_n.sum()) / n if n else 0.0
