"""The report's plots as inline SVG strings, drawn with matplotlib's Figure API (no pyplot).

Each function takes the run's tables and returns SVG markup ready to paste into HTML, or None
when there is nothing to draw. Figures never touch pyplot or the chosen backend, so writing a
report from a thread or a notebook leaves the caller's figures alone and needs no display.
"""

from __future__ import annotations

import io
import math
import re
from contextlib import contextmanager

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

SIZE = (7.0, 3.2)
MAX_POINTS = 1200  # longest series drawn; longer runs are thinned evenly to keep the file small
STYLE = {
    "svg.fonttype": "none",  # text as <text>, not glyph paths: far smaller files
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}
# matplotlib writes an XML prolog, a DOCTYPE naming the W3C DTD and RDF metadata with
# purl.org links; none belong inside HTML, and the links would look like external resources.
_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*|<metadata>.*?</metadata>\s*",
                     re.DOTALL)


def col(df: pd.DataFrame, name: str) -> pd.Series:
    """Column `name` of `df` as numbers, or zeros if the table lacks it (older or empty runs)."""
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").fillna(0)
    return pd.Series(np.zeros(len(df)), index=df.index)


def _thin(daily: pd.DataFrame) -> pd.DataFrame:
    """Every k-th day (and the last) when a run is longer than MAX_POINTS days."""
    n = len(daily)
    if n <= MAX_POINTS:
        return daily
    keep = np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(np.int64))
    return daily.iloc[keep]


def _x(daily: pd.DataFrame, ax) -> np.ndarray:
    """The x values of a daily series: dates when the table has them, else day numbers."""
    if "date" in daily.columns:
        x = pd.to_datetime(daily["date"], errors="coerce")
        if x.notna().all():
            loc = AutoDateLocator(minticks=3, maxticks=8)
            ax.xaxis.set_major_locator(loc)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
            return x.to_numpy()
    ax.set_xlabel("day")
    return col(daily, "day").to_numpy()


_captured: dict[str, Figure] | None = None
"""While `capture()` is open, the charts themselves instead of their SVG."""


@contextmanager
def capture():
    """Collect the report's charts as matplotlib figures, by name (`Results.plot`)."""
    global _captured
    _captured = {}
    try:
        yield _captured
    finally:
        _captured = None


def _svg(fig: Figure, name: str) -> str:
    """Render `fig` as inline SVG; ids are salted by `name` so plots on one page never clash."""
    if _captured is not None:
        _captured[name] = fig
        return f"<!-- chart {name} -->"
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"socialcredit-{name}"}):
        fig.savefig(buf, format="svg",
                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _PROLOG.sub("", buf.getvalue()).strip()


def _figure(ncols: int = 1) -> tuple[Figure, list]:
    """A report-sized figure with `ncols` axes side by side."""
    fig = Figure(figsize=SIZE, layout="tight")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def grade_shares(daily: pd.DataFrame, grades: list[str]) -> str | None:
    """Stacked area of each grade's share of scored citizens per day, best grade on top."""
    if daily.empty or not grades:
        return None
    with matplotlib.rc_context(STYLE):
        d = _thin(daily)
        fig, (ax,) = _figure()
        x = _x(d, ax)
        scored = col(d, "scored").to_numpy(dtype=float)
        denom = np.where(scored > 0, scored, np.nan)
        shares = [np.nan_to_num(col(d, f"grade_{g}").to_numpy(dtype=float) / denom)
                  for g in grades]
        cmap = colormaps["RdYlGn"]
        n = len(grades)
        colors = [cmap(0.92 - 0.84 * i / max(n - 1, 1)) for i in range(n)]  # best = green
        # stackplot stacks from the bottom, so the worst grade goes first
        polys = ax.stackplot(x, shares[::-1], colors=colors[::-1], labels=grades[::-1],
                             linewidth=0)
        ax.set_ylim(0, 1)
        if len(x) > 1:
            ax.set_xlim(x[0], x[-1])
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel("share of scored citizens")
        # a dominant grade can hide the rest, so the legend gives each grade's last share
        labels = [f"{g}  {_share(s[-1])}" for g, s in zip(grades, shares, strict=True)]
        ax.legend(polys[::-1], labels, loc="center left", bbox_to_anchor=(1.01, 0.5),
                  title="grade, last day")
        return _svg(fig, "grades")


def _share(x: float) -> str:
    """A share as a short percentage that keeps small but non-zero shares visible."""
    pct = 100 * float(x)
    if pct in (0, 100) or not np.isfinite(pct):
        return f"{pct:.0f}%"
    if 0 < pct < 0.001:
        return "<0.001%"
    if pct < 10:  # two digits: 2.6%, not 3%
        return f"{pct:.2g}%"
    text, digits = f"{pct:.0f}", 0
    while text == "100" and digits < 4:  # 99.94% is not everyone
        digits += 1
        text = f"{pct:.{digits}f}"
    return f"{text}%"


def _nice(step: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 25, 50, ... that is at least `step`."""
    if step <= 1:
        return 1
    base = 10 ** math.floor(math.log10(step))
    for m in (1, 2, 2.5, 5, 10):
        if m * base >= step and float(m * base).is_integer():
            return int(m * base)
    return int(10 * base)


def score_bins(scores: np.ndarray, target: int = 60) -> np.ndarray:
    """Bin edges on whole points covering `scores`, about `target` bins, a round width."""
    lo, hi = int(np.min(scores)), int(np.max(scores))
    width = _nice((hi - lo + 1) / target)
    start = math.floor(lo / width) * width
    stop = (math.floor(hi / width) + 1) * width
    if stop - start < 10 * width:  # a narrow spread: pad so a lone spike has context
        pad = (10 * width - (stop - start)) // (2 * width) * width
        start, stop = start - pad, stop + pad
    return np.arange(start, stop + width, width)


def score_distribution(hist: pd.DataFrame) -> str | None:
    """Step histograms of scores on the first and last day, sharing one set of bins."""
    if hist.empty or not {"when", "score", "count"} <= set(hist.columns):
        return None
    h = hist[pd.to_numeric(hist["count"], errors="coerce").fillna(0) > 0]
    if h.empty:
        return None
    scores = h["score"].to_numpy(dtype=np.int64)
    edges = score_bins(scores)
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        styles = {"start": ("#7f7f7f", "--"), "end": ("#1f4e9c", "-")}
        for when, (color, ls) in styles.items():
            part = h[h["when"] == when]
            if part.empty:
                continue
            counts, _ = np.histogram(part["score"].to_numpy(dtype=np.int64), bins=edges,
                                     weights=part["count"].to_numpy(dtype=float))
            ax.stairs(counts, edges, color=color, linestyle=ls, linewidth=1.4,
                      label=f"{when} ({int(part['count'].sum()):,} scored)")
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.7)
        width = int(edges[1] - edges[0])
        ax.set_xlabel(f"score (bins of {width} point{'' if width == 1 else 's'})")
        ax.set_ylabel("citizens (log scale)")
        ax.legend(loc="upper left")
        return _svg(fig, "scores")


def distinct(frame: pd.DataFrame, series: list[tuple[str, str]], merge: bool = True
             ) -> tuple[list[tuple[str, str]], list[str]]:
    """The series worth drawing, from (column, label) pairs: columns the frame lacks are
    skipped, a series that stays 0 throughout is left out (its label comes back in the second
    list, for a sentence), and with `merge` a series equal to an earlier one at every point
    is drawn once, its label joined to that one's ("listed now = on blacklist")."""
    kept: list[tuple[str, list[str], np.ndarray]] = []
    zero: list[str] = []
    for column, label in series:
        if column not in frame.columns:
            continue
        v = col(frame, column).to_numpy()
        if not v.any():
            zero.append(label)
            continue
        same = next((k for k in kept if merge and np.array_equal(k[2], v)), None)
        if same is not None:
            same[1].append(label)
        else:
            kept.append((column, [label], v))
    return [(c, " = ".join(labels)) for c, labels, _ in kept], zero


LIST_STYLES = {"listed": {"color": "#b2182b"},
               "listed_cumulative": {"color": "#4d4d4d", "linestyle": "--"}}


def list_size(daily: pd.DataFrame, series: list[tuple[str, str]]) -> str | None:
    """People on a blacklist each day, everyone ever listed, and each list's listings in
    force when there are several: one line per (column, label) of `series`."""
    if daily.empty or not series:
        return None
    with matplotlib.rc_context(STYLE):
        d = _thin(daily)
        fig, (ax,) = _figure()
        x = _x(d, ax)
        for column, label in series:
            style = LIST_STYLES.get(column, {"linewidth": 0.9})
            ax.plot(x, col(d, column), label=label, drawstyle="steps-post", **style)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("citizens")
        ax.legend(loc="upper left")
        return _svg(fig, "lists")


def gate_denials(totals: pd.DataFrame, kinds: list[str] | None = None) -> str | None:
    """Bars of total denials and perks per gate over the whole run (only the `kinds` named,
    "denied" and "perks", when given)."""
    kinds = ["denied", "perks"] if kinds is None else kinds
    if totals.empty or not kinds or not any(totals[k].sum() for k in kinds):
        return None
    bars_of = [(key, color, label) for key, color, label in
               (("denied", "#b2182b", "denied"), ("perks", "#2166ac", "perk granted"))
               if key in kinds]
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        y = np.arange(len(totals))
        h = 0.76 / len(bars_of)
        offsets = [(i - (len(bars_of) - 1) / 2) * h for i in range(len(bars_of))]
        for off, (key, color, label) in zip(offsets, bars_of, strict=True):
            bars = ax.barh(y + off, totals[key], height=h, color=color, label=label)
            ax.bar_label(bars, labels=[f"{v:,}" if v else "" for v in totals[key]],
                         padding=2, fontsize=7)
        ax.set_yticks(y, totals["gate"].tolist())
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(left=0)
        ax.margins(x=0.08)
        ax.set_xlabel("times over the run")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _svg(fig, "gates")


WRONGFUL_COLORS = {"wrongful_penalties": "#d6604d", "wrongful_listings": "#762a83",
                   "association_penalties": "#1b7837"}


def wrongful(daily: pd.DataFrame, series: list[tuple[str, str]] | None = None,
             name: str = "wrongful") -> str | None:
    """Running totals of wrongful penalties and wrongful listings (or the (column, label)
    pairs of `series`), one panel each."""
    series = series if series is not None else [("wrongful_penalties", "wrongful penalties"),
                                                ("wrongful_listings", "wrongful listings")]
    if daily.empty or not series:
        return None
    with matplotlib.rc_context(STYLE):
        fig, axes = _figure(len(series))
        full = daily.assign(**{f"_{c}": col(daily, c).cumsum() for c, _ in series})
        d = _thin(full)
        for ax, (column, label) in zip(axes, series, strict=True):
            x = _x(d, ax)
            key = f"_{column}"
            ax.plot(x, d[key], color=WRONGFUL_COLORS.get(column, "#4d4d4d"),
                    drawstyle="steps-post")
            ax.set_title(f"{label}, cumulative", fontsize=9)
            ax.set_ylim(bottom=0, top=max(1.0, float(d[key].max()) * 1.05))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        return _svg(fig, name)


HARM_LINES = (("wrongful_penalties", "wrongful penalties", "#d6604d"),
              ("wrongful_listings", "wrongful listings", "#762a83"),
              ("association_penalties", "association penalties", "#1b7837"))


def harm_apart(daily: pd.DataFrame, keys: list[str], ratio: float = 20) -> bool:
    """Whether the running totals of `keys` end too far apart (the largest over `ratio` times
    the smallest) to read on one scale: the small ones would lie flat on the axis."""
    ends = [float(col(daily, k).sum()) for k in keys]
    return len(ends) > 1 and max(ends) > ratio * max(min(ends), 1.0)


def harm_over_time(daily: pd.DataFrame, only: list[str] | None = None) -> str | None:
    """Running totals of wrongful penalties, wrongful listings and association penalties
    (those named in `only`, when given): on one scale, or a panel each when their sizes are
    too far apart for one."""
    lines = [line for line in HARM_LINES if line[0] in daily.columns
             and (only is None or line[0] in only)]
    if daily.empty or not lines:
        return None
    if harm_apart(daily, [k for k, _, _ in lines]):
        return wrongful(daily, [(k, label) for k, label, _ in lines], name="harm")
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        full = daily.assign(**{f"_{k}": col(daily, k).cumsum() for k, _, _ in lines})
        d = _thin(full)
        x = _x(d, ax)
        for key, label, color in lines:
            ax.plot(x, d[f"_{key}"], color=color, drawstyle="steps-post",
                    label=f"{label} ({int(full[f'_{key}'].iloc[-1]):,})")
        top = max(float(d[[f"_{k}" for k, _, _ in lines]].to_numpy().max()), 1.0)
        ax.set_ylim(bottom=0, top=top * 1.05)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("cumulative count")
        ax.legend(loc="upper left", title="total over the run")
        return _svg(fig, "harm")


def expression(daily: pd.DataFrame, window: int = 7) -> str | None:
    """Speech acts per day as a `window`-day rolling mean, to show chilling; None if none."""
    if daily.empty or "expression_acts" not in daily.columns:
        return None
    acts = col(daily, "expression_acts")
    if not acts.any():
        return None
    with matplotlib.rc_context(STYLE):
        full = daily.assign(_raw=acts, _mean=acts.rolling(window, min_periods=1).mean())
        d = _thin(full)
        fig, (ax,) = _figure()
        x = _x(d, ax)
        ax.plot(x, d["_raw"], color="#bdbdbd", linewidth=0.7, label="each day")
        ax.plot(x, d["_mean"], color="#2166ac", linewidth=1.6,
                label=f"{window}-day rolling mean")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("expression acts per day")
        ax.legend(loc="upper right")
        return _svg(fig, "expression")


AGE_COLORS = {"child": "#1b9e77", "adult": "#d95f02", "elder": "#7570b3", "firm": "#e7298a"}
REGION_STYLES = {"urban": "-", "rural": "--"}


def disparate_impact(over_time: pd.DataFrame | None, grades: list[str],
                     grade_panel: bool = True) -> str | None:
    """Share listed and share in the lowest grades over time, one line per region and age group.

    Groups with no scored citizens get no line in the grade panel: a share of nobody is not 0%;
    a group whose share is 0 at every snapshot gets no line in that panel (the caller says so).
    Without `grade_panel` (nobody holds points) only the share listed is drawn.
    """
    need = {"date", "region_type", "age_group", "citizens", "listed"}
    if over_time is None or over_time.empty or not need <= set(over_time.columns):
        return None
    low = grades[-2:] if len(grades) > 2 else grades[-1:]
    t = over_time.assign(date=pd.to_datetime(over_time["date"], errors="coerce"))
    t = t[t["date"].notna()].sort_values("date", kind="stable")
    if t.empty:
        return None
    citizens = col(t, "citizens").to_numpy(dtype=float)
    listed = col(t, "listed").to_numpy(dtype=float) / np.where(citizens > 0, citizens, np.nan)
    scored = col(t, "scored").to_numpy(dtype=float)
    lowc = sum((col(t, f"grade_{g}") for g in low if f"grade_{g}" in t.columns),
               start=pd.Series(np.zeros(len(t)), index=t.index)).to_numpy(dtype=float)
    t = t.assign(_listed=listed,
                 _low=np.where(scored > 0, lowc / np.where(scored > 0, scored, 1), np.nan))
    grade_panel = grade_panel and bool(low) and all(f"grade_{g}" in t.columns for g in low) \
        and bool((scored > 0).any())
    with matplotlib.rc_context(STYLE):
        fig, axes = _figure(2 if grade_panel else 1)
        panels = [(axes[0], "_listed", "share listed")]
        if grade_panel:
            panels.append((axes[1], "_low", f"share in {'/'.join(low)} (of scored)"))
        for ax, key, title in panels:
            x_loc = AutoDateLocator(minticks=2, maxticks=6)
            ax.xaxis.set_major_locator(x_loc)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(x_loc))
            for (region, age), g in t.groupby(["region_type", "age_group"], sort=False):
                if not (g[key].fillna(0) > 0).any():
                    continue  # no scored citizens, or a share of 0 at every snapshot
                ax.plot(g["date"].to_numpy(), g[key].to_numpy(), marker="o", markersize=2.5,
                        linewidth=1.2, color=AGE_COLORS.get(str(age), "#4d4d4d"),
                        linestyle=REGION_STYLES.get(str(region), ":"), label=f"{region} {age}")
            ax.set_title(title, fontsize=9)
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        handles, labels = axes[0].get_legend_handles_labels()
        if grade_panel:  # groups drawn only in the grade panel still need a legend entry
            for h, lab in zip(*axes[1].get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="outside right center", title="region, age group")
        return _svg(fig, "impact")


def region_listed(last: pd.DataFrame, who: str = "citizens",
                  on: str = "on a list") -> str | None:
    """Sorted horizontal bars: each region's share listed (`share` of `members`, `on_list`
    of them; urban solid, rural hatched), highest on top; None when nobody is listed."""
    if last.empty or not (last["on_list"] > 0).any():
        return None
    t = last.sort_values(["share", "region"], ascending=[False, True], kind="stable")
    n = len(t)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(SIZE[0], max(1.6, 0.5 + 0.16 * n)), layout="constrained")
        ax = fig.subplots()
        y = np.arange(n)
        rural = (t["region_type"] == "rural").to_numpy()
        bars = ax.barh(y, t["share"].to_numpy(), height=0.72, color="#b2182b",
                       edgecolor="#b2182b", linewidth=0.6)
        for bar, r in zip(bars, rural, strict=True):
            if r:
                bar.set_facecolor("#f4c7c3")
                bar.set_hatch("////")
        ax.bar_label(bars, labels=[f"{_share(v)} ({int(c):,})" for v, c in
                                   zip(t["share"], t["on_list"], strict=True)],
                     padding=2, fontsize=6.5)
        ax.set_yticks(y, t["region"].tolist(), fontsize=7 if n > 20 else 8)
        ax.set_ylim(n - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.set_xlim(left=0)
        ax.margins(x=0.15)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_xlabel(f"share of the region's {who} {on} at the end of the run "
                      "(number listed in brackets)")
        return _svg(fig, "regions")


def calibration_fit(daily: pd.DataFrame, fit: pd.DataFrame, scale: float) -> str | None:
    """Each calibration target over time: the model (line, real scale) and the reported
    figures (dots; excluded ones as crosses)."""
    if daily.empty or fit.empty:
        return None
    targets = list(dict.fromkeys(fit["target"]))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(SIZE[0], 2.6 * ((len(targets) + 1) // 2)), layout="constrained")
        axes = fig.subplots((len(targets) + 1) // 2, min(2, len(targets)), squeeze=False)
        axes = list(axes.ravel())
        d = _thin(daily)
        for ax, target in zip(axes, targets, strict=False):
            rows = fit[fit["target"] == target]
            column = str(rows["column"].iloc[0])
            if column in daily.columns:
                series = col(daily, column)
            else:
                series = col(daily, column.removesuffix("_cumulative")).cumsum()
            x = _x(d, ax)
            ax.plot(x, series.loc[d.index] * scale / 1e6, color="#1f4e9c", label="model")
            used = rows["used"].astype(bool)
            when = pd.to_datetime(rows["date"]).to_numpy()
            ax.plot(when[used.to_numpy()], rows.loc[used, "reported"] / 1e6, "o",
                    color="#b2182b", markersize=4, label="reported")
            if (~used).any():
                ax.plot(when[~used.to_numpy()], rows.loc[~used, "reported"] / 1e6, "x",
                        color="#777777", markersize=5, label="reported, excluded")
            ax.set_title(target, fontsize=8.5)
            ax.set_ylabel("millions")
            ax.set_ylim(bottom=0)
            ax.legend(loc="upper left", fontsize=7)
        for ax in axes[len(targets):]:
            ax.set_visible(False)
        return _svg(fig, "calibration")


def approval(daily: pd.DataFrame, over_time: pd.DataFrame | None = None,
             start: float | None = None) -> str | None:
    """Share who approve of the system each day (black), each region type and age group that
    holds a view at each snapshot (urban solid, rural dashed), and the starting share (dotted);
    None when the run recorded no approval."""
    if daily.empty or "approval" not in daily.columns:
        return None
    share = pd.to_numeric(daily["approval"], errors="coerce")
    if not share.notna().any():
        return None
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        d = _thin(daily.assign(_approval=share))
        x = _x(d, ax)
        values = [share.to_numpy(dtype=float)]
        if start is not None:
            ax.axhline(start, color="#999999", linestyle=":", linewidth=1,
                       label=f"start ({100 * start:.1f}%)")
            values.append(np.array([start]))
        ax.plot(x, d["_approval"], color="#222222", linewidth=1.8,
                label=f"all who hold a view (last day {100 * share.dropna().iloc[-1]:.1f}%)")
        if over_time is not None and {"date", "region_type", "age_group", "approval"} <= set(
                over_time.columns):
            t = over_time.assign(date=pd.to_datetime(over_time["date"], errors="coerce"),
                                 _a=pd.to_numeric(over_time["approval"], errors="coerce"))
            t = t[t["date"].notna() & t["_a"].notna()].sort_values("date", kind="stable")
            for (region, age), g in t.groupby(["region_type", "age_group"], sort=False):
                ax.plot(g["date"].to_numpy(), g["_a"].to_numpy(), marker="o", markersize=2.5,
                        linewidth=1.0, color=AGE_COLORS.get(str(age), "#4d4d4d"),
                        linestyle=REGION_STYLES.get(str(region), ":"),
                        label=f"{region} {PLURAL_AGE.get(str(age), age)}")
                values.append(g["_a"].to_numpy(dtype=float))
        every = np.concatenate(values)
        every = every[np.isfinite(every)]
        lo, hi = float(every.min()), float(every.max())
        mid, half = (lo + hi) / 2, max((hi - lo) / 2 * 1.15, 0.05)  # never less than ±5 points
        ax.set_ylim(max(0.0, mid - half), min(1.0, mid + half))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_ylabel("share who approve")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7.5)
        return _svg(fig, "approval")


PLURAL_AGE = {"child": "children", "adult": "adults", "elder": "elders", "firm": "firms"}


def disclosure(daily: pd.DataFrame, now: list[tuple[str, str]],
               running: list[tuple[str, str]]) -> str | None:
    """Listings public now each day (the (column, label) pairs of `now`) in one panel, and
    running totals of repairs (those of `running`) in another; None when neither has a
    series to draw."""
    panels = [p for p in ((now, False, "public now"), (running, True, "repairs, cumulative"))
              if p[0]]
    if daily.empty or not panels:
        return None
    colors = {"disclosed": "#b2182b", "wrongfully_disclosed": "#762a83",
              "repairs_applied": "#4d4d4d", "repairs_granted": "#1b7837"}
    with matplotlib.rc_context(STYLE):
        fig, axes = _figure(len(panels))
        full = daily.assign(**{f"_{c}": col(daily, c).cumsum() if cum else col(daily, c)
                               for series, cum, _ in panels for c, _ in series})
        d = _thin(full)
        for ax, (series, _, title) in zip(axes, panels, strict=True):
            x = _x(d, ax)
            for column, label in series:
                ax.plot(x, d[f"_{column}"], color=colors.get(column, "#4d4d4d"),
                        drawstyle="steps-post",
                        label=f"{label} ({int(full[f'_{column}'].iloc[-1]):,})")
            ax.set_title(title, fontsize=9)
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(loc="upper left", title="last day", fontsize=7.5)
        return _svg(fig, "disclosure")
