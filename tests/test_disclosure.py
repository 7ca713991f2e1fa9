"""Public shaming (disclosure), credit repair and attitudes: each fires in `china`, its counts
agree with its rates, and switching it off takes exactly it away."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

import socialcredit
from socialcredit.analysis.compare import apply_set
from socialcredit.scenario import load
from socialcredit.scenario.schema import Scenario

DISCLOSURE = ["disclosed", "disclosed_cumulative", "disclosure_views", "wrongfully_disclosed",
              "ties_cut_by_disclosure"]
REPAIR = ["repairs_applied", "repairs_granted", "repair_days_cleared"]
ATTITUDES = ["approval", "approval_lost", "approval_regained"]
BASE = ("acts.unpaid_judgment.rate=0.01",)
"""More unpaid judgments than in `china`, so that small runs list enough debtors."""


def variant(name, *sets: str) -> Scenario:
    s = load(name)[0] if isinstance(name, str) else name
    for assignment in sets:
        s = apply_set(s, assignment)
    return s


def without(s: Scenario, *paths: tuple) -> Scenario:
    """`s` with the sections at `paths` (keys, list entries by name) removed."""
    data = s.model_dump(mode="json", exclude_none=True)
    for path in paths:
        node = data
        for key in path[:-1]:
            node = next(x for x in node if x.get("name") == key) if isinstance(node, list) \
                else node[key]
        del node[path[-1]]
    return Scenario.model_validate(data)


def run(scenario, population=30_000, days=120, seed=3):
    return socialcredit.run(scenario, population=population, days=days, seed=seed,
                            report=False)


def same(a, b, drop=()):
    """Every table of two runs equal, leaving out the columns in `drop`."""
    for name in ("daily", "ledger", "listings", "acts", "score_hist", "groups", "regions"):
        x, y = getattr(a, name), getattr(b, name)
        x = x.drop(columns=[c for c in drop if c in x.columns])
        y = y.drop(columns=[c for c in drop if c in y.columns])
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=name)
    over = [c for c in a.groups_over_time.columns if c != "approval"]
    pd.testing.assert_frame_equal(a.groups_over_time[over], b.groups_over_time[over],
                                  check_exact=True)


@pytest.fixture(scope="module")
def china():
    return run(variant("china", *BASE))


def test_disclosure_counts_follow_the_listings(china):
    d, lst = china.daily, china.listings
    debtors = lst[lst["list"] == "dishonest_debtors"]
    assert len(debtors) > 20  # it fires
    # public for 730 days, longer than the run: every listing made is disclosed and stays so
    assert d["disclosed_cumulative"].iloc[-1] == len(debtors)
    in_force = debtors[debtors["exit"] == "in force"]
    assert d["disclosed"].iloc[-1] == len(in_force)
    assert d["wrongfully_disclosed"].iloc[-1] == int(in_force["wrongful"].sum())
    assert (d["disclosed"] <= d["listed"]).all()


def test_ties_cut_and_views_agree_with_their_rates(china):
    s, _ = load("china")
    disc = next(x for x in s.lists if x.name == "dishonest_debtors").disclosure
    d = china.daily
    pairs = s.society.ties * d["disclosed_cumulative"].iloc[-1]
    cut = d["ties_cut_by_disclosure"].sum()
    p = disc.cut_share
    assert abs(cut - p * pairs) < 5 * math.sqrt(pairs * p * (1 - p)) + 1
    # views a day per public listing lie between the village's reach and the town's
    area = math.pi * (disc.app_map.radius_m / 1000) ** 2
    fixed = disc.website.views_per_day + disc.screens.views_per_day + \
        s.society.ties * disc.dial_tone.calls_per_tie_per_day
    low = fixed + disc.app_map.checks_per_day * disc.app_map.density_rural * area
    high = fixed + disc.app_map.checks_per_day * disc.app_map.density_urban * area
    shown = d["disclosed"].sum()
    views = d["disclosure_views"].sum()
    assert low * shown - 5 * math.sqrt(high * shown) <= views
    assert views <= high * shown + 5 * math.sqrt(high * shown)


def test_views_are_poisson_around_the_website_audience_in_national():
    res = run(variant("national", "acts.unpaid_judgment.rate=0.01"), days=60)
    d = res.daily
    expected = 0.2 * d["disclosed"].sum()
    assert expected > 100
    assert abs(d["disclosure_views"].sum() - expected) < 5 * math.sqrt(expected)


def test_disclosure_switched_off_is_the_same_as_none():
    s = variant("china", *BASE, "lists.dishonest_debtors.disclosure.enabled=false")
    none = without(variant("china", *BASE), ("lists", "dishonest_debtors", "disclosure"))
    a, b = run(s, days=60), run(none, days=60)
    same(a, b)
    assert (a.daily[DISCLOSURE].to_numpy() == 0).all()


def test_disclosure_without_effects_changes_no_other_table():
    """Counting who sees a listing moves nothing: with no ties cut, no faster compliance and
    no gate that checks, every other table is that of the same run without disclosure (but
    for views of the system, which disclosure moves)."""
    quiet = variant("china", *BASE, "lists.dishonest_debtors.disclosure.cut_share=0.0",
                    "lists.dishonest_debtors.disclosure.comply_factor=1.0",
                    "gates.rental.deny_disclosed=false")
    off = variant(quiet, "lists.dishonest_debtors.disclosure.enabled=false")
    a, b = run(quiet, days=60), run(off, days=60)
    assert a.daily["disclosed_cumulative"].iloc[-1] > 0
    same(a, b, drop=DISCLOSURE + ATTITUDES)  # being disclosed turns views (tested below)


def test_disclosed_debtors_repay_sooner():
    slow = run(variant("china", *BASE, "lists.dishonest_debtors.disclosure.comply_factor=1.0"),
               days=150)
    fast = run(variant("china", *BASE, "lists.dishonest_debtors.disclosure.comply_factor=20.0"),
               days=150)

    def complied(res):
        x = res.listings
        return int(((x["list"] == "dishonest_debtors") & (x["exit"] == "complied")).sum())

    assert complied(fast) > 3 * max(1, complied(slow))


def test_a_gate_that_checks_the_published_list_denies_only_the_disclosed():
    on = run(variant("china", *BASE, "gates.rental.attempts=300"), days=60)
    off = run(variant("china", *BASE, "gates.rental.attempts=300",
                      "lists.dishonest_debtors.disclosure.enabled=false"), days=60)
    assert on.daily["rental_denied"].sum() > 0
    assert off.daily["rental_denied"].sum() == 0
    # attempts a day by the disclosed: 300 a year each
    expected = (on.daily["disclosed"] * 300 / 365).sum()
    assert abs(on.daily["rental_denied"].sum() - expected) < 5 * math.sqrt(expected) + 2


REPAIRING = ("acts.late_annual_report.rate=0.5",
             "lists.abnormal_operations.exits.comply_per_year=0.0",
             "lists.abnormal_operations.exits.appeal_share=0.0",
             "lists.abnormal_operations.exits.repair.capacity=1000000",
             "lists.abnormal_operations.exits.repair.apply_per_year=12.0",
             "lists.abnormal_operations.exits.repair.success_share=0.5")


def test_repair_grants_a_share_of_applications_after_the_wait():
    res = run(variant("china", *BASE, *REPAIRING), population=100_000, days=150)
    d, lst = res.daily, res.listings
    repaired = lst[lst["exit"] == "repair"]
    assert len(repaired) > 30
    assert set(repaired["list"]) == {"abnormal_operations"}
    assert d["repairs_granted"].sum() == len(repaired)
    assert d["repair_days_cleared"].sum() == repaired["days_listed"].sum()
    # no sooner than the wait (30 days) plus the decision (15 days)
    assert repaired["days_listed"].min() >= 45
    # half of the applications decided within the run are granted
    applied = d["repairs_applied"][d["day"] < d["day"].max() - 15].sum()
    assert 0.35 < len(repaired) / applied < 0.65


def test_repair_follows_its_timeline():
    start = load("china")[0].scenario.start
    change = (start + dt.timedelta(days=60)).isoformat()
    s = variant("china", *BASE, *REPAIRING, "lists.abnormal_operations.exits.repair.wait_days=5000")
    s = apply_set(s, f'lists.abnormal_operations.exits.repair.changes=[{{date = {change}, '
                     'wait_days = 0, source = "R10"}]')
    res = run(s, population=100_000, days=150)
    d = res.daily
    assert d.loc[d["day"] < 60, "repairs_applied"].sum() == 0
    assert d.loc[d["day"] >= 60, "repairs_applied"].sum() > 20


def test_repair_capacity_limits_decisions_a_day():
    s = variant("china", *BASE, *REPAIRING, "lists.abnormal_operations.exits.repair.capacity=100",
                "lists.abnormal_operations.exits.repair.success_share=1.0")
    res = run(s, population=100_000, days=150)
    per_day = 100 * res.run["population"].iloc[0] / 1e6
    firms = int(res.run["firms"].iloc[0])
    per_day = 100 * (res.run["population"].iloc[0] + firms) / 1e6
    granted = res.daily["repairs_granted"]
    assert granted.sum() > 0
    assert granted.max() <= math.ceil(per_day) + 1


def test_repair_switched_off_is_the_same_as_none():
    a = run(variant("china", *BASE, "lists.abnormal_operations.exits.repair.enabled=false",
                    "lists.blacklist.exits.repair.enabled=false"), days=60)
    s = without(variant("china", *BASE), ("lists", "abnormal_operations", "exits", "repair"),
                ("lists", "blacklist", "exits", "repair"))
    same(a, run(s, days=60))
    assert (a.daily[REPAIR].to_numpy() == 0).all()


def test_approval_starts_at_the_survey_figure_and_attitudes_move_nothing_else(china):
    off = run(variant("china", *BASE, "responses.attitudes.enabled=false"))
    same(china, off, drop=ATTITUDES)
    assert "approval" not in off.daily.columns
    first = china.daily["approval"].iloc[0]
    assert abs(first - 0.8) < 0.01
    assert china.daily["approval_lost"].sum() > 0
    got = china.groups_over_time.dropna(subset=["approval"])
    assert set(got["age_group"]) == {"adult", "elder"}
    assert ((got["approval"] > 0.5) & (got["approval"] <= 1)).all()


def test_being_told_the_risks_lowers_approval_as_the_survey_found():
    """Everyone told within days: approval falls to start x told_keeps (R11: 29 of 53)."""
    s = variant("china", *BASE, "responses.attitudes.told_per_year=100.0",
                "responses.attitudes.regain_per_year=0.0")
    res = run(s, days=60)
    end = res.daily["approval"].iloc[-1]
    told_all = 1 - math.exp(-100 * 60 / 365)
    expected = 0.8 * (1 - told_all * (1 - 0.547))
    assert abs(end - expected) < 0.02


def test_penalties_turn_approvers_against_the_system():
    always = run(variant("china", *BASE, "responses.attitudes.after_penalty=1.0",
                         "responses.attitudes.after_wrongful=1.0",
                         "responses.attitudes.told_per_year=0.0",
                         "responses.attitudes.regain_per_year=0.0"), days=60)
    never = run(variant("china", *BASE, *(f"responses.attitudes.{k}=0.0" for k in (
        "after_penalty", "after_wrongful", "after_listed", "after_denial", "after_disclosed",
        "after_tie", "told_per_year", "regain_per_year"))), days=60)
    assert never.daily["approval_lost"].sum() == 0
    assert never.daily["approval"].nunique() == 1
    assert always.daily["approval"].iloc[-1] < never.daily["approval"].iloc[-1] - 0.005
    # an approver turns at most once: what was lost is at most the approvers at the start
    start = never.daily["approval"].iloc[0]
    assert always.daily["approval_lost"].sum() <= start * 30_000


def test_a_resumed_run_with_every_mechanism_gives_the_same_tables(tmp_path):
    class Crash(Exception):
        pass

    def crash(day: int, days: int) -> None:
        if day == 50:
            raise Crash

    s = variant("china", *BASE, *REPAIRING)
    whole = run(s, population=20_000, days=80)
    with pytest.raises(Crash):
        socialcredit.run(s, population=20_000, days=80, seed=3, report=False,
                         out=tmp_path / "r", checkpoint_every=20, progress=crash)
    resumed = socialcredit.resume(tmp_path / "r", report=False)
    same(whole, resumed)
    pd.testing.assert_frame_equal(whole.groups_over_time, resumed.groups_over_time)
    assert np.isfinite(resumed.daily["approval"]).all()


def test_ties_cut_on_disclosure_no_longer_pass_penalties_along():
    loud = (*BASE, "acts.negative_online_comment.rate=30.0", "acts.unpaid_judgment.rate=0.05")
    kept = run(variant("china", *loud, "lists.dishonest_debtors.disclosure.cut_share=0.0"),
               days=45)
    cut = run(variant("china", *loud, "lists.dishonest_debtors.disclosure.cut_share=1.0"),
              days=45)
    assert cut.daily["ties_cut_by_disclosure"].sum() > 0
    assert kept.daily["ties_cut_by_disclosure"].sum() == 0
    assert (cut.daily["association_penalties"].sum()
            < kept.daily["association_penalties"].sum())


def test_compare_shows_disclosure_repair_and_approval():
    from socialcredit.analysis.compare import compare

    a = variant("china", *BASE)
    b = variant(a, "lists.dishonest_debtors.disclosure.enabled=false")
    frame = compare(a, b, seeds=2, population=10_000, days=30).set_index("outcome")
    assert frame.loc["disclosure_views", "kind"] == "total"
    assert frame.loc["disclosed_cumulative", "kind"] == "last day"
    assert frame.loc["disclosed_cumulative", "a"] > 0
    assert frame.loc["disclosed_cumulative", "b"] == 0
    assert frame.loc["approval_percent", "scale"] == 1.0
    assert 50 < frame.loc["approval_percent", "a"] <= 100


def test_explain_tells_of_disclosure_and_of_the_view_at_the_end(tmp_path):
    from rich.console import Console

    from socialcredit.analysis.explain import explain

    res = socialcredit.run(variant("china", *BASE), population=20_000, days=60, seed=3,
                           report=False, out=tmp_path / "r")
    debtor = int(res.listings.loc[res.listings["list"] == "dishonest_debtors", "citizen"].iloc[0])
    console = Console(record=True, width=200)
    explain(tmp_path / "r", debtor, console)
    told = console.export_text()
    assert "put on dishonest_debtors" in told
    assert "made public for" in told and "(counted, not shown)" in told
    approves = res.citizens.set_index("citizen").loc[debtor, "approves"]
    if pd.isna(approves):  # a child or a firm holds no view
        assert "approve" not in told
    else:
        assert ("does not approve of the system" in told) == (not approves)
