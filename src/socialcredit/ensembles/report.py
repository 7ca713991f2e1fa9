"""An ensemble's report: what ran, which replicates finished, and each key daily figure as
its median over the replicates with the 50% and 90% bands around it."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from ..report.html import CSS
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
    parts = [f"<h1>Ensemble: {esc(str(info.get('scenario', '')))}</h1>", "<table>"]
    parts += [f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in rows]
    parts.append("</table>")
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
    body = "\n".join(parts)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Ensemble "
            f"{esc(str(info.get('scenario', '')))}</title><style>{CSS}</style></head><body>"
            f"<main>{body}</main></body></html>")


def write_report(res, path: Path) -> Path:
    """Write the report beside `path` and move it into place."""
    import os

    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(res), encoding="utf-8")
    os.replace(tmp, path)
    return path
