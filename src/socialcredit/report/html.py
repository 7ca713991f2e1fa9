"""The report of a run: one self-contained HTML file (inline CSS and SVG) that opens offline."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from . import plots
from .plots import col

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 color:#222;max-width:980px;margin:0 auto;padding:1.5em 1em 4em}
h1{font-size:1.6em;margin:.2em 0 .3em}h2{font-size:1.2em;margin:1.8em 0 .4em;
 border-bottom:1px solid #ddd;padding-bottom:.2em}
p.note{color:#555;margin:.3em 0 .6em}.empty{color:#777;font-style:italic}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
th,td{padding:.2em .7em;border-bottom:1px solid #eee;text-align:left}
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
            "Denials by gate", "Wrongful penalties", "Who is hit", "Harm audit", "Acts",
            "Time per stage")


def write_report(results, path: Path) -> Path:
    """Write the HTML report of `results` to `path`, atomically, so a reader never sees half."""
    path = Path(path)
    page = render(results)
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
    grades = _names(info, "grades", [c[6:] for c in daily.columns if c.startswith("grade_")])
    gates = _names(info, "gates", [c[:-9] for c in daily.columns if c.endswith("_attempts")])
    lists = _names(info, "lists", [])
    totals = gate_totals(daily, gates)
    title = str(info.get("title") or info.get("scenario") or "Social credit run")
    body = [
        _header(info, title),
        _key_figures(daily, totals, info),
        _calibration_section(results, info),
        _section("Grades over time",
                 "Share of scored citizens in each grade, day by day; the best grade on top.",
                 plots.grade_shares(daily, grades)),
        _section("Scores at start and end",
                 "How scored citizens spread over the points scale on the first and last day.",
                 plots.score_distribution(results.score_hist),
                 empty="The run recorded no scores."),
        _section("List size",
                 "Citizens on the blacklist each day, and everyone listed at least once so far.",
                 plots.list_size(daily, lists), _exits_table(results.listings)),
        _gates_section(totals, len(daily) > 0),
        _section("Wrongful penalties",
                 "Running totals of penalties that hit someone who did not commit the act, "
                 "and of listings that followed from them.",
                 plots.wrongful(daily)),
        _groups_section(getattr(results, "groups", None), grades),
        _harm_section(daily, info, getattr(results, "groups_over_time", None), grades),
        _acts_section(results.acts),
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
        return f"{float(v):,.{digits}g}" if abs(v) < 10 ** digits else f"{float(v):,.0f}"
    return str(v)


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
    people = ""
    if isinstance(pop, (int, np.integer, float)) and isinstance(scale, (int, np.integer, float)):
        people = f" (≈ {_num(round(pop * scale))} real people at {_num(scale)} per citizen)"
    start, end = _date(info.get("start_date")), _date(info.get("end_date"))
    meta = [
        ("scenario", f"{info.get('scenario', '')} (from {info.get('source', '')})"),
        ("population", f"{_num(pop)} simulated citizens{people}"),
        ("days", f"{_num(info.get('days'))}" + (f", {start} to {end}" if start else "")),
        ("seed", _num(info.get("seed"))),
        ("scale", f"{_num(scale)} real people per simulated citizen"),
        ("version", f"socialcredit {info.get('version', '?')}"),
    ]
    if info.get("created"):
        meta.append(("created", str(info["created"])))
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in meta)
    return (f"<header><h1>{escape(title)}</h1>"
            f'<table class="meta"><tbody>{rows}</tbody></table></header>')


def _last(daily: pd.DataFrame, name: str) -> int:
    """The last day's value of a running count such as `listed`, or 0 for an empty run."""
    return int(col(daily, name).iloc[-1]) if len(daily) else 0


def _key_figures(daily: pd.DataFrame, totals: pd.DataFrame, info: dict) -> str:
    """The handful of numbers a reader wants first: who is listed, how many wrongly, denials."""
    scale = info.get("scale")
    scale = float(scale) if isinstance(scale, (int, np.integer, float)) and scale else None

    def real(n: float) -> str:
        return f"≈ {_num(round(n * scale))} real people" if scale else ""

    penalties = col(daily, "penalties").sum()
    wp = col(daily, "wrongful_penalties").sum()
    new = col(daily, "listed_new").sum()
    wl = col(daily, "wrongful_listings").sum()
    attempts, denied = totals["attempts"].sum(), totals["denied"].sum()
    figs = [
        ("people listed now", _num(_last(daily, "listed")), real(_last(daily, "listed"))),
        ("ever listed", _num(_last(daily, "listed_cumulative")),
         real(_last(daily, "listed_cumulative"))),
        ("wrongful penalties", _num(int(wp)), f"{_pct(wp, penalties)} of {_num(int(penalties))} "
                                              "penalties"),
        ("wrongful listings", _num(int(wl)), f"{_pct(wl, new)} of {_num(int(new))} listings"),
        ("share of denials", _pct(denied, attempts) if len(totals) else "no gates",
         f"{_num(int(denied))} of {_num(int(attempts))} gate attempts" if len(totals) else ""),
    ]
    cards = "".join(f'<div class="fig"><div class="v">{escape(v)}</div>'
                    f'<div class="k">{escape(k)}</div><div class="s">{escape(s)}</div></div>'
                    for k, v, s in figs)
    return (f"<section><h2>Key figures</h2>"
            '<p class="note">Counts are simulated citizens over the whole run.</p>'
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
    """Denials and perks per gate as bars, with the attempts behind them in a table."""
    note = ("Times each gate (a service checked against grade and lists) refused someone or "
            "granted a perk, summed over the run.")
    if totals.empty:
        return _section("Denials by gate", note, None, empty="This scenario has no gates.")
    svg = plots.gate_denials(totals)
    empty = "Nobody came to a gate during the run." if any_days else NO_DAYS
    rows = [[r.gate, _num(r.attempts), _num(r.denied), _pct(r.denied, r.attempts), _num(r.perks)]
            for r in totals.itertuples()]
    total = ["all", _num(int(totals["attempts"].sum())), _num(int(totals["denied"].sum())),
             _pct(totals["denied"].sum(), totals["attempts"].sum()),
             _num(int(totals["perks"].sum()))]
    table = _table(["gate", "attempts", "denied", "share denied", "perks"], rows,
                   [False, True, True, True, True], total)
    return _section("Denials by gate", note, svg, table, empty=empty)


def _groups_section(groups: pd.DataFrame | None, grades: list[str]) -> str:
    """Who is hit: the end state by region type and age group (disparate impact)."""
    head = ('<section><h2>Who is hit</h2><p class="note">At the end of the run, by region type '
            "and age group: mean score, share in the two lowest grades, share listed, and share "
            "who lost points for acts they did not commit.</p>")
    if groups is None or groups.empty or "scored" not in groups:
        return head + '<p class="empty">No group figures were recorded.</p></section>'
    low = grades[-2:] if len(grades) > 2 else grades[-1:]
    rows = []
    for _, g in groups[groups["scored"] > 0].iterrows():
        lowc = sum(int(g.get(f"grade_{x}", 0)) for x in low)
        rows.append([f"{g['region_type']} {g['age_group']}", _num(int(g["citizens"])),
                     f"{g['mean_score']:.1f}", _pct(lowc, g["scored"]),
                     _pct(g["listed"], g["citizens"]), _pct(g["wronged"], g["citizens"])])
    header = ["group", "citizens", "mean score", f"in {'/'.join(low)}", "listed", "wronged"]
    return head + _table(header, rows, [False] + [True] * 5) + "</section>"


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
)
NOT_EVENTS = {"wrongful_days_cleared", "points_moved_by_ties", "points_bought",
              "informant_reward_points"}  # days and points: never multiplied by the scale
CHILL_DAYS = 30


def harm_rows(daily: pd.DataFrame) -> list[tuple[str, str, float | None, str]]:
    """The harm audit over the run as (column, label, value, detail), one per figure the daily
    table records; a figure whose column an older store lacks is left out."""
    used = {n for n, _, _ in HARM} | {of[0] for _, _, of in HARM if of} | {"association_points"}
    total = {c: col(daily, c).sum() for c in daily.columns if c in used}
    rows = []
    for name, label, of in HARM:
        if name not in total:
            continue
        v: float | None = int(total[name])
        detail = ""
        if of is not None and total.get(of[0]):
            detail = f"{_pct(total[name], total[of[0]])} of {_num(int(total[of[0]]))} {of[1]}"
        if name == "wrongful_days_cleared":  # a mean over upheld appeals, not a count
            if "appeals_upheld" not in total:
                continue
            upheld = int(total["appeals_upheld"])
            v = total[name] / upheld if upheld else None
            detail = f"over {_num(upheld)} upheld appeals" if upheld else "no appeal was upheld"
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


def _harm_section(daily: pd.DataFrame, info: dict, over_time: pd.DataFrame | None,
                  grades: list[str]) -> str:
    """Harm audit: who was penalised, listed or denied for what they did not do, or for what a
    tie, a parent or an informant did, and how disparate the burden is over time."""
    head = ('<section><h2>Harm audit</h2><p class="note">Harm the system does beyond the acts '
            "it targets, over the whole run: penalties and listings that hit the wrong person "
            "and how long they took to undo, penalties for a tie's act, children turned away "
            "for a parent's grade or list, speech given up, and what informants and buyers of "
            "points did.")
    rows = harm_rows(daily) if len(daily) else []
    scale = info.get("scale")
    scale = float(scale) if isinstance(scale, (int, np.integer, float)) and scale else None
    real = scale is not None and scale != 1
    if real:
        head += (" Counts are of simulated citizens; the next column multiplies counts of "
                 f"people and events (not points or days) by {_num(scale)}, the real people "
                 "each simulated citizen stands for.")
    head += "</p>"
    if rows:
        body = []
        for name, label, v, detail in rows:
            scaled = ([f"≈ {_num(round(v * scale))}" if v is not None and name not in NOT_EVENTS
                       else ""] if real else [])
            body.append([label, _num(v), *scaled, detail])
        header = ["measure", "over the run", *(["at real scale"] if real else []), "detail"]
        table = _table(header, body, [False, True, *([True] if real else []), False])
    else:
        table = ('<p class="empty">'
                 + ("This run recorded no harm figures." if len(daily) else NO_DAYS) + "</p>")
    figs = [
        ("Running totals of penalties that hit the wrong person, of wrongful listings, and of "
         "penalties for a tie's act.", plots.harm_over_time(daily)),
        ("Expression acts per day; a falling line is chilling: speech given up for fear of "
         "the score.", plots.expression(daily)),
        ("Disparate impact over time, by region type (urban solid, rural dashed) and age group: "
         "share listed, and share of scored citizens in the lowest grades (groups with no "
         "scored citizens are left out).", plots.disparate_impact(over_time, grades)),
    ]
    parts = [f'<p class="note">{escape(note)}</p>{svg}' for note, svg in figs if svg]
    return head + table + "".join(parts) + "</section>"


def _acts_section(acts: pd.DataFrame) -> str:
    """Each act: how often committed, observed and scored, and the points it moved."""
    head = ('<section><h2>Acts</h2><p class="note">Acts committed by citizens, how many the '
            "system observed and scored, and the points they moved (negative: taken).</p>")
    if acts.empty:
        return head + '<p class="empty">The scenario defines no acts.</p></section>'
    text = [c for c in ("act", "area", "valence") if c in acts.columns]
    n = {c: col(acts, c).to_numpy() for c in ("points_per_act", "committed", "observed",
                                              "scored", "points", "wrongful_penalties")}

    def numbers(v: dict) -> list[str]:
        return [_num(v["points_per_act"]), _num(int(v["committed"])), _num(int(v["observed"])),
                _pct(v["observed"], v["committed"]), _num(int(v["scored"])),
                _num(int(v["points"])), _num(int(v["wrongful_penalties"]))]

    rows = [[acts[c].iloc[i] for c in text] + numbers({c: a[i] for c, a in n.items()})
            for i in range(len(acts))]
    sums = {c: a.sum() for c, a in n.items()} | {"points_per_act": ""}
    total = ["all", *[""] * (len(text) - 1)][: len(text)] + numbers(sums)
    header = text + ["points per act", "committed", "observed", "share observed", "scored",
                     "points", "wrongful penalties"]
    table = _table(header, rows, [False] * len(text) + [True] * 7, total)
    return head + table + "</section>"


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
    rows = [[str(r.date)[:10], r.target, _num(round(r.reported)), _num(round(r.model)),
             f"{100 * r.relative_error:+.1f}%", "yes" if r.used else f"no: {r.why}"]
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
    if len(notes):
        items = "".join(f"<li>{escape(str(x))}</li>" for x in notes["assumption"])
        parts.append('<p class="note">What the model assumes that the record cannot '
                     f"confirm:</p><ul>{items}</ul>")
    parts.append("</section>")
    return "\n".join(parts)
