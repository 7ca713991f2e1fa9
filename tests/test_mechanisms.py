"""What each mechanism does, and that switching it off takes exactly that away: informants,
association, chilling, manipulation, children's gates, firms and their representatives, a
voluntary score whose ties weigh, and local systems under a national list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit
from socialcredit.analysis.compare import apply_set
from socialcredit.scenario import builtin_names, load

STEADY = "acts.unpaid_judgment.rate=0.0021"
"""National's rate of unpaid judgments before its fitted timeline's first change (mid-2014)
raised to about 2.4 million listings a year, so that short runs list enough people."""


def variant(name: str, *sets: str):
    """A built-in scenario with `section.key=value` changes."""
    s, _ = load(name)
    for assignment in sets:
        s = apply_set(s, assignment)
    return s


def run(scenario, population=20_000, days=60, seed=1):
    return socialcredit.run(scenario, population=population, days=days, seed=seed,
                            report=False)


def test_all_seven_systems_are_built_in():
    assert set(builtin_names()) == {"rongcheng", "suining", "jinan-dogs", "sesame", "national",
                                    "corporate", "china"}


@pytest.fixture(scope="module")
def china_on_off():
    on = run("china", days=90)
    off = run(variant("china", "association.enabled=false"), days=90)
    return on, off


def test_the_same_seed_with_association_off_gives_the_same_acts(china_on_off):
    on, off = china_on_off
    pd.testing.assert_frame_equal(on.acts[["act", "committed", "observed"]],
                                  off.acts[["act", "committed", "observed"]])
    assert (on.daily["acts_committed"] == off.daily["acts_committed"]).all()
    assert on.daily["association_penalties"].sum() > 0
    assert off.daily["association_penalties"].sum() == 0
    # only the ties of people penalised for speech lose more points
    assert on.daily["points_taken"].sum() > off.daily["points_taken"].sum()


def test_association_penalties_are_a_share_of_the_speech_penalty_for_each_tie():
    s = variant("china", "association.cut_share=0.0", "manipulation.enabled=false",
                "informants.enabled=false")
    res = run(s, days=30)
    led = res.ledger
    spread = led[led["act"] == "association"]
    # a fifth of the penalty: 1 for a comment (5 points), 20 for a false accusation (100)
    assert len(spread) > 0 and set(spread["points"]) <= {-1, -20}
    assert not spread["wrongful"].any()  # by design, not a mistake: not counted as wrongful
    speech = led[led["act"].isin(["negative_online_comment", "false_accusation_online"])
                 & (led["points"] < 0)]
    # six ties each, minus ties who are children or live outside the scored regions
    assert 0 < len(spread) <= 6 * len(speech)


def test_cutting_ties_to_low_scorers_spares_those_ties_the_penalty():
    cut = "association.cut_grades=[\"AAA\", \"AA\", \"A\", \"B\", \"C\", \"D\"]"
    kept = run(variant("china", cut, "association.cut_share=0.0"), days=45)
    all_cut = run(variant("china", cut, "association.cut_share=1.0"), days=45)
    assert kept.daily["association_penalties"].sum() > 0
    assert all_cut.daily["association_penalties"].sum() == 0
    assert all_cut.daily["ties_cut"].sum() > 0


def test_only_informants_report_and_every_report_can_be_rewarded():
    base = ["informants.enabled=true", "informants.reward_points=3",
            "channels.cameras.coverage_urban=0.0", "channels.cameras.coverage_rural=0.0"]
    none = run(variant("rongcheng", *base, "informants.share=0.0"))
    assert none.daily["informant_reports"].sum() == 0
    assert none.acts.set_index("act").loc["donate_tv_to_village", "observed"] == 0
    many = run(variant("rongcheng", *base, "informants.share=0.5"))
    reports = many.daily["informant_reports"].sum()
    assert reports > 0
    rewards = many.daily["informant_reward_points"].sum()
    assert 0 < rewards <= 3 * reports and rewards % 3 == 0


def test_false_reports_land_on_ties_and_are_counted_wrongful():
    sets = ["informants.enabled=true", "informants.share=0.2",
            "informants.false_reports_per_year=1.0", "informants.false_acts=[\"fighting\"]",
            "channels.cameras.misattribution=0.0", "channels.official_records.misattribution=0.0",
            "channels.village_committee.misattribution=0.0"]
    res = run(variant("rongcheng", *sets))
    false = res.daily["false_reports"].sum()
    assert false > 0
    wrong = res.ledger[res.ledger["wrongful"]]
    assert len(wrong) > 0 and set(wrong["act"]) == {"fighting"}
    assert res.daily["wrongful_penalties"].sum() <= false
    honest = run(variant("rongcheng", *sets[:-3], "informants.false_reports_per_year=0.0",
                         *sets[-3:]))
    assert honest.daily["wrongful_penalties"].sum() == 0


def test_chilling_lowers_speech_and_nothing_else(china_on_off):
    on, _ = china_on_off
    off = run(variant("china", "responses.chilling.enabled=false"), days=90)
    assert on.daily["expression_acts"].sum() < off.daily["expression_acts"].sum()
    acts_on = on.acts.set_index("act")["committed"]
    acts_off = off.acts.set_index("act")["committed"]
    other = [a for a in acts_on.index if a != "negative_online_comment"]
    assert (acts_on[other] == acts_off[other]).all()


def test_points_are_bought_only_by_people_in_the_buyer_grades():
    sets = ["manipulation.enabled=true", "manipulation.buy_per_year=2.0",
            "manipulation.buy_points=7"]
    nobody = run(variant("rongcheng", *sets, "manipulation.buyer_grades=[\"D\"]"), days=30)
    assert nobody.daily["points_bought"].sum() == 0  # nobody reaches D in a month
    anyone = run(variant("rongcheng", *sets, "manipulation.buyer_grades=[]"), days=30)
    bought = anyone.ledger[anyone.ledger["act"] == "points_bought"]
    assert len(bought) > 0 and (bought["points"] <= 7).all()
    assert anyone.daily["points_bought"].sum() == bought["points"].sum()


def test_sabotage_is_wrongful_and_lands_on_a_tie():
    sets = ["manipulation.enabled=true", "manipulation.sabotage_per_year=1.0",
            "manipulation.sabotage_acts=[\"fighting\"]",
            "channels.cameras.misattribution=0.0", "channels.official_records.misattribution=0.0",
            "channels.village_committee.misattribution=0.0"]
    res = run(variant("rongcheng", *sets), days=30)
    assert res.daily["sabotage_reports"].sum() > 0
    wrong = res.ledger[res.ledger["wrongful"]]
    assert len(wrong) > 0 and set(wrong["act"]) == {"fighting"}


def test_a_school_gate_turns_children_away_for_their_parents_grade():
    s, _ = load("rongcheng")
    d = s.model_dump(mode="json")
    d["gates"] = [{"name": "top_school", "attempts": 1.0, "deny_grades": ["A"],
                   "children": True, "source": "S11"}]
    res = run(socialcredit.Scenario.model_validate(d), days=30)
    daily = res.daily
    # everyone starts in A: almost every attempt is for a child of an A parent, and denied
    assert (daily["children_denied"] == daily["top_school_denied"]).all()
    assert daily["children_denied"].sum() > 0.95 * daily["top_school_attempts"].sum()
    # attempts: one a year per child, made through their parents' cells
    ages = s.society.ages
    adults = (res.citizens["age_group"] == "adult").sum()
    expected = adults * ages.child / ages.adult * 30 / 365
    got = daily["top_school_attempts"].sum()
    assert abs(got - expected) < 5 * expected ** 0.5


def test_a_dishonest_firm_takes_its_representative_off_management_posts():
    res = run("corporate", population=100_000, days=365)
    lst = res.listings
    n_citizens = res.info["population"]
    firms = lst[lst["list"] == "dishonest_firms"]
    barred = lst[lst["list"] == "barred_from_management"]
    assert len(firms) > 0 and len(barred) > 0
    assert (firms["citizen"] >= n_citizens).all()  # firms come after the citizens
    assert (barred["citizen"] < n_citizens).all()  # representatives are citizens
    assert len(barred) == res.daily["representatives_listed"].sum() <= len(firms)
    # each representative is barred on the day their firm is listed
    assert set(barred["listed_day"]) <= set(firms["listed_day"])
    ages = res.citizens.set_index("citizen").loc[barred["citizen"], "age_group"]
    assert (ages == "adult").all()


def test_blacklisted_firms_are_inspected_more():
    sets = ["channels.inspections.coverage_urban=0.0", "channels.inspections.coverage_rural=0.0"]
    never = run(variant("corporate", *sets, "channels.inspections.coverage_listed=0.0"),
                population=100_000, days=365)
    listed = run(variant("corporate", *sets, "channels.inspections.coverage_listed=1.0"),
                 population=100_000, days=365)
    seen = {r: x.acts.set_index("act").loc["quality_violation", "observed"]
            for r, x in (("never", never), ("listed", listed))}
    assert seen["never"] == 0 and seen["listed"] > 0


def test_a_voluntary_score_scores_members_only_and_ties_pull_scores_together():
    with_ties = run("sesame", days=120)
    c = with_ties.citizens
    people = c[c["age_group"].isin(["adult", "elder"])]
    assert abs(people["scored"].mean() - 0.5) < 0.02  # half join (members = 0.5)
    assert not c.loc[c["age_group"] == "child", "scored"].any()
    alone = run(variant("sesame", "association.score_weight=0.0"), days=120)
    spread = {k: r.citizens.loc[r.citizens["scored"], "score"].std()
              for k, r in (("ties", with_ties), ("alone", alone))}
    assert spread["ties"] < spread["alone"]
    assert with_ties.daily["points_moved_by_ties"].abs().sum() > 0
    assert alone.daily["points_moved_by_ties"].abs().sum() == 0


def test_local_systems_score_only_their_regions_and_the_court_list_reaches_everyone():
    res = run("china", days=120)
    c = res.citizens
    local = c["region"].astype(str).str.match(r"^(shandong|jiangsu)_")
    assert c.loc[~local, "scored"].sum() == 0
    assert c.loc[local & c["age_group"].isin(["adult", "elder"]), "scored"].all()
    debtors = res.listings[res.listings["list"] == "dishonest_debtors"]
    where = c.set_index("citizen").loc[debtors["citizen"], "region"].astype(str)
    assert (~where.str.match(r"^(shandong|jiangsu)_")).sum() > 0
    moved = res.ledger[res.ledger["points"] != 0]
    regions = c.set_index("citizen").loc[moved["citizen"], "region"].astype(str)
    assert regions.str.match(r"^(shandong|jiangsu)_").all()


def test_a_listed_debtor_who_pays_leaves_the_national_list_three_days_later():
    fast = ["lists.dishonest_debtors.exits.comply_per_year=100.0", STEADY]
    res = run(variant("national", *fast), population=200_000, days=60)
    now = run(variant("national", *fast, "lists.dishonest_debtors.exits.comply_delay_days=0"),
              population=200_000, days=60)
    # the same debtors pay on the same days (common random numbers): deletion comes exactly
    # three days after payment (R1), so each listing lasts three days longer than with none
    paid = res.listings[res.listings["exit"] == "complied"].set_index("citizen")
    paid_now = now.listings[now.listings["exit"] == "complied"].set_index("citizen")
    both = paid.index.intersection(paid_now.index)
    assert len(both) > 20
    assert (paid.loc[both, "days_listed"] - paid_now.loc[both, "days_listed"] == 3).all()
    assert (paid["days_listed"] >= 4).all()


def test_being_turned_away_makes_listed_debtors_pay_sooner():
    s = variant("national", STEADY)
    d = s.model_dump(mode="json")
    d["responses"]["compliance"] = {"per_denial": 0.5, "source": "R4"}
    pressed = run(socialcredit.Scenario.model_validate(d), population=200_000, days=120)
    calm = run(s, population=200_000, days=120)
    assert pressed.daily["complied_under_pressure"].sum() > 0
    assert calm.daily["complied_under_pressure"].sum() == 0
    # the same people are listed (same acts); under pressure more leave by paying, sooner
    assert pressed.daily["listed_new"].sum() == calm.daily["listed_new"].sum()
    assert pressed.daily["exits_complied"].sum() > calm.daily["exits_complied"].sum()
    assert pressed.daily["listed"].iloc[-1] < calm.daily["listed"].iloc[-1]


def test_ties_are_mutual_family_first_then_acquaintances():
    from socialcredit.engine.random import bits_for
    from socialcredit.society.ties import tie

    n, key = 5000, np.uint64(12345)
    bits = bits_for(n)
    people = np.arange(n)
    for d in range(8):
        there = np.array([tie(x, d, n, bits, key) for x in people])
        back = np.array([tie(y, d ^ 1, n, bits, key) for y in there])
        assert (back == people).all(), d  # the d-th tie's (d^1)-th tie is oneself
        assert (there != people).all()
        if d < 2:  # family or next door: the neighbours in id order
            assert (there == (people + (1 if d == 0 else -1)) % n).all()
        else:  # acquaintances: scattered over the region
            assert np.mean(np.abs(there - people) <= 2) < 0.01


def test_a_listing_never_complied_with_is_extended_once():
    sets = [STEADY, "lists.dishonest_debtors.duration_days=30",
            "lists.dishonest_debtors.exits.comply_per_year=0.0",
            "lists.dishonest_debtors.exits.appeal_share=0.0",
            "lists.dishonest_debtors.exits.extend_days=20"]
    always = run(variant("national", *sets, "lists.dishonest_debtors.exits.extend_unpaid=1.0"),
                 population=200_000, days=120)
    ended = always.listings[always.listings["exit"] == "expired"]
    assert len(ended) > 10
    assert (ended["days_listed"] == 50).all() and (ended["extensions"] == 1).all()
    never = run(variant("national", *sets, "lists.dishonest_debtors.exits.extend_unpaid=0.0"),
                population=200_000, days=120)
    ended = never.listings[never.listings["exit"] == "expired"]
    assert len(ended) > 10
    assert (ended["days_listed"] == 30).all() and (ended["extensions"] == 0).all()
