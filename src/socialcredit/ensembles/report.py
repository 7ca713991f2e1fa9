"""An ensemble's report: what ran, which replicates finished, and each key daily figure as
its median over the replicates with the 50% and 90% bands around it."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from ..report.html import facts_table, standalone, write_page
from ..report.plots import STYLE, _figure, _svg, _x

KEY = {"listed": "on a list now", "listed_cumulative": "ever listed",
       "mean_score": "mean score of scored citizens",
       "wrongful_penalties": "wrongful penalties so far",
       "wrongful_listings": "wrongful listings so far",
       "expression_acts": "acts of expression so far", "children_denied": "children denied so far",
       "approval": "citizens who approve"}
"""The daily columns drawn, when a scenario has them and they move."""
RUNNING = ("wrongful_penalties", "wrongful_listings", "expression_acts", "children_denied")
"""Counts per day, drawn as running totals (a day's count is mostly noise)."""


def band_chart(band: pd.DataFrame, label: str, name: str) -> str:
    """The median of one column with its 50% and 90% bands, as inline SVG."""
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        x = _x(band, ax)
        ax.fill_between(x, band["p5"], band["p95"], color="#4c72b0", alpha=0.18, lw=0,
                        label="90% of replicates")
        ax.fill_between(x, band["p25"], band["p75"], color="#4c72b0", alpha=0.35, lw=0,
                        label="50% of replicates")
        ax.plot(x, band["p50"], color="#1f3d7a", lw=1.4, label="median")
        ax.set_ylabel(label)
        ax.legend(loc="upper left")
        return _svg(fig, f"band-{name}")


def render(res) -> str:
    """The report's HTML."""
    info, runs = res.info, res.runs
    esc = html.escape
    done = runs[runs["status"] == "done"]
    rows = [("scenario", info.get("scenario", "")), ("replicates", f"{len(runs):,} "
             f"(seeds {info.get('first_seed', 0)} to "
             f"{int(info.get('first_seed', 0)) + len(runs) - 1}), {len(done):,} finished"),
            ("population", f"{int(info.get('population', 0)):,} simulated citizens"),
            ("days", f"{int(info.get('days', 0)):,}"),
            ("values set", " ".join(runs["sets"].iloc[:1]) or "none"),
            ("executor", f"{info.get('executor', '')}"
             + (f", {info['workers']} workers" if info.get("workers") else "")),
            ("wall time", f"{float(info.get('wall_seconds', 0)):,.1f} s")]
    parts = [f"<h1>Ensemble: {esc(str(info.get('scenario', '')))}</h1>", facts_table(rows)]
    failed = runs[runs["status"] != "done"]
    if len(failed):
        parts.append("<h2>Replicates that did not finish</h2><table><tr><th>run</th>"
                     "<th>seed</th><th>why</th></tr>")
        parts += [f"<tr><td>{r.run}</td><td>{r.seed}</td><td>{esc(str(r.error))}</td></tr>"
                  for r in failed.itertuples()]
        parts.append("</table>")
    parts.append("<h2>Daily figures over the replicates</h2><p>Each line is the median of the "
                 "replicates on that day; the dark band holds the middle 50% of them, the "
                 "light band 90% (5th to 95th percentile). Counts are of simulated citizens; "
                 "counts a day are drawn as running totals.</p>")
    from .ensemble import bands as bands_of

    running = [c for c in RUNNING if c in res.daily.columns]
    totals = (bands_of(res.daily[["run", "date"]].assign(
        **{c: res.daily.groupby("run")[c].cumsum() for c in running}))
        if running and len(res.daily) else res.bands.iloc[:0])
    drawn = 0
    for col, label in KEY.items():
        band = (totals if col in running else res.bands)
        band = band[band["column"] == col]
        if band.empty or np.allclose(band["p95"], band["p5"]) and not band["p50"].any():
            continue
        parts.append(f"<h3>{esc(label)} <code>{esc(col)}</code></h3>")
        parts.append(band_chart(band.reset_index(drop=True), label, col))
        drawn += 1
    if not drawn:
        parts.append("<p>No replicate finished, or none of the key figures moved.</p>")
    return standalone(f"Ensemble {info.get('scenario', '')}", "\n".join(parts))


def write_report(res, path: Path) -> Path:
    """Write the report to `path`, atomically."""
    return write_page(render(res), path)


INDEX_WORDS = {
    "mu_star": "mean absolute effect (mu*)", "sigma": "spread of the effects (sigma)",
    "ST": "total-order share of variance (ST)", "S1": "first-order share of variance (S1)"}
"""How the report and the terminal name each sensitivity index."""


def effects_chart(ranked: pd.DataFrame, index: str, noise: float | None, name: str) -> str:
    """One outcome's values as horizontal bars of `index`, most influential on top, each with
    its 95% interval; the replicate noise as a dashed line where it shares the index's units
    (Morris), as inline SVG."""
    from matplotlib.figure import Figure

    from ..report.plots import SIZE

    n = len(ranked)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(SIZE[0], max(1.5, 0.7 + 0.32 * n)), layout="constrained")
        ax = fig.subplots()
        y = np.arange(n)
        est = ranked["main"].to_numpy(dtype=float)
        err = np.vstack([est - ranked["main_low"].to_numpy(dtype=float),
                         ranked["main_high"].to_numpy(dtype=float) - est])
        ax.barh(y, est, height=0.6, color="#4c72b0", xerr=np.clip(err, 0, None),
                error_kw={"ecolor": "#222", "elinewidth": 0.9, "capsize": 3},
                label="estimate with 95% interval")
        if noise is not None:
            ax.axvline(noise, color="#b2182b", ls="--", lw=1.1,
                       label="replicate noise (sd of one run)")
        ax.axvline(0, color="#444", lw=0.6)
        ax.set_yticks(y, ranked["parameter"].tolist(), fontsize=7.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(INDEX_WORDS.get(index, index))
        ax.legend(loc="lower right", fontsize=7)
        return _svg(fig, f"sensitivity-{name}")


def render_sensitivity(res) -> str:
    """The sensitivity report's HTML: what was varied, what ran, and per outcome the values
    ranked by their main index, as a chart and a table."""
    import json

    from .sensitivity import MAIN, NOISE, SECOND

    info, design = res.info, res.design
    esc = html.escape
    method = str(info.get("method", "morris"))
    seeds, first = int(info.get("seeds", 0)), int(info.get("first_seed", 0))
    factors = json.loads(info.get("factors", "[]"))
    done = design[design["status"] == "done"] if len(design) else design
    how = (f"Morris, {info.get('samples')} trajectories over {info.get('levels')} levels"
           if method == "morris" else
           f"Sobol', {info.get('samples')} base samples (first and total order)")
    ranges = "; ".join(f"{f['path']} from {f['low']:g} to {f['high']:g}"
                       + (" (log scale)" if f["log"] else "")
                       + (" (whole numbers)" if f["whole"] else "") for f in factors)
    rows = [("scenario", info.get("scenario", "")), ("method", how), ("values varied", ranges),
            ("seeds", f"{seeds} (seeds {first} to {first + seeds - 1}), the same at every "
             "design point"),
            ("runs", f"{int(info.get('points', 0)):,} design points x {seeds} seeds = "
             f"{len(design):,} runs, {len(done):,} finished"),
            ("population", f"{int(info.get('population', 0)):,} simulated citizens"),
            ("days", f"{int(info.get('days', 0)):,}"),
            ("values set", " ".join(json.loads(info.get("sets", "[]"))) or "none"),
            ("executor", f"{info.get('executor', '')}"
             + (f", {info['workers']} workers" if info.get("workers") else "")),
            ("wall time", f"{float(info.get('wall_seconds', 0)):,.1f} s")]
    parts = [f"<h1>Sensitivity: {esc(str(info.get('scenario', '')))}</h1>", facts_table(rows)]
    notes = json.loads(info.get("notes", "[]"))
    if notes:
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    failed = design[design["status"] != "done"] if len(design) else design
    if len(failed):
        parts.append("<h2>Runs that did not finish</h2><p>The analysis needs every run of "
                     "the design, so none was made.</p><table><tr><th>run</th><th>point</th>"
                     "<th>seed</th><th>why</th></tr>")
        parts += [f"<tr><td>{r.run}</td><td>{r.point}</td><td>{r.seed}</td>"
                  f"<td>{esc(str(r.error))}</td></tr>" for r in failed.itertuples()]
        parts.append("</table>")
    main, second = MAIN[method], SECOND[method]
    if method == "morris":
        meaning = ("<b>mu*</b> is the mean absolute change in the outcome when one value moves "
                   "across its whole range (measured in steps of part of the range, the other "
                   "values held): how much the value matters. <b>sigma</b> is the spread of "
                   "those changes: large where the value's effect depends on the other values "
                   "or is not a straight line. The dashed line is the replicate noise: the "
                   "standard deviation of one run's outcome over the seeds, at the same values.")
    else:
        meaning = ("<b>ST</b> is the share of the outcome's variance (over the design and the "
                   "seeds) that would go if the value were held fixed, its interactions "
                   "included; <b>S1</b> the share it explains alone. What no value explains "
                   "is run-to-run noise and interactions; the replicate noise row gives that "
                   "noise as a standard deviation.")
    parts.append(f"<h2>Effects on each outcome</h2><p>{meaning} Every interval is a 95% "
                 "bootstrap interval over all seeds' runs together, so it holds run-to-run "
                 "noise as well as the design's own sampling error; a value that cannot move "
                 "an outcome gets 0 exactly, as every seed draws the same random numbers at "
                 "every point.</p>")
    table = res.sensitivity
    for outcome, of in res.outcomes.items():
        mine = table[table["outcome"] == outcome]
        if mine.empty:
            continue
        ranked = res.ranked(outcome)
        noise = mine[mine["parameter"] == NOISE]
        sd = float(noise["estimate"].iloc[0]) if len(noise) else None
        parts.append(f"<h3><code>{esc(outcome)}</code> ({esc(of)})</h3>")
        if ranked["main"].any():
            parts.append(effects_chart(ranked, main, sd if method == "morris" else None,
                                       outcome))
        else:
            parts.append("<p class='note'>No value varied here moves it: every index is "
                         "0.</p>")
        parts.append(f"<table><tr><th>value</th><th>{esc(main)}</th><th>95% interval</th>"
                     f"<th>{esc(second)}</th><th>95% interval</th></tr>")
        parts += [f"<tr><td>{esc(r.parameter)}</td><td>{r.main:.4g}</td><td>{r.main_low:.4g} "
                  f"to {r.main_high:.4g}</td><td>{r.second:.4g}</td><td>{r.second_low:.4g} "
                  f"to {r.second_high:.4g}</td></tr>" for r in ranked.itertuples()]
        if len(noise):
            n = noise.iloc[0]
            parts.append(f"<tr><td>{esc(NOISE)}</td><td>sd {n['estimate']:.4g}</td>"
                         f"<td>{n['low']:.4g} to {n['high']:.4g}</td><td></td><td></td></tr>")
        parts.append("</table>")
    if table.empty:
        parts.append("<p>No analysis was made.</p>")
    return standalone(f"Sensitivity {info.get('scenario', '')}", "\n".join(parts))


def write_sensitivity_report(res, path: Path) -> Path:
    """Write the sensitivity report to `path`, atomically."""
    return write_page(render_sensitivity(res), path)
