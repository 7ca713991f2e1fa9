"""Disclosure: listings made public (S8), for a time set by severity (R10), and what follows.

A listing on a published list is public from the day it is made for the list's `days`
(from `limits_from`, held within R10's range for the list's severity), never longer than the
listing. Disclosure is counted, never displayed: nothing about any person is shown.

Who sees a public listing each day: the website's and the screens' audiences, neighbours
within the app map's radius who look at it (region type's density x area x look-ups), and
each tie who calls and hears the dial tone. The day's person-views are one Poisson draw over
all public listings. When a listing is made public each tie of the person cuts them off
with chance `cut_share`, decided once per pair, and a tie so cut stays cut while the person
is on a published list (association no longer passes along it). While public, a listed
person complies `comply_factor` times as fast (lists.py), and gates with `deny_disclosed`
turn them away (gates.py).

Everything here is paid per listing: the listings made today and those in force.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..engine.plan import AGE_BITS, D, M, Plan
from ..engine.random import derive, key2, poisson, stream_id, uniform
from ..engine.state import AGE, State
from ..society.ties import cut_by_disclosure, tie
from . import attitudes
from .lists import decide_repair, public_until

STREAM = stream_id("disclosure")
REPAIR = stream_id("repair")
D_CUT, D_TIE = D["cut_share"], D["tie_calls"]



DISC_TALLY = ("disclosed_new", "ties_cut_by_disclosure", "approval_lost_listed")
DAY_TALLY = ("disclosed", "wrongfully_disclosed", "disclosure_views", "repairs_applied",
             "approval_lost_denied")


@njit(cache=True)
def _after_listing(n0, n1, day, log_id, log_list, log_since, disc, black_mask, people,
                   approve, approve_n, citizens, att_mask, p_listed, p_disclosed, p_tie,
                   cut_key, att_key, region_start, region_size, region_bits, tie_key, ties,
                   out):
    for p in range(n0, n1):
        t = log_id[p]
        li = log_list[p]
        k = key2(att_key, p)
        if (black_mask >> li) & 1:
            out[2] += attitudes.turn(people, approve, approve_n, citizens, att_mask, t,
                                     p_listed, k, 0)
        if public_until(li, log_since[p], disc) <= day:
            continue
        out[0] += 1  # disclosed today
        share = disc[li, D_CUT]
        if ties > 0:
            r = np.searchsorted(region_start, t, side="right") - 1
            local = t - region_start[r]
            for d in range(ties):
                f = tie(local, d, region_size[r], region_bits[r], tie_key[r])
                if f != local and cut_by_disclosure(cut_key, t, region_start[r] + f, share):
                    out[1] += 1  # ties cut
        out[2] += attitudes.turn(people, approve, approve_n, citizens, att_mask, t,
                                 p_disclosed, k, 1)
        out[2] += attitudes.turn_ties(people, approve, approve_n, citizens, att_mask, t,
                                      p_tie, k, region_start, region_size, region_bits,
                                      tie_key, ties)


def after_listing(plan: Plan, state: State, day: int, n0: int) -> np.ndarray:
    """Listings made today (log positions n0 on): published, ties cut, views turned."""
    out = np.zeros(len(DISC_TALLY), dtype=np.int64)
    if state.n_log <= n0 or (not plan.published_mask and not attitudes.on(plan)):
        return out
    m = plan.mech
    _after_listing(n0, state.n_log, day, state.log_id, state.log_list, state.log_since,
                   plan.list_disc, plan.black_mask, state.people, state.approve,
                   state.approve_n, plan.citizens, plan.att_age_mask, m[M["att_listed"]],
                   m[M["att_disclosed"]], m[M["att_tie"]], plan.disc_cut_key,
                   derive(plan.att_key ^ STREAM, day, 1), plan.region_start, plan.region_size,
                   plan.region_bits, plan.tie_key, plan.ties, out)
    return out


@njit(cache=True)
def _in_force(day, active, n_active, log_id, log_list, log_since, log_until, log_exit,
              log_wrongful, log_repair, disc, reach, ties, rep, rep_x, repair_booked, repair_key,
              people, approve, approve_n, citizens, att_mask, p_denial, hazard, att_key,
              region_start, region_type, public, listed, out):
    """One pass over the listings in force: public now, wrongfully public, the day's expected
    views, applications for repair today (decided here, in the order of the pass), and views
    turned by denials at gates."""
    lam = 0.0
    for j in range(n_active):
        p = active[j]
        t = log_id[p]
        li = log_list[p]
        listed[li] += 1
        if log_repair[p] == day:
            out[3] += 1  # applied for repair today
            decide_repair(p, li, day, key2(key2(repair_key, t), li), rep, rep_x,
                          repair_booked, log_until, log_exit)
        shown = public_until(li, log_since[p], disc) > day
        if shown:
            public[li] += 1
            out[0] += 1
            if log_wrongful[p]:
                out[1] += 1
            # the region's type from the (small) table of region starts, not the person's
            # record: no visit to the citizens' memory for a listing that is merely shown
            r = np.searchsorted(region_start, t, side="right") - 1
            lam += reach[li, region_type[r]] + ties * disc[li, D_TIE]
        if p_denial > 0 and t < citizens:
            # turned by today's denials: chance 1 - exp(-denials a day x after_denial), by age;
            # the draw is tested against the largest first, so most records are never read
            s = 1 if shown else 0
            k = key2(att_key, p)
            if uniform(k, 0) < hazard[li, 4, s]:
                chance = hazard[li, people[t].flags & AGE, s]
                if uniform(k, 0) < chance:
                    out[4] += attitudes.turn(people, approve, approve_n, citizens, att_mask,
                                             t, 1.0, k, 0)
    return lam


def _denial_hazard(plan: Plan, day: int) -> np.ndarray:
    """Denials a day of a listed person, by list, age group and whether the listing is public:
    the gates open today that turn them away (attempts x listed_attempts; school places for
    the children of adults)."""
    n_lists = len(plan.list_names)
    h = np.zeros((n_lists, 4, 2))
    for g in range(len(plan.gate_names)):
        if not plan.gate_days[g, 0] <= day < plan.gate_days[g, 1]:
            continue
        rate = plan.gate_rate_day[g] * plan.gate_listed_mult[g]
        ages = plan.gate_age_mask[g]
        if plan.gate_children[g]:
            rate *= plan.children_per_adult
            ages = 1 << AGE_BITS["adult"]
        for li in range(n_lists):
            for shown in (0, 1):
                denied = (plan.gate_deny_lists[g] >> li) & 1 or (
                    shown and plan.gate_deny_disclosed[g] and (plan.published_mask >> li) & 1)
                if denied:
                    for a in range(4):
                        if (ages >> a) & 1:
                            h[li, a, shown] += rate
    return h


class InForce:
    """The day's counts over listings in force, and each list's public share (for gates)."""

    def __init__(self, counts: np.ndarray, public_share: np.ndarray):
        self.counts = counts
        self.public_share = public_share


def _turn_chance(plan: Plan, day: int, p_denial: float) -> np.ndarray:
    """[list, age group (4: the largest), public]: chance a listed person is turned against
    the system by today's denials."""
    if p_denial <= 0:
        return np.zeros((len(plan.list_names), 5, 2))
    h = 1.0 - np.exp(-_denial_hazard(plan, day) * p_denial)
    return np.concatenate([h, h.max(axis=1, keepdims=True)], axis=1)


def in_force(plan: Plan, state: State, day: int) -> InForce:
    n_lists = len(plan.list_names)
    out = np.zeros(len(DAY_TALLY), dtype=np.int64)
    public = np.zeros(n_lists, dtype=np.int64)
    listed = np.zeros(n_lists, dtype=np.int64)
    repair = bool(plan.list_repair_x[:, 0].any()) if n_lists else False
    p_denial = plan.mech[M["att_denial"]] if attitudes.on(plan) else 0.0
    if state.n_active and (plan.published_mask or repair or p_denial > 0):
        lam = _in_force(day, state.active, state.n_active, state.log_id, state.log_list,
                        state.log_since, state.log_until, state.log_exit, state.log_wrongful,
                        state.log_repair, plan.list_disc, plan.list_reach, plan.ties,
                        plan.list_repair, plan.list_repair_x, state.repair_booked,
                        derive(plan.seed_key ^ REPAIR, day), state.people, state.approve,
                        state.approve_n, plan.citizens, plan.att_age_mask, p_denial,
                        _turn_chance(plan, day, p_denial), derive(plan.att_key ^ STREAM, day, 2),
                        plan.region_start, plan.region_type, public, listed, out)
        out[2] = poisson(derive(plan.seed_key ^ STREAM, day), 0, lam)
    share = np.divide(public, listed, out=np.zeros(n_lists), where=listed > 0)
    return InForce(out, share)

