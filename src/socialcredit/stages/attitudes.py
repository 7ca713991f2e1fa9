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
    if not (age_mask >> (people[i].flags & AGE)) & 1:
        return 0
    byte, bit = i >> 3, np.uint8(1 << (i & 7))
    if not approve[byte] & bit:
        return 0
    approve[byte] &= ~bit
    approve_n[people[i].flags & GROUP] -= 1
    return 1


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
        if r < 0:
            r = np.searchsorted(region_start, t, side="right") - 1
        local = t - region_start[r]
        f = tie(local, d, region_size[r], region_bits[r], tie_key[r])
        if f != local:
            n += turn(people, approve, approve_n, citizens, age_mask, region_start[r] + f,
                      1.0, k, 16 + d)
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


@njit(cache=True)
def _after_scores(target, actor, kind, info, old, new, people, approve, approve_n, citizens,
                  age_mask, p_pen, p_wrong, p_tie, key, region_start, region_size,
                  region_bits, tie_key, ties):
    lost = 0
    for i in range(len(target)):
        if not info[i] & APPLIED or info[i] & LISTS_ONLY or new[i] >= old[i]:
            continue
        t = target[i]
        wrongful = kind[i] <= SABOTAGE and t != actor[i]
        k = key2(key, i)
        lost += turn(people, approve, approve_n, citizens, age_mask, t,
                     p_wrong if wrongful else p_pen, k, 0)
        lost += turn_ties(people, approve, approve_n, citizens, age_mask, t, p_tie, k,
                          region_start, region_size, region_bits, tie_key, ties)
    return lost


def after_scores(plan: Plan, state: State, day: int, scored: Scored) -> int:
    """Views after today's penalties; returns how many stopped approving."""
    if not on(plan) or not len(scored.info):
        return 0
    m, rec = plan.mech, scored.records
    return int(_after_scores(rec.target, rec.actor, rec.kind, scored.info, scored.old,
                             scored.new, state.people, state.approve, state.approve_n,
                             plan.citizens, plan.att_age_mask, m[M["att_penalty"]],
                             m[M["att_wrongful"]], m[M["att_tie"]],
                             derive(plan.att_key ^ STREAM, day, 1), plan.region_start,
                             plan.region_size, plan.region_bits, plan.tie_key, plan.ties))


@njit(cache=True)
def _told_and_regained(people, approve, approve_n, citizens, age_mask, told_day, keeps,
                       regain_day, key, told_key):
    """People told the risks, and people who come round, each drawn uniformly among all
    citizens at their rate (those who hold no view are skipped), so each person is told at
    rate `told_day` exactly."""
    lost = 0
    regained = 0
    n = poisson(key2(key, 0), 0, citizens * told_day)
    k = key2(key, 1)
    for j in range(n):
        i = below(k, j, citizens)
        # whether an approver is swayed by the risks is the person's own, not the telling's:
        # told again, they answer the same
        lost += turn(people, approve, approve_n, citizens, age_mask, i, 1.0 - keeps,
                     key2(told_key, i), 0)
    n = poisson(key2(key, 2), 0, citizens * regain_day)
    k = key2(key, 3)
    for j in range(n):
        i = below(k, j, citizens)
        if holds_view(people, citizens, i, age_mask):
            byte, bit = i >> 3, np.uint8(1 << (i & 7))
            if not approve[byte] & bit:
                approve[byte] |= bit
                approve_n[people[i].flags & GROUP] += 1
                regained += 1
    return lost, regained


def told_and_regained(plan: Plan, state: State, day: int) -> tuple[int, int]:
    """Today's people told the risks and people who came round: (stopped, started)."""
    m = plan.mech
    if not on(plan) or (m[M["att_told_day"]] <= 0 and m[M["att_regain_day"]] <= 0):
        return 0, 0
    lost, regained = _told_and_regained(
        state.people, state.approve, state.approve_n, plan.citizens, plan.att_age_mask,
        m[M["att_told_day"]], m[M["att_keeps"]], m[M["att_regain_day"]],
        derive(plan.att_key ^ STREAM, day, 2), derive(plan.att_key, 1))
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
