"""What each built-in system does to people (one test per described rule)."""

from __future__ import annotations

import pytest

import socialcredit
from socialcredit.engine.loop import Simulation
from socialcredit.scenario import builtin_names, load, parse


@pytest.mark.parametrize("name", builtin_names())
def test_every_built_in_runs_at_twenty_thousand_citizens(name):
    res = socialcredit.run(name, population=20_000, days=60, report=False)
    assert len(res.daily) == 60
    assert res.daily["acts_committed"].sum() > 0
    assert res.info["scale"] >= 1


def test_a_suining_d_is_denied_government_support_and_jobs():
    _, text = load("suining")
    assert "start = 1000" in text and text.count("rate = 0.005") == 1
    # everyone starts in D, and no honours lift anyone out of it
    everyone_d = parse(text.replace("start = 1000", "start = 650", 1)
                       .replace("rate = 0.005", "rate = 0.0"))
    sim = Simulation(everyone_d, 20_000, 1)
    sim.run(30)
    for gate in ("government_support", "public_job"):
        attempts = sum(r[f"{gate}_attempts"] for r in sim.daily)
        denied = sum(r[f"{gate}_denied"] for r in sim.daily)
        assert attempts > 0
        assert denied == attempts, gate


def test_a_suining_a_is_never_denied():
    s, _ = load("suining")
    sim = Simulation(s, 20_000, 1)
    sim.run(30)
    assert sum(r["grade_D"] for r in sim.daily) == 0
    assert sum(r["government_support_denied"] for r in sim.daily) == 0
    assert sum(r["government_support_attempts"] for r in sim.daily) > 0


def test_suining_scores_never_exceed_one_thousand():
    s, _ = load("suining")
    assert s.points.max == 1000
    sim = Simulation(s, 20_000, 2)
    sim.run(120)
    assert sim.state.score.max() <= 1000
    honour = sim.plan.act_names.index("honour_model_worker")
    assert sim.act_scored[honour] > 0  # honours were given, and capped at the maximum
