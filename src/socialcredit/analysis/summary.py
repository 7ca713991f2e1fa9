"""The short summary printed at the end of a run, and by `socialcredit summary DIR`."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..record.results import Results


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _n(x: float) -> str:
    return f"{int(round(x)):,}"


def print_summary(results: Results, console: Console | None = None) -> None:
    """Grade shares at start and end, listings, gates, wrongful penalties, costliest acts."""
    console = console or Console()
    info = results.info
    daily, hist = results.daily, results.score_hist
    grades = json.loads(info["grades"])
    gates = json.loads(info["gates"])
    scale = float(info["scale"])
    where = escape(f" -> {results.path}") if results.path else ""  # names are not markup
    console.print(f"[bold]{escape(str(info['title']))}[/bold]{where}")
    stands = f" (each stands for {scale:g} people)" if scale != 1 else ""
    start = str(info["start_date"])[:10]
    firms = int(info.get("firms", 0) or 0)
    with_firms = f" and {firms:,} firms" if firms else ""
    console.print(f"{info['population']:,} citizens{with_firms}{stands}, {info['days']} days "
                  f"from {start}, seed {info['seed']}, {info['wall_seconds']:.2f} s")
    if daily.empty:
        console.print("no days were run")
        return
    last = daily.iloc[-1]
    start_total = hist.loc[hist["when"] == "start", "count"].sum()
    t = Table(title="Grades (share of scored citizens)", title_justify="left")
    t.add_column("grade")
    t.add_column("start", justify="right")
    t.add_column("end", justify="right")
    start_rows = hist[hist["when"] == "start"]
    for g in grades:
        # start shares come from the start histogram, end shares from the last day
        start_count = _count_in_grade(start_rows, results, g)
        t.add_row(escape(g), _pct(start_count / max(start_total, 1)),
                  _pct(last[f"grade_{g}"] / max(last["scored"], 1)))
    console.print(t)
    console.print(
        f"mean score {last['mean_score']:.1f}; listed now {_n(last['listed'])}, "
        f"ever {_n(last['listed_cumulative'])} "
        f"({_pct(last['listed_cumulative'] / max(info['population'] + firms, 1))} of "
        f"{'citizens and firms' if firms else 'citizens'})")
    wp = int(daily["wrongful_penalties"].sum())
    pen = int(daily["penalties"].sum())
    console.print(
        f"penalties {pen:,}, of which hit the wrong person {wp:,} "
        f"({_pct(wp / max(pen, 1))}); wrongful listings {int(daily['wrongful_listings'].sum()):,}"
        f", upheld appeals {int(daily['appeals_upheld'].sum()):,}")
    for line in harm_lines(daily):
        console.print(line)
    if gates:
        t = Table(title="Gates (attempts are purchases or requests)", title_justify="left")
        for col in ("gate", "attempts", "denied", "share denied", "perks"):
            t.add_column(col, justify="left" if col == "gate" else "right")
        for g in gates:
            a, d, p = (int(daily[f"{g}_{k}"].sum()) for k in ("attempts", "denied", "perks"))
            t.add_row(escape(g), f"{a:,}", f"{d:,}", _pct(d / max(a, 1)), f"{p:,}")
        console.print(t)
    groups = results.groups
    if len(groups):
        t = Table(title="Who is hit, by region type and age group (end of run)",
                  title_justify="left")
        low = grades[-2:] if len(grades) > 2 else grades[-1:]
        for col in ("group", "citizens", "mean score", f"in {'/'.join(low)}", "listed",
                    "wronged"):
            t.add_column(col, justify="left" if col == "group" else "right")
        for _, g in groups[groups["scored"] > 0].iterrows():
            lowc = sum(int(g[f"grade_{x}"]) for x in low)
            t.add_row(escape(f"{g['region_type']} {g['age_group']}"), f"{int(g['citizens']):,}",
                      f"{g['mean_score']:.1f}", _pct(lowc / max(g["scored"], 1)),
                      _pct(g["listed_share"]), _pct(g["wronged_share"]))
        console.print(t)
    acts = results.acts.sort_values("points").head(5)
    acts = acts[acts["points"] < 0]
    if len(acts):
        t = Table(title="Acts that cost most points", title_justify="left")
        for col in ("act", "committed", "recorded", "points", "wrongful"):
            t.add_column(col, justify="left" if col == "act" else "right")
        for _, r in acts.iterrows():
            t.add_row(escape(r["act"]), f"{r['committed']:,}", f"{r['scored']:,}",
                      f"{r['points']:,}", f"{r['wrongful_penalties']:,}")
        console.print(t)
    if scale != 1:
        console.print(f"counts are of simulated citizens; multiply by {scale:g} for people")


def harm_lines(daily) -> list[str]:
    """The harm audit in a line or two: only the figures that are not zero (and that the daily
    table records; older stores lack some)."""
    def total(name: str) -> int:
        return int(daily[name].sum()) if name in daily.columns else 0

    who = []
    if total("association_penalties"):
        who.append(f"association penalties {total('association_penalties'):,} "
                   f"({total('association_points'):,} points)")
    if total("children_denied"):
        who.append(f"children denied {total('children_denied'):,}")
    if total("representatives_listed"):
        who.append(f"representatives listed {total('representatives_listed'):,}")
    upheld = total("appeals_upheld")
    if upheld and total("wrongful_days_cleared"):
        who.append(f"{total('wrongful_days_cleared') / upheld:.1f} days on average to clear a "
                   "wrongful listing")
    how = []
    if total("informant_reports") or total("false_reports"):
        how.append(f"informant reports {total('informant_reports'):,} "
                   f"({total('false_reports'):,} false)")
    if total("sabotage_reports"):
        how.append(f"sabotage reports {total('sabotage_reports'):,}")
    if total("points_bought"):
        how.append(f"points bought {total('points_bought'):,}")
    return [f"harm: {'; '.join(items)}" for items in (who, how) if items]


def _count_in_grade(rows, results: Results, grade: str) -> int:
    band = results.grades[results.grades["grade"] == grade].iloc[0]
    sel = (rows["score"] >= band["min"]) & (rows["score"] <= band["max"])
    return int(rows.loc[sel, "count"].sum())
