"""Lists: new listings enter the log, listings that end today leave it.

When a person is listed, the day they will leave is drawn at once: the end of the term, the
day they comply (plus the deletion delay), or, for a wrongful listing that an appeal revokes,
the day the appeal succeeds; whichever comes first. Each day only the listings in force are
visited (pay per listed person, not per citizen). At the end of a term a person still in an
entry grade is listed for another term if the list extends, and a listing whose person never
complied is extended once with chance `extend_unpaid` (R1). A revoked wrongful listing also
restores the points lost to misattributed acts. Entry by grade is checked when a score
changes: a person who leaves a list while still in an entry grade is listed again at their
next recorded act, not before.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..engine.plan import D, M, Plan
from ..engine.random import below, derive, key2, poisson, stream_id, uniform
from ..engine.state import (
    EVER_LISTED,
    EXIT_APPEAL,
    EXIT_COMPLIED,
    EXIT_EXPIRED,
    EXIT_REPAIRED,
    GROUP,
    OFFENCES,
    TRACKED,
    State,
    is_scored,
)
from ..society.traits import representative
from .score import Scored

STREAM = stream_id("lists")
D_ON, D_STARTS, D_DAYS, D_HELD, D_LIMITS, D_COMPLY = (
    D["on"], D["starts"], D["days"], D["held"], D["limits_from"], D["comply_factor"])
CORRECTED = -1
"""Ledger act of an upheld appeal that restores points lost to others' acts."""
RESTORED = -2
"""Ledger act of a compliance that returns the score to start (`restore_points`)."""


@njit(inline="always", cache=True)
def public_until(li, since, disc):
    """First day a listing made on `since` is no longer public (`since`: never public)."""
    if disc[li, D_ON] == 0 or since < disc[li, D_STARTS]:
        return since
    days = disc[li, D_HELD] if since >= disc[li, D_LIMITS] else disc[li, D_DAYS]
    return since + np.int64(days)


@njit(cache=True)
def _repair_day(k, li, first, since, until, rep):
    """Day a listing made on `first` (this term from `since`) is applied to repair; -1 if
    not before `until`. Applications come at the rate of the rules in force, from `wait`
    days after listing on: the hazard is walked piece by piece."""
    e = -math.log(1.0 - uniform(k, 3))
    n = rep.shape[1]
    for j in range(n):
        lo = max(rep[li, j, 0], first + rep[li, j, 1], since)
        hi = rep[li, j + 1, 0] if j + 1 < n else 1e18
        hi = min(hi, until)
        rate = rep[li, j, 2]
        if lo >= hi or rate <= 0:
            continue
        if e < rate * (hi - lo):
            return np.int64(lo + max(0.0, math.ceil(e / rate)))
        e -= rate * (hi - lo)
    return np.int64(-1)


@njit(cache=True)
def decide_repair(p, li, day, k, rep, rep_x, repair_booked, log_until, log_exit):
    """A person applies for repair today: granted with the share of the rules in force, the
    decision booked first come, first served (`rep_x` capacity a day; unlimited if < 0) no
    sooner than `decide_days` from now. A granted repair ends the listing that day."""
    share = 0.0
    for j in range(rep.shape[1]):
        if rep[li, j, 0] <= day:
            share = rep[li, j, 3]
    if uniform(k, 0) >= share:
        return
    cap = rep_x[li, 2]
    if cap < 0:
        decided = day + max(1, int(math.ceil(rep_x[li, 1])))
    elif cap > 0:
        slot = max(day + max(1.0, rep_x[li, 1]), repair_booked[li])
        repair_booked[li] = slot + 1.0 / cap
        decided = int(math.ceil(slot))
    else:
        return  # no capacity: never decided
    if decided < log_until[p]:
        log_until[p] = decided
        log_exit[p] = EXIT_REPAIRED


@njit(cache=True)
def _plan_exit(k, li, first, since, term, wrongful, comply_rate, comply_delay, appeal_share,
               appeal_days, appeal_cap, appeal_booked, disc, rep, rep_x, repair_booked, out):
    """Draw when and why a listing made on `first` (this term from `since`, for `term` days)
    will end, and the day its person applies for repair (-1: never; the application is
    decided on that day, see `decide_repair`).

    With an appeal capacity, decisions are booked first come, first served: an appeal is
    decided at the first free slot on or after `appeal_days` from filing, `appeal_cap`
    slots a day. While the listing is public, compliance comes `comply_factor` times as
    fast.
    """
    until = since + term
    why = EXIT_EXPIRED
    if comply_rate[li] > 0:
        e = -math.log(1.0 - uniform(k, 0))
        r = comply_rate[li]
        f = disc[li, D_COMPLY]
        w = max(0, public_until(li, first, disc) - since)
        if f != 1.0 and w > 0:
            t = e / (r * f) if e < r * f * w else w + (e - r * f * w) / r
        else:
            t = e / r
        day = since + max(1, int(math.ceil(t))) + comply_delay[li]
        if day < until:
            until = day
            why = EXIT_COMPLIED
    if wrongful and appeal_share[li] > 0 and uniform(k, 1) < appeal_share[li]:
        out[7] += 1  # appeals filed
        if appeal_cap[li] < 0:
            t = -math.log(1.0 - uniform(k, 2)) * appeal_days[li]
            day = since + max(1, int(math.ceil(t)))
        elif appeal_cap[li] > 0:
            slot = max(since + max(1.0, appeal_days[li]), appeal_booked[li])
            appeal_booked[li] = slot + 1.0 / appeal_cap[li]
            day = int(math.ceil(slot))
        else:
            day = until  # no capacity: never decided
        if day < until:
            until = day
            why = EXIT_APPEAL
    applied = np.int64(-1)
    if rep_x[li, 0] != 0:
        applied = _repair_day(k, li, first, since, until, rep)
    return until, why, applied


@njit(cache=True)
def _log(t, li, day, wrongful, k, log_id, log_list, log_since, log_until, log_exit,
         log_wrongful, log_extended, log_repair, active, counters, duration, comply_rate,
         comply_delay, appeal_share, appeal_days, appeal_cap, appeal_booked, disc, rep, rep_x,
         repair_booked, out):
    """Add one listing to the log, with its planned exit."""
    until, why, applied = _plan_exit(k, li, day, day, duration[li], wrongful, comply_rate,
                                     comply_delay, appeal_share, appeal_days, appeal_cap,
                                     appeal_booked, disc, rep, rep_x, repair_booked, out)
    p = counters[0]
    log_repair[p] = applied
    log_id[p] = t
    log_list[p] = li
    log_since[p] = day
    log_until[p] = until
    log_exit[p] = why
    log_wrongful[p] = wrongful
    log_extended[p] = 0
    active[counters[1]] = p
    counters[0] += 1
    counters[1] += 1
    out[0] += 1  # new listings
    if wrongful:
        out[2] += 1  # wrongful listings


@njit(cache=True)
def _enter(target, entry, wrongmask, prior, day, day_key, black_mask, people, census,
           grade_of, pmin, scored_mask, list_reps, region_start, region_size, region_home,
           society_key, age_probs, rep_key, log_id, log_list, log_since, log_until, log_exit,
           log_wrongful, log_extended, log_repair, active, counters, duration, comply_rate,
           comply_delay, appeal_share, appeal_days, appeal_cap, appeal_booked, disc, rep,
           rep_x, repair_booked, out):
    n_lists = len(duration)
    slots = census.shape[2]
    for i in range(len(target)):
        if entry[i] == 0:
            continue
        t = target[i]
        if (prior[i] & black_mask) == 0 and (entry[i] & black_mask) != 0:
            counters[2] += 1  # newly on a black list
        for li in range(n_lists):
            if not (entry[i] >> li) & 1:
                continue
            wrongful = (wrongmask[i] >> li) & 1 == 1
            _log(t, li, day, wrongful, key2(key2(day_key, t), li), log_id, log_list,
                 log_since, log_until, log_exit, log_wrongful, log_extended, log_repair,
                 active, counters, duration, comply_rate, comply_delay, appeal_share,
                 appeal_days, appeal_cap, appeal_booked, disc, rep, rep_x, repair_booked, out)
            rl = list_reps[li]
            if rl < 0:
                continue
            # the firm's legal representative goes on their own list, if not on it already
            rp = representative(t, region_start, region_size, region_home, society_key,
                                age_probs, rep_key)
            me = people[rp]
            had = np.int64(me.lists)
            if (had >> rl) & 1:
                continue
            age = me.flags & GROUP
            g = grade_of[me.score - pmin] if is_scored(me.flags, scored_mask) else slots - 1
            census[had, age, g] -= 1
            census[had | (1 << rl), age, g] += 1
            me.lists = had | (1 << rl)
            if (had & black_mask) == 0 and ((1 << rl) & black_mask) != 0:
                counters[2] += 1
            if ((1 << rl) & black_mask) != 0 and not (me.flags & EVER_LISTED):
                me.flags |= EVER_LISTED
                counters[3] += 1
            out[8] += 1  # representatives listed
            _log(rp, rl, day, wrongful, key2(key2(day_key, rp), 128 + rl), log_id, log_list,
                 log_since, log_until, log_exit, log_wrongful, log_extended, log_repair,
                 active, counters, duration, comply_rate, comply_delay, appeal_share,
                 appeal_days, appeal_cap, appeal_booked, disc, rep, rep_x, repair_booked, out)
        me = people[t]
        if (entry[i] & black_mask) != 0 and not (me.flags & EVER_LISTED):
            me.flags |= EVER_LISTED
            counters[3] += 1


@njit(cache=True)
def _exit(day, day_key, black_mask, score, wrong, lists, flags, hist, census, grade_of,
          list_grade_mask, list_extend, list_restore, start_points, pmin, pmax, log_id,
          log_list, log_since, log_until, log_exit,
          log_wrongful, log_extended, log_repair, active, counters, duration, comply_rate,
          comply_delay, appeal_share, appeal_days, appeal_cap, appeal_booked, scored_mask,
          extend_unpaid, extend_days, disc, rep, rep_x, repair_booked, out, restored_ids,
          restored_pts):
    n_restored = 0
    slots = census.shape[2]
    i = 0
    while i < counters[1]:
        p = active[i]
        if log_until[p] > day:
            i += 1
            continue
        t = log_id[p]
        li = log_list[p]
        scored = is_scored(flags[t], scored_mask)
        k = key2(key2(day_key, t), 64 + li)
        term = np.int64(0)
        if (log_exit[p] == EXIT_EXPIRED and list_extend[li] and scored
                and (list_grade_mask[li] >> grade_of[score[t] - pmin]) & 1):
            term = duration[li]  # still in an entry grade: another term
        elif (log_exit[p] == EXIT_EXPIRED and log_extended[p] == 0
              and uniform(k, 9) < extend_unpaid[li]):
            term = extend_days[li]  # never complied: extended once (R1)
        if term > 0:
            until, why, applied = _plan_exit(k, li, log_since[p], day, term, log_wrongful[p],
                                             comply_rate, comply_delay, appeal_share,
                                             appeal_days, appeal_cap, appeal_booked, disc, rep,
                                             rep_x, repair_booked, out)
            log_until[p] = until
            log_exit[p] = why
            log_repair[p] = applied
            log_extended[p] += 1
            out[3] += 1  # extensions
            i += 1
            continue
        age = flags[t] & GROUP
        had = np.int64(lists[t])
        lists[t] = had & ~(1 << li)
        g = grade_of[score[t] - pmin] if scored else slots - 1
        census[had, age, g] -= 1
        census[lists[t], age, g] += 1
        out[1] += 1  # exits
        before = np.int64(score[t])
        after = before
        why = 0
        if log_exit[p] == EXIT_COMPLIED:
            out[4] += 1
            if list_restore[li]:  # e.g. a test passed: the score starts again
                after = start_points
                flags[t] = flags[t] & ~OFFENCES
                why = RESTORED
        elif log_exit[p] == EXIT_REPAIRED:
            out[9] += 1  # repairs granted
            out[10] += day - log_since[p]  # days from listing to repair
        elif log_exit[p] == EXIT_APPEAL:
            out[5] += 1
            out[6] += day - log_since[p]  # days a wrongful listing lasted
            if wrong[t] > 0:
                after = min(before + np.int64(wrong[t]), pmax)
                why = CORRECTED
        if why != 0 and scored:
            wrong[t] = 0
            score[t] = after
            hist[before - pmin] -= 1
            hist[after - pmin] += 1
            census[lists[t], age, grade_of[before - pmin]] -= 1
            census[lists[t], age, grade_of[after - pmin]] += 1
            if flags[t] & TRACKED and n_restored < len(restored_ids):
                restored_ids[n_restored] = t
                restored_pts[n_restored, 0] = after - before
                restored_pts[n_restored, 1] = after
                restored_pts[n_restored, 2] = why
                n_restored += 1
        if (lists[t] & black_mask) == 0 and (np.int64(1) << li) & black_mask:
            counters[2] -= 1
        counters[1] -= 1
        active[i] = active[counters[1]]
    return n_restored


# out: new listings, exits, wrongful listings, extensions, complied, appeals upheld,
# days wrongful listings lasted (summed over today's upheld appeals), appeals filed,
# firms' representatives listed with their firm, repairs granted, days from listing to repair
# (summed over today's repairs)
LIST_TALLY = ("listed_new", "list_exits", "wrongful_listings", "list_extensions",
              "exits_complied", "appeals_upheld", "wrongful_days_cleared", "appeals_filed",
              "representatives_listed", "repairs_granted", "repair_days_cleared")


def update_lists(plan: Plan, state: State, day: int, scored: Scored):
    """Enter today's listings and end those due; return the day's tallies and restorations."""
    out = np.zeros(len(LIST_TALLY), dtype=np.int64)
    state.ensure_log(int(np.count_nonzero(scored.entry)) * max(1, 2 * len(plan.list_names)))
    day_key = derive(plan.seed_key ^ STREAM, day)
    _enter(scored.target, scored.entry, scored.wrongmask, scored.prior, day, day_key,
           plan.black_mask, state.people, state.census, plan.grade_of, plan.pmin,
           plan.scored_mask, plan.list_reps, plan.region_start, plan.region_size,
           plan.region_home, plan.society_key, plan.age_probs, plan.rep_key,
           state.log_id, state.log_list, state.log_since,
           state.log_until, state.log_exit, state.log_wrongful, state.log_extended,
           state.log_repair, state.active, state.counters, plan.list_duration,
           plan.list_comply_rate, plan.list_comply_delay, plan.list_appeal_share,
           plan.list_appeal_days, plan.list_appeal_cap, state.appeal_booked, plan.list_disc,
           plan.list_repair, plan.list_repair_x, state.repair_booked, out)
    restored_ids = np.empty(1024, dtype=np.int64)
    restored_pts = np.empty((1024, 3), dtype=np.int64)
    n = _exit(day, day_key, plan.black_mask, state.score, state.wrong, state.lists, state.flags,
              state.hist, state.census, plan.grade_of, plan.list_grade_mask, plan.list_extend,
              plan.list_restore, plan.start_points, plan.pmin, plan.pmax, state.log_id,
              state.log_list, state.log_since, state.log_until,
              state.log_exit, state.log_wrongful, state.log_extended, state.log_repair,
              state.active, state.counters, plan.list_duration, plan.list_comply_rate,
              plan.list_comply_delay, plan.list_appeal_share, plan.list_appeal_days,
              plan.list_appeal_cap, state.appeal_booked, plan.scored_mask,
              plan.list_extend_unpaid, plan.list_extend_days, plan.list_disc,
              plan.list_repair, plan.list_repair_x, state.repair_booked, out, restored_ids,
              restored_pts)
    return out, restored_ids[:n], restored_pts[:n]


@njit(cache=True)
def _pressure(key, n, day, active, n_active, log_list, log_until, log_exit, black_mask,
              comply_delay):
    """`n` listings in force on black lists, drawn at random, end by compliance today."""
    done = 0
    for j in range(n):
        for t in range(8):  # a few draws to find a listing on a black list
            p = active[below(key, j * 8 + t, n_active)]
            li = log_list[p]
            if not (black_mask >> li) & 1:
                continue
            until = day + max(1, comply_delay[li])
            if until < log_until[p]:
                log_until[p] = until
                log_exit[p] = EXIT_COMPLIED
                done += 1
            break
    return done


PRESSURE = stream_id("compliance under pressure")


def comply_under_pressure(plan: Plan, state: State, day: int, denied_listed: int) -> int:
    """Listed people turned away at gates today pay up with chance `per_denial`: that many
    listings (Poisson), drawn among those in force, end after their list's delay."""
    p = plan.mech[M["comply_per_denial"]]
    if p <= 0 or denied_listed <= 0 or state.n_active == 0:
        return 0
    key = derive(plan.seed_key ^ PRESSURE, day)
    n = min(int(poisson(key, 0, denied_listed * p)), state.n_active)
    return int(_pressure(derive(key, 1), n, day, state.active, state.n_active, state.log_list,
                         state.log_until, state.log_exit, plan.black_mask,
                         plan.list_comply_delay))
