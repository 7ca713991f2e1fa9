"""A citizen's story, from the ledger and the listing log of a finished run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import UserError
from ..record import store
from ..record.results import Results
from ..report.facts import scenario_of


def _citizen_row(folder: Path, citizen: int, rows: int) -> tuple[dict, list[int]]:
    """The citizen's final state and a few tracked citizens, read without loading the table."""
    path = folder / store.CITIZENS
    if not path.exists():  # a run with --no-citizens: the ledger still tells the story
        return {"tracked": True}, []
    parts = [str(f) for f in store.citizen_files(folder, rows)]
    con = duckdb.connect()
    try:
        df = con.execute("SELECT * FROM read_parquet(?) WHERE citizen = ?",
                         [parts, citizen]).df()
        tracked = con.execute("SELECT citizen FROM read_parquet(?) WHERE tracked "
                              "ORDER BY citizen LIMIT 8", [parts]).df()["citizen"]
    except duckdb.Error as e:  # a damaged data page (the footers were read above)
        raise UserError(f"cannot be read ({store.one_line(e)}){store.DAMAGED}",
                        str(path)) from None
    finally:
        con.close()
    me = ({k: None if _missing(v) else v for k, v in df.iloc[0].to_dict().items()}
          if len(df) else {})
    return me, [int(c) for c in tracked]


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def explain(folder: str | Path, citizen: int, console: Console | None = None) -> None:
    """Print every score change, listing and exit of one citizen, wrongful ones marked."""
    console = console or Console()
    folder = Path(folder)
    results: Results = store.read_results(folder)
    info = results.info
    n = int(info["population"])
    if not 0 <= citizen < n:
        raise UserError(f"citizen {citizen} does not exist; valid: 0 to {n - 1}", "CITIZEN")
    me, some_tracked = _citizen_row(folder, citizen, results.agents)
    ledger = results.ledger[results.ledger["citizen"] == citizen]
    listings = results.listings[results.listings["citizen"] == citizen]
    scenario = scenario_of(results)  # None when the run's scenario text no longer reads
    console.print(f"[bold]Citizen {citizen}[/bold] of {escape(str(info['title']))} "
                  f"({info['population']:,} citizens, seed {info['seed']})")
    if "region" in me:
        grade = me.get("grade")
        pointless = scenario is not None and scenario.points.min == scenario.points.max
        state = (f"region {me['region']}, {me['age_group']}, "
                 + ("no points (this scenario lists by judgment, not by score)" if pointless
                    else f"score {me['score']} ({grade})" if me["scored"] else "not scored"))
        if me["wrongful_points"]:
            state += f", {me['wrongful_points']} points lost to acts of others"
        if me.get("approves") is not None:
            state += (", approves of the system" if me["approves"]
                      else ", does not approve of the system")
        console.print("At the end: " + escape(state))
    starts = results.score_hist.loc[results.score_hist["when"] == "start", "score"]
    start = f"{int(starts.min())} points" if len(starts) else "the starting score"
    rule_source = _rule_sources(scenario)
    events: list[tuple] = []
    for _, r in ledger.iterrows():
        if r["act"] == "appeal_correction":
            what = "appeal upheld: points lost to others' acts restored"
        elif r["act"] == "points_restored":
            what = "complied: points back to the start"
        elif r["act"] in PSEUDO_EVENTS:
            what = PSEUDO_EVENTS[r["act"]]
        else:
            what = escape(r["act"].replace("_", " "))
        note = "[red]WRONGFUL: committed by someone else[/red]" if r["wrongful"] else ""
        rule = ("" if r["rule"] in ("appeal", "compliance")
                else escape(f"{r['rule']} ({rule_source.get(r['rule'], '')})"))
        events.append((r["day"], 0, str(r["date"].date()), what, escape(r["channel"]), rule,
                       f"{r['points']:+d}", str(r["score_after"]), escape(r["grade_after"]),
                       note))
    published = {x.name: x.disclosure for x in (scenario.lists if scenario else [])
                 if x.disclosure is not None and x.disclosure.enabled}
    for _, r in listings.iterrows():
        wrong = "[red]wrongful listing[/red]" if r["wrongful"] else ""
        events.append((r["listed_day"], 1, str(r["listed_on"].date()),
                       escape(f"put on {r['list']}"), "", "", "", "", "", wrong))
        disclosure = published.get(r["list"])
        days = disclosure.public_days(r["listed_on"].date()) if disclosure else 0
        if days:
            if r["exit"] == "in force":
                what = f"made public for up to {days} days while listed"
            else:
                what = f"made public for {min(days, r['days_listed'])} days"
            events.append((r["listed_day"], 1, str(r["listed_on"].date()),
                           escape(what + " (counted, not shown)"), "", "", "", "", "",
                           "[red]wrongfully disclosed[/red]" if r["wrongful"] else ""))
        if r["exit"] != "in force":
            ext = f" after {r['days_listed']} days"
            if r["extensions"]:
                ext += f", extended {r['extensions']}x"
            events.append((r["left_day"], 2, str(r["left_on"].date()),
                           escape(f"left {r['list']} ({r['exit']}){ext}"), "", "", "", "", "",
                           ""))
    if not events:
        if me.get("tracked"):
            console.print(f"No score changes or listings: still at {start}.")
        else:
            console.print(
                "No listings. This citizen is not in the tracked cohort, so score changes "
                "are not in the ledger; tracked citizens include "
                + ", ".join(str(c) for c in some_tracked) + ", ...")
        return
    if not me.get("tracked"):
        console.print("Not in the tracked cohort: listings only, score changes not recorded.")
    t = Table(title_justify="left")
    for col in ("date", "event", "channel", "rule (source)", "points", "score", "grade",
                "note"):
        t.add_column(col, justify="right" if col in ("points", "score") else "left")
    for e in sorted(events, key=lambda e: (e[0], e[1])):
        t.add_row(*e[2:])
    console.print(t)
    n_wrong = int(ledger["wrongful"].sum())
    if n_wrong:
        lost = -int(ledger.loc[ledger["wrongful"] & (ledger["points"] < 0), "points"].sum())
        console.print(f"{n_wrong} record(s) were another person's act; {lost} points lost "
                      "for them. The citizen was never told which.")


def _rule_sources(s) -> dict[str, str]:
    if s is None:
        return {}
    sources = {r.act: r.source for r in s.rules}
    for rule, section in (("association", s.association), ("informant_reward", s.informants),
                          ("points_bought", s.manipulation)):
        if section is not None:
            sources[rule] = section.source
    return sources


PSEUDO_EVENTS = {"association": "a tie was penalised: a share of it falls here",
                 "informant_reward": "reward for informing on a tie",
                 "points_bought": "points bought on the black market"}
