"""The Rongcheng scenario as an idiomatic Mesa 3 model: a reference to compare the engine with.

One `Citizen` object per person with a `step` for the day, a `RongchengModel` whose `step`
runs the citizens, reviews the lists and updates deterrence, and a `DataCollector` for the
daily figures, the way Mesa's own examples are written. Every number comes from the scenario
(`socialcredit.scenario.load`), and the semantics are the engine's (stages/*.py), written
again in plain Python without its code. Differences by design: the misconduct trait is
continuous (each region's N(0, 1) quantiles, shuffled) rather than the engine's 16 classes, so
the mean rates agree but this model keeps the far tail the classes pool away; services are
tried during the citizens' step rather than after the lists are reviewed (nothing depends on
them); and draws come from Mesa's seeded `self.random` rather than counter-based streams, so
the two agree in distribution, not draw for draw.

    python benchmarks/mesa_model.py --population 20000 --days 365 --seed 1
"""

from __future__ import annotations

import argparse
import bisect
import math
import time
from dataclasses import dataclass
from statistics import NormalDist

import mesa
from mesa.agent import AgentSet

from socialcredit.scenario import Scenario, load

EXPIRED, COMPLIED, APPEAL = "expired", "complied", "appeal"
MAX_WRONG = 32767
"""The engine keeps points lost to misattributed acts in an int16."""


@dataclass(slots=True)
class Listing:
    """One person's place on one list: when it began and when and why it will end."""

    list: int
    since: int
    until: int
    why: str
    wrongful: bool
    extended: int = 0


@dataclass(frozen=True, slots=True)
class Rule:
    points: int
    list: int | None
    ceiling: int  # top of max_grade
    cap: int  # a reward stops here


@dataclass(frozen=True, slots=True)
class ListSpec:
    name: str
    black: bool
    grades: frozenset[int]
    duration: int
    comply_per_day: float
    comply_delay: int
    appeal_share: float
    appeal_days: float
    extend: bool


@dataclass(frozen=True, slots=True)
class GateSpec:
    name: str
    deny_lists: frozenset[int]
    deny_grades: frozenset[int]
    perk_grades: frozenset[int]
    perk_lists: frozenset[int]


def age_probabilities(child: float, adult: float, elder: float,
                      household: float) -> tuple[float, float, float]:
    """(head_adult, p_child, p_adult): household heads are adults or elders in their overall
    ratio; the other members make up the rest of each share (as the engine's society does)."""
    h = 1.0 / household
    head_adult = adult / (adult + elder)
    if h >= 1.0:
        return head_adult, 0.0, 1.0
    c = min(1.0, child / (1.0 - h))
    a = min(max((adult - h * head_adult) / (1.0 - h), 0.0), 1.0 - c)
    return head_adult, c, a


def region_sizes(n: int, shares: list[float]) -> list[int]:
    """Region sizes summing to n, by largest remainder."""
    raw = [s / sum(shares) * n for s in shares]
    sizes = [math.floor(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: -(raw[i] - sizes[i]))
    for i in by_remainder[: n - sum(sizes)]:
        sizes[i] += 1
    return sizes


class Citizen(mesa.Agent):
    """A synthetic citizen: commits acts, is seen or not, gains and loses points, is listed,
    and tries to use services."""

    def __init__(self, model: RongchengModel, region: int, household: int, age: str,
                 trait: float):
        super().__init__(model)
        self.region = region
        self.household = household
        self.age = age
        self.trait = trait
        self.scored = age in model.scored_ages
        self.score = model.start_points
        self.grade = model.grade_of[self.score - model.pmin]
        self.wrong = 0  # points lost to acts someone else committed
        self.listings: dict[int, Listing] = {}
        self.ever_listed = False
        # What this citizen may do in a day (acts, then services), with cumulative daily
        # rates before deterrence: one Poisson draw of the total, then a pick among them.
        self.menu = model.menu[age]
        cum, total = [], 0.0
        for kind, i in self.menu:
            if kind == "act":
                act = model.scenario.acts[i]
                s = act.spread
                z = -trait if act.valence == "good" else trait
                total += act.rate / 365.0 * math.exp(s * z - s * s / 2)
            else:
                total += model.scenario.gates[i].attempts / 365.0
            cum.append(total)
        self.cum = cum
        self.rate = total
        self.quiet = math.exp(-total)  # chance of doing nothing today

    def step(self) -> None:
        """Today's acts and service attempts: a Poisson number in all, each picked by rate."""
        rng = self.random
        u = rng.random()
        p = self.quiet
        if u < p:
            return
        lam = self.rate
        n, c = 0, p
        while u >= c and n < 1000:  # Poisson by inversion
            n += 1
            p *= lam / n
            c += p
        last = len(self.cum) - 1
        for _ in range(n):
            kind, i = self.menu[min(bisect.bisect_right(self.cum, rng.random() * lam), last)]
            if kind == "act":
                if rng.random() < self.model.deter[i][self.region]:  # deterrence thins it
                    self.commit(i)
            else:
                self.try_gate(i)

    def commit(self, act: int) -> None:
        """Commit an act; if a channel sees it, a rule applies to whoever it is put on."""
        target = self.model.observe(self, act)
        if target is not None and target.scored:
            target.record(act, wrongful=target is not self)

    def record(self, act: int, wrongful: bool) -> None:
        """An act lands on this citizen's record: points, ceilings, and list entries."""
        model = self.model
        rule = model.rules[act]
        if rule is None:
            return
        before = self.score
        after = before + rule.points
        if rule.points > 0:
            after = min(after, max(before, rule.cap))
        after = min(after, rule.ceiling)
        after = min(max(after, model.pmin), model.pmax)
        self.set_score(after)
        if wrongful and after < before:
            self.wrong = min(MAX_WRONG, self.wrong + before - after)
        if rule.list is not None and rule.list not in self.listings:
            self.enter_list(rule.list, wrongful)
        fair = model.grade_of[min(after + self.wrong, model.pmax) - model.pmin]
        for li, spec in enumerate(model.lists):
            if li not in self.listings and self.grade in spec.grades:
                self.enter_list(li, wrongful=fair not in spec.grades)

    def set_score(self, value: int) -> None:
        model = self.model
        model.score_sum += value - self.score
        self.score = value
        grade = model.grade_of[value - model.pmin]
        if grade != self.grade:
            model.grade_counts[self.grade] -= 1
            model.grade_counts[grade] += 1
            self.grade = grade

    def on_black_list(self) -> bool:
        return any(self.model.lists[li].black for li in self.listings)

    def enter_list(self, li: int, wrongful: bool) -> None:
        model = self.model
        was_black = self.on_black_list()
        until, why = model.plan_exit(li, model.day, wrongful)
        self.listings[li] = Listing(li, model.day, until, why, wrongful)
        model.listed.add(self)
        if model.lists[li].black:
            if not was_black:
                model.n_listed += 1
            if not self.ever_listed:
                self.ever_listed = True
                model.n_ever_listed += 1

    def review_listings(self) -> None:
        """End the listings due today; extend an expired one while still in an entry grade;
        an upheld appeal gives back the points lost to misattributed acts."""
        model = self.model
        day = model.day
        for li, listing in list(self.listings.items()):
            if listing.until > day:
                continue
            spec = model.lists[li]
            if listing.why == EXPIRED and spec.extend and self.grade in spec.grades:
                listing.until, listing.why = model.plan_exit(li, day, listing.wrongful)
                listing.extended += 1
                continue
            was_black = self.on_black_list()
            del self.listings[li]
            if listing.why == APPEAL and self.wrong > 0:
                self.set_score(min(self.score + self.wrong, model.pmax))
                self.wrong = 0
            if was_black and not self.on_black_list():
                model.n_listed -= 1
        if not self.listings:
            model.listed.discard(self)

    def try_gate(self, g: int) -> None:
        """Try a service: denied for a deny list or grade, else perhaps granted with a perk."""
        gate = self.model.gates[g]
        counts = self.model.gate_counts[gate.name]
        counts["attempts"] += 1
        on = self.listings.keys()
        if (gate.deny_lists and not gate.deny_lists.isdisjoint(on)) or (
                self.scored and self.grade in gate.deny_grades):
            counts["denied"] += 1
        elif (gate.perk_lists and not gate.perk_lists.isdisjoint(on)) or (
                self.scored and self.grade in gate.perk_grades):
            counts["perks"] += 1


class RongchengModel(mesa.Model):
    """A scenario's society and system, one Citizen per person, advanced a day per step."""

    def __init__(self, population: int = 20_000, seed: int | None = None,
                 scenario: Scenario | None = None):
        super().__init__(seed=seed)
        s = scenario if scenario is not None else load("rongcheng")[0]
        self.scenario = s
        self.day = 0
        self._tables(s)
        self._populate(s, population)
        reporters = {
            "mean_score": lambda m: m.score_sum / m.n_scored if m.n_scored else math.nan,
            "scored": "n_scored",
            "listed": "n_listed",
            "listed_cumulative": "n_ever_listed",
            "acts_committed": lambda m: sum(map(sum, m.committed)),
            "acts_observed": lambda m: sum(map(sum, m.observed)),
        }
        for g, name in enumerate(self.grade_names):
            reporters[f"grade_{name}"] = (
                lambda m, g=g: m.grade_counts[g] / m.n_scored if m.n_scored else math.nan)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def _tables(self, s: Scenario) -> None:
        """The scenario's numbers, indexed by position, for the citizens' lookups."""
        p = s.points
        self.pmin, self.pmax, self.start_points = p.min, p.max, p.start
        self.scored_ages = frozenset(p.ages)
        self.grade_names = [g.name for g in s.grades]
        grade_idx = {g.name: i for i, g in enumerate(s.grades)}
        list_idx = {x.name: i for i, x in enumerate(s.lists)}
        self.grade_of = [0] * (p.max - p.min + 1)
        for i, g in enumerate(s.grades):
            for v in range(g.min, g.max + 1):
                self.grade_of[v - p.min] = i

        self.rules: list[Rule | None] = [None] * len(s.acts)
        act_idx = {a.name: i for i, a in enumerate(s.acts)}
        for r in s.rules:
            ceiling = p.max if r.max_grade is None else s.grades[grade_idx[r.max_grade]].max
            cap = p.max if r.cap is None else min(p.max, max(p.min, r.cap))
            self.rules[act_idx[r.act]] = Rule(
                r.points, list_idx[r.list] if r.list is not None else None, ceiling, cap)

        # Channels watching each act, in scenario order, per region type.
        self.watchers = [{"urban": [], "rural": []} for _ in s.acts]
        for c in s.channels:
            for name in c.acts:
                w = self.watchers[act_idx[name]]
                w["urban"].append((c.coverage_urban, c.misattribution))
                w["rural"].append((c.coverage_rural, c.misattribution))

        self.lists = [ListSpec(
            x.name, x.kind == "black", frozenset(grade_idx[g] for g in x.grades),
            x.duration_days, x.exits.comply_per_year / 365.0, x.exits.comply_delay_days,
            x.exits.appeal_share, x.exits.appeal_days, x.exits.extend_if_still_qualifies)
            for x in s.lists]
        self.gates = [GateSpec(
            g.name, frozenset(list_idx[x] for x in g.deny_lists),
            frozenset(grade_idx[x] for x in g.deny_grades),
            frozenset(grade_idx[x] for x in g.perk_grades),
            frozenset(list_idx[x] for x in g.perk_lists)) for g in s.gates]
        self.menu = {age: [("act", i) for i, a in enumerate(s.acts) if age in a.ages]
                     + [("gate", i) for i, g in enumerate(s.gates) if age in g.ages]
                     for age in ("child", "adult", "elder")}

        d = s.responses.deterrence
        self.deter_on = d.enabled
        self.deter_strength = d.strength
        self.deter_alpha = 1.0 / d.memory_days
        self.severity = [min(1.0, abs(r.points) / d.reference_points)
                         if r is not None and r.points < 0 else 0.0 for r in self.rules]
        nr = len(s.society.regions)
        self.region_type = [r.type for r in s.society.regions]
        self.seen_avg = [[0.0] * nr for _ in s.acts]
        self.done_avg = [[0.0] * nr for _ in s.acts]
        self.deter = [[1.0] * nr for _ in s.acts]
        self.committed = [[0] * nr for _ in s.acts]
        self.observed = [[0] * nr for _ in s.acts]

    def _populate(self, s: Scenario, population: int) -> None:
        """Regions as consecutive id ranges; households as runs of ids whose first member is
        an adult or elder; a misconduct trait per person.

        The traits of a region are the N(0, 1) quantiles of its size, shuffled: a stratified
        sample, so every seed's population has mean rate multipliers of one, as the engine's
        equal trait classes do, while keeping the continuous tail the classes cut off."""
        soc = s.society
        head_adult, p_child, p_adult = age_probabilities(
            soc.ages.child, soc.ages.adult, soc.ages.elder, soc.household_size)
        p_head = 1.0 / soc.household_size
        rng = self.random
        regions, households, ages, traits = [], [], [], []
        household = -1
        normal = NormalDist()
        for r, size in enumerate(region_sizes(population, [x.share for x in soc.regions])):
            quantiles = [normal.inv_cdf((k + 0.5) / size) for k in range(size)]
            rng.shuffle(quantiles)
            traits.extend(quantiles)
            for j in range(size):
                if j == 0 or rng.random() < p_head:
                    household += 1
                    age = "adult" if rng.random() < head_adult else "elder"
                else:
                    u = rng.random()
                    age = "child" if u < p_child else "adult" if u < p_child + p_adult \
                        else "elder"
                regions.append(r)
                households.append(household)
                ages.append(age)
        citizens = Citizen.create_agents(self, population, region=regions,
                                         household=households, age=ages, trait=traits)
        scored = citizens.select(lambda c: c.scored)
        self.scored_in_region = [[c for c in scored if c.region == r]
                                 for r in range(len(soc.regions))]
        self.n_scored = len(scored)
        self.score_sum = self.start_points * self.n_scored
        self.grade_counts = [0] * len(self.grade_names)
        self.grade_counts[self.grade_of[self.start_points - self.pmin]] = self.n_scored
        self.listed = AgentSet([], random=self.random)
        self.n_listed = 0
        self.n_ever_listed = 0
        self.gate_counts = {g.name: {"attempts": 0, "denied": 0, "perks": 0}
                            for g in self.gates}

    def observe(self, citizen: Citizen, act: int) -> Citizen | None:
        """The first channel that sees the act records it; with its misattribution rate the
        record lands on another scored citizen of the same region. None if unseen."""
        r = citizen.region
        self.committed[act][r] += 1
        rng = self.random
        for coverage, misattribution in self.watchers[act][self.region_type[r]]:
            if rng.random() < coverage:
                self.observed[act][r] += 1
                if misattribution and rng.random() < misattribution:
                    pool = self.scored_in_region[r]
                    for _ in range(16):
                        other = rng.choice(pool)
                        if other is not citizen:
                            return other
                return citizen
        return None

    def plan_exit(self, li: int, since: int, wrongful: bool) -> tuple[int, str]:
        """When and why a listing made on `since` ends: the term, compliance plus the
        deletion delay, or for a wrongful listing an upheld appeal; whichever is first."""
        spec = self.lists[li]
        rng = self.random
        until, why = since + spec.duration, EXPIRED
        if spec.comply_per_day > 0:
            day = (since + max(1, math.ceil(rng.expovariate(spec.comply_per_day)))
                   + spec.comply_delay)
            if day < until:
                until, why = day, COMPLIED
        if wrongful and spec.appeal_share > 0 and rng.random() < spec.appeal_share:
            day = since + max(1, math.ceil(rng.expovariate(1.0) * spec.appeal_days))
            if day < until:
                until, why = day, APPEAL
        return until, why

    def respond(self) -> None:
        """Deterrence: perceived risk per (act, region) is the share of acts seen over about
        the last memory_days (a ratio of exponential averages of the counts); a bad act's
        rate falls by strength x risk x severity."""
        if not self.deter_on:
            return
        alpha, strength = self.deter_alpha, self.deter_strength
        for a, (committed, observed) in enumerate(zip(self.committed, self.observed,
                                                     strict=True)):
            seen, done = self.seen_avg[a], self.done_avg[a]
            for r, n in enumerate(committed):
                seen[r] += alpha * (observed[r] - seen[r])
                done[r] += alpha * (n - done[r])
                risk = seen[r] / done[r] if done[r] > 0 else 0.0
                self.deter[a][r] = 1.0 - strength * risk * self.severity[a]

    def step(self) -> None:
        """One day: citizens act and try services, lists are reviewed, people adapt."""
        self.agents.do("step")
        self.listed.do("review_listings")
        self.respond()
        self.datacollector.collect(self)
        for counts in (*self.committed, *self.observed):
            counts[:] = [0] * len(counts)
        self.day += 1


def run_mesa(population: int, days: int, seed: int, scenario: Scenario | None = None) -> dict:
    """Run the Mesa model; return the final figures and the DataCollector's daily table."""
    t0 = time.perf_counter()
    model = RongchengModel(population, seed=seed, scenario=scenario)
    t1 = time.perf_counter()
    for _ in range(days):
        model.step()
    t2 = time.perf_counter()
    n = model.n_scored
    daily = model.datacollector.get_model_vars_dataframe()
    out: dict = {
        "population": population, "days": days, "seed": seed,
        "mean_score": model.score_sum / n,
        "scored": n,
        "listed": model.n_listed,
        "listed_cumulative": model.n_ever_listed,
        "listed_share": model.n_listed / n,
        "acts_committed": int(daily["acts_committed"].sum()),
        "acts_observed": int(daily["acts_observed"].sum()),
        "ever_listed_share": model.n_ever_listed / n,
        "construct_s": t1 - t0,
        "step_s": t2 - t1,
        "gates": model.gate_counts,
        "daily": daily,
    }
    for g, name in enumerate(model.grade_names):
        out[f"grade_{name}"] = model.grade_counts[g] / n
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--population", type=int, default=20_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    r = run_mesa(a.population, a.days, a.seed)
    print(r["daily"].tail(3).to_string())
    print(f"construct {r['construct_s']:.2f} s, {a.days} steps {r['step_s']:.2f} s "
          f"({a.population * a.days / r['step_s'] / 1e6:.2f} M agent-days/s)")


if __name__ == "__main__":
    main()
