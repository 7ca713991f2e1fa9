"""Invariants that hold for any scenario, seed and size (property tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine.loop import Simulation
from socialcredit.engine.state import AGE, GROUP, UNSCORED
from socialcredit.scenario import load
from socialcredit.scenario.schema import Scenario

BASE, _ = load("rongcheng")


def variant(points: int, mis: float, duration: int, comply: float, appeal: float,
            litter_rate: float) -> Scenario:
    """Rongcheng with the littering penalty, camera error, list term and exits changed."""
    d = BASE.model_dump()
    for r in d["rules"]:
        if r["act"] == "littering":
            r["points"] = points
    for a in d["acts"]:
        if a["name"] == "littering":
            a["rate"] = litter_rate
    d["channels"][0]["misattribution"] = mis
    lst = d["lists"][0]
    lst["duration_days"] = duration
    lst["exits"]["comply_per_year"] = comply
    lst["exits"]["appeal_share"] = appeal
    return Scenario.model_validate(d)


params = st.tuples(
    st.integers(-400, 50), st.floats(0, 1), st.integers(1, 200), st.floats(0, 20),
    st.floats(0, 1), st.floats(0, 40), st.integers(200, 5000), st.integers(0, 2**32),
    st.integers(1, 90),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params)
def test_state_stays_consistent(p):
    points, mis, duration, comply, appeal, litter, n, seed, days = p
    s = variant(points, mis, duration, comply, appeal, litter)
    sim = Simulation(s, n, seed)
    sim.run(days)
    st_ = sim.state
    plan = sim.plan
    # scores stay in range
    assert st_.score.min() >= plan.pmin and st_.score.max() <= plan.pmax
    # the kept histogram is the histogram of the scored citizens
    scored = (((plan.scored_mask >> (st_.flags & AGE)) & 1).astype(bool)
              & ((st_.flags & UNSCORED) == 0))
    recount = np.bincount(st_.score[scored].astype(np.int64) - plan.pmin,
                          minlength=len(st_.hist))
    assert np.array_equal(recount, st_.hist)
    # the census counts every citizen in their (lists, group, grade) cell
    age = (st_.flags & GROUP).astype(np.int64)
    slot = np.where(scored, plan.grade_of[st_.score.astype(np.int64) - plan.pmin],
                    len(plan.grade_names))
    census = np.zeros_like(st_.census)
    np.add.at(census, (st_.lists.astype(np.int64), age, slot), 1)
    assert np.array_equal(census, st_.census)
    # list bits are exactly the listings in force, and none is held past its end
    active = st_.active[: st_.n_active]
    on = np.zeros(n, dtype=bool)
    on[st_.log_id[active]] = True
    assert np.array_equal(on, (st_.lists & 1) == 1)
    assert (st_.log_until[active] >= st_.day).all()
    ended = np.setdiff1d(np.arange(st_.n_log), active)
    assert (st_.log_until[ended] < st_.day).all()
    assert int(st_.counters[2]) == int(on.sum())
    # wrongful points never negative
    assert (st_.wrong >= 0).all()


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**32), st.integers(500, 4000))
def test_same_seed_gives_the_same_bytes(seed, n):
    a = Simulation(BASE, n, seed)
    b = Simulation(BASE, n, seed)
    a.run(40)
    b.run(40)
    for name, arr in a.state.arrays().items():
        assert np.array_equal(arr, b.state.arrays()[name]), name
    assert a.daily == b.daily
