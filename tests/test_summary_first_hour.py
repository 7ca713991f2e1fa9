"""The first hour of a new user: what the summary and the report say on first sight.

A scenario without points says why instead of drawing empty grades; counts that stay 0 get a
sentence; who is hit names each share's denominator and lists firms; odd-looking figures are
explained where they appear; the sources and assumed values are listed; every region is
recorded; the summary ends with what to open and type next.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from html import escape, unescape

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import socialcredit
from socialcredit import sources
from socialcredit.analysis.summary import print_summary
from socialcredit.cli import main
from socialcredit.report import facts, html, plots


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """The court list, which nobody enters by score: nobody holds points."""
    return socialcredit.run("national", population=10000, until="2014-12-31",
                            out=tmp_path_factory.mktemp("national") / "r")


@pytest.fixture(scope="module")
def china(tmp_path_factory):
    """All 31 provinces, firms, informants' false reports and association penalties."""
    return socialcredit.run("china", population=20000, days=65, seed=1,
                            out=tmp_path_factory.mktemp("china") / "r")


def summary(results, width: int = 250) -> str:
    out = io.StringIO()
    print_summary(results, Console(file=out, width=width))
    return out.getvalue()


def section(page: str, heading: str) -> str:
    m = re.search(rf"<section><h2>{re.escape(heading)}</h2>.*?</section>", page, re.DOTALL)
    assert m, f"no section {heading!r}"
    return m.group(0)


def text(html: str) -> str:
    """The words of an HTML fragment, tags and plots left out."""
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def page_of(results) -> str:
    return (results.path / "report.html").read_text(encoding="utf-8")


# -- nobody holds points ----------------------------------------------------------------------

WHY = ("Nobody holds points in this scenario: it puts people on dishonest_debtors for an unpaid "
       "judgment, not by score, so there are no grades or scores to show.")


def test_a_scenario_without_points_says_why_instead_of_grades(national):
    out = summary(national)
    assert WHY in out
    assert "Grades" not in out and "mean score" not in out and "none" not in out
    assert "penalties 0" not in out  # nobody can lose points: no penalty count to show
    page = page_of(national)
    for heading in ("Grades over time", "Scores at start and end"):
        part = section(page, heading)
        assert "<svg" not in part and WHY in text(part), heading
    who = section(page, "Who is hit")
    assert WHY in text(who) and "mean score" not in who and "wronged" not in who.split("</p>")[1]
    assert "wrongful penalties" not in text(section(page, "Key figures"))


def test_counts_that_stay_zero_get_a_sentence_not_an_empty_chart(national):
    d = national.daily
    assert d["flights_perks"].sum() == d["rail_perks"].sum() == 0
    page = page_of(national)
    gates = section(page, "Denials by gate")
    assert "No gate granted a perk during the run." in text(gates)
    assert "perk granted" not in gates  # no legend entry for bars that are not there
    harm = section(page, "Harm audit")
    zero = [label for label, c in (("association penalties", "association_penalties"),
                                   ("informant reports", "informant_reports"))
            if not d[c].sum()]
    assert zero
    words = text(harm)
    assert "stayed 0 for the whole run" in words
    for label in zero:
        assert label in words.lower() and f"<td>{label}" not in harm
    # children are never on the court list: named, not drawn as a flat line at 0%
    never = re.search(r"nobody was ever listed among (.*?)\.", words).group(1)
    over = national.groups_over_time
    most = over.groupby(["region_type", "age_group"])["listed"].max()
    for (region, age), n in most.items():
        assert (facts.group_label(region, age) in never) == (n == 0), (region, age)
    assert "urban children" in never and "rural children" in never


def test_a_line_drawn_twice_is_drawn_once():
    daily = pd.DataFrame({"listed": [0, 2, 3], "listed_cumulative": [0, 2, 4],
                          "blacklist_listed": [0, 2, 3], "other_listed": [0, 0, 0]})
    kept, zero = plots.distinct(daily, [("listed", "listed now"),
                                        ("listed_cumulative", "ever listed"),
                                        ("blacklist_listed", "on blacklist"),
                                        ("other_listed", "on other"), ("absent", "absent")])
    assert kept == [("listed", "listed now = on blacklist"),
                    ("listed_cumulative", "ever listed")]
    assert zero == ["on other"]


def test_the_report_draws_a_list_equal_to_the_listed_count_once(china, tmp_path):
    daily = china.daily.assign(blacklist_listed=china.daily["listed"], other_listed=0)
    lists = html._list_section(daily, ["blacklist", "other"], china.listings)
    assert lists.count("listed now = on blacklist") == 1
    assert ">on blacklist<" not in lists
    assert "On other stayed 0 for the whole run, so it is not drawn." in text(lists)


# -- who is hit -------------------------------------------------------------------------------

def test_who_is_hit_names_each_denominator_and_lists_firms(china):
    g = china.groups
    firms = g[g["age_group"] == "firm"]
    assert len(firms) and firms["listed"].sum() > 0
    page = page_of(china)
    who = section(page, "Who is hit")
    for header in ("C or D (of scored)", "mean score (of scored)", "listed (of all in group)",
                   "wronged (of all in group)"):
        assert f">{header}<" in who
    for _, f in firms.iterrows():
        label = f"{f['region_type']} firms"
        cells = re.search(rf"<tr><td>{label}</td>(.*?)</tr>", who).group(1)
        values = [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
        assert values[0] == f"{int(f['citizens']):,}"
        share = 100 * f["listed"] / f["citizens"]  # of all firms
        assert float(values[-2].rstrip("%")) == pytest.approx(share, abs=0.051)  # 1 decimal
        assert values[2] == values[3] == values[-1] == "–"  # firms are not scored
    out = summary(china)
    assert "urban firms" in out and "rural firms" in out
    assert "(of all in group)" in out and "(of scored)" in out


def test_who_is_hit_says_which_channel_values_are_assumed(china):
    s = facts.scenario_of(china)
    assumed = [p for p, _ in sources.assumed_values(s) if p.startswith("channels.")]
    assert assumed
    words = text(section(page_of(china), "Who is hit"))
    assert "the scenario assumes these, with no source" in words
    for name in {p.split(".")[1] for p in assumed}:
        assert name in words
    assert "assumed, not sourced: coverage or misattribution" in summary(china)


# -- odd figures explained where they appear --------------------------------------------------

def test_an_act_penalised_more_often_than_committed_is_explained(china):
    acts = china.acts.copy()
    i = acts.index[acts["act"] == "neglect_elderly_relatives"][0]
    acts.loc[i, "scored"] = acts.loc[i, "committed"] + 7  # as in a longer run
    more = dataclasses.replace(china, acts=acts)
    assert china.daily["false_reports"].sum() > 0
    note = (f"neglect elderly relatives: {acts.loc[i, 'scored']:,} penalties for "
            f"{acts.loc[i, 'committed']:,} acts committed, because informants' false reports "
            "claim it")
    assert note in summary(more)
    assert note[:1].upper() + note[1:] in text(html._acts_section(more.acts,
                                                                  facts.act_notes(more)))
    # no note where penalties do not outnumber the acts
    plain = facts.act_notes(china)
    for _, a in china.acts.iterrows():
        assert (a["act"] in plain) == (a["scored"] > a["committed"]
                                       and a["act"] == "neglect_elderly_relatives")
    no_false = dataclasses.replace(more, daily=more.daily.assign(false_reports=0,
                                                                 sabotage_reports=0))
    assert facts.act_notes(no_false) == {}


def test_association_penalties_are_explained_beside_their_figures(china):
    d = china.daily
    assert d["association_penalties"].sum() > 0
    behind = china.acts[china.acts["area"] == "expression"]
    out = summary(china)
    assert (f"association: each of the {int(behind['scored'].sum()):,} penalties for expression "
            "acts also fell on each of the person's 6 ties at 20% of its points") in out
    harm = text(section(page_of(china), "Harm audit"))
    assert "also falls on each of the person's 6 ties at 20% of its points" in harm
    assert "6 × 20% = 1.2 times its points" in harm


# -- sources and assumptions ------------------------------------------------------------------

def test_sources_and_assumed_values_are_listed(china):
    part = section(page_of(china), "Sources and assumptions")
    s = facts.scenario_of(china)
    for src in sources.lookup(sources.cited(s)):
        assert f"<td>{escape(src.id)}</td><td>{escape(src.title)}</td>" in part
        assert escape(src.published) in part
    assumed = sources.assumed_values(s)
    assert f"{len(assumed)} values the scenario assumes" in part
    for path, _ in assumed:
        assert f"<td>{escape(path)}</td>" in part


def test_the_sources_section_survives_a_scenario_text_that_no_longer_parses(china):
    run = china.run.assign(scenario_text="[[[ not toml")
    part = html._sources_section(dataclasses.replace(china, run=run))
    assert "its sources cannot be listed" in text(part)


# -- regions ----------------------------------------------------------------------------------

def test_every_region_is_recorded_at_each_snapshot_and_the_end(china):
    r = china.regions
    plan_regions = [x for x in facts.end_regions(china)["region"]]
    assert len(plan_regions) == 62  # 31 provinces, towns and villages
    dates = sorted(r["date"].unique())
    over = china.groups_over_time
    assert dates == sorted(over["date"].unique())  # every 30 days and the end
    for d in dates:
        at = r[r["date"] == d]
        assert len(at) == 62 and at["region"].is_unique
        people = over[(over["date"] == d) & (over["age_group"] != "firm")]
        assert at["citizens"].sum() == people["citizens"].sum()
        assert at["listed"].sum() == people["listed"].sum()
        assert at["scored"].sum() == people["scored"].sum()
    end = r[r["date"] == dates[-1]]
    g = china.groups
    people, firms = g[g["age_group"] != "firm"], g[g["age_group"] == "firm"]
    assert end["citizens"].sum() == int(china.info["population"])
    assert end["firms"].sum() == int(china.info["firms"]) == firms["citizens"].sum()
    assert end["firms_listed"].sum() == firms["listed"].sum()
    for c in ("listed", "ever_listed", "wronged", "wrongful_points", "scored"):
        assert end[c].sum() == people[c].sum(), c
    shandong = end[end["region"] == "shandong_urban"].iloc[0]
    assert shandong["scored"] > 0 and 0 < shandong["mean_score"] <= 1200
    assert end.loc[end["scored"] == 0, "mean_score"].isna().all()
    assert np.allclose(end["listed_share"], end["listed"] / end["citizens"])
    stored = socialcredit.open_results(china.path).regions
    pd.testing.assert_frame_equal(stored, r, check_dtype=False)


def test_regions_survive_an_interrupted_run(china, tmp_path):
    folder = tmp_path / "stopped"

    def stop(day: int, days: int) -> None:
        if day == 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        socialcredit.run("china", population=20000, days=65, seed=1, out=folder,
                         progress=stop, report=False, citizens=False)
    resumed = socialcredit.resume(folder, report=False)
    pd.testing.assert_frame_equal(resumed.regions, china.regions, check_dtype=False)
    pd.testing.assert_frame_equal(resumed.groups_over_time.reset_index(drop=True),
                                  china.groups_over_time.reset_index(drop=True),
                                  check_dtype=False)


def test_summary_and_report_name_the_regions_listed_most_and_least(china):
    end = facts.end_regions(china)
    end = end.assign(share=end["listed"] / end["citizens"]).sort_values(
        ["share", "region"], ascending=[False, True])
    some = end[end["listed"] > 0]
    out = summary(china)
    assert "Regions listed most and least, of 62 (end of run)" in out
    shown = re.findall(r"^│ (\w+) +│ (?:urban|rural) ", out, re.MULTILINE)
    assert shown[:3] == some["region"].head(3).tolist()
    assert shown[-3:] == some["region"].tail(3).tolist()
    nobody = end.loc[end["listed"] == 0, "region"].tolist()
    if nobody:
        assert f"nobody listed at the end in {len(nobody)} region" in out
    part = section(page_of(china), "Regions")
    assert "<svg" in part
    for name in some["region"]:
        assert f">{name}<" in part  # a bar, labelled
    if nobody:
        assert "not drawn: " + ", ".join(sorted(nobody)) in text(part)


def test_one_region_says_there_is_nothing_to_compare(china):
    end = facts.end_regions(china)
    one = dataclasses.replace(china, regions=end.head(1))
    assert "This scenario has one region" in text(html._regions_section(one))
    assert "Regions" not in summary(one)
    old = dataclasses.replace(china, regions=pd.DataFrame())
    assert "no per-region figures" in text(html._regions_section(old))


def test_where_only_firms_are_listed_regions_rank_their_firms(china):
    """A corporate system lists firms, not people: the regions compare their firms."""
    r = china.regions.assign(listed=0, listed_share=0.0)
    end = r[r["date"] == r["date"].max()]
    assert end["firms_listed"].sum() > 0
    firms = dataclasses.replace(china, regions=r)
    out = summary(firms)
    assert "Regions whose firms are listed most and least, of" in out
    lists = len(json.loads(china.info["lists"]))
    assert lists > 1
    on = f"on any of its {lists} lists"
    assert "nobody on" not in out
    part = html._regions_section(firms)
    assert f"Share of each region's firms {on}" in text(part)
    assert "<th class=n>firms</th>" in part and "<svg" in part
    nobody = dataclasses.replace(china, regions=r.assign(firms_listed=0))
    assert f"nobody {on} at the end of the run, in any of 62 regions" in summary(nobody)
    assert f"Nobody was {on}" in text(html._regions_section(nobody))


# -- what to open next ------------------------------------------------------------------------

def test_the_summary_ends_with_the_report_and_commands_to_copy(china, capsys):
    out = summary(china, width=400)
    tail = out.strip().splitlines()[-6:]
    assert str((china.path / "report.html").resolve()) in tail[1]
    assert tail[3].strip() == f"socialcredit summary {china.path}"
    m = re.fullmatch(rf"socialcredit explain {re.escape(str(china.path))} (\d+)", tail[5].strip())
    assert m, tail
    citizen = int(m.group(1))
    led = china.ledger
    assert led[(led["citizen"] == citizen) & led["wrongful"]].size  # lost points to others
    assert f"citizen {citizen}: penalised for acts someone else committed" in tail[4]
    assert main(["explain", str(china.path), str(citizen)]) == 0
    assert "WRONGFUL" in capsys.readouterr().out


def test_without_wrongful_penalties_the_story_is_of_a_listed_citizen(national, capsys):
    citizen, why = facts.story_citizen(national)
    listed = national.listings
    assert citizen in set(listed["citizen"]) and "listed" in why
    assert main(["explain", str(national.path), str(citizen)]) == 0
    assert "dishonest_debtors" in capsys.readouterr().out


def test_results_kept_in_memory_name_no_folder(china):
    kept = dataclasses.replace(china, path=None)
    out = summary(kept)
    assert "socialcredit summary" not in out and "report.html" not in out


# -- what a newcomer reads first ---------------------------------------------------------------

def test_a_changed_scenario_says_what_was_changed():
    changed = socialcredit.run("rongcheng", population=2000, days=5, report=False,
                               sets=["channels.cameras.misattribution=0.25",
                                     "rules.littering.points=-10"])
    first = summary(changed).splitlines()[:3]
    assert ("changed with --set: channels.cameras.misattribution=0.25, "
            "rules.littering.points=-10") in first
    plain = socialcredit.run("rongcheng", population=2000, days=5, report=False)
    assert "changed with --set" not in summary(plain)


def test_the_scale_reads_as_a_number(national, china):
    from socialcredit.analysis.summary import scale_text

    assert scale_text(999.858) == "1,000" and scale_text(14098.0) == "14,098"
    assert scale_text(140.0) == "140" and scale_text(0.5) == "0.5"
    for res in (national, china):
        scale = scale_text(float(res.info["scale"]))
        text = summary(res)
        assert f"(each stands for {scale} people)" in text
        assert f"multiply by {scale} for people" in text
        assert not re.search(r"\de\+\d", text)


def test_a_histogram_of_one_point_bins_says_point(tmp_path):
    hist = pd.DataFrame({"when": ["start", "end", "end"], "score": [12, 12, 9],
                         "count": [100, 90, 10]})
    svg = plots.score_distribution(hist)
    assert "bins of 1 point)" in svg and "bins of 1 points" not in svg


def test_who_is_hit_names_the_groups_it_leaves_out(china):
    g = china.groups
    out = g[(g["age_group"] != "firm") & (g["scored"] == 0) & (g["listed"] == 0)
            & (g["wronged"] == 0) & (g["ever_listed"] == 0) & (g["citizens"] > 0)]
    assert len(out), "china's children are never scored or listed"
    n = int(out["citizens"].sum())
    note = f"({n:,} citizens), never scored, listed or wronged during the run."
    assert note in text(section(page_of(china), "Who is hit"))
    assert note in summary(china)
    shown = sum(r["members"] for r in facts.who_is_hit(china)[1] if not r["_firm"])
    assert shown + n == int(china.info["population"])  # together they are everyone


def test_a_ranking_of_regions_on_few_listings_says_it_is_mostly_chance(china):
    ranked = facts.regions_ranked(china)
    few = int(ranked.table.loc[ranked.table["on_list"] > 0, "on_list"].min())
    assert few < 100
    assert f"as few as {few:,}" in text(section(page_of(china), "Regions"))
    assert "much of this order is chance" in summary(china)
    many = dataclasses.replace(ranked, table=ranked.table.assign(
        on_list=ranked.table["on_list"].where(ranked.table["on_list"] == 0, 500)))
    assert facts.regions_chance_note(many) is None


def test_without_points_acts_show_no_points_or_wrongful_penalties(national):
    part = section(page_of(national), "Acts")
    headers = re.findall(r"<th[^>]*>(.*?)</th>", part)
    assert "points" not in headers and "wrongful penalties" not in headers
    assert "points per act" not in headers and "so rules act by listing" in text(part)


def test_lists_are_called_by_their_names(national, tmp_path):
    page = page_of(national)
    assert "Citizens on the dishonest_debtors list each day" in text(section(page, "List size"))
    assert "citizens on the dishonest_debtors list at the end" in text(section(page, "Regions"))
    assert "blacklist" not in text(page)
    assert facts.on_lists(["blacklist"]) == "on the blacklist"
    assert facts.on_lists([]) == "on a list"


def test_chart_shares_keep_two_digits_and_never_round_to_everyone():
    assert plots._share(0.0261) == "2.6%"  # the summary's 2.61%, not 3%
    assert plots._share(0.9994) == "99.9%"  # some are not in the grade: not 100%
    assert plots._share(1.0) == "100%" and plots._share(0.0) == "0%"
    assert plots._share(0.00058) == "0.058%" and plots._share(1e-9) == "<0.001%"
