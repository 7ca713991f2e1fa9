"""Stage by stage: each stage alone does what its docstring promises."""

from __future__ import annotations

import numpy as np

from socialcredit.engine.loop import Simulation
from socialcredit.engine.plan import CLASS_CUTS, CLASSES, class_multipliers
from socialcredit.engine.state import AGE
from socialcredit.scenario import load, parse
from socialcredit.stages.behave import behave
from socialcredit.stages.observe import observe
from socialcredit.stages.respond import multipliers


def _sim(text: str | None = None, population: int = 100_000, seed: int = 0) -> Simulation:
    s = parse(text) if text else load("rongcheng")[0]
    return Simulation(s, population, seed)


def test_acts_come_only_from_the_age_groups_they_apply_to():
    sim = _sim()
    acts = behave(sim.plan, sim.state, 0, multipliers(sim.plan, sim.state))
    real = acts.actor[acts.actor >= 0]
    assert len(real) > 0
    assert ((sim.state.flags[real] & AGE) != 0).all()  # 0 is the child group
    assert (acts.actor == -1).any()  # children drawn for an adult act are voided


def test_a_misattributed_act_lands_on_another_scored_citizen_of_the_same_region():
    _, text = load("rongcheng")
    assert "misattribution = 0.003" in text
    sim = _sim(text.replace("misattribution = 0.003", "misattribution = 1.0"))
    plan = sim.plan
    cam = plan.channel_names.index("cameras")
    acts = behave(plan, sim.state, 0, multipliers(plan, sim.state))
    obs = observe(plan, sim.state, 0, acts)
    seen = obs.channel == cam
    assert seen.sum() > 10
    actor, target = acts.actor[seen], obs.target[seen]
    assert (actor != target).all()
    region = np.searchsorted(plan.region_start, actor, side="right")
    assert (region == np.searchsorted(plan.region_start, target, side="right")).all()
    assert ((sim.state.flags[target] & AGE) != 0).all()
    # official records keep their own (small) error rate: most of their records are right
    rec = obs.channel == plan.channel_names.index("official_records")
    assert (acts.actor[rec] == obs.target[rec]).mean() > 0.95


def test_coverage_decides_how_many_acts_are_seen():
    _, text = load("rongcheng")
    old = "coverage_urban = 0.30\ncoverage_rural = 0.05"
    assert old in text
    blind = _sim(text.replace(old, "coverage_urban = 0.0\ncoverage_rural = 0.0"))
    cam = blind.plan.channel_names.index("cameras")
    acts = behave(blind.plan, blind.state, 0, multipliers(blind.plan, blind.state))
    obs = observe(blind.plan, blind.state, 0, acts)
    assert not (obs.channel == cam).any()
    full = _sim(text.replace(old, "coverage_urban = 1.0\ncoverage_rural = 1.0"))
    acts2 = behave(full.plan, full.state, 0, multipliers(full.plan, full.state))
    obs2 = observe(full.plan, full.state, 0, acts2)
    littering = full.plan.act_names.index("littering")
    blocks = np.repeat(full.plan.ab_act, acts2.count)
    mine = (blocks == littering) & (acts2.actor >= 0)
    assert (obs2.channel[mine] >= 0).all()


def test_the_same_acts_are_drawn_whatever_the_rules():
    """Common random numbers: changing a rule's points leaves the day's acts unchanged."""
    _, text = load("rongcheng")
    assert 'points = -3\nsource = "S4"' in text
    a = _sim(text)
    b = _sim(text.replace('points = -3\nsource = "S4"', 'points = -300\nsource = "S4"'))
    acts_a = behave(a.plan, a.state, 5, multipliers(a.plan, a.state))
    acts_b = behave(b.plan, b.state, 5, multipliers(b.plan, b.state))
    assert np.array_equal(acts_a.actor, acts_b.actor)


def test_trait_classes_keep_the_mean_rate_and_order_people():
    sizes = np.diff(CLASS_CUTS)
    assert np.allclose(sizes, sizes[::-1])  # symmetric, so good acts can mirror
    for spread in (0.0, 0.5, 1.5):
        m = class_multipliers(spread, good=False)
        assert len(m) == CLASSES
        assert abs((m * sizes).sum() - 1.0) < 1e-12
        assert (np.diff(m) >= -1e-12).all()
        g = class_multipliers(spread, good=True)
        assert np.allclose(g, m[::-1])
    # the tail is kept: the worst 1% commit about the share a continuous trait gives them
    s = 1.5
    m = class_multipliers(s, good=False)
    top = (m * sizes)[np.array(CLASS_CUTS[:-1]) >= 0.99].sum()
    from statistics import NormalDist

    exact = 1 - NormalDist().cdf(NormalDist().inv_cdf(0.99) - s)
    assert abs(top - exact) < 1e-9


def test_trait_classes_are_even_and_unrelated_to_neighbours():
    """Households are runs of ids, so a neighbour's class must tell nothing about yours."""
    from socialcredit.engine.random import unpermute

    sim = _sim(population=60_000, seed=3)
    plan = sim.plan
    n = int(plan.region_size[0])
    ranks = np.array([unpermute(x, n, int(plan.region_bits[0]), plan.region_key[0])
                      for x in range(n)])
    assert sorted(ranks.tolist()) == list(range(n))
    cls = np.searchsorted(plan.class_lo[0], ranks, side="right") - 1
    sizes = np.bincount(cls, minlength=CLASSES)
    assert np.abs(sizes - np.diff(CLASS_CUTS) * n).max() <= 1
    for lag in (1, 2, 3, 64, 1024):
        r = np.corrcoef(cls[:-lag], cls[lag:])[0, 1]
        assert abs(r) < 0.03, (lag, r)
