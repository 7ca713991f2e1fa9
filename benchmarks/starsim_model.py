"""The Rongcheng scenario as an idiomatic Starsim model: a second reference for the engine.

A Starsim user's way of writing it: agents are `ss.People`, their properties are arrays
(`ss.FloatArr`, `ss.IntArr`, `ss.BoolState`) owned by modules, each day is each module's
`step()` in turn over numpy arrays of agent ids (`ss.uids`), and every random decision is a
named Starsim distribution (`ss.bernoulli`, `ss.random`, `ss.expon`, `ss.poisson`), so it has
its own common-random-number stream. Four modules, run in this order each day:

- `Society`: who lives where (region), age group and misconduct trait; fixed.
- `Conduct`: who commits which act, whether a channel sees it and on whom it is recorded,
  and deterrence (perceived risk thins tomorrow's bad acts).
- `Points`: a record's points, ceilings and list entries; lists ended, extended or
  appealed when due.
- `Services`: attempts to use services, denied or granted with a perk.

Every number comes from the scenario (`socialcredit.scenario.load`) and the semantics are
the engine's as benchmarks/mesa_model.py writes them, without the code of either. It differs
from the Mesa model in how draws are made (the people who act at all today are one Bernoulli
draw, how many acts each commits a zero-truncated Poisson draw: the same distribution as
Mesa's Poisson by inversion) and in service attempts, which change nobody's state: they are
counted as the engine counts them, one Poisson draw per group of people who get the same
answer (lists, age group, grade), services for children tried by adults at the children's
rate and answered by the adult's lists and grade. Only what Rongcheng uses is modelled:
mechanisms it leaves off (informants, manipulation, disclosure) and fields it leaves at their
defaults (rate changes, rule ladders and dates, per-region acts and rules, voluntary scores,
appeal capacity) are not.

    python benchmarks/starsim_model.py --population 20000 --days 365 --seed 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import starsim as ss
from scipy.special import ndtri

from socialcredit.scenario import Scenario, load

GROUPS = ("child", "adult", "elder")
EXPIRED, COMPLIED, APPEAL = 0, 1, 2
MAX_WRONG = 32767
"""The engine keeps points lost to misattributed acts in an int16."""


def region_sizes(n: int, shares: list[float]) -> np.ndarray:
    """Region sizes summing to n, by largest remainder (the engine's rule)."""
    raw = np.asarray(shares, dtype=float) / sum(shares) * n
    sizes = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[: n - sizes.sum()]] += 1
    return sizes


class Society(ss.Module):
    """Regions as consecutive id ranges; households as runs of ids whose first member is an
    adult or elder (which sets who is a child, adult or elder); a misconduct trait each.

    A region's traits are the N(0, 1) quantiles of its size in a random order: a stratified
    sample, so every seed's population has mean rate multipliers of one (as the engine's
    equal trait classes and the Mesa model have), keeping the continuous tail."""

    def __init__(self, scenario: Scenario, pars=None, **kwargs):
        super().__init__()
        soc = scenario.society
        a = soc.ages
        h = 1.0 / soc.household_size
        head_adult = a.adult / (a.adult + a.elder)
        if h >= 1.0:
            p_child, p_adult = 0.0, 1.0
        else:
            p_child = min(1.0, a.child / (1.0 - h))
            p_adult = min(max((a.adult - h * head_adult) / (1.0 - h), 0.0), 1.0 - p_child)
        self.define_pars(
            shares=[r.share for r in soc.regions],
            rural=[r.type == "rural" for r in soc.regions],
            scored_groups=[GROUPS.index(g) for g in scenario.points.ages],
            head_adult=head_adult, p_child=p_child, p_adult=p_adult,
            new_household=ss.bernoulli(p=h),
            age_draw=ss.random(),
            trait_order=ss.random(),
        )
        self.update_pars(pars, **kwargs)
        self.define_states(
            ss.IntArr("region", default=0, label="Region"),
            ss.IntArr("group", default=1, label="Age group (child, adult, elder)"),
            ss.FloatArr("trait", default=0.0, label="Misconduct trait"),
            ss.BoolState("scored", label="Scored"),
        )

    def init_post(self):
        """Place everyone: regions in id order, then each region's households."""
        super().init_post()
        p = self.pars
        everyone = self.sim.people.auids
        sizes = region_sizes(len(everyone), p.shares)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.region[everyone] = np.repeat(np.arange(len(sizes)), sizes)
        head = p.new_household.rvs(everyone)
        head[starts[sizes > 0]] = True  # a region begins a household
        u = p.age_draw.rvs(everyone)
        group = np.where(u < p.p_child, 0, np.where(u < p.p_child + p.p_adult, 1, 2))
        self.group[everyone] = np.where(head, np.where(u < p.head_adult, 1, 2), group)
        order = p.trait_order.rvs(everyone)
        trait = np.empty(len(everyone))
        for a, n in zip(starts, sizes, strict=True):  # the k-th smallest draw gets quantile k
            trait[a + np.argsort(order[a:a + n], kind="stable")] = ndtri((np.arange(n) + 0.5) / n)
        self.trait[everyone] = trait
        self.scored[everyone] = np.isin(self.group[everyone], p.scored_groups)
        # each region's scored citizens, in id order: whom a misattributed act may land on
        self.pools = [ss.uids(everyone[(self.region[everyone] == r) & self.scored[everyone]])
                      for r in range(len(sizes))]

    def step(self):
        pass  # nobody moves, ages or leaves within a run


class Conduct(ss.Module):
    """Acts: each person's day is a Poisson number of acts picked by their rates; deterrence
    thins bad acts; the first channel that sees an act records it, with its misattribution
    rate on another scored citizen of the same region."""

    def __init__(self, scenario: Scenario, pars=None, **kwargs):
        super().__init__()
        s = scenario
        rules = {r.act: r for r in s.rules}
        d = s.responses.deterrence
        self.define_pars(
            rate_day=np.array([a.rate / 365.0 for a in s.acts]),
            spread=np.array([a.spread for a in s.acts]),
            sign=np.array([-1.0 if a.valence == "good" else 1.0 for a in s.acts]),
            groups=np.array([[g in a.ages for g in GROUPS] for a in s.acts]),
            watch=np.array([[a.name in c.acts for a in s.acts] for c in s.channels]),
            coverage=np.array([[c.coverage_urban, c.coverage_rural] for c in s.channels]),
            misattribution=np.array([c.misattribution for c in s.channels]),
            deterrence=d.enabled, strength=d.strength, memory_days=d.memory_days,
            severity=np.array([
                min(1.0, abs(rules[a.name].points) / d.reference_points)
                if a.name in rules and rules[a.name].points < 0 else 0.0 for a in s.acts]),
            # one named stream per decision
            acts_today=ss.bernoulli(p=lambda self, sim, uids: self.p_any[uids]),
            how_many=ss.random(),
            which=ss.random(),
            undeterred=ss.bernoulli(p=1.0),
            seen=[ss.bernoulli(p=1.0) for _ in s.channels],
            misattributed=[ss.bernoulli(p=c.misattribution) for c in s.channels],
            someone=ss.random(),
        )
        self.update_pars(pars, **kwargs)
        self.define_states(
            ss.FloatArr("act_rate", default=0.0, label="Acts per day before deterrence"),
            ss.FloatArr("p_any", default=0.0, label="Chance of any act in a day"),
        )
        n_acts = len(s.acts)
        self.n_regions = len(s.society.regions)
        self.seen_avg = np.zeros((n_acts, self.n_regions))
        self.done_avg = np.zeros((n_acts, self.n_regions))
        self.deter = np.ones((n_acts, self.n_regions))

    def init_results(self):
        super().init_results()
        self.define_results(
            ss.Result("acts_committed", dtype=int, scale=False, label="Acts committed"),
            ss.Result("acts_observed", dtype=int, scale=False, label="Acts observed"),
        )

    def init_post(self):
        """Each person's daily act rate before deterrence, from their trait and age group."""
        super().init_post()
        soc = self.sim.custom.society
        uids = self.sim.people.auids
        total = self._rates(uids).sum(axis=0)
        self.act_rate[uids] = total
        self.p_any[uids] = -np.expm1(-total)
        self.candidates = ss.uids(uids[total > 0])
        self.rural_region = np.asarray(soc.pars.rural, dtype=np.int64)

    def _rates(self, uids: ss.uids) -> np.ndarray:
        """Daily rates before deterrence, acts x people: the act's mean times the person's
        multiplier exp(s z - s^2 / 2) (z the trait, negated for good acts; mean one)."""
        p = self.pars
        soc = self.sim.custom.society
        z = np.asarray(soc.trait[uids], dtype=np.float64)
        may = p.groups[:, soc.group[uids]]  # acts x people
        s = p.spread[:, None]
        return np.where(may, p.rate_day[:, None] * np.exp(s * p.sign[:, None] * z - s * s / 2),
                        0.0)

    def step(self):
        p = self.pars
        soc = self.sim.custom.society
        n_acts = len(p.rate_day)
        committed = np.zeros((n_acts, self.n_regions), dtype=np.int64)
        observed = np.zeros_like(committed)

        actors = p.acts_today.filter(self.candidates)
        n = self._count(actors)
        for k in range(int(n.max()) if len(n) else 0):  # each actor's k-th act of the day
            who = actors[n > k]
            acts = self._pick(who)
            p.undeterred.set(p=self.deter[acts, soc.region[who]])
            kept = p.undeterred.rvs(who)
            who, acts = who[kept], acts[kept]
            region = soc.region[who]
            np.add.at(committed, (acts, region), 1)
            seen, target = self._observe(who, acts, region)
            np.add.at(observed, (acts[seen], region[seen]), 1)
            target, acts, actor = target[seen], acts[seen], who[seen]
            on = soc.scored[target]
            self.sim.custom.points.record(ss.uids(target[on]), acts[on],
                                          target[on] != actor[on])

        self.results.acts_committed[self.ti] = committed.sum()
        self.results.acts_observed[self.ti] = observed.sum()
        if p.deterrence:
            self._respond(committed, observed)

    def _count(self, actors: ss.uids) -> np.ndarray:
        """How many acts each actor commits today: Poisson given at least one, by inversion."""
        lam = np.asarray(self.act_rate[actors], dtype=np.float64)
        u = np.asarray(self.pars.how_many.rvs(actors), dtype=np.float64)
        q = np.exp(-lam)
        term = lam * q / (1.0 - q)  # P(n = 1 | n >= 1)
        c = term.copy()
        n = np.ones(len(actors), dtype=np.int64)
        for k in range(2, 1000):
            more = u >= c
            if not more.any():
                break
            term *= lam / k
            c += term
            n += more
        return n

    def _pick(self, who: ss.uids) -> np.ndarray:
        """Which act, each chosen in proportion to the person's rates."""
        cum = np.cumsum(self._rates(who), axis=0)
        x = np.asarray(self.pars.which.rvs(who), dtype=np.float64) * cum[-1]
        return np.minimum((cum <= x).sum(axis=0), len(cum) - 1)

    def _observe(self, who: ss.uids, acts: np.ndarray, region: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(seen, on whom it is recorded): channels in scenario order, the first to see an act
        records it; a misattributed one lands on another scored citizen of the region."""
        p = self.pars
        rural = self.rural_region[region]
        seen = np.zeros(len(who), dtype=bool)
        wrong = np.zeros(len(who), dtype=bool)
        for c in range(len(p.watch)):
            look = ~seen & p.watch[c][acts]
            dist = p.seen[c]
            dist.set(p=p.coverage[c][rural[look]])
            hit = np.flatnonzero(look)[dist.rvs(who[look])]
            seen[hit] = True
            if p.misattribution[c] > 0:
                wrong[hit] = p.misattributed[c].rvs(who[hit])
        target = np.asarray(who).copy()
        if wrong.any():
            target[wrong] = self._someone_else(who[wrong], region[wrong])
        return seen, target

    def _someone_else(self, who: ss.uids, region: np.ndarray) -> np.ndarray:
        """A scored citizen of the same region other than the actor, each equally likely."""
        pools = self.sim.custom.society.pools
        u = np.asarray(self.pars.someone.rvs(who), dtype=np.float64)
        out = np.asarray(who).copy()
        for r in np.unique(region):
            i = np.flatnonzero(region == r)
            pool = pools[r]
            pos = np.searchsorted(pool, who[i])
            inside = (pos < len(pool)) & (pool[np.minimum(pos, len(pool) - 1)] == who[i])
            size = len(pool) - inside
            j = np.minimum((u[i] * size).astype(np.int64), np.maximum(size - 1, 0))
            j = np.where(inside & (j >= pos), j + 1, j)
            ok = size > 0
            out[i[ok]] = pool[j[ok]]
        return out

    def _respond(self, committed: np.ndarray, observed: np.ndarray) -> None:
        """Perceived risk per (act, region) is a ratio of exponential averages of the acts
        seen and done over about memory_days; a bad act's rate falls by strength x risk x
        severity."""
        p = self.pars
        alpha = 1.0 / p.memory_days
        self.seen_avg += alpha * (observed - self.seen_avg)
        self.done_avg += alpha * (committed - self.done_avg)
        with np.errstate(invalid="ignore", divide="ignore"):
            risk = np.where(self.done_avg > 0, self.seen_avg / self.done_avg, 0.0)
        self.deter = 1.0 - p.strength * risk * p.severity[:, None]


class Points(ss.Module):
    """Scores and lists: a recorded act's rule moves the points (a reward stops at its cap,
    nobody rises above the rule's highest grade), may put the person on a list, and a grade
    that a list takes in puts them on it; a listing ends on its term, on compliance plus the
    deletion delay, or (wrongful ones) on an upheld appeal that gives back the points lost to
    misattributed acts; an expired one is extended while the person still qualifies."""

    def __init__(self, scenario: Scenario, pars=None, **kwargs):
        super().__init__()
        s = scenario
        pts = s.points
        grade_idx = {g.name: i for i, g in enumerate(s.grades)}
        list_idx = {x.name: i for i, x in enumerate(s.lists)}
        grade_of = np.zeros(pts.max - pts.min + 1, dtype=np.int64)
        for i, g in enumerate(s.grades):
            grade_of[g.min - pts.min: g.max - pts.min + 1] = i
        n_acts = len(s.acts)
        act_idx = {a.name: i for i, a in enumerate(s.acts)}
        ruled = np.zeros(n_acts, dtype=bool)
        points = np.zeros(n_acts)
        ceiling = np.full(n_acts, float(pts.max))
        cap = np.full(n_acts, float(pts.max))
        rule_list = np.full(n_acts, -1)
        for r in s.rules:
            a = act_idx[r.act]
            ruled[a] = True
            points[a] = r.points
            if r.max_grade is not None:
                ceiling[a] = s.grades[grade_idx[r.max_grade]].max
            if r.cap is not None:
                cap[a] = min(pts.max, max(pts.min, r.cap))
            if r.list is not None:
                rule_list[a] = list_idx[r.list]
        self.define_pars(
            start_points=pts.start, pmin=pts.min, pmax=pts.max, grade_of=grade_of,
            ruled=ruled, points=points, ceiling=ceiling, cap=cap, rule_list=rule_list,
            black=np.array([x.kind == "black" for x in s.lists]),
            entry_grades=np.array([[g.name in x.grades for g in s.grades] for x in s.lists]),
            duration=np.array([x.duration_days for x in s.lists]),
            comply_per_day=np.array([x.exits.comply_per_year / 365.0 for x in s.lists]),
            comply_delay=np.array([x.exits.comply_delay_days for x in s.lists]),
            appeal_days=np.array([x.exits.appeal_days for x in s.lists]),
            extend=np.array([x.exits.extend_if_still_qualifies for x in s.lists]),
            comply=ss.expon(scale=1.0),
            appeals=[ss.bernoulli(p=x.exits.appeal_share) for x in s.lists],
            appeal_wait=ss.expon(scale=1.0),
        )
        self.update_pars(pars, **kwargs)
        n_lists = len(s.lists)
        self.grade_names = [g.name for g in s.grades]
        self.define_states(
            ss.FloatArr("points", default=float(pts.start), label="Points"),
            ss.IntArr("grade", default=int(grade_of[pts.start - pts.min]), label="Grade"),
            ss.FloatArr("wrong", default=0.0, label="Points lost to others' acts"),
            ss.BoolArr("on_list", columns=n_lists, label="On each list"),
            ss.FloatArr("ti_exit", columns=n_lists, label="Day each listing ends"),
            ss.IntArr("exit_why", default=EXPIRED, columns=n_lists, label="Why it ends"),
            ss.BoolArr("wrongful", columns=n_lists, label="Listing is wrongful"),
            ss.BoolState("listed", label="On a blacklist"),
            ss.BoolState("ever_listed", label="Ever on a blacklist"),
        )

    def init_results(self):
        super().init_results()
        self.define_results(
            ss.Result("mean_score", scale=False, label="Mean score of the scored"),
            ss.Result("scored", dtype=int, scale=False, label="Scored citizens"),
            *(ss.Result(f"grade_{g}", scale=False, label=f"Share in grade {g}")
              for g in self.grade_names),
        )

    def init_post(self):
        super().init_post()
        self.scored = self.sim.custom.society.scored.uids

    def record(self, uids: ss.uids, acts: np.ndarray, wrongful: np.ndarray) -> None:
        """Records land in order: one person's second record of the day applies after
        their first (each wave takes everyone's earliest remaining record)."""
        while len(uids):
            _, first = np.unique(uids, return_index=True)
            if len(first) == len(uids):
                self._apply(uids, acts, wrongful)
                return
            first.sort()
            self._apply(uids[first], acts[first], wrongful[first])
            rest = np.ones(len(uids), dtype=bool)
            rest[first] = False
            uids, acts, wrongful = uids[rest], acts[rest], wrongful[rest]

    def _apply(self, uids: ss.uids, acts: np.ndarray, wrongful: np.ndarray) -> None:
        """One record each for distinct people."""
        p = self.pars
        keep = p.ruled[acts]
        uids, acts, wrongful = uids[keep], acts[keep], wrongful[keep]
        before = self.points[uids].astype(np.float64)
        delta = p.points[acts]
        after = before + delta
        after = np.where(delta > 0, np.minimum(after, np.maximum(before, p.cap[acts])), after)
        after = np.clip(np.minimum(after, p.ceiling[acts]), p.pmin, p.pmax)
        self._set_points(uids, after)
        lost = wrongful & (after < before)
        self.wrong[uids[lost]] = np.minimum(MAX_WRONG, self.wrong[uids[lost]]
                                            + (before - after)[lost])
        for li in range(len(p.black)):
            new = (p.rule_list[acts] == li) & ~self.on_list[uids, li]
            self._enter(uids[new], li, wrongful[new])
        fair = p.grade_of[(np.minimum(after + self.wrong[uids], p.pmax) - p.pmin).astype(int)]
        grade = self.grade[uids]
        for li in range(len(p.black)):
            new = ~self.on_list[uids, li] & p.entry_grades[li][grade]
            self._enter(uids[new], li, ~p.entry_grades[li][fair[new]])

    def _set_points(self, uids: ss.uids, value: np.ndarray) -> None:
        self.points[uids] = value
        self.grade[uids] = self.pars.grade_of[(value - self.pars.pmin).astype(int)]

    def _enter(self, uids: ss.uids, li: int, wrongful: np.ndarray) -> None:
        if not len(uids):
            return
        self.on_list[uids, li] = True
        self.wrongful[uids, li] = wrongful
        self._plan_exit(uids, li, wrongful)
        if self.pars.black[li]:
            self.listed[uids] = True
            self.ever_listed[uids] = True

    def _plan_exit(self, uids: ss.uids, li: int, wrongful: np.ndarray) -> None:
        """When and why a listing made today ends: the term, compliance plus the deletion
        delay, or for a wrongful listing an upheld appeal; whichever is first."""
        p = self.pars
        until = np.full(len(uids), float(self.ti + p.duration[li]))
        why = np.full(len(uids), EXPIRED)
        if p.comply_per_day[li] > 0:
            wait = np.ceil(p.comply.rvs(uids) / p.comply_per_day[li])
            day = self.ti + np.maximum(1, wait) + p.comply_delay[li]
            sooner = day < until
            until[sooner], why[sooner] = day[sooner], COMPLIED
        appeal = p.appeals[li]
        if wrongful.any() and appeal:
            i = np.flatnonzero(wrongful)
            i = i[appeal.rvs(uids[i])]
            day = self.ti + np.maximum(1, np.ceil(p.appeal_wait.rvs(uids[i])
                                                  * p.appeal_days[li]))
            sooner = day < until[i]
            until[i[sooner]], why[i[sooner]] = day[sooner], APPEAL
        self.ti_exit[uids, li] = until
        self.exit_why[uids, li] = why

    def step(self):
        """The listings due today end, or are extended while the person still qualifies."""
        p = self.pars
        for li in range(len(p.black)):
            due = (self.on_list.col(li) & (self.ti_exit.col(li) <= self.ti)).uids
            if not len(due):
                continue
            why = self.exit_why[due, li]
            stay = (why == EXPIRED) & p.extend[li] & p.entry_grades[li][self.grade[due]]
            again = due[stay]
            self._plan_exit(again, li, self.wrongful[again, li])
            gone = due[~stay]
            self.on_list[gone, li] = False
            back = gone[(why[~stay] == APPEAL) & (self.wrong[gone] > 0)]
            self._set_points(back, np.minimum(self.points[back] + self.wrong[back], p.pmax))
            self.wrong[back] = 0.0
            if p.black[li]:
                others = p.black.copy()
                others[li] = False
                still = self.on_list[gone][:, others].any(axis=1) if others.any() else \
                    np.zeros(len(gone), dtype=bool)
                self.listed[gone[~still]] = False

    def update_results(self):
        super().update_results()
        ti = self.ti
        n = len(self.scored)
        counts = np.bincount(self.grade[self.scored], minlength=len(self.grade_names))
        self.results.mean_score[ti] = self.points[self.scored].sum(dtype=np.float64) / n
        self.results.scored[ti] = n
        for g, name in enumerate(self.grade_names):
            self.results[f"grade_{name}"][ti] = counts[g] / n


class Services(ss.Module):
    """Service attempts: a gate turns away people on its deny lists or in its deny grades and
    grants a perk to its perk lists and grades. Attempts change nobody's state, so they are
    counted per group of people who get the same answer: one Poisson draw per group a day."""

    def __init__(self, scenario: Scenario, pars=None, **kwargs):
        super().__init__()
        s = scenario
        grade_idx = {g.name: i for i, g in enumerate(s.grades)}
        list_idx = {x.name: i for i, x in enumerate(s.lists)}
        a = s.society.ages
        per_adult = a.child / a.adult if a.adult > 0 else 0.0

        def mask(names, index):
            return sum(1 << index[x] for x in names)

        self.define_pars(
            rate_day=np.array([g.attempts / 365.0 * (per_adult if g.children else 1.0)
                               for g in s.gates]),
            groups=np.array([[(x == "adult") if g.children else (x in g.ages) for x in GROUPS]
                             for g in s.gates]),
            deny_lists=np.array([mask(g.deny_lists, list_idx) for g in s.gates]),
            perk_lists=np.array([mask(g.perk_lists, list_idx) for g in s.gates]),
            deny_grades=np.array([mask(g.deny_grades, grade_idx) for g in s.gates]),
            perk_grades=np.array([mask(g.perk_grades, grade_idx) for g in s.gates]),
            listed_attempts=np.array([g.listed_attempts for g in s.gates]),
            attempts=ss.poisson(lam=1.0),
        )
        self.update_pars(pars, **kwargs)
        self.gate_names = [g.name for g in s.gates]
        self.n_lists, self.n_grades = len(s.lists), len(s.grades)
        self.counts = np.zeros((len(s.gates), 3), dtype=np.int64)  # attempts, denied, perks

    def init_results(self):
        super().init_results()
        self.define_results(
            ss.Result("attempts", dtype=int, scale=False, label="Service attempts"),
            ss.Result("denied", dtype=int, scale=False, label="Attempts denied"),
        )

    def step(self):
        """Everyone counted by (lists they are on, age group, grade or unscored); each gate's
        attempts from each group are one Poisson draw, all given the group's answer."""
        p = self.pars
        soc = self.sim.custom.society
        pts = self.sim.custom.points
        uids = self.sim.people.auids
        n_slots = self.n_grades + 1
        cell = soc.group[uids] * n_slots + np.where(soc.scored[uids], pts.grade[uids],
                                                    self.n_grades)
        for li in range(self.n_lists):
            cell += pts.on_list[uids, li] * ((1 << li) * len(GROUPS) * n_slots)
        people = np.bincount(cell, minlength=(1 << self.n_lists) * len(GROUPS) * n_slots)
        cells = np.flatnonzero(people)
        on_lists = cells // (len(GROUPS) * n_slots)
        group = cells // n_slots % len(GROUPS)
        grade = cells % n_slots
        graded = grade < self.n_grades
        bit = np.left_shift(1, np.minimum(grade, self.n_grades - 1))
        col = np.newaxis  # gates down, groups of people across
        listed_out = (on_lists & p.deny_lists[:, col]) > 0
        denied = listed_out | (graded & ((bit & p.deny_grades[:, col]) > 0))
        perk = ~denied & (((on_lists & p.perk_lists[:, col]) > 0)
                          | (graded & ((bit & p.perk_grades[:, col]) > 0)))
        lam = people[cells] * p.rate_day[:, col] * p.groups[:, group]
        lam = np.where(listed_out, lam * p.listed_attempts[:, col], lam)
        p.attempts.set(lam=lam.ravel())
        n = p.attempts.rvs(lam.size).reshape(lam.shape)
        counts = np.stack([n.sum(axis=1), (n * denied).sum(axis=1), (n * perk).sum(axis=1)], 1)
        self.counts += counts
        self.results.attempts[self.ti] = counts[:, 0].sum()
        self.results.denied[self.ti] = counts[:, 1].sum()


def make_sim(scenario: Scenario, population: int, days: int, seed: int) -> ss.Sim:
    """A Starsim simulation of the scenario: `days` daily steps of `population` people."""
    return ss.Sim(
        n_agents=population, rand_seed=seed,
        start=ss.date(str(scenario.scenario.start)), dur=ss.days(days - 1), dt=ss.days(1),
        custom=[Society(scenario), Conduct(scenario), Points(scenario), Services(scenario)],
        people_results=False, verbose=0,
    )


def run_starsim(scenario: Scenario | None, population: int, days: int, seed: int) -> dict:
    """Run the Starsim model; return the last day's figures (as run_mesa does), the
    construction and stepping times, and the daily table."""
    s = scenario if scenario is not None else load("rongcheng")[0]
    t0 = time.perf_counter()
    sim = make_sim(s, population, days, seed)
    sim.init()
    t1 = time.perf_counter()
    sim.run()
    t2 = time.perf_counter()
    conduct, points, services = sim.custom.conduct, sim.custom.points, sim.custom.services
    res = points.results
    daily = pd.DataFrame({
        "mean_score": res.mean_score.values,
        "scored": res.scored.values,
        "listed": res.n_listed.values.astype(np.int64),
        "listed_cumulative": res.n_ever_listed.values.astype(np.int64),
        "acts_committed": conduct.results.acts_committed.values,
        "acts_observed": conduct.results.acts_observed.values,
        **{f"grade_{g}": res[f"grade_{g}"].values for g in points.grade_names},
    })
    last = daily.iloc[-1]
    n = int(last["scored"])
    out: dict = {
        "population": population, "days": days, "seed": seed,
        "mean_score": float(last["mean_score"]),
        "scored": n,
        "listed": int(last["listed"]),
        "listed_cumulative": int(last["listed_cumulative"]),
        "listed_share": last["listed"] / n,
        "acts_committed": int(daily["acts_committed"].sum()),
        "acts_observed": int(daily["acts_observed"].sum()),
        "ever_listed_share": last["listed_cumulative"] / n,
        "construct_s": t1 - t0,
        "step_s": t2 - t1,
        "gates": {name: dict(zip(("attempts", "denied", "perks"), map(int, row), strict=True))
                  for name, row in zip(services.gate_names, services.counts, strict=True)},
        "daily": daily,
    }
    for g in points.grade_names:
        out[f"grade_{g}"] = float(last[f"grade_{g}"])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--population", type=int, default=20_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    r = run_starsim(None, a.population, a.days, a.seed)
    print(r["daily"].tail(3).to_string())
    print(f"construct {r['construct_s']:.2f} s, {a.days} steps {r['step_s']:.2f} s "
          f"({a.population * a.days / r['step_s'] / 1e6:.2f} M agent-days/s)")


if __name__ == "__main__":
    main()
