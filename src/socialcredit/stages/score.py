"""Score: rules turn records into points, and points can put a person on a list.

A record is an act put on someone's record: an act a channel saw (on the actor's record, or
by misattribution on another's), a report of an act that never happened (a false report by an
informant, sabotage of an enemy), or a purchase of points on the black market. Records are
sorted by the shard of the citizen they land on, and shards are processed in parallel, each in
a fixed order, so no two threads touch one citizen and the result does not depend on the
thread count. A second pass applies what the first pass caused: a share of a penalty for
speech falls on the person's ties (association), and informants are rewarded for reports. A
listing is wrongful when, without the points lost to acts the person did not commit, they
would not be on the list.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..engine.plan import PSEUDO, M, Plan
from ..engine.random import below, derive, key2, poisson, stream_id, uniform
from ..engine.state import GROUP, MAX_OFFENCES, OFFENCE_SHIFT, OFFENCES, TRACKED, State, is_scored
from ..society.ties import cut_by_disclosure, tie
from .behave import Acts
from .observe import Observed

SHARD_BITS = 16
OBSERVED, FALSE_REPORT, SABOTAGE, BOUGHT, ASSOCIATION, REWARD = range(6)
"""Kinds of record. The first three put an act on a record, and one that lands on someone who
did not commit it is wrongful."""
RULE_POINTS = -(1 << 40)
"""`pts` of a record that takes its points from its rule."""
POINTS32 = np.int32(-(1 << 31))
"""RULE_POINTS where points are packed in 32 bits (`_shard_sort`)."""
STREAM = stream_id("score")


class Records:
    """Records as columns: rule (act or pseudo-rule), who acted, on whose record, through which
    channel, in which region, of which kind, points (RULE_POINTS: the rule's), reporter."""

    def __init__(self, act, actor, target, channel, region, kind, pts, reporter):
        self.act = act
        self.actor = actor
        self.target = target
        self.channel = channel
        self.region = region
        self.kind = kind
        self.pts = pts
        self.reporter = reporter

    def __len__(self) -> int:
        return len(self.act)

    @staticmethod
    def concat(parts: list[Records]) -> Records:
        names = ("act", "actor", "target", "channel", "region", "kind", "pts", "reporter")
        return Records(*(np.concatenate([getattr(p, n) for p in parts]) for n in names))


@njit(parallel=True, cache=True)
def _select(ab_act, ab_region, count, offset, observed, actor, target, channel, reporter,
            informed, rule_on):
    """Records of the day's seen acts that a rule in force scores, in block order (`observed`:
    seen acts per block, counted by observe)."""
    nb = len(count)
    per = np.zeros(nb + 1, dtype=np.int64)
    for b in range(nb):
        per[b + 1] = per[b] + (observed[b] if rule_on[ab_act[b]] else 0)
    n = per[nb]
    r_act = np.empty(n, dtype=np.int64)
    r_actor = np.empty(n, dtype=np.int64)
    r_target = np.empty(n, dtype=np.int64)
    r_channel = np.empty(n, dtype=np.int8)
    r_region = np.empty(n, dtype=np.int64)
    r_rep = np.full(n, -1, dtype=np.int64)
    for b in prange(nb):
        a = ab_act[b]
        if not rule_on[a]:
            continue
        i = per[b]
        for e in range(offset[b], offset[b] + count[b]):
            if channel[e] >= 0:
                r_act[i] = a
                r_actor[i] = actor[e]
                r_target[i] = target[e]
                r_channel[i] = channel[e]
                r_region[i] = ab_region[b]
                if informed:
                    r_rep[i] = reporter[e]
                i += 1
    return r_act, r_actor, r_target, r_channel, r_region, r_rep


@njit(cache=True)
def _fabricate(day_key, region_start, region_size, region_bits, tie_key, ties, informant_key,
               inform_share, false_rate, false_acts, sabotage_rate, sabotage_acts, buy_rate,
               buy_rule, rule_on):
    """Records of things that never happened: false reports by informants against a tie,
    sabotage of a tie's record, and points bought. Counts are Poisson per region and kind."""
    cap = 0
    lam = np.zeros((len(region_size), 3))
    for r in range(len(region_size)):
        n = region_size[r]
        lam[r, 0] = n * inform_share * false_rate if len(false_acts) and ties else 0.0
        lam[r, 1] = n * sabotage_rate if len(sabotage_acts) and ties else 0.0
        lam[r, 2] = n * buy_rate
    counts = np.zeros((len(region_size), 3), dtype=np.int64)
    for r in range(len(region_size)):
        for k in range(3):
            if lam[r, k] > 0:
                counts[r, k] = poisson(key2(day_key, r * 3 + k), 0, lam[r, k])
                cap += counts[r, k]
    r_act = np.empty(cap, dtype=np.int64)
    r_actor = np.empty(cap, dtype=np.int64)
    r_target = np.empty(cap, dtype=np.int64)
    r_region = np.empty(cap, dtype=np.int64)
    r_kind = np.empty(cap, dtype=np.uint8)
    r_rep = np.empty(cap, dtype=np.int64)
    i = 0
    for r in range(len(region_size)):
        n = region_size[r]
        for k in range(3):
            kk = key2(key2(day_key, 1 << 20), r * 3 + k)
            for j in range(counts[r, k]):
                ek = key2(kk, j)
                src = below(ek, 0, n)
                if k == 0:  # the reporter is an informant: the first of a few draws who is
                    found = False
                    for t in range(64):
                        src = below(ek, 1 + t, n)
                        if uniform(key2(informant_key, region_start[r] + src), 0) < inform_share:
                            found = True
                            break
                    if not found:
                        continue
                if k < 2:
                    acts = false_acts if k == 0 else sabotage_acts
                    a = acts[below(ek, 100, len(acts))]
                    if not rule_on[a]:
                        continue
                    d = below(ek, 101, ties)
                    other = tie(src, d, n, region_bits[r], tie_key[r])
                    if other == src:
                        continue
                    r_act[i] = a
                    r_actor[i] = -1
                    r_target[i] = region_start[r] + other
                    r_kind[i] = FALSE_REPORT if k == 0 else SABOTAGE
                    r_rep[i] = region_start[r] + src if k == 0 else -1
                else:
                    r_act[i] = buy_rule
                    r_actor[i] = region_start[r] + src
                    r_target[i] = region_start[r] + src
                    r_kind[i] = BOUGHT
                    r_rep[i] = -1
                r_region[i] = r
                i += 1
    return r_act[:i], r_actor[:i], r_target[:i], r_region[:i], r_kind[:i], r_rep[:i]


CHUNKS = 16


@njit(parallel=True, cache=True)
def _scatter(order, old, new, entry, wrongmask, prior, info):
    """`_apply`'s results, from shard order back to the records' order."""
    n = len(order)
    outs = (np.empty(n, dtype=old.dtype), np.empty(n, dtype=new.dtype),
            np.empty(n, dtype=entry.dtype), np.empty(n, dtype=wrongmask.dtype),
            np.empty(n, dtype=prior.dtype), np.empty(n, dtype=info.dtype))
    for c in prange((n + 4095) >> 12):
        for o in range(c << 12, min(n, (c + 1) << 12)):
            i = order[o]
            outs[0][i] = old[o]
            outs[1][i] = new[o]
            outs[2][i] = entry[o]
            outs[3][i] = wrongmask[o]
            outs[4][i] = prior[o]
            outs[5][i] = info[o]
    return outs


APPLIED = 1 << 7
"""Bit of `info`: the rule was applied; the other bits are LISTS_ONLY and the target's GROUP
and TRACKED flags."""
LISTS_ONLY = 1 << 6
"""Bit of `info`: the target is not scored, only the rule's list applied."""


@njit(parallel=True, cache=True)
def _shard_sort(target, n_shards, act, actor, region, kind, pts):
    """A stable counting sort of records by the shard of their target, in parallel chunks:
    the order, each shard's start, and what `_apply` reads moved into that order as it goes
    (each record read once, front to back, and written to its place), so that `_apply` walks
    them front to back instead of jumping through the records. What it reads is packed small:
    rule and region in 16 bits, points in 32 (RULE_POINTS as POINTS32), and whether the
    record is wrongful (an act put on someone who did not commit it) as a flag."""
    n = len(target)
    size = (n + CHUNKS - 1) // CHUNKS
    counts = np.zeros((CHUNKS, n_shards), dtype=np.int64)
    for c in prange(CHUNKS):
        for i in range(c * size, min(n, (c + 1) * size)):
            counts[c, target[i] >> SHARD_BITS] += 1
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
    s_act = np.empty(n, dtype=np.int16)
    s_target = np.empty(n, dtype=target.dtype)
    s_region = np.empty(n, dtype=np.int16)
    s_wrong = np.empty(n, dtype=np.bool_)
    s_pts = np.empty(n, dtype=np.int32)
    for c in prange(CHUNKS):
        for i in range(c * size, min(n, (c + 1) * size)):
            t = target[i]
            s = t >> SHARD_BITS
            o = counts[c, s]
            counts[c, s] = o + 1
            order[o] = i
            s_act[o] = act[i]
            s_target[o] = t
            s_region[o] = region[i]
            s_wrong[o] = kind[i] <= SABOTAGE and t != actor[i]
            s_pts[o] = POINTS32 if pts[i] == RULE_POINTS else pts[i]
    return order, start, s_act, s_target, s_region, s_wrong, s_pts


@njit(parallel=True, cache=True)
def _apply(act, target, region, wrong, rec_pts, start, people, scored_mask,
           rule_points, rule_ladder, rule_ladder_len, rule_list, rule_ceiling, rule_cap,
           rule_local, rule_regions, rule_when, list_grade_mask, grade_of, pmin, pmax, old,
           new, entry, wrongmask, prior, info, sink):
    """Records in shard order (`_shard_sort`): shard s is records start[s] to start[s + 1],
    applied front to back, each result written in that order too (`_scatter` puts them back
    in the records' order)."""
    n_lists = len(list_grade_mask)
    for s in prange(len(start) - 1):
        # Touch every record of the shard first: the loads are independent, so the memory
        # system fetches them together instead of one miss after another.
        touch = np.int64(0)
        for o in range(start[s], start[s + 1]):
            touch += people[target[o]].lists
        sink[s] = touch
        for o in range(start[s], start[s + 1]):
            a = act[o]
            t = target[o]
            me = people[t]
            info[o] = 0
            entry[o] = 0
            if rule_local[a] and not rule_regions[a, region[o]]:
                continue  # a local system: not this citizen's region
            before = np.int64(me.score)
            if not is_scored(me.flags, scored_mask):
                # no score to move, but a rule's list applies to everyone (a court list)
                lr = rule_list[a]
                had = np.int64(me.lists)
                if lr < 0 or (had >> lr) & 1:
                    continue
                me.lists = had | (1 << lr)
                old[o] = before
                new[o] = before
                entry[o] = 1 << lr
                wrongmask[o] = (1 << lr) if wrong[o] else 0
                prior[o] = had
                info[o] = APPLIED | LISTS_ONLY | (me.flags & (GROUP | TRACKED))
                continue
            if not (rule_when[a] >> grade_of[before - pmin]) & 1:
                continue
            pts = np.int64(rule_points[a]) if rec_pts[o] == POINTS32 else np.int64(rec_pts[o])
            steps = rule_ladder_len[a]
            if steps > 0:  # repeat offences cost more
                k = (np.int64(me.flags) & OFFENCES) >> OFFENCE_SHIFT
                pts = rule_ladder[a, min(k, steps - 1)]
                me.flags = ((np.int64(me.flags) & ~OFFENCES)
                            | (min(k + 1, MAX_OFFENCES) << OFFENCE_SHIFT))
            after = before + pts
            if pts > 0:  # a reward stops at the cap, and never lowers a score above it
                after = min(after, max(before, np.int64(rule_cap[a])))
            after = min(after, np.int64(rule_ceiling[a]))  # at most the top of max_grade
            after = min(max(after, pmin), pmax)
            me.score = after
            wrongful = wrong[o]
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
            old[o] = before
            new[o] = after
            entry[o] = enter
            wrongmask[o] = wm
            prior[o] = had
            info[o] = APPLIED | (me.flags & (GROUP | TRACKED))


@njit(inline="always", cache=True)
def _spreads(a, n_acts, act_area, assoc_areas, old, new, kind):
    """Whether a penalty spreads to the person's ties: an act (not a pseudo-rule) in one of
    the association's areas, put on the record (not derived), that cost points (a lists-only
    record costs none)."""
    return a < n_acts and (assoc_areas >> act_area[a]) & 1 and new < old and kind <= SABOTAGE


@njit(cache=True)
def _derive(act, target, region, kind, reporter, info, old, new, n_acts, act_area, assoc_on,
            assoc_areas, share, cut_grades, cut_share, ties, reward, grade_of, pmin,
            region_start, region_size, region_bits, tie_key, day_key, tally, lists_after,
            cut_of_mask, disc_key):
    """Second-pass records: a share of each speech penalty on the person's ties (unless the
    tie has cut them off, for their grade or on their disclosure), and a reward for each
    informant whose report was applied."""
    n = 0
    for i in range(len(act)):
        if not info[i] & APPLIED:
            continue
        a = act[i]
        if assoc_on and _spreads(a, n_acts, act_area, assoc_areas, old[i], new[i], kind[i]):
            n += ties
        if reward != 0 and reporter[i] >= 0:
            n += 1
    d_act = np.empty(n, dtype=np.int64)
    d_actor = np.empty(n, dtype=np.int64)
    d_target = np.empty(n, dtype=np.int64)
    d_region = np.empty(n, dtype=np.int64)
    d_kind = np.empty(n, dtype=np.uint8)
    d_pts = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(len(act)):
        if not info[i] & APPLIED:
            continue
        a = act[i]
        r = region[i]
        t = target[i]
        if assoc_on and _spreads(a, n_acts, act_area, assoc_areas, old[i], new[i], kind[i]):
            loss = old[i] - new[i]
            pts = -max(1, int(share * loss + 0.5))
            cut = (cut_grades >> grade_of[new[i] - pmin]) & 1
            local = t - region_start[r]
            k = key2(day_key, t)
            for d in range(ties):
                f = tie(local, d, region_size[r], region_bits[r], tie_key[r])
                if f == local:
                    continue
                if cut and uniform(k, d) < cut_share:
                    tally[8] += 1  # ties cut
                    continue
                if cut_by_disclosure(disc_key, t, region_start[r] + f,
                                     cut_of_mask[lists_after[i]]):
                    continue  # cut when the person was disclosed (counted then)
                d_act[j] = n_acts  # the association pseudo-rule
                d_actor[j] = t
                d_target[j] = region_start[r] + f
                d_region[j] = r
                d_kind[j] = ASSOCIATION
                d_pts[j] = pts
                j += 1
        if reward != 0 and reporter[i] >= 0:
            d_act[j] = n_acts + 1
            d_actor[j] = reporter[i]
            d_target[j] = reporter[i]
            d_region[j] = r
            d_kind[j] = REWARD
            d_pts[j] = RULE_POINTS
            j += 1
    return d_act[:j], d_actor[:j], d_target[:j], d_region[:j], d_kind[:j], d_pts[:j]


@njit(cache=True)
def _tally(act, actor, target, channel, kind, reporter, info, old, new, entry, prior, hist,
           census, grade_of, pmin, n_acts, act_points, act_scored, act_wrongful, tally, day):
    """Histogram and census moves, day totals, per-act points, the tracked cohort's ledger."""
    n_tracked = 0
    for i in range(len(act)):
        if info[i] & APPLIED and info[i] & TRACKED and not info[i] & LISTS_ONLY:
            n_tracked += 1
    led_day = np.empty(n_tracked, dtype=np.int32)
    led_cit = np.empty(n_tracked, dtype=np.int64)
    led_act = np.empty(n_tracked, dtype=np.int16)
    led_ch = np.empty(n_tracked, dtype=np.int8)
    led_pts = np.empty(n_tracked, dtype=np.int32)
    led_after = np.empty(n_tracked, dtype=np.int32)
    led_wrong = np.empty(n_tracked, dtype=np.bool_)
    j = 0
    for i in range(len(act)):
        k = kind[i]
        if reporter[i] >= 0 and k <= FALSE_REPORT:
            tally[9] += 1  # informant reports
        if k == FALSE_REPORT:
            tally[10] += 1
        elif k == SABOTAGE:
            tally[11] += 1
        if not info[i] & APPLIED:
            continue
        t = target[i]
        if info[i] & LISTS_ONLY:
            age = info[i] & GROUP
            census[prior[i], age, census.shape[2] - 1] -= 1
            census[prior[i] | entry[i], age, census.shape[2] - 1] += 1
            continue
        d = new[i] - old[i]
        hist[old[i] - pmin] -= 1
        hist[new[i] - pmin] += 1
        age = info[i] & GROUP
        census[prior[i], age, grade_of[old[i] - pmin]] -= 1
        census[prior[i] | entry[i], age, grade_of[new[i] - pmin]] += 1
        wrongful = k <= SABOTAGE and t != actor[i]
        a = act[i]
        if a < n_acts:
            act_points[a] += d
            act_scored[a] += 1
        if d < 0:
            tally[0] += 1  # penalties
            tally[2] -= d  # points taken
            if wrongful:
                if a < n_acts:
                    act_wrongful[a] += 1
                tally[1] += 1  # wrongful penalties
                tally[3] -= d  # wrongful points
            if k == ASSOCIATION:
                tally[6] += 1  # association penalties
                tally[7] -= d  # association points
        elif d > 0:
            tally[4] += 1  # rewards
            if k == BOUGHT:
                tally[12] += d
            elif k == REWARD:
                tally[13] += d
        if wrongful:
            tally[5] += 1  # misattributed or fabricated records, any sign
        if info[i] & TRACKED:
            led_day[j] = day
            led_cit[j] = t
            led_act[j] = a
            led_ch[j] = channel[i]
            led_pts[j] = d
            led_after[j] = new[i]
            led_wrong[j] = wrongful
            j += 1
    return led_day, led_cit, led_act, led_ch, led_pts, led_after, led_wrong


TALLY = ("penalties", "wrongful_penalties", "points_taken", "wrongful_points", "rewards",
         "misattributed", "association_penalties", "association_points", "ties_cut",
         "informant_reports", "false_reports", "sabotage_reports", "points_bought",
         "informant_reward_points")


class Scored:
    """Applied score changes of the day, in a fixed order (first pass, then second)."""

    def __init__(self, records, old, new, entry, wrongmask, prior, info, tally, ledger):
        self.records = records
        self.info = info
        self.old = old
        self.new = new
        self.entry = entry
        self.wrongmask = wrongmask
        self.prior = prior
        self.tally = tally
        self.ledger = ledger

    @property
    def target(self) -> np.ndarray:
        """Whose record each applied change is on."""
        return self.records.target


def _apply_all(plan: Plan, state: State, rec: Records):
    """Apply records in shard order; returns old, new (int32), entry, wrongmask, prior (list
    masks, uint8) and info."""
    n_shards = (plan.population >> SHARD_BITS) + 1
    order, start, *columns = _shard_sort(rec.target, n_shards, rec.act, rec.actor,
                                         rec.region, rec.kind, rec.pts)
    n = len(rec)
    # scores before and after fit 32 bits, list masks 8 (at most 8 lists: people.lists)
    out = [np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32),
           *(np.empty(n, dtype=np.uint8) for _ in range(3))]
    info = np.empty(n, dtype=np.uint8)
    _apply(*columns, start, state.people, plan.scored_mask, plan.rule_points, plan.rule_ladder,
           plan.rule_ladder_len, plan.rule_list, plan.rule_ceiling, plan.rule_cap,
           plan.rule_local, plan.rule_regions, plan.rule_when, plan.list_grade_mask,
           plan.grade_of, plan.pmin, plan.pmax, *out, info, np.empty(n_shards, dtype=np.int64))
    return _scatter(order, *out, info)


def _tally_pass(plan, state, rec, res, act_points, act_scored, act_wrongful, tally, day):
    old, new, entry, _, prior, info = res
    return _tally(rec.act, rec.actor, rec.target, rec.channel, rec.kind, rec.reporter, info,
                  old, new, entry, prior, state.hist, state.census, plan.grade_of, plan.pmin,
                  plan.n_acts, act_points, act_scored, act_wrongful, tally, day)


def score(plan: Plan, state: State, day: int, acts: Acts, obs: Observed,
          act_points: np.ndarray, act_scored: np.ndarray, act_wrongful: np.ndarray) -> Scored:
    """Apply every rule to today's records; note list entries for the lists stage."""
    rule_on = plan.rule_has & (plan.rule_days[:, 0] <= day) & (day < plan.rule_days[:, 1])
    mech = plan.mech
    informed = bool(mech[M["inform_on"]])
    a, ac, t, ch, rg, rep = _select(plan.ab_act, plan.ab_region, acts.count, acts.offset,
                                    obs.observed, acts.actor, obs.target, obs.channel,
                                    obs.reporter, informed, rule_on)
    first = Records(a, ac, t, ch, rg, np.zeros(len(a), dtype=np.uint8),
                    np.full(len(a), RULE_POINTS, dtype=np.int64), rep)
    day_key = derive(plan.seed_key ^ STREAM, day)
    if informed or mech[M["manip_on"]]:
        fa, fac, ft, frg, fk, frep = _fabricate(
            day_key, plan.region_start, plan.region_size, plan.region_bits, plan.tie_key,
            plan.ties, plan.informant_key, mech[M["inform_share"]] if informed else 0.0,
            mech[M["false_rate_day"]], plan.false_acts, mech[M["sabotage_rate_day"]],
            plan.sabotage_acts, mech[M["buy_rate_day"]], plan.n_acts + PSEUDO.index(
                "points_bought"), rule_on)
        made = Records(fa, fac, ft, np.full(len(fa), -1, dtype=np.int8), frg, fk,
                       np.full(len(fa), RULE_POINTS, dtype=np.int64), frep)
        first = Records.concat([first, made])
    res1 = _apply_all(plan, state, first)
    tally = np.zeros(len(TALLY), dtype=np.int64)
    led1 = _tally_pass(plan, state, first, res1, act_points, act_scored, act_wrongful, tally,
                       day)
    passes = [(first, res1)]
    ledgers = [led1]
    if mech[M["assoc_on"]] or (informed and mech[M["reward"]]):
        old, new, entry, _, prior, info = res1
        da, dac, dt_, drg, dk, dpts = _derive(
            first.act, first.target, first.region, first.kind, first.reporter, info, old, new,
            plan.n_acts, plan.act_area, bool(mech[M["assoc_on"]]), plan.assoc_areas,
            mech[M["assoc_share"]], plan.cut_grades, mech[M["cut_share"]], plan.ties,
            int(mech[M["reward"]]) if informed else 0, plan.grade_of, plan.pmin,
            plan.region_start, plan.region_size, plan.region_bits, plan.tie_key,
            derive(day_key, 7), tally, prior | entry, plan.cut_of_mask, plan.disc_cut_key)
        if len(da):
            second = Records(da, dac, dt_, np.full(len(da), -1, dtype=np.int8), drg, dk, dpts,
                             np.full(len(da), -1, dtype=np.int64))
            res2 = _apply_all(plan, state, second)
            ledgers.append(_tally_pass(plan, state, second, res2, act_points, act_scored,
                                       act_wrongful, tally, day))
            passes.append((second, res2))
    if len(passes) == 1:
        old, new, entry, wrongmask, prior, info = res1
        ledger = led1
    else:
        records = Records.concat([p[0] for p in passes])
        old, new, entry, wrongmask, prior, info = (
            np.concatenate([p[1][k] for p in passes]) for k in range(6))
        first = records
        ledger = tuple(np.concatenate([lg[k] for lg in ledgers]) for k in range(7))
    return Scored(first, old, new, entry, wrongmask, prior, info, tally, ledger)


assert (APPLIED | LISTS_ONLY) & (GROUP | TRACKED) == 0, "info bits must not share flag bits"
