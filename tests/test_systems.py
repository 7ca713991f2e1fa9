"""What each built-in system does to people (one test per described rule)."""

from __future__ import annotations

import json

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


def _national(misattribution: float, appeal_share: float):
    s, _ = load("national")
    d = s.model_dump()
    d["channels"][0]["misattribution"] = misattribution
    d["lists"][0]["exits"]["appeal_share"] = appeal_share
    d["acts"][0]["rate"] = 0.0021  # the fitted 2014-2016 level from the first day
    d["acts"][0]["rate_changes"] = []
    d["calibrate"] = []
    return socialcredit.run(socialcredit.Scenario.model_validate(d), population=50_000,
                            days=365, report=False)


def test_with_appeals_off_no_wrongful_listing_is_ever_revoked():
    off = _national(0.2, 0.0)
    wrongful = off.listings[off.listings["wrongful"]]
    assert len(wrongful) > 20
    assert not (off.listings["exit"] == "appeal").any()
    assert off.daily["appeals_upheld"].sum() == 0
    on = _national(0.2, 1.0)  # the same society, every wrongful listing appealed
    revoked = on.listings[on.listings["exit"] == "appeal"]
    assert len(revoked) > 0 and revoked["wrongful"].all()


def test_listed_debtors_are_denied_flights_and_rail_and_nobody_else_is():
    res = socialcredit.run("national", population=50_000, days=200, report=False)
    d = res.daily
    assert d["flights_denied"].sum() > 0 and d["rail_denied"].sum() > 0
    assert (d["flights_denied_cumulative"] == d["flights_denied"].cumsum()).all()
    # denials come from listed people only, at their travel rate (P4)
    s, _ = load("national")
    for gate in s.gates:
        expected = d["listed"].sum() * gate.attempts * gate.listed_attempts / 365
        got = d[f"{gate.name}_denied"].sum()
        assert abs(got - expected) < 5 * expected ** 0.5 + 5, gate.name


def test_timeline_rules_and_gates_apply_only_between_their_dates():
    s, _ = load("rongcheng")
    d = s.model_dump()
    for r in d["rules"]:
        if r["act"] == "littering":
            r["starts"] = "2014-02-01"  # day 31
    for g in d["gates"]:
        if g["name"] == "internet":
            g["starts"] = "2014-02-01"
            g["ends"] = "2014-03-01"  # day 59
    sc = socialcredit.Scenario.model_validate(d)
    res = socialcredit.run(sc, population=40_000, days=90, report=False)
    litter = res.ledger[res.ledger["act"] == "littering"]
    assert len(litter) > 0 and litter["day"].min() >= 31
    daily = res.daily
    before, during, after = daily.iloc[:31], daily.iloc[31:59], daily.iloc[59:]
    assert before["internet_denied"].sum() == 0 and after["internet_denied"].sum() == 0
    assert during["internet_denied"].sum() > 0
    assert before["internet_attempts"].sum() > 0  # people still go online, unthrottled


def test_a_timeline_that_ends_before_it_starts_is_refused():
    s, _ = load("rongcheng")
    d = s.model_dump()
    d["gates"][0]["starts"] = "2014-05-01"
    d["gates"][0]["ends"] = "2014-04-01"
    with pytest.raises(socialcredit.UserError, match=r"gates\[0\]\.ends: ends 2014-04-01"):
        parse(json.dumps(d, default=str), "test.toml")


@pytest.fixture(scope="module")
def jinan():
    return socialcredit.run("jinan-dogs", population=50_000, days=730, report=False)


def test_a_jinan_owner_who_loses_all_12_points_loses_the_dog(jinan):
    led, lst = jinan.ledger, jinan.listings
    hit_zero = led[(led["score_after"] == 0) & (led["points"] < 0)]
    first_zero = hit_zero.groupby("citizen")["day"].min()
    assert len(first_zero) > 20
    listed_on = lst.groupby("citizen")["listed_day"].min()
    # everyone who reached zero was listed the same day, and nobody else was
    assert set(listed_on.index) == set(first_zero.index)
    assert (listed_on.loc[first_zero.index] == first_zero).all()
    cit = jinan.citizens.set_index("citizen")
    zero_now = cit[cit["score"] == 0].index
    assert cit.loc[zero_now, "on_dog_confiscated"].all()


def test_jinan_repeat_offences_cost_3_then_6_then_everything(jinan):
    led = jinan.ledger
    is_ladder = led["act"].isin(["walk_unleashed", "dog_disturbance"])
    other = set(led.loc[~is_ladder, "citizen"])  # licence lapses and restorations
    ladder = led[is_ladder & ~led["citizen"].isin(other)].sort_values(["citizen", "day"],
                                                                      kind="stable")
    seen = 0
    for _, rows in ladder.groupby("citizen"):
        before = 12
        for k, (_, r) in enumerate(rows.iterrows()):
            if before == 0:
                break
            want = [-3, -6, -12][min(k, 2)]
            assert r["points"] == max(want, -before)
            before = r["score_after"]
            seen += 1
    assert seen > 1000


def test_a_jinan_owner_who_passes_the_test_gets_the_dog_and_12_points_back(jinan):
    back = jinan.listings[jinan.listings["exit"] == "complied"]
    assert len(back) > 10
    restored = jinan.ledger[jinan.ledger["act"] == "points_restored"]
    assert set(restored["citizen"]) == set(back["citizen"])
    assert (restored["score_after"] == 12).all()


def test_a_new_period_gives_everyone_12_points_and_a_clean_record():
    s, _ = load("jinan-dogs")
    d = s.model_dump()
    d["points"]["reset_days"] = 300
    d["lists"][0]["exits"]["comply_per_year"] = 0.0  # keep confiscations in force
    res = socialcredit.run(socialcredit.Scenario.model_validate(d), population=50_000,
                           days=360, report=False)
    led = res.ledger.sort_values(["citizen", "day"], kind="stable")
    early = led[led["day"] < 300]
    late = led[(led["day"] >= 300) & (led["act"] != "licence_not_renewed")]
    repeat = set(early.loc[early["points"] < 0, "citizen"]) & set(late["citizen"])
    assert len(repeat) > 5
    firsts = late[late["citizen"].isin(repeat)].groupby("citizen").head(1)
    assert (firsts["points"] == -3).all() and (firsts["score_after"] == 9).all()
    # the reset gives points back, but confiscations stay in force until the test
    assert res.daily.iloc[299]["listed"] == res.daily.iloc[300]["listed"] > 0
    assert res.daily.iloc[300]["grade_no_points"] == 0


def _national_capacity(capacity):
    s, _ = load("national")
    d = s.model_dump()
    d["channels"][0]["misattribution"] = 0.5
    d["lists"][0]["exits"]["appeal_share"] = 1.0
    d["lists"][0]["exits"]["appeal_capacity"] = capacity
    return socialcredit.run(socialcredit.Scenario.model_validate(d), population=500_000,
                            days=365, report=False)


def test_a_court_that_decides_few_appeals_a_day_keeps_wrongful_listings_longer():
    # about 0.6 wrongful listings a day at this size; the slow court decides 0.4 a day
    fast, slow, none = (_national_capacity(c) for c in (1000.0, 0.8, 0.0))
    for res in (fast, slow, none):
        assert res.daily["appeals_filed"].sum() > 100

    def days_to_clear(res):
        d = res.daily
        return d["wrongful_days_cleared"].sum() / d["appeals_upheld"].sum()

    # with room to spare, an appeal is decided after the review time (25 days, R1)
    assert days_to_clear(fast) == pytest.approx(25, abs=1)

    # a court with too few decisions a day falls behind: a backlog and longer waits
    assert days_to_clear(slow) > 1.5 * days_to_clear(fast)
    assert slow.daily["appeals_pending"].iloc[-1] > 2 * fast.daily["appeals_pending"].iloc[-1]
    # a court that decides nothing never revokes a wrongful listing
    assert none.daily["appeals_upheld"].sum() == 0
