"""The report of a run: one self-contained HTML file (inline CSS and SVG) that opens offline."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import uuid
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from . import facts, plots
from .plots import col

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 color:#222;max-width:980px;margin:0 auto;padding:1.5em 1em 4em}
h1{font-size:1.6em;margin:.2em 0 .3em}h2{font-size:1.2em;margin:1.8em 0 .4em;
 border-bottom:1px solid #ddd;padding-bottom:.2em}
p.note{color:#555;margin:.3em 0 .6em}.empty{color:#777;font-style:italic}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
th,td{padding:.2em .7em;border-bottom:1px solid #eee;text-align:left}
td:first-child{white-space:nowrap}
th{background:#f6f6f6}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;border-top:1px solid #bbb}
table.meta th{background:none;font-weight:600;color:#555}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:.8em;
 margin:.6em 0}
.fig{border:1px solid #e3e3e3;border-radius:6px;padding:.6em .8em;background:#fafafa}
.fig .v{font-size:1.7em;font-weight:600}.fig .k{color:#444}.fig .s{color:#777;font-size:12px}
svg{max-width:100%;height:auto}
"""

NO_DAYS = "No days were simulated, so there is nothing to plot."
SECTIONS = ("Key figures", "Grades over time", "Scores at start and end", "List size",
            "Denials by gate", "Wrongful penalties", "Who is hit", "Regions", "Harm audit",
            "Disclosure and repair", "Approval", "Acts", "Sources and assumptions",
            "Time per stage")


def write_report(results, path: Path) -> Path:
    """Write the HTML report of `results` to `path`, atomically, so a reader never sees half."""
    return write_page(render(results), path)


def standalone(title: str, body: str) -> str:
    """A whole page around `body` (already HTML) with the reports' style; `title` is text."""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>"
            f"{escape(title)}</title><style>{CSS}</style></head><body><main>{body}</main>"
            "</body></html>")


def facts_table(rows: Iterable[tuple[str, object]]) -> str:
    """What ran, as a two-column table of label and value (both shown as text)."""
    return ("<table>" + "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                                for k, v in rows) + "</table>")


def write_page(page: str, path: Path) -> Path:
    """Write `page` to `path`, atomically, so a reader never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def render(results) -> str:
    """The report of `results` as an HTML string."""
    info = results.run.iloc[0].to_dict() if len(results.run) else {}
    daily = results.daily
    grades = facts.best_first(results, _names(info, "grades", [c[6:] for c in daily.columns
                                                               if c.startswith("grade_")]))
    gates = _names(info, "gates", [c[:-9] for c in daily.columns if c.endswith("_attempts")])
    lists = _names(info, "lists", [])
    totals = gate_totals(daily, gates)
    title = str(info.get("title") or info.get("scenario") or "Social credit run")
    unscored = facts.no_points(results)
    mech = facts.mechanisms(results)
    over_time = getattr(results, "groups_over_time", None)
    body = [
        _header(info, title),
        _key_figures(daily, totals, info, points=unscored is None),
        _calibration_section(results, info),
        _section("Grades over time",
                 "Share of scored citizens in each grade, day by day; the best grade on top.",
                 None if unscored else plots.grade_shares(daily, grades),
                 empty=unscored or NO_DAYS),
        _section("Scores at start and end",
                 "How scored citizens spread over the points scale on the first and last day.",
                 None if unscored else plots.score_distribution(results.score_hist),
                 empty=unscored or "The run recorded no scores."),
        _list_section(daily, lists, results.listings),
        _gates_section(totals, len(daily) > 0),
        _wrongful_section(daily, points=unscored is None),
        _groups_section(results, unscored),
        _regions_section(results),
        _harm_section(daily, info, over_time, grades, results, points=unscored is None,
                      mech=mech),
        _disclosure_section(daily, info, mech, results),
        _approval_section(daily, info, over_time, mech),
        _acts_section(results.acts, facts.act_notes(results), points=unscored is None),
        _sources_section(results),
        _stages_section(info),
    ]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head><body>",
        *body,
        "</body></html>",
        "",
    ])


def gate_totals(daily: pd.DataFrame, gates: Sequence[str]) -> pd.DataFrame:
    """Attempts, denials and perks per gate summed over the run, with the share denied."""
    rows = []
    for g in gates:
        a, d, p = (int(col(daily, f"{g}_{k}").sum()) for k in ("attempts", "denied", "perks"))
        rows.append({"gate": g, "attempts": a, "denied": d, "perks": p,
                     "share_denied": d / a if a else np.nan})
    return pd.DataFrame(rows, columns=["gate", "attempts", "denied", "perks", "share_denied"])


def _names(info: dict, key: str, fallback: list[str]) -> list[str]:
    """The JSON list `key` of the run row (grade, list or gate names), or `fallback`."""
    raw = info.get(key)
    if isinstance(raw, str):
        try:
            names = json.loads(raw)
        except ValueError:
            names = None
        if isinstance(names, list):
            return [str(n) for n in names]
    return fallback


def _num(v, digits: int = 3) -> str:
    """A number for people: thousands separators, a few significant digits, '–' for missing."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and v.is_integer()
                                             and abs(v) < 1e15):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        if abs(v) >= 10 ** digits:
            return f"{float(v):,.0f}"
        v = float(f"{float(v):.{digits}g}")  # `digits` significant digits, never 1e+03
        if abs(v) >= 10 ** (digits - 1) or v == 0:
            return f"{v:,.0f}"
        return f"{v:,.{digits - 1 - math.floor(math.log10(abs(v)))}f}".rstrip("0").rstrip(".")
    return str(v)


def approx(n: float) -> str:
    """A count at real scale, to the three digits a scaled count can claim: 14,100,
    3.13 million, 1.41 billion."""
    n = float(f"{float(n):.3g}")
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if abs(n) >= size:
            return f"{n / size:.3g} {word}"
    return f"{round(n):,}"



ONE = {"penalties": "penalty", "listings": "listing", "appeals filed": "appeal filed",
       "upheld appeals": "upheld appeal", "informant reports": "informant report",
       "gate attempts": "gate attempt", "repairs granted": "repair granted"}


def _count(n: int, words: str) -> str:
    """'3 listings', '1 listing'."""
    return f"{_num(n)} {ONE.get(words, words) if n == 1 else words}"


def _pct(part: float, whole: float) -> str:
    """`part` as a percentage of `whole`, or '–' when `whole` is zero."""
    if not whole:
        return "–"
    share = 100 * part / whole
    if share == 0:
        return "0%"
    return f"{share:.2g}%" if 0 < share < 1 else f"{share:.1f}%"


def _table(header: Sequence[str], rows: Iterable[Sequence], numeric: Sequence[bool],
           total: Sequence | None = None, cls: str = "") -> str:
    """An HTML table; every cell escaped, numeric columns right-aligned."""
    def cells(row, tag):
        return "".join(f'<{tag}{" class=n" if n else ""}>{escape(str(v))}</{tag}>'
                       for v, n in zip(row, numeric, strict=True))
    out = [f'<table{f" class={cls}" if cls else ""}><thead><tr>{cells(header, "th")}</tr>'
           "</thead><tbody>"]
    out += [f"<tr>{cells(r, 'td')}</tr>" for r in rows]
    if total is not None:
        out.append(f'<tr class="total">{cells(total, "td")}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _section(heading: str, note: str, svg: str | None, *extra: str,
             empty: str = NO_DAYS) -> str:
    """A report section: heading, one line on what it shows, the plot (or why none), extras."""
    figure = svg if svg else f'<p class="empty">{escape(empty)}</p>'
    return "\n".join([f"<section><h2>{escape(heading)}</h2>",
                      f'<p class="note">{escape(note)}</p>', figure, *extra, "</section>"])


def _date(v) -> str:
    """A date from the run row as YYYY-MM-DD, whatever type the store gave back."""
    if isinstance(v, (dt.date, pd.Timestamp)):
        return v.strftime("%Y-%m-%d")
    return "" if v is None else str(v)


def _header(info: dict, title: str) -> str:
    """Title and the facts that identify the run: scenario, size, time span, seed, version."""
    pop = info.get("population")
    scale = info.get("scale")
    people, per = "", "real people"
    if isinstance(pop, (int, np.integer, float)) and isinstance(scale, (int, np.integer, float)):
        if scale != 1:
            people = f" (≈ {approx(pop * scale)} real people at {_num(scale)} per citizen)"
        else:
            per = "real person"
    start, end = _date(info.get("start_date")), _date(info.get("end_date"))
    meta = [
        ("scenario", _scenario_line(info)),
        ("population", f"{_num(pop)} simulated citizens{people}"),
        ("days", f"{_num(info.get('days'))}" + (f", {start} to {end}" if start else "")),
        ("seed", _num(info.get("seed"))),
        ("scale", f"{_num(scale)} {per} per simulated citizen"),
        ("version", f"socialcredit {info.get('version', '?')}"),
    ]
    if info.get("created"):
        meta.append(("created", str(info["created"])))
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in meta)
    return (f"<header><h1>{escape(title)}</h1>"
            f'<table class="meta"><tbody>{rows}</tbody></table></header>')


def _scenario_line(info: dict) -> str:
    """The scenario's name, and where it came from when that says more than the name: a
    file, or the --set changes made to it."""
    name, source = str(info.get("scenario", "")), str(info.get("source", "") or "")
    if not source or source == name:
        return name
    base, *changes = source.split(" --set ")
    where = "" if base == name else f" (from {base})"
    return name + where + (f", changed with --set {', '.join(changes)}" if changes else "")


def _last(daily: pd.DataFrame, name: str) -> int:
    """The last day's value of a running count such as `listed`, or 0 for an empty run."""
    return int(col(daily, name).iloc[-1]) if len(daily) else 0


def _key_figures(daily: pd.DataFrame, totals: pd.DataFrame, info: dict,
                 points: bool = True) -> str:
    """The handful of numbers a reader wants first: who is listed, how many wrongly, denials."""
    scale = info.get("scale")
    scale = float(scale) if isinstance(scale, (int, np.integer, float)) and scale else None

    firms = info.get("firms")
    who = "real people and firms" if isinstance(firms, (int, np.integer)) and firms else \
        "real people"

    def real(n: float) -> str:  # at scale 1 the count is the real count: nothing to add
        return f"≈ {approx(n * scale)} {who}" if scale and scale != 1 else ""

    penalties = col(daily, "penalties").sum()
    wp = col(daily, "wrongful_penalties").sum()
    new = col(daily, "listed_new").sum()
    wl = col(daily, "wrongful_listings").sum()
    attempts, denied = totals["attempts"].sum(), totals["denied"].sum()
    ever = _last(daily, "listed_cumulative")
    # listings outnumber those ever listed when someone is listed twice: say so where both show
    again = (f"in {_num(int(new))} listings (some listed more than once)"
             if new > ever else "")
    figs = [
        ("listed now", _num(_last(daily, "listed")), real(_last(daily, "listed"))),
        ("ever listed", _num(ever), "; ".join(x for x in (real(ever), again) if x)),
        ("wrongful penalties", _num(int(wp)),
         f"{_pct(wp, penalties)} of {_count(int(penalties), 'penalties')}"),
        ("wrongful listings", _num(int(wl)), f"{_pct(wl, new)} of {_count(int(new), 'listings')}"),
    ]
    if len(totals):  # a scenario without gates has no denials to show
        figs.append(("share of denials", _pct(denied, attempts),
                     f"{_num(int(denied))} of {_count(int(attempts), 'gate attempts')}"))
    if not points:  # nobody holds points: no penalty takes any
        figs = [f for f in figs if f[0] != "wrongful penalties"]
    note = (f"Counts are of simulated {'citizens and firms' if 'firms' in who else 'citizens'}: "
            "listed now on the last day, the rest over the whole run"
            + ("; beneath the listed counts, the same at real scale (times the run's scale)."
               if scale and scale != 1 else "."))
    cards = "".join(f'<div class="fig"><div class="v">{escape(v)}</div>'
                    f'<div class="k">{escape(k)}</div><div class="s">{escape(s)}</div></div>'
                    for k, v, s in figs)
    return (f"<section><h2>Key figures</h2>"
            f'<p class="note">{escape(note)}</p>'
            f'<div class="figs">{cards}</div></section>')


def _exits_table(listings: pd.DataFrame) -> str:
    """How listings ended (expired, complied, appeal, still in force) and how long they lasted."""
    if listings.empty or "exit" not in listings.columns:
        return '<p class="empty">Nobody was listed.</p>'
    days = col(listings, "days_listed")
    wrong = listings["wrongful"].astype(bool) if "wrongful" in listings.columns else None
    rows = []
    for exit_, idx in listings.groupby("exit", sort=True).groups.items():
        rows.append([exit_, _num(len(idx)), _num(float(days[idx].mean()), 3),
                     _num(int(wrong[idx].sum())) if wrong is not None else "–"])
    total = ["all", _num(len(listings)), _num(float(days.mean()), 3),
             _num(int(wrong.sum())) if wrong is not None else "–"]
    return _table(["listing ended by", "listings", "mean days listed", "wrongful"], rows,
                  [False, True, True, True], total)


def _gates_section(totals: pd.DataFrame, any_days: bool) -> str:
    """Denials and perks per gate as bars, with the attempts behind them in a table; a kind
    that never happened is named in a sentence instead of drawn."""
    note = ("Times each gate (a service checked against grade and lists) refused someone or "
            "granted a perk, summed over the run.")
    if totals.empty:
        return _section("Denials by gate", note, None, empty="This scenario has no gates.")
    kinds = [k for k in ("denied", "perks") if totals[k].sum()]
    svg = plots.gate_denials(totals, kinds) if kinds else None
    none = {"denied": "No gate turned anyone away during the run.",
            "perks": "No gate granted a perk during the run."}
    said = " ".join(none[k] for k in ("denied", "perks") if k not in kinds)
    if not any_days:
        empty = NO_DAYS
    elif not totals["attempts"].sum():
        empty = "Nobody came to a gate during the run."
    else:
        empty = said
    rows = [[r.gate, _num(r.attempts), _num(r.denied), _pct(r.denied, r.attempts), _num(r.perks)]
            for r in totals.itertuples()]
    total = ["all", _num(int(totals["attempts"].sum())), _num(int(totals["denied"].sum())),
             _pct(totals["denied"].sum(), totals["attempts"].sum()),
             _num(int(totals["perks"].sum()))]
    table = _table(["gate", "attempts", "denied", "share denied", "perks"], rows,
                   [False, True, True, True, True], total)
    extra = f'<p class="note">{escape(said)}</p>' if svg and said else ""
    return _section("Denials by gate", note, svg, extra, table, empty=empty)


def zero_sentence(labels: list[str], drawn: bool = True) -> str:
    """The sentence for counts left out of a chart (or a table) because they stayed 0 all
    run."""
    if not labels:
        return ""
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    tail = f", so {'it is' if len(labels) == 1 else 'they are'} not drawn" if drawn else ""
    return f"{names[:1].upper() + names[1:]} stayed 0 for the whole run{tail}."


def _stayed_zero(labels: list[str]) -> str:
    return f'<p class="note">{escape(zero_sentence(labels))}</p>' if labels else ""


def _list_section(daily: pd.DataFrame, lists: list[str], listings: pd.DataFrame) -> str:
    """List size: each distinct series once; a count that stayed 0 named, not drawn."""
    note = (f"Citizens {facts.on_lists(lists)} each day, and everyone listed at least once so far.")
    series = [("listed", "listed now"), ("listed_cumulative", "ever listed")]
    series += [(f"{name}_listed", f"on {name}") for name in lists]
    kept, zero = plots.distinct(daily, series)
    exits = _exits_table(listings)
    if len(daily) and not kept:
        return _section("List size", note, None, exits,
                        empty="Nobody was listed during the run.")
    return _section("List size", note, plots.list_size(daily, kept), _stayed_zero(zero), exits)


def _wrongful_section(daily: pd.DataFrame, points: bool = True) -> str:
    """Running totals of wrongful penalties and listings, a panel for each that happened."""
    note = ("Running totals of penalties that hit someone who did not commit the act, "
            "and of listings that followed from them.")
    series = ([("wrongful_penalties", "wrongful penalties")] if points else []) + \
        [("wrongful_listings", "wrongful listings")]
    kept, zero = plots.distinct(daily, series, merge=False)
    if len(daily) and not kept:
        return _section("Wrongful penalties", note, None, empty=zero_sentence(zero))
    return _section("Wrongful penalties", note, plots.wrongful(daily, kept), _stayed_zero(zero))


def _groups_section(results, unscored: str | None) -> str:
    """Who is hit: the end state by region type and age group, firms as rows of their own,
    each share's denominator in its header."""
    head = ('<section><h2>Who is hit</h2><p class="note">At the end of the run, by region type '
            "and age group, with firms as groups of their own. Each column says what its share "
            "is of: "
            + ("grades are shares of the scored members of a group, listed and wronged (lost "
               "points for acts they did not commit) of everyone in it." if not unscored else
               "listed is a share of everyone in the group.") + "</p>")
    cols, rows = facts.who_is_hit(results)
    if not rows:
        return head + '<p class="empty">No group figures were recorded.</p></section>'

    def cell(v, kind: str) -> str:
        if kind == "text":
            return str(v)
        if not facts.finite(v):
            return "–"
        return {"count": _num(int(v)), "score": f"{v:.1f}", "share": _pct(v, 1)}[kind]

    table = _table([c.header for c in cols], [[cell(r[c.key], c.kind) for c in cols]
                                               for r in rows],
                   [c.kind != "text" for c in cols])
    notes = [unscored] if unscored else []
    left_out = facts.groups_left_out(results)
    if left_out:
        notes.append(left_out)
    channels = facts.assumed_channels_note(results)
    if channels:
        notes.append(channels if "Sources and assumptions" in channels
                     else channels + " (All assumed values: Sources and assumptions.)")
    return (head + table + "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
            + "</section>")


def _regions_section(results) -> str:
    """Each region's share listed at the end of the run, sorted, and the extremes in a table;
    regions with nobody listed are named, not drawn."""
    ranked = facts.regions_ranked(results)
    who = ranked.who if ranked is not None else "citizens"
    info = results.run.iloc[0].to_dict() if len(results.run) else {}
    on = facts.on_lists(_names(info, "lists", []))
    head = ('<section><h2>Regions</h2><p class="note">Share of each region\'s '
            f"{who} {on} at the end of the run, highest first (bars: urban solid, "
            "rural hatched). The regions table of results.duckdb holds every region at every "
            "snapshot.</p>")
    if ranked is None:
        return head + '<p class="empty">This run recorded no per-region figures.</p></section>'
    last = ranked.table
    if len(last) < 2:
        return head + ('<p class="empty">This scenario has one region, so there is nothing to '
                       "compare; see Who is hit for its groups.</p></section>")
    if not ranked.anyone:
        return head + (f'<p class="empty">Nobody was {on} at the end of the run, in '
                       "any region.</p></section>")
    svg = plots.region_listed(last[last["on_list"] > 0], who, on)
    nobody = sorted(last.loc[last["on_list"] <= 0, "region"])
    points = facts.no_points(results) is None and who == "citizens"
    firms = who == "citizens" and "firms" in last.columns and bool(
        (last["firms"].fillna(0) > 0).any())
    header = ["region", "type", who, "listed", "share listed",
              *(["mean score (of scored)", "wronged (of all in region)"] if points else []),
              *(["firms listed"] if firms else [])]

    def row(r: dict) -> list[str]:
        out = [r["region"], r["region_type"], _num(int(r["members"])), _num(int(r["on_list"])),
               _pct(r["on_list"], r["members"])]
        if points:
            scored = facts.count(r.get("scored"))
            out += [_num(r.get("mean_score"), 4) if scored else "–",
                    _pct(facts.count(r.get("wronged")), r["citizens"]) if scored else "–"]
        if firms:
            out.append(f"{_num(facts.count(r.get('firms_listed')))} of "
                       f"{_num(facts.count(r.get('firms')))}")
        return out

    rows = [row(r) for r in ranked.top.to_dict("records")]
    if len(ranked.bottom):
        rows += [["…"] + [""] * (len(header) - 1)]
        rows += [row(r) for r in ranked.bottom.to_dict("records")]
    which = (f"The {len(ranked.top)} regions with the highest share listed and the "
             f"{len(ranked.bottom)} with the lowest (among those with anyone listed):"
             if len(ranked.bottom) else "Every region:" if len(ranked.top) == len(last)
             else "The regions with anyone listed:")
    table = _table(header, rows, [False, False] + [True] * (len(header) - 2))
    parts = [head, svg or ""]
    if nobody:
        parts.append(f'<p class="note">Nobody was listed at the end of the run in '
                     f"{len(nobody)} region{'s' if len(nobody) > 1 else ''}, not drawn: "
                     f"{escape(', '.join(nobody))}.</p>")
    chance = facts.regions_chance_note(ranked)
    if chance:
        parts.append(f'<p class="note">{escape(chance)}</p>')
    parts += [f'<p class="note">{escape(which)}</p>', table, "</section>"]
    return "".join(parts)


HARM = (
    # daily column, row label, what it is a share of (daily column, words) or None
    ("wrongful_penalties", "wrongful penalties", ("penalties", "penalties")),
    ("wrongful_listings", "wrongful listings", ("listed_new", "listings")),
    ("appeals_filed", "appeals filed", None),
    ("appeals_upheld", "appeals upheld", ("appeals_filed", "appeals filed")),
    ("wrongful_days_cleared", "mean days to clear a wrongful listing", None),
    ("association_penalties", "association penalties (for a tie's act)", None),
    ("points_moved_by_ties", "points moved by ties' scores", None),
    ("ties_cut", "ties cut", None),
    ("children_denied", "children denied for a parent's grade or list", None),
    ("expression_acts", "expression acts (speech)", None),
    ("informant_reports", "informant reports", None),
    ("false_reports", "false reports", ("informant_reports", "informant reports")),
    ("sabotage_reports", "sabotage reports", ("informant_reports", "informant reports")),
    ("points_bought", "points bought", None),
    ("informant_reward_points", "informant reward points", None),
    ("representatives_listed", "firms' legal representatives listed", None),
    ("disclosed_cumulative", "listings disclosed (made public)", ("listed_new", "listings")),
    ("wrongfully_disclosed", "wrongfully disclosed (public on the last day)",
     ("disclosed", "public on the last day")),
    ("disclosure_views", "disclosure person-views", None),
    ("ties_cut_by_disclosure", "ties cut by disclosure", None),
    ("repairs_applied", "credit repairs applied for", None),
    ("repairs_granted", "credit repairs granted", ("repairs_applied", "applied for")),
    ("repair_days_cleared", "mean days from listing to repair", None),
)
NOT_EVENTS = {"wrongful_days_cleared", "points_moved_by_ties", "points_bought",
              "informant_reward_points", "repair_days_cleared"}  # days and points: never scaled
MEANS = {"wrongful_days_cleared": ("appeals_upheld", "upheld appeals", "no appeal was upheld"),
         "repair_days_cleared": ("repairs_granted", "repairs granted", "no repair was granted")}
"""Means over the run: the column summed, over the count of this column."""
LAST_DAY = {"disclosed", "disclosed_cumulative", "wrongfully_disclosed"}
"""Counts of the last day (running or in force), not summed over the run."""
CHILL_DAYS = 30


def harm_rows(daily: pd.DataFrame) -> list[tuple[str, str, float | None, str]]:
    """The harm audit over the run as (column, label, value, detail), one per figure the daily
    table records; a figure whose column an older store lacks is left out."""
    used = {n for n, _, _ in HARM} | {of[0] for _, _, of in HARM if of} | {"association_points"}
    total = {c: (col(daily, c).iloc[-1] if c in LAST_DAY and len(daily) else col(daily, c).sum())
             for c in daily.columns if c in used}
    rows = []
    for name, label, of in HARM:
        if name not in total:
            continue
        v: float | None = int(total[name])
        detail = ""
        if of is not None and total.get(of[0]):
            detail = f"{_pct(total[name], total[of[0]])} of {_count(int(total[of[0]]), of[1])}"
        if name in MEANS:  # a mean over upheld appeals or granted repairs, not a count
            over, words, none = MEANS[name]
            if over not in total:
                continue
            n = int(total[over])
            v = total[name] / n if n else None
            detail = f"over {_count(n, words)}" if n else none
        elif name == "disclosure_views" and total.get("disclosed"):
            listing_days = col(daily, "disclosed").sum()
            detail = f"{_num(total[name] / listing_days)} a day per public listing"
        elif name == "association_penalties" and "association_points" in total:
            detail = f"{_num(int(total['association_points']))} points taken"
        elif name == "expression_acts" and len(daily):
            acts = col(daily, name)
            n = min(CHILL_DAYS, len(acts))
            first, last = float(acts.iloc[:n].mean()), float(acts.iloc[-n:].mean())
            detail = (f"per day: {_num(first)} in the first {n} days, {_num(last)} in the last "
                      f"{n}" + (f" ({100 * (last - first) / first:+.0f}%)" if first else ""))
        rows.append((name, label, v, detail))
    return rows


RUNNING = {"wrongful_penalties": "penalties that hit the wrong person",
           "wrongful_listings": "wrongful listings",
           "association_penalties": "penalties for a tie's act"}


def _running_totals(keys: list[str], daily: pd.DataFrame) -> str:
    """The caption of the harm audit's running totals: what is drawn, and why in panels."""
    if not keys:
        return ""
    words = [RUNNING[k] for k in keys]
    names = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    apart = (", each in its own panel: their sizes are too far apart for one scale"
             if plots.harm_apart(daily, keys) else "")
    return f"Running totals of {names}{apart}. "


def _harm_section(daily: pd.DataFrame, info: dict, over_time: pd.DataFrame | None,
                  grades: list[str], results=None, points: bool = True,
                  mech: facts.Mechanisms | None = None) -> str:
    """Harm audit: who was penalised, listed or denied for what they did not do, or for what a
    tie, a parent or an informant did, who was shown in public, and how disparate the burden
    is over time. Rows of disclosure or repair are left out where the scenario has neither."""
    head = ('<section><h2>Harm audit</h2><p class="note">Harm the system does beyond the acts '
            "it targets, over the whole run: penalties and listings that hit the wrong person "
            "and how long they took to undo, penalties for a tie's act, children turned away "
            "for a parent's grade or list, speech given up, and what informants and buyers of "
            "points did"
            + ("; listings made public (counted, never shown) and what followed, and credit "
               "repair" if mech is not None and (mech.disclosure or mech.repair) else "")
            + ". Counts on the last day say so; the rest are over the run.")
    absent = set()
    if mech is not None:
        absent |= set() if mech.disclosure else set(facts.DISCLOSURE_COLUMNS)
        absent |= set() if mech.repair else set(facts.REPAIR_COLUMNS)
    rows = [r for r in harm_rows(daily) if r[0] not in absent] if len(daily) else []
    scale = info.get("scale")
    scale = float(scale) if isinstance(scale, (int, np.integer, float)) and scale else None
    real = scale is not None and scale != 1
    if real:
        head += (" Counts are of simulated citizens; the next column multiplies counts of "
                 f"people and events (not points or days) by {_num(scale)}, the real people "
                 "each simulated citizen stands for.")
    head += "</p>"
    zero_rows = [label for name, label, v, _ in rows if not v and name not in MEANS]
    rows = [r for r in rows if r[2]]
    if rows:
        body = []
        for name, label, v, detail in rows:
            scaled = ([f"≈ {approx(v * scale)}" if v is not None and name not in NOT_EVENTS
                       else ""] if real else [])
            body.append([label, _num(v), *scaled, detail])
        header = ["measure", "over the run", *(["at real scale"] if real else []), "detail"]
        table = _table(header, body, [False, True, *([True] if real else []), False])
    elif zero_rows:
        table = ""  # the sentence below names them all
    else:
        table = ('<p class="empty">'
                 + ("This run recorded no harm figures." if len(daily) else NO_DAYS) + "</p>")
    if zero_rows:
        table += f'<p class="note">{escape(zero_sentence(zero_rows, drawn=False))}</p>'
    assoc = facts.association_note(results) if results is not None else None
    if assoc:
        table += f'<p class="note">{escape(assoc)}</p>'
    lines = [line for line in plots.HARM_LINES if points or line[0] != "wrongful_penalties"]
    kept, zero = plots.distinct(daily, [(k, label) for k, label, _ in lines], merge=False)
    cumulative = plots.harm_over_time(daily, [k for k, _ in kept]) if kept else None
    impact = ("Disparate impact over time, by region type (urban solid, rural dashed) and age "
              "group: share listed" + (", and share of scored citizens in the lowest grades "
                                       "(groups with no scored citizens are left out)."
                                       if points else ".")
              + " A group whose share stays 0 at every snapshot is not drawn in that panel"
              + (f"; nobody was ever listed among {_never_listed(over_time)}."
                 if _never_listed(over_time) else "."))
    figs = [
        (_running_totals([k for k, _ in kept], daily)
         + ("" if zero_rows else zero_sentence(zero)), cumulative),
        ("Expression acts per day; a falling line is chilling: speech given up for fear of "
         "the score.", plots.expression(daily)),
        (impact, plots.disparate_impact(over_time, grades, grade_panel=points)),
    ]
    parts = [f'<p class="note">{escape(note.strip())}</p>{svg}' for note, svg in figs if svg]
    if len(daily) and not cumulative and zero and not zero_rows:
        parts.insert(0, _stayed_zero(zero))
    return head + table + "".join(parts) + "</section>"


DISCLOSURE_NOTE = ("Listings public now on a published list, each day, and the wrongful ones "
                   "among them; running totals of applications for credit repair and of "
                   "repairs granted. Disclosure is counted, never displayed: the model makes "
                   "up no name, photo or ID number for anyone.")


def _disclosure_section(daily: pd.DataFrame, info: dict, mech: facts.Mechanisms,
                        results=None) -> str:
    """Listings public now and repairs over time, with each list's rules; where the scenario
    publishes no list and has no repair, the sentence saying so."""
    heading = "Disclosure and repair"
    why = facts.no_disclosure(mech)
    if why or not len(daily):
        return _section(heading, DISCLOSURE_NOTE, None, empty=why or NO_DAYS)
    now = ([("disclosed", "listings public now"), ("wrongfully_disclosed",
                                                   "wrongfully public listings")]
           if mech.disclosure else [])
    running = ([("repairs_applied", "repairs applied for"), ("repairs_granted",
                                                           "repairs granted")]
               if mech.repair else [])
    kept_now, zero_now = plots.distinct(daily, now, merge=False)
    kept_run, zero_run = plots.distinct(daily, running, merge=False)
    svg = plots.disclosure(daily, kept_now, kept_run)
    notes = []
    if not mech.disclosure:
        notes.append("This scenario publishes none of its lists (no [lists.NAME.disclosure]), "
                     "so nothing is made public.")
    if not mech.repair:
        notes.append("No list of this scenario can be left by credit repair (no "
                     "[lists.NAME.exits.repair]).")
    said = zero_sentence(zero_now + zero_run, drawn=bool(svg))
    if said:
        notes.append(said)
    shown = col(daily, "disclosed").sum()
    if mech.disclosure and shown:
        views = col(daily, "disclosure_views").sum()
        notes.append(f"Each public listing was seen about {_num(views / shown)} times a day "
                     f"({_num(int(views))} person-views over {_num(int(shown))} listing-days).")
    rules = _disclosure_rules(results)
    extra = [f'<p class="note">{escape(n)}</p>' for n in notes] + ([rules] if rules else [])
    return _section(heading, DISCLOSURE_NOTE, svg, *extra,
                    empty="Nothing was made public or repaired during the run.")


def _disclosure_rules(results) -> str:
    """Each published or repairable list: how long a listing stays public, and when and how
    often it may be repaired, with the scenario's changes by date (R10)."""
    s = facts.scenario_of(results) if results is not None else None
    if s is None:
        return ""
    from ..scenario.schema import SEVERITY_DAYS

    rows = []
    for x in s.lists:
        d, r = x.disclosure, x.exits.repair
        d = d if d is not None and d.enabled else None
        r = r if r is not None and r.enabled else None
        if d is None and r is None:
            continue
        public = "–"
        if d is not None:
            public = f"{_num(d.days)} days"
            if d.starts is not None:
                public += f" from {d.starts}"
            if d.severity is not None:
                lo, hi = SEVERITY_DAYS[d.severity]
                held = d.held_days
                public += (f" ({f'from {d.limits_from} ' if d.limits_from else ''}within "
                           f"R10's {d.severity} range, {_num(lo)} to {_num(hi)} days"
                           + (f": {_num(held)} days" if held != d.days else "") + ")")
        repair = ["–", "–", "–"]
        if r is not None:
            repair = [f"{_num(r.wait_days)} days", _num(r.apply_per_year),
                      _pct(r.success_share, 1)]
            for c in r.changes:
                changed = [text for value, text in (
                    (c.wait_days, f"after {_num(c.wait_days)} days"),
                    (c.apply_per_year, f"{_num(c.apply_per_year)} a year"),
                    (c.success_share, f"{_pct(c.success_share or 0, 1)} granted"))
                    if value is not None]
                if changed:
                    repair[0] += f"; from {c.date}: {', '.join(changed)}"
        rows.append([x.name, public, *repair])
    if not rows:
        return ""
    return ('<p class="note">Each list\'s rules at the start (and the scenario\'s changes by '
            "date): how long a listing stays public, and how long after listing someone may "
            "apply for repair, how often they do, and the share granted.</p>"
            + _table(["list", "public for", "repair after", "applications a year",
                      "share granted"], rows, [False, False, False, True, True]))


APPROVAL_NOTE = "What people think of the system, over the run."


def _approval_section(daily: pd.DataFrame, info: dict, over_time: pd.DataFrame | None,
                      mech: facts.Mechanisms) -> str:
    """Share who approve of the system over time, overall and by group, with where the
    numbers come from; where the scenario has no attitudes, the sentence saying so."""
    why = facts.no_attitudes(mech)
    if why or not len(daily) or "approval" not in daily.columns:
        return _section("Approval", APPROVAL_NOTE, None, empty=why or NO_DAYS)
    att = mech.attitudes
    who = facts.holders(att)
    start = getattr(att, "approval", None)
    svg = plots.approval(daily, over_time, start=start)
    note = (f"Share of {who} who approve of the system, day by day (black), and in each region "
            "type and age group at each snapshot (urban solid, rural dashed)"
            + (", with the starting share dotted." if start is not None else "."))
    share = pd.to_numeric(daily["approval"], errors="coerce").dropna()
    scale = info.get("scale")
    scale = float(scale) if isinstance(scale, (int, np.integer, float)) and scale else None

    def real(n: float) -> str:
        return f" (≈ {approx(n * scale)} people)" if scale and scale != 1 and n else ""

    lost, back = int(col(daily, "approval_lost").sum()), int(col(daily, "approval_regained").sum())
    moved = (f"{_pct(share.iloc[0], 1)} approved on the first day and {_pct(share.iloc[-1], 1)} "
             f"on the last: {_num(lost)} turned against the system over the run{real(lost)} "
             f"and {_num(back)} came to approve again{real(back)}.") if len(share) else ""
    parts = [f'<p class="note">{escape(x)}</p>' for x in (moved, facts.approval_note(att)) if x]
    return _section("Approval", note, svg, *parts)


def _never_listed(over_time: pd.DataFrame | None) -> str:
    """The groups of groups_over_time with nobody listed at any snapshot, for a sentence."""
    need = {"region_type", "age_group", "listed"}
    if over_time is None or over_time.empty or not need <= set(over_time.columns):
        return ""
    listed = col(over_time, "listed")
    top = listed.groupby([over_time["region_type"], over_time["age_group"]], sort=False).max()
    names = [facts.group_label(r, a) for (r, a), v in top.items() if v <= 0]
    return "" if not names else names[0] if len(names) == 1 else \
        ", ".join(names[:-1]) + " and " + names[-1]


def _acts_section(acts: pd.DataFrame, notes: dict[str, str] | None = None,
                  points: bool = True) -> str:
    """Each act: how often committed, observed and penalised, and the points it moved; a note
    for each act penalised more often than committed."""
    head = ('<section><h2>Acts</h2><p class="note">Acts committed by citizens, how many the '
            + ("system observed and penalised or rewarded (scored), and the points they moved "
               "(negative: taken).</p>" if points else
               "system observed, and how many a rule acted on (scored: nobody holds points "
               "here, so rules act by listing).</p>"))
    if acts.empty:
        return head + '<p class="empty">The scenario defines no acts.</p></section>'
    text = [c for c in ("act", "area", "valence") if c in acts.columns]
    n = {c: col(acts, c).to_numpy() for c in ("points_per_act", "committed", "observed",
                                              "scored", "points", "wrongful_penalties")}

    def numbers(v: dict) -> list[str]:
        cells = [_num(v["points_per_act"]), _num(int(v["committed"])),
                 _num(int(v["observed"])), _pct(v["observed"], v["committed"]),
                 _num(int(v["scored"])), _num(int(v["points"])),
                 _num(int(v["wrongful_penalties"]))]
        return cells if points else cells[1:5]  # no points: none taken, none wrongly

    rows = [[acts[c].iloc[i] for c in text] + numbers({c: a[i] for c, a in n.items()})
            for i in range(len(acts))]
    sums = {c: a.sum() for c, a in n.items()} | {"points_per_act": ""}
    total = ["all", *[""] * (len(text) - 1)][: len(text)] + numbers(sums)
    header = ["points per act", "committed", "observed", "share observed", "scored",
              "points", "wrongful penalties"]
    header = text + (header if points else header[1:5])
    table = _table(header, rows, [False] * len(text) + [True] * (len(header) - len(text)),
                   total)
    extra = "".join(f'<p class="note">{escape(x[:1].upper() + x[1:])}.</p>'
                    for x in (notes or {}).values())
    return head + table + extra + "</section>"


def _sources_section(results) -> str:
    """The sources the scenario cites (id, title, where published) and every value it marks
    assumed, with the value."""
    head = ('<section><h2>Sources and assumptions</h2><p class="note">Where the scenario\'s '
            "numbers come from: the sources it cites (the project's source notes, "
            "<code>socialcredit sources ID</code> prints one in full), and every value no source "
            "gives, which the scenario marks assumed (<code>--set PATH=VALUE</code> changes one "
            "in <code>socialcredit run</code> or <code>compare</code>).</p>")
    s = facts.scenario_of(results)
    if s is None:
        return head + ('<p class="empty">The run\'s scenario text is missing or no longer '
                       "valid, so its sources cannot be listed.</p></section>")
    from ..sources import assumed_values, cited, lookup

    rows = []
    for sid in cited(s):
        try:
            (src,) = lookup([sid])
        except UserError:  # an id the source notes do not hold
            rows.append([sid, "not in the source notes", ""])
            continue
        rows.append([src.id, src.title, src.published])
    parts = [head]
    if rows:
        parts.append(_table(["id", "title", "published in"], rows, [False, False, False]))
    else:
        parts.append('<p class="empty">The scenario cites no sources.</p>')
    assumed = assumed_values(s)
    if assumed:
        items = [[path, _value(v)] for path, v in assumed]
        parts.append(f"<details><summary>{len(assumed)} value{'s' if len(assumed) > 1 else ''}"
                     " the scenario assumes (no source gives them)</summary>"
                     + _table(["value (--set path)", "assumed"], items, [False, True])
                     + "</details>")
    else:
        parts.append('<p class="note">The scenario marks no value assumed.</p>')
    parts.append("</section>")
    return "".join(parts)


def _value(v) -> str:
    """An assumed value as a scenario would write it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _stages_section(info: dict) -> str:
    """Wall time of each stage of the day loop, so the slow one is visible."""
    head = ('<section><h2>Time per stage</h2><p class="note">Wall time spent in each stage of '
            "the day loop over the whole run.</p>")
    stages = {k[8:]: float(v) for k, v in info.items()
              if k.startswith("seconds_") and isinstance(v, (int, float, np.number))}
    if not stages:
        return head + '<p class="empty">No stage timings were recorded.</p></section>'
    total = sum(stages.values())
    citizen_days = float(info.get("population") or 0) * float(info.get("days") or 0)

    def per(s: float) -> str:
        return _num(s / citizen_days * 1e9, 3) if citizen_days else "–"

    rows = [[name, f"{s:.3f}", _pct(s, total), per(s)] for name, s in stages.items()]
    foot = ["all stages", f"{total:.3f}", "100%" if total else "–", per(total)]
    table = _table(["stage", "seconds", "share", "ns per citizen-day"], rows,
                   [False, True, True, True], foot)
    wall = info.get("wall_seconds")
    extra = ""
    if isinstance(wall, (int, float, np.number)):
        extra = (f'<p class="note">Whole run: {float(wall):.3f} s wall time on '
                 f"{escape(_num(info.get('threads')))} threads; "
                 f"{escape(_num(info.get('hot_bytes_per_citizen')))} bytes of hot state per "
                 "citizen.</p>")
    return head + table + extra + "</section>"


def _calibration_section(results, info: dict) -> str:
    """When the run confirms a calibration: the fit row by row, the fitted values with their
    bounds and sensitivity, and what the model assumes that the record cannot confirm."""
    extras = getattr(results, "extras", {}) or {}
    fit = extras.get("calibration")
    if fit is None or fit.empty:
        return ""
    params = extras.get("calibration_params", pd.DataFrame())
    meta = extras.get("calibration_info", pd.DataFrame())
    notes = extras.get("calibration_notes", pd.DataFrame())
    m = meta.iloc[0].to_dict() if len(meta) else {}
    scale = float(info.get("scale") or 1.0)
    used = fit["used"].astype(bool)
    worst = fit.loc[used, "relative_error"].abs().max() if used.any() else float("nan")
    note = (f"This run confirms a calibration: {_num(m.get('trials'))} trials at "
            f"{_num(m.get('trial_population'))} citizens (seed {_num(m.get('seed'))}, the same "
            f"random numbers every trial) fitted the values below to {m.get('targets', '')}, "
            f"minimising the sum of squared log ratios model / reported (from "
            f"{_num(m.get('start_objective'))} to {_num(m.get('objective'))}); this run, at "
            f"{_num(info.get('population'))} citizens, gives the model column. Largest "
            f"relative error over the figures used: {_pct(worst, 1)}.")
    rows = [[str(r.date)[:10], r.target, _num(round(r.reported)),
             _num(round(r.model)) if math.isfinite(r.model) else "after the run",
             f"{100 * r.relative_error:+.1f}%" if math.isfinite(r.relative_error) else "",
             "yes" if r.used else f"no: {r.why}"]
            for r in fit.itertuples()]
    table = _table(["date", "figure", "reported", "model", "relative error", "used in fit"],
                   rows, [False, False, True, True, True, False])
    svg = plots.calibration_fit(results.daily, fit, scale)
    parts = ["<section><h2>Calibration</h2>", f'<p class="note">{escape(note)}</p>',
             svg or "", table]
    if len(params):
        step = float(m.get("sensitivity_step") or 0.1)
        head = ["value", "fitted", "start", "lower", "upper", "source",
                f"objective at -{step:.0%}", f"objective at +{step:.0%}",
                "largest change in a figure"]
        prow = []
        for r in params.to_dict("records"):
            change = max(r.get("largest_target_change_minus10", float("nan")),
                         r.get("largest_target_change_plus10", float("nan")))
            prow.append([r["path"] + (" (at a bound)" if r.get("at_bound") else ""),
                         _num(r["value"], 4), _num(r["start"], 4), _num(r["lower"], 4),
                         _num(r["upper"], 4), r["source"],
                         _num(r.get("objective_minus10"), 3), _num(r.get("objective_plus10"), 3),
                         _pct(change, 1)])
        parts.append(f'<p class="note">Fitted values, their bounds, and how much the fit hangs '
                     f"on each: the objective (fitted: {escape(_num(m.get('objective')))}) and "
                     f"the largest relative change in any figure when the value alone moves "
                     f"by -{step:.0%} or +{step:.0%}.</p>")
        parts.append(_table(head, prow, [False, True, True, True, True, False, True, True,
                                         True]))
        if "posterior_p50" in params:
            parts.append(
                f'<p class="note">Posterior over the fitted values: '
                f"{_num(m.get('posterior_points'))} trials weighed (effective sample size "
                f"{_num(m.get('effective_sample_size'), 3)}) into "
                f"{_num(m.get('posterior_draws'))} draws, written to posterior.csv for "
                "<code>socialcredit predict</code>. Each reported figure is taken as the "
                "model's figure times a log-normal error of standard deviation "
                f"{escape(_num(m.get('observation_error'), 3))} (from "
                f"{escape(str(m.get('observation_error_from', '')))}; the model's own "
                f"run-to-run noise at the trial population is "
                f"{escape(_num(m.get('run_to_run_noise'), 3))}); each value's prior is "
                "uniform between its bounds (on the log scale where it is fitted on it).</p>")
            parts.append(_table(
                ["value", "posterior median", "90% interval", "fitted"],
                [[r["path"], _num(r["posterior_p50"], 4),
                  f"{_num(r['posterior_p5'], 4)} to {_num(r['posterior_p95'], 4)}",
                  _num(r["value"], 4)] for r in params.to_dict("records")],
                [False, True, True, True]))
    if len(notes):
        items = "".join(f"<li>{escape(str(x))}</li>" for x in notes["assumption"])
        parts.append('<p class="note">What the model assumes that the record cannot '
                     f"confirm:</p><ul>{items}</ul>")
    parts.append("</section>")
    return "\n".join(parts)
