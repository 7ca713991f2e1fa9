"""A prediction's report: each target figure's median over the posterior draws with its 50%
and 90% intervals, the reported figures over them, and which fell inside."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from ..report.html import facts_table, standalone, write_page
from ..report.plots import STYLE, _figure, _svg, _x

MARKS = {"used": ("o", "#b2182b", "reported, used in the fit"),
         "held": ("D", "#e08214", "reported, held out of the fit"),
         "bad": ("x", "#777777", "reported, inconsistent (a running total that falls)")}


def chart(band: pd.DataFrame, reported: pd.DataFrame, target: str) -> str:
    """One target column: median, 50% and 90% intervals (millions), reported figures on top."""
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        x = _x(band, ax)
        ax.fill_between(x, band["p5"] / 1e6, band["p95"] / 1e6, color="#4c72b0", alpha=0.18,
                        lw=0, label="90% interval")
        ax.fill_between(x, band["p25"] / 1e6, band["p75"] / 1e6, color="#4c72b0", alpha=0.35,
                        lw=0, label="50% interval")
        ax.plot(x, band["p50"] / 1e6, color="#1f3d7a", lw=1.4, label="median")
        kind = np.where(~reported["consistent"].astype(bool), "bad",
                        np.where(reported["held_out"].astype(bool), "held", "used"))
        for k, (marker, color, label) in MARKS.items():
            part = reported[kind == k]
            if len(part):
                ax.plot(pd.to_datetime(part["date"]).to_numpy(), part["reported"] / 1e6,
                        marker, color=color, markersize=4.5, label=label)
        ax.set_ylabel("millions")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", fontsize=7)
        return _svg(fig, f"predict-{target}")


def render(res) -> str:
    """The report's HTML."""
    from .predict import coverage

    esc = html.escape
    info, runs, rep = res.info, res.runs, res.reported
    done = int((runs["status"] == "done").sum())
    cov = coverage(rep)
    rows = [("calibration", info.get("calibration", "")), ("targets", info.get("targets", "")),
            ("until", info.get("until", "")),
            ("fit used figures up to", info.get("fit_until") or "unknown"),
            ("posterior draws run", f"{done} of {len(runs)} (from {info.get('posterior_draws')} "
             f"in posterior.csv), seeds {info.get('first_seed')} to "
             f"{int(info.get('first_seed', 0)) + len(runs) - 1}"),
            ("population", f"{int(info.get('population', 0)):,} simulated citizens, "
             f"{float(info.get('scale', 1)):,.0f} people each"),
            ("held-out figures inside the intervals",
             f"{cov['in_50']} of {cov['held_out']} in the 50%, {cov['in_90']} of "
             f"{cov['held_out']} in the 90%" if cov["held_out"] else "none held out"),
            ("wall time", f"{float(info.get('wall_seconds', 0)):,.1f} s")]
    parts = [f"<h1>Prediction: {esc(str(info.get('scenario', '')))}</h1>",
             "<p>Each posterior draw of the calibrated values ran once with a fresh seed, so an "
             "interval holds both what the record leaves open about the values and the model's "
             "run-to-run noise. Figures are at real scale.</p>", facts_table(rows)]
    for target in dict.fromkeys(res.predictions["column"]):
        band = res.predictions[res.predictions["column"] == target].reset_index(drop=True)
        parts.append(f"<h2><code>{esc(str(target))}</code></h2>")
        parts.append(chart(band, rep[rep["target"] == target], str(target)))
    if len(rep):
        parts.append("<h2>Reported figures against the intervals</h2><table><tr><th>date</th>"
                     "<th>figure</th><th>reported</th><th>median</th><th>50% interval</th>"
                     "<th>90% interval</th><th>fit</th></tr>")
        for r in rep.itertuples():
            fit = ("inconsistent" if not r.consistent else "held out" if r.held_out
                   else "used")
            parts.append(
                f"<tr><td>{esc(r.date)}</td><td>{esc(r.target)}</td><td>{r.reported:,.0f}</td>"
                f"<td>{r.p50:,.0f}</td><td>{r.p25:,.0f} to {r.p75:,.0f}"
                f"{' ✓' if r.in_50 else ''}</td><td>{r.p5:,.0f} to {r.p95:,.0f}"
                f"{' ✓' if r.in_90 else ''}</td><td>{fit}</td></tr>")
        parts.append("</table>")
    failed = runs[runs["status"] != "done"]
    if len(failed):
        parts.append("<h2>Draws that did not finish</h2><ul>")
        parts += [f"<li>draw {r.draw} (seed {r.seed}): {esc(str(r.error))}</li>"
                  for r in failed.itertuples()]
        parts.append("</ul>")
    return standalone(f"Prediction {info.get('scenario', '')}", "\n".join(parts))


def write_report(res, path: Path) -> Path:
    """Write the report to `path`, atomically."""
    return write_page(render(res), path)
