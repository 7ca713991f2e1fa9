"""What a user relies on from the engine: determinism, consistent state, honest counting."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest

import socialcredit
from socialcredit.engine.loop import Simulation
from socialcredit.engine.state import TRACKED
from socialcredit.scenario import load


def _run(**kw) -> socialcredit.Results:
    kw.setdefault("population", 20_000)
    kw.setdefault("days", 120)
    return socialcredit.run("rongcheng", report=False, **kw)


def test_same_seed_gives_identical_daily_table_with_one_or_two_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two threads")
    a = _run(seed=3, threads=1)
    b = _run(seed=3, threads=2)
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)
    pd.testing.assert_frame_equal(a.ledger, b.ledger, check_exact=True)
    pd.testing.assert_frame_equal(a.listings, b.listings, check_exact=True)
    assert a.citizens["score"].equals(b.citizens["score"])


def test_a_different_seed_gives_different_results():
    a = _run(seed=1)
    b = _run(seed=2)
    assert not a.daily["acts_committed"].equals(b.daily["acts_committed"])
    assert not a.citizens["score"].equals(b.citizens["score"])


def test_score_histogram_grades_and_lists_agree_with_the_citizens():
    res = _run(seed=5, days=200)
    cit = res.citizens
    last = res.daily.iloc[-1]
    scored = cit[cit["scored"]]
    # daily grade counts come from the kept histogram; they must match a full recount
    for g in res.grades["grade"]:
        assert last[f"grade_{g}"] == int((scored["grade"] == g).sum())
    assert last["scored"] == len(scored)
    assert last["mean_score"] == pytest.approx(scored["score"].mean())
    end = res.score_hist[res.score_hist["when"] == "end"].set_index("score")["count"]
    recount = scored["score"].value_counts()
    assert end.sort_index().equals(recount.sort_index().rename("count").rename_axis("score")
                                   .astype(end.dtype))
    # people on the blacklist now = listings in force = the `listed` column
    in_force = res.listings[res.listings["exit"] == "in force"]
    assert set(in_force["citizen"]) == set(cit.loc[cit["on_blacklist"], "citizen"])
    assert last["listed"] == len(in_force)
    assert last["listed_cumulative"] == int(cit["ever_listed"].sum())
    assert res.daily["listed_new"].sum() == len(res.listings)


def test_scores_stay_within_the_scenario_range_and_children_are_not_scored():
    res = _run(seed=7, days=365, population=10_000)
    s, _ = load("rongcheng")
    cit = res.citizens
    assert cit["score"].between(s.points.min, s.points.max).all()
    children = cit[cit["age_group"] == "child"]
    assert len(children) > 0
    assert (children["score"] == s.points.start).all()
    assert not children["scored"].any()
    assert not res.ledger["citizen"].isin(children["citizen"]).any()


def test_no_listing_outlasts_its_term_unless_extended():
    res = _run(seed=9, days=365)
    s, _ = load("rongcheng")
    term = s.lists[0].duration_days
    ended = res.listings[res.listings["exit"] != "in force"]
    assert (ended["days_listed"] <= term * (1 + ended["extensions"])).all()
    assert (res.listings["days_listed"] >= 0).all()
    assert len(ended) > 0


def test_a_misattributed_act_lands_on_someone_else_and_is_counted_wrongful():
    res = _run(seed=11, days=200, population=30_000)
    led = res.ledger
    wrong = led[led["wrongful"]]
    assert len(wrong) > 0, "the cameras' error rate should misattribute some acts"
    assert (wrong["act"] != "appeal_correction").all()
    # wrongful penalties in the daily table are exactly the wrongful negative ledger rows
    # (everyone is tracked at this size)
    assert res.daily["wrongful_penalties"].sum() == int((wrong["points"] < 0).sum())
    # a citizen's wrongful points are the sum of their wrongful penalties, until an appeal
    lost = -wrong[wrong["points"] < 0].groupby("citizen")["points"].sum()
    corrected = set(led.loc[led["act"] == "appeal_correction", "citizen"])
    cit = res.citizens.set_index("citizen")
    for c, pts in lost.items():
        if c not in corrected:
            assert cit.loc[c, "wrongful_points"] == min(pts, 32767)


def test_without_misattribution_nobody_is_wrongly_penalised(tmp_path):
    s, text = load("rongcheng")
    for ch in ("0.003", "0.001", "0.02"):
        assert f"misattribution = {ch}" in text
        text = text.replace(f"misattribution = {ch}", "misattribution = 0.0")
    f = tmp_path / "exact.toml"
    f.write_text(text)
    res = socialcredit.run(f, population=20_000, days=120, report=False)
    assert res.daily["wrongful_penalties"].sum() == 0
    assert not res.ledger["wrongful"].any()
    assert (res.citizens["wrongful_points"] == 0).all()


def test_cohort_is_tracked_in_large_runs_and_everyone_in_small_ones():
    s, _ = load("rongcheng")
    small = Simulation(s, 5_000, 0)
    assert (small.state.flags & TRACKED).all()
    big = Simulation(s, 150_000, 0)
    assert int(np.count_nonzero(big.state.flags & TRACKED)) == s.recording.cohort


def test_acts_follow_the_scenario_rates():
    """With deterrence off, each act's yearly count matches rate x eligible people."""
    s, text = load("rongcheng")
    text = text.replace("enabled = true", "enabled = false")
    sc = socialcredit.scenario.parse(text)
    sim = Simulation(sc, 200_000, 4)
    sim.run(60)
    eligible = int(sim.start_hist.sum())  # adults and elders; every act here is theirs
    for a, act in enumerate(sc.acts):
        expected = act.rate * eligible * 60 / 365
        got = int(sim.act_committed[a])
        assert abs(got - expected) <= 5 * np.sqrt(expected) + 3, act.name


def test_deterrence_lowers_the_rate_of_punished_acts():
    s, text = load("rongcheng")
    off = socialcredit.scenario.parse(text.replace("enabled = true", "enabled = false"))
    a = Simulation(s, 100_000, 2)
    b = Simulation(off, 100_000, 2)
    a.run(200)
    b.run(200)
    i = [x.name for x in s.acts].index("late_utility_fees")  # seen 90%+, 20 points
    assert a.act_committed[i] < 0.9 * b.act_committed[i]
    j = [x.name for x in s.acts].index("donate_blood")  # a good act is not deterred
    assert a.act_committed[j] == b.act_committed[j]


def test_in_memory_results_match_the_written_store(tmp_path):
    mem = _run(seed=4, days=60)
    disk = _run(seed=4, days=60, out=tmp_path / "r")
    back = socialcredit.open_results(tmp_path / "r")
    pd.testing.assert_frame_equal(mem.daily, back.daily, check_dtype=False)
    pd.testing.assert_frame_equal(disk.ledger.reset_index(drop=True), back.ledger,
                                  check_dtype=False)
    assert back.info["population"] == 20_000
    assert back.info["scale"] == pytest.approx(700_000 / 20_000)
    assert back.info["hot_bytes_per_citizen"] <= 12


def test_ten_million_citizens_give_the_same_bytes_with_one_or_two_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two threads")
    s, _ = load("china")
    runs = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        sim = Simulation(s, 10_000_000, 8)
        sim.run(20)
        runs.append(sim)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    a, b = runs
    assert a.daily == b.daily
    assert np.array_equal(a.state.people, b.state.people)
    assert np.array_equal(a.state.census, b.state.census)


def test_only_the_tracked_cohort_is_in_the_ledger_of_a_large_run():
    res = socialcredit.run("rongcheng", population=150_000, days=60, report=False)
    tracked = set(res.citizens.loc[res.citizens["tracked"], "citizen"])
    assert len(tracked) == 1000
    assert len(res.ledger) > 0
    assert set(res.ledger["citizen"]) <= tracked


def test_no_citizens_skips_the_final_state_and_says_so(tmp_path):
    res = socialcredit.run("rongcheng", population=5_000, days=20, report=False,
                           out=tmp_path / "r", citizens=False)
    assert not (tmp_path / "r" / "citizens.parquet").exists()
    with pytest.raises(socialcredit.UserError, match="no-citizens"):
        _ = socialcredit.open_results(tmp_path / "r").citizens
    assert len(res.daily) == 20


def test_groups_table_matches_the_citizens_by_region_type_and_age():
    res = _run(seed=12, days=365, population=30_000)
    cit = res.citizens.copy()
    kinds = {r.name: r.type for r in load("rongcheng")[0].society.regions}
    cit["region_type"] = cit["region"].astype(str).map(kinds)
    for _, g in res.groups.iterrows():
        mine = cit[(cit["region_type"] == g["region_type"])
                   & (cit["age_group"].astype(str) == g["age_group"])]
        assert g["citizens"] == len(mine)
        assert g["ever_listed"] == int(mine["ever_listed"].sum())
        assert g["listed"] == int(mine["on_blacklist"].sum())
        assert g["wronged"] == int((mine["wrongful_points"] > 0).sum())
        if g["scored"]:
            assert g["mean_score"] == pytest.approx(mine["score"].mean())
    assert res.groups["citizens"].sum() == 30_000
