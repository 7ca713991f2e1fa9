"""Score: rules turn recorded acts into points, and points can put a person on a list.

Recorded acts are sorted by the shard of the citizen they land on, and shards are processed in
parallel, each in a fixed order, so no two threads touch one citizen and the result does not
depend on the thread count. A listing is wrongful when, without the points lost to acts the
person did not commit, they would not be on the list.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import Plan
from ..engine.state import AGE, OFFENCE_SHIFT, OFFENCES, TRACKED, State
from .behave import Acts
from .observe import Observed

SHARD_BITS = 16


@njit(parallel=True, cache=True)
def _select(ab_act, count, offset, channel, rule_has):
    """Recorded acts that a rule scores, in block order (two parallel passes)."""
    nb = len(count)
    per = np.zeros(nb + 1, dtype=np.int64)
    for b in prange(nb):
        c = 0
        if rule_has[ab_act[b]]:
            for e in range(offset[b], offset[b] + count[b]):
                if channel[e] >= 0:
                    c += 1
        per[b + 1] = c
    for b in range(nb):
        per[b + 1] += per[b]
    ev = np.empty(per[nb], dtype=np.int64)
    act = np.empty(per[nb], dtype=np.int64)
    for b in prange(nb):
        a = ab_act[b]
        if not rule_has[a]:
            continue
        i = per[b]
        for e in range(offset[b], offset[b] + count[b]):
            if channel[e] >= 0:
                ev[i] = e
                act[i] = a
                i += 1
    return ev, act


CHUNKS = 16


@njit(parallel=True, cache=True)
def _shard_order(ev, target, n_shards):
    """A stable counting sort of events by the shard of their target, in parallel chunks."""
    n = len(ev)
    size = (n + CHUNKS - 1) // CHUNKS
    counts = np.zeros((CHUNKS, n_shards), dtype=np.int64)
    for c in prange(CHUNKS):
        for i in range(c * size, min(n, (c + 1) * size)):
            counts[c, target[ev[i]] >> SHARD_BITS] += 1
    start = np.empty(n_shards + 1, dtype=np.int64)
    total = 0
    for s in range(n_shards):
        start[s] = total
        for c in range(CHUNKS):
            k = counts[c, s]
            counts[c, s] = total
            total += k
    start[n_shards] = total
    order = np.empty(n, dtype=np.int64)
    for c in prange(CHUNKS):
        for i in range(c * size, min(n, (c + 1) * size)):
            s = target[ev[i]] >> SHARD_BITS
            order[counts[c, s]] = i
            counts[c, s] += 1
    return order, start


APPLIED = 1 << 7
"""Bit of `info`: the rule was applied (the target is scored); the other bits are the
target's AGE and TRACKED flags."""


@njit(parallel=True, cache=True)
def _apply(ev, act, order, start, actor, target, people, scored_mask, rule_points,
           rule_ladder, rule_ladder_len, rule_list, rule_ceiling, rule_cap, list_grade_mask,
           grade_of, pmin, pmax, old, new, entry,
           wrongmask, prior, info, sink):
    n_lists = len(list_grade_mask)
    for s in prange(len(start) - 1):
        # Touch every record of the shard first: the loads are independent, so the memory
        # system fetches them together instead of one miss after another.
        touch = np.int64(0)
        for o in range(start[s], start[s + 1]):
            touch += people[target[ev[order[o]]]].lists
        sink[s] = touch
        for o in range(start[s], start[s + 1]):
            i = order[o]
            e = ev[i]
            a = act[i]
            t = target[e]
            me = people[t]
            age = me.flags & AGE
            if not (scored_mask >> age) & 1:
                info[i] = 0
                entry[i] = 0
                continue
            before = np.int64(me.score)
            pts = np.int64(rule_points[a])
            steps = rule_ladder_len[a]
            if steps > 0:  # repeat offences cost more
                k = (np.int64(me.flags) & OFFENCES) >> OFFENCE_SHIFT
                pts = rule_ladder[a, min(k, steps - 1)]
                me.flags = (np.int64(me.flags) & ~OFFENCES) | (min(k + 1, 7) << OFFENCE_SHIFT)
            after = before + pts
            if pts > 0:  # a reward stops at the cap, and never lowers a score above it
                after = min(after, max(before, np.int64(rule_cap[a])))
            after = min(after, np.int64(rule_ceiling[a]))  # at most the top of max_grade
            after = min(max(after, pmin), pmax)
            me.score = after
            wrongful = t != actor[e]
            lost = np.int64(me.wrong)
            if wrongful and after < before:
                lost = min(32767, lost + before - after)
                me.wrong = lost
            had = np.int64(me.lists)
            enter = np.int64(0)
            wm = np.int64(0)
            lr = rule_list[a]
            if lr >= 0 and not (had >> lr) & 1:
                enter |= 1 << lr
                if wrongful:
                    wm |= 1 << lr
            g = grade_of[after - pmin]
            fair = grade_of[min(after + lost, pmax) - pmin]
            for li in range(n_lists):
                if (had >> li) & 1 or (enter >> li) & 1:
                    continue
                if (list_grade_mask[li] >> g) & 1:
                    enter |= 1 << li
                    if not (list_grade_mask[li] >> fair) & 1:
                        wm |= 1 << li
            me.lists = had | enter
            old[i] = before
            new[i] = after
            entry[i] = enter
            wrongmask[i] = wm
            prior[i] = had
            info[i] = APPLIED | (me.flags & (AGE | TRACKED))


@njit(cache=True)
def _tally(ev, act, actor, target, channel, info, old, new, entry, prior, hist, census,
           grade_of, pmin, act_points, act_scored, act_wrongful, tally, day):
    """Histogram and census moves, day totals, per-act points, the tracked cohort's ledger."""
    n_tracked = 0
    for i in range(len(ev)):
        if info[i] & APPLIED and info[i] & TRACKED:
            n_tracked += 1
    led_day = np.empty(n_tracked, dtype=np.int32)
    led_cit = np.empty(n_tracked, dtype=np.int64)
    led_act = np.empty(n_tracked, dtype=np.int16)
    led_ch = np.empty(n_tracked, dtype=np.int8)
    led_pts = np.empty(n_tracked, dtype=np.int32)
    led_after = np.empty(n_tracked, dtype=np.int32)
    led_wrong = np.empty(n_tracked, dtype=np.bool_)
    j = 0
    for i in range(len(ev)):
        if not info[i] & APPLIED:
            continue
        e = ev[i]
        t = target[e]
        d = new[i] - old[i]
        hist[old[i] - pmin] -= 1
        hist[new[i] - pmin] += 1
        age = info[i] & AGE
        census[prior[i], age, grade_of[old[i] - pmin]] -= 1
        census[prior[i] | entry[i], age, grade_of[new[i] - pmin]] += 1
        wrongful = t != actor[e]
        a = act[i]
        act_points[a] += d
        act_scored[a] += 1
        if d < 0:
            tally[0] += 1  # penalties
            tally[2] -= d  # points taken
            if wrongful:
                act_wrongful[a] += 1
                tally[1] += 1  # wrongful penalties
                tally[3] -= d  # wrongful points
        elif d > 0:
            tally[4] += 1  # rewards
        if wrongful:
            tally[5] += 1  # misattributed records, any sign
        if info[i] & TRACKED:
            led_day[j] = day
            led_cit[j] = t
            led_act[j] = a
            led_ch[j] = channel[e]
            led_pts[j] = d
            led_after[j] = new[i]
            led_wrong[j] = wrongful
            j += 1
    return led_day, led_cit, led_act, led_ch, led_pts, led_after, led_wrong


TALLY = ("penalties", "wrongful_penalties", "points_taken", "wrongful_points", "rewards",
         "misattributed")


class Scored:
    """Applied score changes of the day, in a fixed order."""

    def __init__(self, ev, act, old, new, entry, wrongmask, prior, info, tally, ledger):
        self.ev = ev
        self.info = info
        self.act = act
        self.old = old
        self.new = new
        self.entry = entry
        self.wrongmask = wrongmask
        self.prior = prior
        self.tally = tally
        self.ledger = ledger


def score(plan: Plan, state: State, day: int, acts: Acts, obs: Observed,
          act_points: np.ndarray, act_scored: np.ndarray, act_wrongful: np.ndarray) -> Scored:
    """Apply every rule to today's recorded acts; note list entries for the lists stage."""
    in_force = plan.rule_has & (plan.rule_days[:, 0] <= day) & (day < plan.rule_days[:, 1])
    ev, act = _select(plan.ab_act, acts.count, acts.offset, obs.channel, in_force)
    n_shards = (plan.population >> SHARD_BITS) + 1
    order, start = _shard_order(ev, obs.target, n_shards)
    n = len(ev)
    old = np.empty(n, dtype=np.int64)
    new = np.empty(n, dtype=np.int64)
    entry = np.empty(n, dtype=np.int64)
    wrongmask = np.empty(n, dtype=np.int64)
    prior = np.empty(n, dtype=np.int64)
    info = np.empty(n, dtype=np.uint8)
    _apply(ev, act, order, start, acts.actor, obs.target, state.people, plan.scored_mask,
           plan.rule_points, plan.rule_ladder, plan.rule_ladder_len, plan.rule_list,
           plan.rule_ceiling, plan.rule_cap,
           plan.list_grade_mask,
           plan.grade_of, plan.pmin, plan.pmax, old, new, entry, wrongmask, prior, info,
           np.empty(n_shards, dtype=np.int64))
    tally = np.zeros(len(TALLY), dtype=np.int64)
    ledger = _tally(ev, act, acts.actor, obs.target, obs.channel, info, old, new, entry, prior,
                    state.hist, state.census, plan.grade_of, plan.pmin, act_points,
                    act_scored, act_wrongful, tally, day)
    return Scored(ev, act, old, new, entry, wrongmask, prior, info, tally, ledger)

assert APPLIED & (AGE | TRACKED) == 0, "APPLIED must not share a bit with the flags it carries"
