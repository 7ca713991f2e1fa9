"""What a reader asks on first sight of a run, answered once for the printed summary
(analysis/summary.py) and the report (report/html.py): whether anyone holds points, who is hit
and of whom, why some figures look odd, which values are assumed, and what to open next.

Every function takes a run's Results (from memory or a folder) and returns plain values or
sentences; the callers format them for a terminal or for HTML.
"""

from __future__ import annotations

import functools
import math
import shlex
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import UserError
from ..scenario.schema import Scenario


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> Scenario | None:
    from ..scenario import parse

    try:
        return parse(text)
    except (UserError, ValueError):
        return None


def scenario_of(results) -> Scenario | None:
    """The scenario a run was made from (its text is kept in the run table), or None when
    the text is absent or no longer valid."""
    text = results.info.get("scenario_text") if len(results.run) == 1 else None
    return _parse(text) if isinstance(text, str) and text else None


def best_first(results, names: list[str]) -> list[str]:
    """Grade `names` from the best band to the worst (a scenario may list them either way);
    names the grades table lacks keep their place after the others."""
    g = results.grades
    if not {"grade", "min"} <= set(g.columns):
        return list(names)
    top = dict(zip(g["grade"].astype(str), pd.to_numeric(g["min"], errors="coerce"),
                   strict=True))
    known = sorted((n for n in names if n in top and finite(top[n])), key=lambda n: -top[n])
    return known + [n for n in names if n not in known]


def grade_names(results) -> list[str]:
    """The run's grades, best first."""
    names = [str(g) for g in results.grades["grade"]] if "grade" in results.grades else []
    return best_first(results, names)


def low_grades(grades: list[str]) -> list[str]:
    """The grades counted as low, of grades listed best first: the two lowest of three or
    more, else the lowest."""
    return grades[-2:] if len(grades) > 2 else grades[-1:]


def _spoken(name: str) -> str:
    return name.replace("_", " ")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def no_points(results) -> str | None:
    """The sentence saying why a run shows no grades or scores, or None when people hold
    points: a scenario whose points range is one value (a list entered by judgment, not by
    score), or a run in which nobody is scored."""
    grades = results.grades
    single = len(grades) > 0 and int(grades["min"].min()) == int(grades["max"].max())
    daily = results.daily
    if not single:
        if len(daily) and "scored" in daily.columns and not daily["scored"].any():
            return ("Nobody is scored in this run (nobody in it lives where the scenario keeps "
                    "points, or joined its score), so there are no grades or scores to show.")
        return None
    s = scenario_of(results)
    ways = []
    if s is not None:
        by_list: dict[str, list[str]] = {}
        for r in s.rules:
            if r.list:
                by_list.setdefault(r.list, []).append(f"{_article(r.act)} {_spoken(r.act)}")
        ways = [f"on {name} for {_and(acts)}" for name, acts in by_list.items()]
    why = (f"it puts people {_and(ways)}, not by score" if ways
           else f"its points range is the single value {int(grades['min'].min())}")
    return f"Nobody holds points in this scenario: {why}, so there are no grades or scores to show."


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


PLURAL = {"child": "children", "adult": "adults", "elder": "elders", "firm": "firms"}


def group_label(region_type: object, age_group: object) -> str:
    """A group as a reader says it: "rural children", "urban firms"."""
    age = str(age_group)
    return f"{region_type} {PLURAL.get(age, age)}"


@dataclass
class Column:
    key: str
    header: str
    kind: str  # "text", "count", "score" or "share"


def who_is_hit(results) -> tuple[list[Column], list[dict]]:
    """The who-is-hit table at the end of a run: each group of citizens (region type and age
    group) and firms, with each share's denominator named in its header. Groups with nothing
    to show (never scored, listed or wronged, such as unscored children) are left out; rows
    of firms always stay. Shares of nobody are NaN."""
    groups = results.groups
    if groups is None or groups.empty or "scored" not in groups.columns:
        return [], []
    points = no_points(results) is None
    low = low_grades(grade_names(results))
    cols = [Column("group", "group", "text"), Column("members", "in group", "count")]
    if points:
        cols += [Column("scored", "scored", "count"),
                 Column("mean", "mean score (of scored)", "score"),
                 Column("low", f"{' or '.join(low)} (of scored)", "share")]
    cols.append(Column("listed", "listed (of all in group)", "share"))
    if points:
        cols.append(Column("wronged", "wronged (of all in group)", "share"))
    rows = []
    for _, g in groups.iterrows():
        n, scored = count(g.get("citizens")), count(g.get("scored"))
        firm = str(g["age_group"]) == "firm"
        listed, wronged = count(g.get("listed")), count(g.get("wronged"))
        if _nothing_to_show(g):
            continue
        lowc = sum(count(g.get(f"grade_{x}")) for x in low)
        mean = g.get("mean_score")
        rows.append({
            "group": group_label(g["region_type"], g["age_group"]),
            "members": n, "scored": scored,
            "mean": float(mean) if scored and finite(mean) else math.nan,
            "low": lowc / scored if scored else math.nan,
            "listed": listed / n,
            "wronged": wronged / n if scored else math.nan,
            "_firm": firm})
    rows.sort(key=lambda r: r["_firm"])  # people first, then firms, each in table order
    return cols, rows


def _nothing_to_show(g) -> bool:
    """A group row of `groups` that was never scored, listed or wronged (nor is firms)."""
    if count(g.get("citizens")) == 0:
        return True
    return str(g["age_group"]) != "firm" and not any(
        count(g.get(k)) for k in ("scored", "listed", "wronged", "ever_listed"))


def groups_left_out(results) -> str | None:
    """The sentence naming the groups the who-is-hit table leaves out, so its counts are seen
    not to add up to the population by design (unscored children, usually)."""
    groups = results.groups
    if groups is None or groups.empty or "scored" not in groups.columns:
        return None
    out = [g for _, g in groups.iterrows() if count(g.get("citizens")) and _nothing_to_show(g)]
    if not out:
        return None
    labels = [group_label(g["region_type"], g["age_group"]) for g in out]
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    n = sum(count(g.get("citizens")) for g in out)
    return (f"Left out: {names} ({n:,} citizens), never scored, listed or wronged during the "
            "run.")


ASSUMED_CHANNEL_FIELDS = ("misattribution", "coverage_urban", "coverage_rural", "coverage_listed")


def assumed_channels(results) -> dict[str, list[tuple[str, object]]]:
    """Per channel, its misattribution and coverage values that the scenario marks assumed."""
    s = scenario_of(results)
    if s is None:
        return {}
    from ..sources import assumed_values

    out: dict[str, list[tuple[str, object]]] = {}
    for path, value in assumed_values(s):
        parts = path.split(".")
        if len(parts) == 3 and parts[0] == "channels" and parts[2] in ASSUMED_CHANNEL_FIELDS:
            out.setdefault(parts[1], []).append((parts[2], value))
    return out


def assumed_channels_note(results, short: bool = False) -> str | None:
    """A sentence for beside the who-is-hit table: the differences between urban and rural
    groups, and who is wronged, rest on channel values the scenario assumes."""
    channels = assumed_channels(results)
    if not channels:
        return None
    head = ("Differences between urban and rural groups, and who is wrongly penalised or "
            "listed, follow from how much each channel sees (coverage) and how often it blames "
            "the wrong person (misattribution); the scenario assumes these, with no source: ")
    if short:
        return (f"assumed, not sourced: coverage or misattribution of {len(channels)} "
                f"channel{'s' if len(channels) > 1 else ''} ({', '.join(channels)}), which set "
                "who is wrongly penalised or listed and the urban/rural differences")
    if len(channels) > 3:
        return (head + f"{sum(map(len, channels.values()))} such values of {len(channels)} "
                f"channels ({', '.join(channels)}), each listed with its value under Sources "
                "and assumptions.")
    parts = [f"{name}: " + ", ".join(f"{f.replace('_', ' ')} {v}" for f, v in values)
             for name, values in channels.items()]
    return head + "; ".join(parts) + "."


def act_notes(results) -> dict[str, str]:
    """Per act whose penalties outnumber the acts committed while informants (or enemies)
    file reports of acts that never happened: why."""
    acts, daily = results.acts, results.daily
    if acts.empty or daily.empty:
        return {}
    false = int(daily["false_reports"].sum()) if "false_reports" in daily.columns else 0
    sabotage = (int(daily["sabotage_reports"].sum()) if "sabotage_reports" in daily.columns
                else 0)
    if not (false or sabotage):
        return {}
    s = scenario_of(results)
    claimed = set(s.informants.false_acts) if s is not None and s.informants else set()
    framed = set(s.manipulation.sabotage_acts) if s is not None and s.manipulation else set()
    out = {}
    for _, a in acts.iterrows():
        name = str(a["act"])
        if int(a["scored"]) <= int(a["committed"]):
            continue
        who = []
        if false and (name in claimed or s is None):
            who.append("informants' false reports claim it")
        if sabotage and name in framed:
            who.append("fabricated reports against enemies claim it")
        if not who:
            continue
        wrong = int(a.get("wrongful_penalties", 0))
        out[name] = (f"{_spoken(name)}: {int(a['scored']):,} penalties for "
                     f"{int(a['committed']):,} acts committed, because {' and '.join(who)}"
                     f" ({wrong:,} of its penalties hit someone who did not do it)")
    return out


def association_note(results, short: bool = False) -> str | None:
    """Why penalties for a tie's act can take more points than the penalties behind them."""
    daily = results.daily
    if daily.empty or "association_penalties" not in daily.columns:
        return None
    n = int(daily["association_penalties"].sum())
    if not n:
        return None
    s = scenario_of(results)
    if s is None or s.association is None:
        return ("Each penalty for an act that spreads also falls on every tie of the person "
                "penalised, so penalties for a tie's act can outnumber, and take more points "
                "than, the penalties behind them.")
    a, ties = s.association, s.society.ties
    acts = results.acts
    behind = acts[acts["area"].isin(a.areas)] if "area" in acts.columns else acts.iloc[:0]
    caused = (f" ({int(behind['scored'].sum()):,} penalties, "
              f"{-int(behind['points'].clip(upper=0).sum()):,} points)" if len(behind) else "")
    areas = _and([f"{_article(x)} {x} act" for x in a.areas])
    if short:
        n_behind = f"each of the {int(behind['scored'].sum()):,} " if len(behind) else "each "
        return (f"association: {n_behind}penalties for {_and(a.areas)} acts also fell on each "
                f"of the person's {ties} ties at {a.penalty_share:.0%} of its points (up to "
                f"{ties * a.penalty_share:.3g} times its points in all)")
    return (f"Each penalty for {areas}{caused} also falls on each of the person's {ties} ties at "
            f"{a.penalty_share:.0%} of its points (ties who cut the person off, or who are "
            f"not scored, are spared): up to {ties} × {a.penalty_share:.0%} = "
            f"{ties * a.penalty_share:.3g} times its points, so penalties for a tie's act "
            "outnumber, and can take more points than, the penalties behind them.")


REGION_NUMBERS = ("citizens", "scored", "mean_score", "listed", "listed_share", "wronged",
                  "wronged_share", "firms", "firms_listed")


def end_regions(results) -> pd.DataFrame | None:
    """Each region at the end of the run (the regions table's last date), its counts as
    numbers. None when the run recorded no regions (an older store) or the table cannot be
    read as one."""
    regions = getattr(results, "regions", None)
    need = {"date", "region", "region_type", "citizens", "listed"}
    if regions is None or regions.empty or not need <= set(regions.columns):
        return None
    r = regions.assign(date=pd.to_datetime(regions["date"], errors="coerce"),
                       region=regions["region"].astype(str),
                       region_type=regions["region_type"].astype(str))
    for c in [c for c in regions.columns if c in REGION_NUMBERS or c.startswith("grade_")]:
        r[c] = pd.to_numeric(r[c], errors="coerce").astype(float)
    r = r[r["date"].notna() & np.isfinite(r["citizens"]) & (r["citizens"] > 0)
          & np.isfinite(r["listed"])]
    if r.empty:
        return None
    return r[r["date"] == r["date"].max()].reset_index(drop=True)


@dataclass
class Regions:
    """The regions at the end of a run ranked by share listed, highest first."""

    table: pd.DataFrame  # every region, with `members`, `on_list` and `share`
    who: str  # what the share is of: "citizens", or "firms" where only firms are listed
    top: pd.DataFrame  # the highest shares
    bottom: pd.DataFrame  # the lowest shares among regions with anyone listed
    nobody: list[str]  # regions with nobody listed, when not all are shown

    @property
    def anyone(self) -> bool:
        return bool((self.table["on_list"] > 0).any())


def regions_ranked(results, n: int = 3) -> Regions | None:
    """The regions to name at the end of a run, or None when it recorded none: ranked by the
    share of their citizens listed, or of their firms when no citizen is listed anywhere but
    firms are (a corporate system); the `n` highest, the `n` lowest among those with anyone
    listed and the names of those with nobody listed (with at most 2n regions: all of them
    on top)."""
    last = end_regions(results)
    if last is None:
        return None
    who = "citizens"
    members, on = last["citizens"], last["listed"]
    if not (on > 0).any() and {"firms", "firms_listed"} <= set(last.columns):
        firms = last["firms"].fillna(0)
        if (last["firms_listed"].fillna(0) > 0).any():
            who = "firms"
            last = last[firms > 0]
            members, on = last["firms"], last["firms_listed"].fillna(0)
    t = last.assign(members=members, on_list=on, share=on / members)
    t = t.sort_values(["share", "region"], ascending=[False, True], kind="stable")
    t = t.reset_index(drop=True)
    if len(t) <= 2 * n:
        return Regions(t, who, t, t.iloc[:0], [])
    some = t[t["on_list"] > 0]
    nobody = sorted(t.loc[t["on_list"] <= 0, "region"])
    return Regions(t, who, some.head(n), some.iloc[max(n, len(some) - n):], nobody)


def on_lists(lists: list[str]) -> str:
    """Where a listed person is, in the scenario's own words: "on the dog_confiscated list",
    "on the blacklist", "on any of its 5 lists"."""
    if len(lists) > 1:
        return f"on any of its {len(lists)} lists"
    if len(lists) == 1:
        name = str(lists[0])
        return f"on the {name}" if name.endswith("list") else f"on the {name} list"
    return "on a list"


def regions_chance_note(ranked: Regions | None, short: bool = False) -> str | None:
    """A warning that the ranking of regions is mostly chance where it rests on few listings:
    a share from n listed varies with the seed by about 1/sqrt(n) of itself."""
    if ranked is None or not ranked.anyone:
        return None
    few = int(ranked.table.loc[ranked.table["on_list"] > 0, "on_list"].min())
    if few >= 100:
        return None
    if short:
        return (f"few listed (as few as {few:,} in a region): a share from n listed varies "
                "with the seed by about 1/√n of itself, so much of this order is chance")
    return (f"Some regions rest on few listings (as few as {few:,}): a share from n people "
            "listed varies with the seed by about 1/√n of itself (±32% at 10, ±10% at 100), "
            "so much of this order is chance; a run with a larger --population, or compare "
            "over seeds, tells real differences from it.")


def story_citizen(results) -> tuple[int, str] | None:
    """A citizen whose story `socialcredit explain` tells well, and why: the one who lost
    most points to acts of others, else one listed wrongly, else one listed, else one in
    the ledger, else a tracked citizen."""
    pop = int(results.info["population"])
    led = results.ledger
    if len(led):
        wrong = led[led["wrongful"].astype(bool) & (led["points"] < 0) & (led["citizen"] < pop)]
        if len(wrong):
            lost = wrong.groupby("citizen")["points"].sum().sort_values(kind="stable")
            return int(lost.index[0]), "penalised for acts someone else committed"
    lst = results.listings
    if len(lst):
        people = lst[lst["citizen"] < pop]
        wrongly = people[people["wrongful"].astype(bool)]
        if len(wrongly):
            return int(wrongly["citizen"].iloc[0]), "listed for acts someone else committed"
        if len(people):
            return int(people["citizen"].iloc[0]), "listed"
    if len(led):
        people = led[led["citizen"] < pop]
        if len(people):
            return int(people["citizen"].value_counts().index[0]), "whose score moved"
    tracked = _a_tracked_citizen(results)
    return (tracked, "tracked in the ledger") if tracked is not None else None


def _a_tracked_citizen(results) -> int | None:
    if results.path is None:
        return None
    try:
        import duckdb

        from ..record import store

        files = [str(f) for f in store.citizen_files(results.path, results.agents)]
        con = duckdb.connect()
        try:
            row = con.execute("SELECT min(citizen) FROM read_parquet(?) WHERE tracked",
                              [files]).fetchone()
        finally:
            con.close()
    except (UserError, OSError, duckdb.Error):
        return None
    return int(row[0]) if row and row[0] is not None else None


def next_steps(results) -> list[tuple[str, str]]:
    """What to open or type after a run: (what it is, the path or command), for a run kept
    in a folder."""
    path = results.path
    if path is None:
        return []
    out = []
    report = path / "report.html"
    if report.is_file():
        out.append(("open the report in a browser", str(report.resolve())))
    q = shlex.quote(str(path))
    out.append(("print this summary again", f"socialcredit summary {q}"))
    who = story_citizen(results)
    if who is not None:
        out.append((f"tell one citizen's story (citizen {who[0]}: {who[1]})",
                    f"socialcredit explain {q} {who[0]}"))
    return out


def finite(v) -> bool:
    """A number a reader can be shown (not missing, not infinite)."""
    return (isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
            and math.isfinite(float(v)))


def count(v) -> int:
    """A stored count as a whole number; 0 for a missing or unreadable value."""
    return int(v) if finite(v) else 0


DISCLOSURE_COLUMNS = ("disclosed", "disclosed_cumulative", "disclosure_views",
                      "wrongfully_disclosed", "ties_cut_by_disclosure")
REPAIR_COLUMNS = ("repairs_applied", "repairs_granted", "repair_days_cleared")


@dataclass
class Mechanisms:
    """Which of disclosure, credit repair and attitudes a run's scenario has: the lists it
    publishes, the lists that can be left by repair, and its attitudes section (None when
    off). `known` is False when the scenario text is missing and the daily table was read
    instead."""

    published: list[str]
    repaired: list[str]
    attitudes: object | None
    known: bool = True

    @property
    def disclosure(self) -> bool:
        return bool(self.published)

    @property
    def repair(self) -> bool:
        return bool(self.repaired)


def mechanisms(results) -> Mechanisms:
    """Disclosure, credit repair and attitudes in this run: from its scenario, or, when the
    scenario text is missing, from the daily table (a mechanism that never acted then counts
    as absent; approval is recorded only when attitudes are on)."""
    s = scenario_of(results)
    if s is not None:
        published = [x.name for x in s.lists if x.disclosure is not None and x.disclosure.enabled]
        repaired = [x.name for x in s.lists
                    if x.exits.repair is not None and x.exits.repair.enabled]
        att = s.responses.attitudes
        return Mechanisms(published, repaired, att if att is not None and att.enabled else None)
    daily = results.daily
    acted = {c for c in (*DISCLOSURE_COLUMNS, *REPAIR_COLUMNS)
             if c in daily.columns and pd.to_numeric(daily[c], errors="coerce").fillna(0).any()}
    return Mechanisms(["a list"] if acted & set(DISCLOSURE_COLUMNS) else [],
                      ["a list"] if acted & set(REPAIR_COLUMNS) else [],
                      True if "approval" in daily.columns else None, known=False)


def no_disclosure(m: Mechanisms) -> str | None:
    """The sentence saying why nothing is disclosed or repaired, or None when either is."""
    if m.disclosure or m.repair:
        return None
    if not m.known:
        return "Nothing was made public or repaired in this run."
    return ("This scenario publishes none of its lists and none can be left by credit repair "
            "(it has no [lists.NAME.disclosure] or [lists.NAME.exits.repair] section), so "
            "nothing is disclosed or repaired.")


def no_attitudes(m: Mechanisms) -> str | None:
    """The sentence saying why there is no approval to show, or None when there is."""
    if m.attitudes is not None:
        return None
    return ("This scenario does not model what people think of the system (it has no "
            "[responses.attitudes] section), so there is no approval to show.")


def holders(att) -> str:
    """Who holds a view of the system, in words: "adults and elders"."""
    ages = list(getattr(att, "ages", None) or ["adult", "elder"])
    return _and([PLURAL.get(a, a) for a in ages])


def approval_note(att) -> str:
    """Where the approval figures come from: R11 for the starting share and the effect of
    being told the risks, when the scenario cites it; the rest assumed."""
    if att is None or att is True:  # scenario text missing: the source cannot be named
        return ("How events move approval is the scenario's assumption; its text is missing, "
                "so its sources cannot be named.")
    from ..sources import split_ids

    r11 = "R11" in split_ids(att.source)
    parts = []
    if r11 and "approval" not in att.assumed:
        parts.append(f"R11 gives the starting share, {att.approval:.0%} (about 80% approved in "
                     "a 2019 survey)")
    if r11 and "told_keeps" not in att.assumed and att.told_per_year:
        parts.append(f"the effect of being told the risks: an approver who is told keeps "
                     f"approving with chance {att.told_keeps:g} (approval of one aggregated "
                     "score fell from 53% to 29% once its risks were explained)")
    sourced = ", and ".join(parts)
    assumed = [f"{f.replace('_', ' ')} {getattr(att, f):g}" for f in att.assumed
               if isinstance(getattr(att, f, None), (int, float))]
    how = ("How penalties, listings, denials at gates and disclosure move approval, how often "
           "people are told the risks and how fast approval comes back are assumed"
           + (f" ({', '.join(assumed)})" if assumed else "") + ".")
    return (sourced[:1].upper() + sourced[1:] + ". " if sourced else "") + how
