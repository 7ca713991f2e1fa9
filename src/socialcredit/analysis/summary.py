"""The short summary printed at the end of a run, and by `socialcredit summary DIR`."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..record.results import Results, scale_text
from ..report import facts


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _n(x: float) -> str:
    return f"{int(round(x)):,}"


def _table(title: str, columns: list[str], left: int = 1) -> Table:
    """A table whose title never wraps, the first `left` columns (names) left-aligned, the
    rest (numbers) right-aligned."""
    t = Table(title=title, title_justify="left", min_width=len(title))
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i < left else "right")
    return t


def print_summary(results: Results, console: Console | None = None) -> None:
    """Grade shares at start and end, listings, gates, wrongful penalties, who is hit,
    regions, costliest acts, and what to open next."""
    console = console or Console()
    info = results.info
    daily, hist = results.daily, results.score_hist
    grades = json.loads(info["grades"])
    gates = json.loads(info["gates"])
    scale = float(info["scale"])
    where = escape(f" -> {results.path}") if results.path else ""  # names are not markup
    console.print(f"[bold]{escape(str(info['title']))}[/bold]{where}")
    stands = f" (each stands for {scale_text(scale)} people)" if scale != 1 else ""
    start = str(info["start_date"])[:10]
    firms = int(info.get("firms", 0) or 0)
    with_firms = f" and {firms:,} firms" if firms else ""
    console.print(f"{info['population']:,} citizens{with_firms}{stands}, {info['days']} days "
                  f"from {start}, seed {info['seed']}, {info['wall_seconds']:.2f} s")
    changes = str(info.get("source") or "").split(" --set ")[1:]
    if changes:  # a changed scenario must not pass for the built-in one
        console.print(escape(f"changed with --set: {', '.join(changes)}"))
    if daily.empty:
        console.print("no days were run")
        _next_steps(results, console)
        return
    last = daily.iloc[-1]
    unscored = facts.no_points(results)
    if unscored:
        console.print(escape(unscored))
    else:
        start_total = hist.loc[hist["when"] == "start", "count"].sum()
        t = _table("Grades (share of scored citizens)", ["grade", "start", "end"])
        start_rows = hist[hist["when"] == "start"]
        for g in grades:
            # start shares come from the start histogram, end shares from the last day
            start_count = _count_in_grade(start_rows, results, g)
            t.add_row(escape(g), _pct(start_count / max(start_total, 1)),
                      _pct(last[f"grade_{g}"] / max(last["scored"], 1)))
        console.print(t)
    mean = "" if unscored else f"mean score {last['mean_score']:.1f}; "
    console.print(
        f"{mean}listed now {_n(last['listed'])}, ever {_n(last['listed_cumulative'])} "
        f"({_pct(last['listed_cumulative'] / max(info['population'] + firms, 1))} of "
        f"{'citizens and firms' if firms else 'citizens'})")
    wp = int(daily["wrongful_penalties"].sum())
    pen = int(daily["penalties"].sum())
    penalties = ("" if unscored else f"penalties {pen:,}, of which hit the wrong person {wp:,} "
                 f"({_pct(wp / max(pen, 1))}); ")
    console.print(
        f"{penalties}wrongful listings {int(daily['wrongful_listings'].sum()):,}, upheld "
        f"appeals {int(daily['appeals_upheld'].sum()):,}")
    for line in harm_lines(daily):
        console.print(line)
    for line in mechanism_lines(results):
        console.print(escape(line))
    assoc = facts.association_note(results, short=True)
    if assoc:
        console.print(escape(assoc))
    if gates:
        t = _table("Gates (attempts are purchases or requests)",
                   ["gate", "attempts", "denied", "share denied", "perks"])
        for g in gates:
            a, d, p = (int(daily[f"{g}_{k}"].sum()) for k in ("attempts", "denied", "perks"))
            t.add_row(escape(g), f"{a:,}", f"{d:,}", _pct(d / max(a, 1)), f"{p:,}")
        console.print(t)
    _who_is_hit(results, console)
    _regions(results, console)
    acts = results.acts.sort_values("points").head(5)
    acts = acts[acts["points"] < 0]
    if len(acts):
        t = _table("Acts that cost most points",
                   ["act", "committed", "penalised", "points", "wrongful"])
        for _, r in acts.iterrows():
            t.add_row(escape(r["act"]), f"{r['committed']:,}", f"{r['scored']:,}",
                      f"{r['points']:,}", f"{r['wrongful_penalties']:,}")
        console.print(t)
    for note in facts.act_notes(results).values():
        console.print(escape(note))
    if scale != 1:
        console.print(f"counts are of simulated citizens; multiply by {scale_text(scale)} for "
                      "people")
    _next_steps(results, console)


def _who_is_hit(results: Results, console: Console) -> None:
    """The who-is-hit table, each column naming what its share is of, firms as rows."""
    cols, rows = facts.who_is_hit(results)
    if not rows:
        return
    t = _table("Who is hit, by region type and age group (end of run)",
               [c.header.replace(" (", "\n(") for c in cols])
    for r in rows:
        t.add_row(*(_cell(r[c.key], c.kind) for c in cols))
    console.print(t)
    left_out = facts.groups_left_out(results)
    if left_out:
        console.print(escape(left_out[:1].lower() + left_out[1:]))
    note = facts.assumed_channels_note(results, short=True)
    if note:
        console.print(escape(note))


def _cell(v, kind: str) -> str:
    if kind == "text":
        return escape(str(v))
    if not facts.finite(v):
        return "–"
    return {"count": f"{int(v):,}", "score": f"{v:.1f}", "share": _pct(v)}[kind]


def _regions(results: Results, console: Console) -> None:
    """The regions with the highest and lowest share listed, when there are several."""
    ranked = facts.regions_ranked(results)
    if ranked is None or len(ranked.table) < 2:
        return
    if not ranked.anyone:
        on = facts.on_lists(json.loads(results.info.get("lists") or "[]"))
        console.print(f"nobody {on} at the end of the run, in any of "
                      f"{len(ranked.table)} regions")
        return
    whose = "" if ranked.who == "citizens" else " whose firms are"
    title = (f"Regions{whose} by share listed (end of run)" if ranked.bottom.empty
             and not ranked.nobody else
             f"Regions{whose} listed most and least, of {len(ranked.table)} (end of run)")
    t = _table(title, ["region", "type", ranked.who, "listed", "share listed"], left=2)
    for part, rows in (("", ranked.top), ("…", ranked.bottom)):
        if part and len(rows):
            t.add_row("…", "", "", "", "")
        for _, r in rows.iterrows():
            t.add_row(escape(r["region"]), escape(r["region_type"]), _n(r["members"]),
                      _n(r["on_list"]), _pct(r["share"]))
    console.print(t)
    chance = facts.regions_chance_note(ranked, short=True)
    if chance:
        console.print(escape(chance))
    none = ranked.nobody
    if none:
        names = ", ".join(none[:8]) + (f" and {len(none) - 8} more" if len(none) > 8 else "")
        console.print(escape(f"nobody listed at the end in {len(none)} region"
                             f"{'s' if len(none) > 1 else ''}: {names}"))


def _next_steps(results: Results, console: Console) -> None:
    """Where the report is and the commands to type next, ready to copy."""
    steps = facts.next_steps(results)
    if not steps:
        return
    console.print("[bold]Next[/bold]")
    for what, line in steps:
        console.print(f"  {escape(what)}:", soft_wrap=True)
        console.print(f"    {escape(line)}", soft_wrap=True, highlight=False)


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


def mechanism_lines(results: Results) -> list[str]:
    """A line each for disclosure, credit repair and approval, where the scenario has them:
    what was made public and what followed, repairs applied for and granted, and approval on
    the first and last day."""
    daily = results.daily
    if daily.empty:
        return []
    m = facts.mechanisms(results)

    def total(name: str) -> int:
        return int(daily[name].sum()) if name in daily.columns else 0

    def last(name: str) -> int:
        return int(daily[name].iloc[-1]) if name in daily.columns else 0

    out = []
    if m.disclosure:
        shown, wrong = last("disclosed"), last("wrongfully_disclosed")
        out.append(f"disclosure: {last('disclosed_cumulative'):,} listings made public, "
                   f"{total('disclosure_views'):,} person-views; on the last day {shown:,} "
                   f"public, {wrong:,} of them wrongfully"
                   + (f" ({_pct(wrong / shown)})" if shown else "") + "; "
                   f"{total('ties_cut_by_disclosure'):,} ties cut by disclosure")
    if m.repair:
        applied, granted = total("repairs_applied"), total("repairs_granted")
        mean = (f", {total('repair_days_cleared') / granted:.1f} days on average from listing "
                "to repair" if granted else "")
        share = f" ({_pct(granted / applied)})" if applied else ""
        out.append(f"repair: {applied:,} applied for, {granted:,} granted{share}{mean}")
    if m.attitudes is not None and "approval" in daily.columns:
        share = daily["approval"].dropna()
        if len(share):
            out.append(f"approval ({facts.holders(m.attitudes)}): {_pct(share.iloc[0])} on "
                       f"the first day -> {_pct(share.iloc[-1])} on the last; "
                       f"{total('approval_lost'):,} turned against the system, "
                       f"{total('approval_regained'):,} came back (response assumed)")
    return out


def _count_in_grade(rows, results: Results, grade: str) -> int:
    band = results.grades[results.grades["grade"] == grade].iloc[0]
    sel = (rows["score"] >= band["min"]) & (rows["score"] <= band["max"])
    return int(rows.loc[sel, "count"].sum())
