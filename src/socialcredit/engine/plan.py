"""A scenario turned into the flat numeric tables the kernels read.

The kernels never see names or pydantic objects: acts, channels, grades, lists and gates become
small arrays indexed by position, and the society becomes region id ranges and work blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from ..scenario.schema import AGE_GROUPS, AREAS, Scenario, region_matches
from ..society.traits import age_probabilities
from .random import bits_for, derive, stream_id

CLASS_CUTS = (0.0, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95,
              0.975, 0.99, 0.995, 0.999, 1.0)
"""Misconduct-trait classes as slices of the population (quantiles of the trait), finer in
the tails, where the few people who act most often are; symmetric, so good acts use the
same slices mirrored."""
CLASSES = len(CLASS_CUTS) - 1

BLOCK = 1 << 18
"""Ranks per work block. Blocks fix where random streams start, so results do not depend on
the number of threads."""

AGE_BITS = {a: i for i, a in enumerate(AGE_GROUPS)}


def _age_mask(ages: list[str]) -> int:
    return sum(1 << AGE_BITS[a] for a in set(ages))


def class_multipliers(spread: float, good: bool) -> np.ndarray:
    """Mean rate multiplier of each trait class for a lognormal spread with mean one.

    A person's multiplier is exp(s*Z - s^2/2) with Z standard normal; class k holds the
    slice of Z between the CLASS_CUTS quantiles k and k+1, and gets the mean multiplier over
    that slice, so the population mean stays exactly one.
    """
    nd = NormalDist()

    def z(p: float) -> float:
        return -math.inf if p <= 0 else math.inf if p >= 1 else nd.inv_cdf(p)

    def cdf(x: float) -> float:
        return 0.0 if x == -math.inf else 1.0 if x == math.inf else nd.cdf(x)

    sizes = np.diff(CLASS_CUTS)
    mass = np.array([cdf(z(CLASS_CUTS[k + 1]) - spread) - cdf(z(CLASS_CUTS[k]) - spread)
                     for k in range(CLASSES)])
    m = mass / mass.sum() / sizes
    return m[::-1].copy() if good else m


NEVER = 1 << 40
"""A day no run reaches."""


def _days(s: Scenario, starts, ends) -> list[int]:
    """Timeline dates as day numbers of the run (first day in force, first day not)."""
    first = (starts - s.scenario.start).days if starts else 0
    last = (ends - s.scenario.start).days if ends else NEVER
    return [first, last]


def split_population(n: int, shares: list[float]) -> np.ndarray:
    """Region sizes summing to n, by largest remainder."""
    raw = np.array(shares, dtype=np.float64) / sum(shares) * n
    sizes = np.floor(raw).astype(np.int64)
    rest = n - int(sizes.sum())
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[:rest]] += 1
    return sizes


@dataclass
class Plan:
    """Everything the kernels need, as arrays."""

    scenario: Scenario
    population: int  # agents: citizens, then firms
    seed: int
    scale: float
    seed_key: np.uint64
    # points and grades
    pmin: int
    pmax: int
    start_points: int
    scored_mask: int
    grade_of: np.ndarray  # uint8[pmax-pmin+1]: grade index of each score
    grade_names: list[str]
    grade_top: np.ndarray  # int32[grades]: highest score of each grade
    # regions
    region_names: list[str]
    region_start: np.ndarray  # int64
    region_size: np.ndarray  # int64
    region_type: np.ndarray  # int8: 0 urban, 1 rural
    region_firm: np.ndarray  # bool: a region of firms (after every region of citizens)
    region_home: np.ndarray  # int64: the citizens' region a region of firms belongs to
    region_bits: np.ndarray  # int64: bit width of the region's permutation
    region_key: np.ndarray  # uint64: Feistel key
    society_key: np.ndarray  # uint64: key of the region's trait stream
    age_probs: np.ndarray  # float64[4]: see society.traits.age_probabilities
    # acts
    act_names: list[str]
    act_rate_day: np.ndarray  # float64
    act_mult: np.ndarray  # float64[acts, CLASSES]
    act_age_mask: np.ndarray  # int64
    act_bad: np.ndarray  # bool
    # channels
    channel_names: list[str]
    act_channels: np.ndarray  # int64[acts, channels]: channel ids watching the act, -1 pad
    channel_key: np.ndarray  # uint64[channels]: stream key from the channel's name
    channel_cov: np.ndarray  # float64[channels, 2]
    channel_mis: np.ndarray  # float64[channels]
    channel_cov_listed: np.ndarray  # float64[channels]: coverage of the blacklisted (-1: same)
    # rules, by act
    rule_points: np.ndarray  # int32[acts]
    rule_has: np.ndarray  # bool[acts]
    rule_list: np.ndarray  # int64[acts], -1 none
    rule_ceiling: np.ndarray  # int32[acts]: top of `max_grade` (pmax if none)
    rule_cap: np.ndarray  # int32[acts]: rewards stop here (pmax if none)
    rule_days: np.ndarray  # int64[acts, 2]: first day the rule applies, first day it does not
    rule_ladder: np.ndarray  # int64[acts, 4]: points by offence number
    rule_ladder_len: np.ndarray  # int64[acts]: 0 for a rule without a ladder
    # lists
    list_names: list[str]
    list_black: np.ndarray  # bool
    list_grade_mask: np.ndarray  # int64: grades that put a person on the list
    list_duration: np.ndarray  # int64
    list_comply_rate: np.ndarray  # float64 per day
    list_comply_delay: np.ndarray  # int64
    list_appeal_share: np.ndarray  # float64
    list_appeal_days: np.ndarray  # float64
    list_extend: np.ndarray  # bool
    list_restore: np.ndarray  # bool: complying returns the score to start
    list_extend_unpaid: np.ndarray  # float64: chance an uncomplied listing is extended once
    list_extend_days: np.ndarray  # int64: length of that extension
    list_appeal_cap: np.ndarray  # float64: appeals decided a day (-1: unlimited)
    black_mask: int
    list_reps: np.ndarray  # int64: list a listed firm's representative goes on (-1 none)
    # gates
    gate_names: list[str]
    gate_rate_day: np.ndarray
    gate_deny_lists: np.ndarray  # int64 masks
    gate_deny_grades: np.ndarray
    gate_perk_grades: np.ndarray
    gate_perk_lists: np.ndarray
    gate_days: np.ndarray  # int64[gates, 2]: days between which denials and perks apply
    gate_listed_mult: np.ndarray  # float64: attempts of people the gate's lists turn away
    gate_age_mask: np.ndarray
    # deterrence
    deter_on: bool
    deter_strength: float
    deter_alpha: float
    deter_severity: np.ndarray  # float64[acts]: min(1, |points| / reference)
    citizens: int = 0
    firms: int = 0
    # local systems, pseudo-acts, mechanisms (see `_mechanisms`)
    act_area: np.ndarray = field(default=None)  # int64[acts]: index in AREAS
    act_regions: np.ndarray = field(default=None)  # bool[acts, regions]: where it happens
    rule_regions: np.ndarray = field(default=None)  # bool[rules, regions]: whom it scores
    rule_local: np.ndarray = field(default=None)  # bool[rules]: not every region
    rule_when: np.ndarray = field(default=None)  # int64[rules]: grades it applies to
    scored_regions: np.ndarray = field(default=None)  # bool[regions]
    members: float = 1.0
    ties: int = 0
    tie_key: np.ndarray = field(default=None)  # uint64[regions]: the acquaintance ring's key
    mech: np.ndarray = field(default=None)  # float64[MECH]: switches and rates
    assoc_areas: int = 0
    cut_grades: int = 0
    buyer_grades: int = -1
    false_acts: np.ndarray = field(default=None)  # int64
    sabotage_acts: np.ndarray = field(default=None)  # int64
    informant_key: np.uint64 = np.uint64(0)
    rep_key: np.uint64 = np.uint64(0)
    channel_informant: np.ndarray = field(default=None)  # bool[channels]
    act_expression: np.ndarray = field(default=None)  # bool[acts]
    gate_children: np.ndarray = field(default=None)  # bool[gates]
    children_per_adult: float = 0.0
    # work blocks for acts
    ab_act: np.ndarray = field(default=None)
    ab_region: np.ndarray = field(default=None)
    ab_class: np.ndarray = field(default=None)
    ab_lo: np.ndarray = field(default=None)
    ab_n: np.ndarray = field(default=None)
    ab_key: np.ndarray = field(default=None)
    gate_keys: np.ndarray = field(default=None)  # uint64 per gate
    # regions x classes: rank offsets of each class
    class_lo: np.ndarray = field(default=None)  # int64[regions, CLASSES + 1]
    # act rate timelines: days on which some act's rate changes, and the rates per day of
    # each act in force before the first change (row 0) and from each change on (row k)
    rate_steps: np.ndarray = field(default=None)  # int64[steps], increasing
    rate_table: np.ndarray = field(default=None)  # float64[steps + 1, acts]
    # disclosure (see `_disclosure`): per list, DISC columns; reach per region type
    list_disc: np.ndarray = field(default=None)  # float64[lists, len(DISC)]
    list_reach: np.ndarray = field(default=None)  # float64[lists, 2]: views a day, town/village
    published_mask: int = 0
    cut_of_mask: np.ndarray = field(default=None)  # float64[1 << lists]: disclosure cut share
    disc_cut_key: np.uint64 = np.uint64(0)
    gate_deny_disclosed: np.ndarray = field(default=None)  # int64[gates]: 0 or 1
    # credit repair: per list, pieces of the rules' timeline as (first day, wait, rate a
    # day, success share), and (on, decide days, decisions a day or -1)
    list_repair: np.ndarray = field(default=None)  # float64[lists, REPAIR_PIECES, 4]
    list_repair_x: np.ndarray = field(default=None)  # float64[lists, 3]
    # attitudes
    att_age_mask: int = 0
    att_key: np.uint64 = np.uint64(0)

    def act_rates(self, day: int) -> np.ndarray:
        """Acts per person per day of each act on `day` (the timeline's piece in force)."""
        if not len(self.rate_steps):
            return self.act_rate_day
        return self.rate_table[int(np.searchsorted(self.rate_steps, day, side="right"))]

    @property
    def n_acts(self) -> int:
        return len(self.act_names)


def firms_per_region(s: Scenario, sizes: np.ndarray) -> np.ndarray:
    """Firms in each region of citizens `sizes`."""
    return np.round(sizes * (s.society.firms_per_1000 / 1000.0)).astype(np.int64)


def agent_count(s: Scenario, population: int) -> int:
    """Citizens and firms of a run of `s` at `population` citizens, without building a plan."""
    sizes = split_population(population, [r.share for r in s.society.regions])
    return population + int(firms_per_region(s, sizes).sum())


def build(s: Scenario, population: int, seed: int) -> Plan:
    """Turn a validated scenario into a Plan for `population` citizens and `seed`."""
    grade_idx = {g.name: i for i, g in enumerate(s.grades)}
    list_idx = {x.name: i for i, x in enumerate(s.lists)}
    act_idx = {a.name: i for i, a in enumerate(s.acts)}
    ch_idx = {c.name: i for i, c in enumerate(s.channels)}
    p = s.points
    grade_of = np.zeros(p.max - p.min + 1, dtype=np.uint8)
    for i, g in enumerate(s.grades):
        grade_of[g.min - p.min: g.max - p.min + 1] = i
    grade_top = np.array([g.max for g in s.grades], dtype=np.int32)

    def gmask(names: list[str]) -> int:
        return sum(1 << grade_idx[n] for n in set(names))

    def lmask(names: list[str]) -> int:
        return sum(1 << list_idx[n] for n in set(names))

    sizes = split_population(population, [r.share for r in s.society.regions])
    names = [r.name for r in s.society.regions]
    types = [0 if r.type == "urban" else 1 for r in s.society.regions]
    home = list(range(len(names)))
    if s.society.firms_per_1000 > 0:  # each region's firms, a region of their own after all
        firm_sizes = firms_per_region(s, sizes)
        keep = np.flatnonzero(firm_sizes > 0)
        names += [names[r] + "_firms" for r in keep]
        types += [types[r] for r in keep]
        home += [int(r) for r in keep]
        sizes = np.concatenate([sizes, firm_sizes[keep]])
    n_firms = int(sizes[len(s.society.regions):].sum())
    firm_region = np.arange(len(sizes)) >= len(s.society.regions)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    seed_key = derive(stream_id("socialcredit"), np.uint64(seed))
    region_key = np.array([derive(seed_key ^ stream_id("region:" + n), 0) for n in names],
                          dtype=np.uint64)

    n_acts = len(s.acts)
    act_channels = -np.ones((n_acts, max(1, len(s.channels))), dtype=np.int64)
    fill = np.zeros(n_acts, dtype=np.int64)
    for c in s.channels:
        for name in c.acts:
            a = act_idx[name]
            act_channels[a, fill[a]] = ch_idx[c.name]
            fill[a] += 1

    rule_points = np.zeros(n_acts, dtype=np.int32)
    rule_has = np.zeros(n_acts, dtype=np.bool_)
    rule_list = -np.ones(n_acts, dtype=np.int64)
    rule_ceiling = np.full(n_acts, p.max, dtype=np.int32)
    rule_cap = np.full(n_acts, p.max, dtype=np.int32)
    rule_days = np.tile(np.array([0, NEVER], dtype=np.int64), (n_acts, 1))
    rule_ladder = np.zeros((n_acts, 4), dtype=np.int64)
    rule_ladder_len = np.zeros(n_acts, dtype=np.int64)
    for r in s.rules:
        a = act_idx[r.act]
        rule_points[a] = r.points
        rule_has[a] = True
        if r.list is not None:
            rule_list[a] = list_idx[r.list]
        if r.max_grade is not None:
            rule_ceiling[a] = int(grade_top[grade_idx[r.max_grade]])
        if r.cap is not None:
            rule_cap[a] = min(p.max, max(p.min, r.cap))
        rule_days[a] = _days(s, r.starts, r.ends)
        rule_ladder[a, : len(r.ladder)] = r.ladder
        rule_ladder_len[a] = len(r.ladder)

    d = s.responses.deterrence
    plan = Plan(
        scenario=s, population=population + n_firms, seed=seed,
        citizens=population, firms=n_firms,
        scale=s.society.population / population,  # below 1 for a society larger than the place
        seed_key=seed_key,
        pmin=p.min, pmax=p.max, start_points=p.start, scored_mask=_age_mask(p.ages),
        grade_of=grade_of, grade_names=[g.name for g in s.grades], grade_top=grade_top,
        region_names=names,
        region_start=starts, region_size=sizes.astype(np.int64),
        region_type=np.array(types, dtype=np.int8),
        region_firm=firm_region, region_home=np.array(home, dtype=np.int64),
        region_bits=np.array([bits_for(int(n)) for n in sizes], dtype=np.int64),
        region_key=region_key,
        society_key=np.array([derive(seed_key ^ stream_id("society"), r)
                              for r in range(len(sizes))], dtype=np.uint64),
        list_reps=np.array([-1 if x.representatives is None else list_idx[x.representatives]
                            for x in s.lists], dtype=np.int64),
        age_probs=age_probabilities(s.society.ages.child, s.society.ages.adult,
                                    s.society.ages.elder, s.society.household_size),
        act_names=[a.name for a in s.acts],
        act_rate_day=np.array([a.rate / 365.0 for a in s.acts]),
        act_mult=np.array([class_multipliers(a.spread, a.valence == "good") for a in s.acts]),
        act_age_mask=np.array([_age_mask(a.ages) for a in s.acts], dtype=np.int64),
        act_bad=np.array([a.valence == "bad" for a in s.acts]),
        channel_names=[c.name for c in s.channels],
        act_channels=act_channels,
        channel_key=np.array([stream_id("channel:" + c.name) for c in s.channels],
                             dtype=np.uint64),
        channel_cov=np.array([[c.coverage_urban, c.coverage_rural] for c in s.channels]),
        channel_mis=np.array([c.misattribution for c in s.channels]),
        channel_cov_listed=np.array([-1.0 if c.coverage_listed is None else c.coverage_listed
                                     for c in s.channels]),
        rule_points=rule_points, rule_has=rule_has, rule_list=rule_list,
        rule_ceiling=rule_ceiling, rule_cap=rule_cap, rule_days=rule_days,
        rule_ladder=rule_ladder, rule_ladder_len=rule_ladder_len,
        list_names=[x.name for x in s.lists],
        list_black=np.array([x.kind == "black" for x in s.lists], dtype=np.bool_),
        list_grade_mask=np.array([gmask(x.grades) for x in s.lists], dtype=np.int64),
        list_duration=np.array([x.duration_days for x in s.lists], dtype=np.int64),
        list_comply_rate=np.array([x.exits.comply_per_year / 365.0 for x in s.lists]),
        list_comply_delay=np.array([x.exits.comply_delay_days for x in s.lists],
                                   dtype=np.int64),
        list_appeal_share=np.array([x.exits.appeal_share for x in s.lists]),
        list_appeal_days=np.array([x.exits.appeal_days for x in s.lists]),
        list_appeal_cap=np.array(
            [-1.0 if x.exits.appeal_capacity is None
             else x.exits.appeal_capacity * (population + n_firms) / 1e6 for x in s.lists]),
        list_restore=np.array([x.exits.restore_points for x in s.lists], dtype=np.bool_),
        list_extend_unpaid=np.array([x.exits.extend_unpaid for x in s.lists]),
        list_extend_days=np.array([x.exits.extend_days or x.duration_days for x in s.lists],
                                  dtype=np.int64),
        list_extend=np.array([x.exits.extend_if_still_qualifies for x in s.lists],
                             dtype=np.bool_),
        black_mask=sum(1 << i for i, x in enumerate(s.lists) if x.kind == "black"),
        gate_names=[g.name for g in s.gates],
        gate_rate_day=np.array([g.attempts / 365.0 for g in s.gates]),
        gate_deny_lists=np.array([lmask(g.deny_lists) for g in s.gates], dtype=np.int64),
        gate_deny_grades=np.array([gmask(g.deny_grades) for g in s.gates], dtype=np.int64),
        gate_perk_grades=np.array([gmask(g.perk_grades) for g in s.gates], dtype=np.int64),
        gate_perk_lists=np.array([lmask(g.perk_lists) for g in s.gates], dtype=np.int64),
        gate_days=np.array([_days(s, g.starts, g.ends) for g in s.gates],
                           dtype=np.int64).reshape(-1, 2),
        gate_age_mask=np.array([_age_mask(g.ages) for g in s.gates], dtype=np.int64),
        gate_listed_mult=np.array([g.listed_attempts for g in s.gates], dtype=np.float64),
        deter_on=d.enabled, deter_strength=d.strength, deter_alpha=1.0 / d.memory_days,
        deter_severity=np.array(
            [min(1.0, abs(int(rule_points[i])) / d.reference_points)
             if rule_has[i] and rule_points[i] < 0 else 0.0 for i in range(n_acts)]),
    )
    _mechanisms(plan, s)
    _disclosure(plan, s)
    _repair(plan, s)
    _rate_timeline(plan, s)
    _blocks(plan)
    return plan


PSEUDO = ("association", "informant_reward", "points_bought")
"""Rules past the scenario's acts: points lost for a tie's act, an informant's reward, points
bought. Records under them carry these rule numbers (n_acts + position)."""
MECH = ("assoc_on", "assoc_share", "cut_share", "score_weight", "score_every", "inform_on",
        "inform_share", "false_rate_day", "reward", "manip_on", "buy_rate_day", "sabotage_rate_day",
        "chill_on", "chill_strength", "chill_alpha", "comply_per_denial",
        "att_on", "att_start", "att_penalty", "att_wrongful", "att_listed", "att_denial",
        "att_disclosed", "att_tie", "att_told_day", "att_keeps", "att_regain_day")
M = {name: i for i, name in enumerate(MECH)}


def _mechanisms(plan: Plan, s: Scenario) -> None:
    """Local systems, pseudo-rules and the switches of association, informants, manipulation
    and chilling, as arrays."""
    # a region of firms belongs to its citizens' region: patterns match that region's name
    regions = [plan.region_names[h] for h in plan.region_home]
    n_acts = plan.n_acts
    grade_idx = {g: i for i, g in enumerate(plan.grade_names)}
    act_idx = {a: i for i, a in enumerate(plan.act_names)}

    def gmask(names: list[str], default: int = 0) -> int:
        return sum(1 << grade_idx[n] for n in set(names)) if names else default

    plan.act_area = np.array([AREAS.index(a.area) for a in s.acts], dtype=np.int64)
    plan.act_regions = np.array([region_matches(regions, a.regions) for a in s.acts],
                                dtype=np.bool_).reshape(n_acts, len(regions))
    plan.act_expression = plan.act_area == AREAS.index("expression")
    n_rules = n_acts + len(PSEUDO)
    rule_regions = np.ones((n_rules, len(regions)), dtype=np.bool_)
    for r in s.rules:
        rule_regions[act_idx[r.act]] = region_matches(regions, r.regions)
    plan.rule_regions = rule_regions
    plan.rule_local = ~rule_regions.all(axis=1)
    plan.scored_regions = np.array(region_matches(regions, s.points.regions), dtype=np.bool_)
    plan.members = s.points.members
    plan.ties = s.society.ties
    plan.tie_key = np.array([derive(k ^ stream_id("ties"), 0) for k in plan.region_key],
                            dtype=np.uint64)
    plan.informant_key = derive(plan.seed_key ^ stream_id("informants"), 0)
    plan.rep_key = derive(plan.seed_key ^ stream_id("representatives"), 0)
    plan.channel_informant = np.array([c.kind == "informant" for c in s.channels],
                                      dtype=np.bool_)
    plan.gate_children = np.array([g.children for g in s.gates], dtype=np.bool_)
    ages = s.society.ages
    plan.children_per_adult = ages.child / ages.adult if ages.adult > 0 else 0.0

    mech = np.zeros(len(MECH))
    a, inf, man = s.association, s.informants, s.manipulation
    pts = np.zeros(len(PSEUDO), dtype=np.int32)
    when = np.full(n_rules, -1, dtype=np.int64)
    if a is not None and a.enabled:
        mech[M["assoc_on"]] = 1
        mech[M["assoc_share"]] = a.penalty_share
        mech[M["cut_share"]] = a.cut_share
        mech[M["score_weight"]] = a.score_weight
        mech[M["score_every"]] = a.score_every_days
        plan.assoc_areas = sum(1 << AREAS.index(x) for x in set(a.areas))
        plan.cut_grades = gmask(a.cut_grades)
    if inf is not None and inf.enabled:
        mech[M["inform_on"]] = 1
        mech[M["inform_share"]] = inf.share
        mech[M["false_rate_day"]] = inf.false_reports_per_year / 365.0
        mech[M["reward"]] = inf.reward_points
        pts[1] = inf.reward_points
    if man is not None and man.enabled:
        mech[M["manip_on"]] = 1
        mech[M["buy_rate_day"]] = man.buy_per_year / 365.0
        mech[M["sabotage_rate_day"]] = man.sabotage_per_year / 365.0
        pts[2] = man.buy_points
        when[n_acts + 2] = gmask(man.buyer_grades, -1)
    ch = s.responses.chilling
    if ch is not None and ch.enabled:
        mech[M["chill_on"]] = 1
        mech[M["chill_strength"]] = ch.strength
        mech[M["chill_alpha"]] = 1.0 / ch.memory_days
    co = s.responses.compliance
    if co is not None and co.enabled:
        mech[M["comply_per_denial"]] = co.per_denial
    at = s.responses.attitudes
    if at is not None and at.enabled:
        mech[M["att_on"]] = 1
        for name, v in (("att_start", at.approval), ("att_penalty", at.after_penalty),
                        ("att_wrongful", at.after_wrongful), ("att_listed", at.after_listed),
                        ("att_denial", at.after_denial),
                        ("att_disclosed", at.after_disclosed), ("att_tie", at.after_tie),
                        ("att_told_day", at.told_per_year / 365.0),
                        ("att_keeps", at.told_keeps),
                        ("att_regain_day", at.regain_per_year / 365.0)):
            mech[M[name]] = v
        plan.att_age_mask = _age_mask([a for a in at.ages if a != "firm"])
    plan.att_key = derive(plan.seed_key ^ stream_id("attitudes"), 0)
    plan.mech = mech
    plan.rule_when = when
    plan.false_acts = np.array([act_idx[x] for x in inf.false_acts] if inf else [],
                               dtype=np.int64)
    plan.sabotage_acts = np.array([act_idx[x] for x in man.sabotage_acts] if man else [],
                                  dtype=np.int64)
    # pseudo-rules extend the per-rule arrays
    pm = plan
    pm.rule_points = np.concatenate([pm.rule_points, pts])
    pm.rule_has = np.concatenate([pm.rule_has, np.ones(len(PSEUDO), dtype=np.bool_)])
    pm.rule_list = np.concatenate([pm.rule_list, -np.ones(len(PSEUDO), dtype=np.int64)])
    pm.rule_ceiling = np.concatenate([pm.rule_ceiling, np.full(len(PSEUDO), pm.pmax,
                                                               dtype=np.int32)])
    pm.rule_cap = np.concatenate([pm.rule_cap, np.full(len(PSEUDO), pm.pmax, dtype=np.int32)])
    pm.rule_days = np.concatenate([pm.rule_days, np.tile(np.array([0, NEVER], dtype=np.int64),
                                                         (len(PSEUDO), 1))])
    pm.rule_ladder = np.concatenate([pm.rule_ladder, np.zeros((len(PSEUDO), 4),
                                                              dtype=np.int64)])
    pm.rule_ladder_len = np.concatenate([pm.rule_ladder_len, np.zeros(len(PSEUDO),
                                                                      dtype=np.int64)])
DISC = ("on", "starts", "days", "held", "limits_from", "comply_factor", "cut_share",
        "tie_calls")
"""Columns of Plan.list_disc."""
D = {name: i for i, name in enumerate(DISC)}
REPAIR_PIECES = 9
"""A repair rule and up to eight changes."""


def _day(s: Scenario, date) -> int:
    return (date - s.scenario.start).days if date is not None else 0


def _disclosure(plan: Plan, s: Scenario) -> None:
    """Which lists are published, for how long, to whom, and what it does, as arrays."""
    n = len(s.lists)
    disc = np.zeros((n, len(DISC)))
    reach = np.zeros((n, 2))
    for li, x in enumerate(s.lists):
        d = x.disclosure
        disc[li, D["limits_from"]] = NEVER
        disc[li, D["comply_factor"]] = 1.0
        if d is None or not d.enabled:
            continue
        disc[li, D["on"]] = 1
        disc[li, D["starts"]] = _day(s, d.starts)
        disc[li, D["days"]] = d.days
        disc[li, D["held"]] = d.held_days
        if d.severity is not None:
            disc[li, D["limits_from"]] = _day(s, d.limits_from)
        disc[li, D["comply_factor"]] = d.comply_factor
        disc[li, D["cut_share"]] = d.cut_share
        if d.dial_tone is not None:
            disc[li, D["tie_calls"]] = d.dial_tone.calls_per_tie_per_day
        for t in (0, 1):
            v = 0.0
            if d.website is not None:
                v += d.website.views_per_day
            if d.screens is not None:
                v += d.screens.views_per_day
            if d.app_map is not None:
                m = d.app_map
                density = m.density_rural if t else m.density_urban
                v += m.checks_per_day * density * math.pi * (m.radius_m / 1000.0) ** 2
            reach[li, t] = v
    plan.list_disc, plan.list_reach = disc, reach
    plan.published_mask = sum(1 << li for li in range(n) if disc[li, D["on"]])
    cut = np.zeros(1 << n)
    for m in range(1 << n):
        shares = [disc[li, D["cut_share"]] for li in range(n) if (m >> li) & 1]
        cut[m] = max(shares, default=0.0)
    plan.cut_of_mask = cut
    plan.disc_cut_key = derive(plan.seed_key ^ stream_id("disclosure cuts"), 0)
    plan.gate_deny_disclosed = np.array([int(g.deny_disclosed) for g in s.gates],
                                        dtype=np.int64)


def _repair(plan: Plan, s: Scenario) -> None:
    """Each list's credit repair rules as timeline pieces."""
    n = len(s.lists)
    rep = np.zeros((n, REPAIR_PIECES, 4))
    rep[:, :, 0] = NEVER
    extra = np.zeros((n, 3))
    for li, x in enumerate(s.lists):
        r = x.exits.repair
        if r is None or not r.enabled:
            continue
        extra[li] = (1, r.decide_days, -1.0 if r.capacity is None
                     else r.capacity * plan.population / 1e6)
        wait, rate, share = r.wait_days, r.apply_per_year / 365.0, r.success_share
        rep[li, 0] = (-NEVER, wait, rate, share)
        for k, c in enumerate(r.changes, start=1):
            wait = c.wait_days if c.wait_days is not None else wait
            rate = c.apply_per_year / 365.0 if c.apply_per_year is not None else rate
            share = c.success_share if c.success_share is not None else share
            rep[li, k] = (_day(s, c.date), wait, rate, share)
    plan.list_repair, plan.list_repair_x = rep, extra


def _rate_timeline(plan: Plan, s: Scenario) -> None:
    """Per-day act rates for each piece of the acts' rate timelines (one row per piece)."""
    start = s.scenario.start
    steps = sorted({(c.date - start).days for a in s.acts for c in a.rate_changes})
    table = np.tile(plan.act_rate_day, (len(steps) + 1, 1))
    for a, act in enumerate(s.acts):
        for c in act.rate_changes:
            table[steps.index((c.date - start).days) + 1:, a] = c.rate / 365.0
    plan.rate_steps = np.array(steps, dtype=np.int64)
    plan.rate_table = table


def _blocks(plan: Plan) -> None:
    """Fixed work blocks (act, region, class, chunk of ranks) and the gates' stream keys."""
    nr = len(plan.region_names)
    class_lo = np.zeros((nr, CLASSES + 1), dtype=np.int64)
    for r in range(nr):
        n = int(plan.region_size[r])
        class_lo[r] = [round(c * n) for c in CLASS_CUTS]
    plan.class_lo = class_lo

    rows = []
    for a, name in enumerate(plan.act_names):
        if plan.rate_table[:, a].max() <= 0:
            continue
        akey = derive(plan.seed_key ^ stream_id("act:" + name), 0)
        firm_bit = 1 << AGE_BITS["firm"]
        for r in range(nr):
            if not plan.act_regions[a, r]:
                continue
            mask = int(plan.act_age_mask[a])
            if (plan.region_firm[r] and not mask & firm_bit) or (
                    not plan.region_firm[r] and mask == firm_bit):
                continue  # nobody there commits it
            rkey = derive(akey, r)
            for k in range(CLASSES):
                lo, hi = int(class_lo[r, k]), int(class_lo[r, k + 1])
                ckey = derive(rkey, k)
                for c, start in enumerate(range(lo, hi, BLOCK)):
                    rows.append((a, r, k, start, min(BLOCK, hi - start), derive(ckey, c)))
    # Blocks differ a lot in work (acts differ in rate); in an order that is random but fixed
    # (by their keys), the equal slices that parallel loops give each thread hold equal work.
    rows.sort(key=lambda x: int(x[5]))
    plan.ab_act = np.array([x[0] for x in rows], dtype=np.int64)
    plan.ab_region = np.array([x[1] for x in rows], dtype=np.int64)
    plan.ab_class = np.array([x[2] for x in rows], dtype=np.int64)
    plan.ab_lo = np.array([x[3] for x in rows], dtype=np.int64)
    plan.ab_n = np.array([x[4] for x in rows], dtype=np.int64)
    plan.ab_key = np.array([x[5] for x in rows], dtype=np.uint64)

    plan.gate_keys = np.array(
        [derive(plan.seed_key ^ stream_id("gate:" + name), 0) for name in plan.gate_names],
        dtype=np.uint64)
