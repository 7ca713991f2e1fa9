"""Calibrate: fit the values a scenario marks as calibratable to a series of reported figures.

Targets are a CSV of dated figures (SOURCES.md C for the national list). Each trial runs the
scenario at a reduced population with the same seed, so every trial draws the same random
numbers (counter-based streams: a changed value changes counts, not stream keys) and the
objective changes smoothly with the values. The objective is the sum of squared log ratios
model / reported over the target cells, minimised by scipy's bounded least squares on the
values scaled to [0, 1] (log-scaled where the scenario says `log = true`). The fit is then
confirmed by one run at a larger population, whose folder gets the calibration tables and a
calibration section in its report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..scenario.schema import Scenario, resolve_path
from .compare import probe_write

TARGET_NAMES = {
    "people_listed_cumulative": "listed_cumulative",
    "flights_blocked_cumulative": "flights_denied_cumulative",
    "rail_blocked_cumulative": "rail_denied_cumulative",
}
"""Column names of the reported series (SOURCES.md C) and the `daily` columns they are
compared with. Any other target column must be a `daily` column, or `<column>_cumulative` for
the running total of a daily count (e.g. exits_complied_cumulative)."""

MAX_FIGURE = 1e15
"""Largest reported figure a targets file may give (a million times China's population)."""

SENSITIVITY_STEP = 0.10
"""Each fitted value is moved by this fraction up and down to show how much the fit hangs on it."""


@dataclass
class Targets:
    """Reported figures in long form: one row per (date, target column) cell."""

    cells: pd.DataFrame  # date, target, column, reported, source, excluded, why
    where: str

    @property
    def used(self) -> pd.DataFrame:
        return self.cells[~self.cells["excluded"]]

    @property
    def last_date(self) -> dt.date:
        return max(self.cells["date"])


@dataclass
class Fit:
    """The outcome of a calibration."""

    scenario: Scenario  # with the fitted values
    params: pd.DataFrame  # path, start, value, lower, upper, log, source, sensitivity
    targets: Targets
    trial_population: int
    seed: int
    days: int
    trials: int
    objective: float
    start_objective: float
    seconds: float
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    trial_model: np.ndarray | None = None  # model figures of the fitted trial, per used cell


def packaged_targets(name: str) -> tuple[str, str]:
    """(where, CSV text) of a targets file shipped with the package."""
    base = resources.files("socialcredit.scenario") / "targets"
    path = base / f"{name}.csv"
    if not path.is_file():
        valid = ", ".join(sorted(p.name[:-4] for p in base.iterdir() if p.name.endswith(".csv")))
        raise UserError(f"no shipped targets {name!r}; valid: {valid}", "targets")
    return f"{name}.csv (shipped)", path.read_text(encoding="utf-8")


def daily_columns(sc: Scenario) -> set[str]:
    """The names of the `daily` columns a run of `sc` writes that a target may name."""
    from ..engine.loop import Simulation

    sim = Simulation(sc, 64, 0)
    sim.run(1)
    return {k for k, v in sim.daily[0].items() if isinstance(v, (int, float)) and k != "day"}


def read_targets(text: str, where: str, sc: Scenario, until: dt.date | None = None,
                 exclude: list[str] | None = None) -> Targets:
    """Parse a targets CSV: `date`, then columns of reported figures; empty cells are no target.

    Columns that name no model figure and hold text (such as `source`) are kept as notes. Every
    cell of a figure column is a number or empty. A figure of 0 or below cannot be compared on
    the log scale of the fit, and a cumulative figure below one reported on an earlier date
    cannot be right: both are excluded, with the reason. `exclude` names more cells to leave
    out: DATE (the whole row) or DATE:COLUMN. Figures after `until` are held out of the fit and
    kept, to check a forecast against.
    """
    try:
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    except csv.Error as e:
        raise UserError(f"not a readable CSV file: {e}", where) from None
    rows = [[c.strip() for c in r] for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise UserError("the targets file is empty; give a header row starting with 'date'",
                        where)
    header = rows[0]
    if "date" not in header:
        raise UserError("no 'date' column; the first row must name the columns: date, then "
                        "reported figures such as " + ", ".join(TARGET_NAMES), where)
    named = [h for h in header if h]
    twice = sorted({h for h in named if named.count(h) > 1})
    if twice:
        raise UserError(f"column {twice[0]!r} appears twice in the header; name each column "
                        "once", where)
    known = daily_columns(sc)
    di = header.index("date")
    start = sc.scenario.start
    longest = start + dt.timedelta(days=36_499)
    figures: dict[int, str] = {}  # column index -> daily column it is compared with
    notes: list[int] = []
    for j, name in enumerate(header):
        if j == di:
            continue
        cells = [r[j] for r in rows[1:] if j < len(r) and r[j]]
        if _figure(name, known):
            figures[j] = _column(name, known, where)
        elif not name and not cells:
            continue  # an empty column, e.g. a trailing comma
        elif cells and all(_number(c) is not None for c in cells):
            _column(name, known, where)  # refuses a figure the model does not report
        else:
            notes.append(j)
    records = []
    seen: dict[tuple[dt.date, str], int] = {}
    for i, r in enumerate(rows[1:], start=2):
        if len(r) > len(header) and any(r[len(header):]):
            raise UserError(f"row {i} has {len(r)} cells but the header names {len(header)} "
                            "columns", where)
        raw = r[di] if di < len(r) else ""
        try:
            date = dt.date.fromisoformat(raw)
        except ValueError:
            raise UserError(f"row {i}: {raw[:40]!r} is not a date; give YYYY-MM-DD",
                            where) from None
        if not start <= date <= longest:
            raise UserError(f"row {i}: date {date} is outside the run; valid: {start} to "
                            f"{longest}", where)
        source = "; ".join(r[j] for j in notes if j < len(r) and r[j])
        for j, column in figures.items():
            if j >= len(r) or not r[j]:
                continue
            name = header[j]
            value = _number(r[j])
            if value is None:
                raise UserError(f"row {i}, column {name!r}: {r[j][:40]!r} is not a number; "
                                "give a finite figure or leave the cell empty", where)
            if abs(value) > MAX_FIGURE:
                raise UserError(f"row {i}, column {name!r}: {value:g} is beyond any count the "
                                f"model reports; valid: up to {MAX_FIGURE:g}", where)
            if (date, name) in seen:
                raise UserError(f"row {i}: {name} for {date} is also given in row "
                                f"{seen[date, name]}; give one figure per date", where)
            seen[date, name] = i
            why = ("a figure of 0 or below cannot be fitted: the fit compares model and "
                   "reported figures as log ratios" if value <= 0 else
                   f"after --until {until}: held out of the fit"
                   if until is not None and date > until else "")
            records.append({"date": date, "target": name, "column": column,
                            "reported": value, "source": source, "excluded": bool(why),
                            "why": why})
    if not records:
        raise UserError("no reported figures; give at least one numeric column besides "
                        "'date'", where)
    cells = pd.DataFrame(records).sort_values(["target", "date"], kind="stable")
    cells = cells.reset_index(drop=True)
    _inconsistent(cells)
    for spec in exclude or []:
        _exclude(cells, spec)
    if cells["excluded"].all():
        raise UserError("every figure is excluded (" + cells["why"].iloc[0] + "); nothing is "
                        "left to fit", where)
    return Targets(cells, where)


def _number(text: str) -> float | None:
    try:
        v = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _figure(name: str, known: set[str]) -> bool:
    """Whether a column name names a figure the model reports."""
    column = TARGET_NAMES.get(name, name)
    return column in known or (column.endswith("_cumulative")
                               and column.removesuffix("_cumulative") in known)


def _column(name: str, known: set[str], where: str) -> str:
    """The daily column (or `X_cumulative` running total of daily column X) a target names."""
    column = TARGET_NAMES.get(name, name)
    if column in known or (column.endswith("_cumulative")
                           and column.removesuffix("_cumulative") in known):
        return column
    valid = ", ".join(list(TARGET_NAMES) + sorted(known))
    raise UserError(f"column {name!r} is not a figure the model reports; valid: {valid}, or "
                    "COLUMN_cumulative for the running total of a daily count", where)


def _inconsistent(cells: pd.DataFrame) -> None:
    """Exclude cumulative figures that fall below one reported for an earlier date."""
    for _, idx in cells.groupby("target").groups.items():
        part = cells.loc[idx].sort_values("date")
        if not part["column"].iloc[0].endswith("_cumulative"):
            continue
        best, best_date = -math.inf, None
        for i, r in part.iterrows():
            if r["excluded"]:
                continue
            if r["reported"] < best:
                cells.loc[i, "excluded"] = True
                cells.loc[i, "why"] = (f"a running total cannot fall: {r['reported']:,.0f} is "
                                       f"below the {best:,.0f} reported for {best_date}")
            else:
                best, best_date = r["reported"], r["date"]


def _exclude(cells: pd.DataFrame, spec: str) -> None:
    date_text, _, target = spec.partition(":")
    try:
        date = dt.date.fromisoformat(date_text.strip())
    except ValueError:
        raise UserError(f"{spec!r} is not DATE or DATE:COLUMN, e.g. 2018-03-31 or "
                        "2018-03-31:flights_blocked_cumulative", "--exclude") from None
    hit = cells["date"] == date
    if target:
        hit &= cells["target"] == target.strip()
    if not hit.any():
        valid = ", ".join(sorted({f"{d}:{t}" for d, t in zip(cells["date"], cells["target"],
                                                              strict=True)}))
        raise UserError(f"no reported figure at {spec!r}; valid: {valid}", "--exclude")
    cells.loc[hit & ~cells["excluded"], "why"] = "excluded with --exclude"
    cells.loc[hit, "excluded"] = True


# -- values of a scenario ----------------------------------------------------------------------

def with_values(sc: Scenario, values: dict[str, float], keep_calibrate: bool = False) -> Scenario:
    """`sc` with each path set to its value (integers rounded where the field is whole)."""
    data = sc.model_dump(mode="json")
    if not keep_calibrate:
        data["calibrate"] = []
    for path, value in values.items():
        old, why = resolve_path(data, path)
        if why:
            raise UserError(why, path)
        parent_path, _, last = path.rpartition(".")
        parent, _ = resolve_path(data, parent_path)
        parent[last] = int(round(value)) if isinstance(old, int) else float(value)
        if path.startswith("society.regions_from."):
            data["society"]["regions"] = []  # rebuilt from the changed table settings
    return Scenario.model_validate(data)


def value_of(sc: Scenario, path: str) -> float:
    value, why = resolve_path(sc.model_dump(mode="json"), path)
    if why:
        raise UserError(why, path)
    return float(value)


class _Space:
    """Maps the calibratable values to [0, 1]^n and back (log-scaled where asked)."""

    def __init__(self, sc: Scenario):
        self.entries = list(sc.calibrate)
        self.lo = np.array([self._t(c, c.lower) for c in self.entries])
        self.hi = np.array([self._t(c, c.upper) for c in self.entries])

    @staticmethod
    def _t(c, v: float) -> float:
        return math.log(v) if c.log else v

    def to_x(self, values: list[float]) -> np.ndarray:
        t = np.array([self._t(c, v) for c, v in zip(self.entries, values, strict=True)])
        return np.clip((t - self.lo) / (self.hi - self.lo), 0.0, 1.0)

    def to_values(self, x: np.ndarray) -> dict[str, float]:
        t = self.lo + np.clip(x, 0.0, 1.0) * (self.hi - self.lo)
        return {c.path: float(math.exp(v) if c.log else v)
                for c, v in zip(self.entries, t, strict=True)}


def model_figures(sc: Scenario, population: int, seed: int, days: int,
                  cells: pd.DataFrame) -> np.ndarray:
    """Run `sc` and return the model's figure (at real scale) for each target cell."""
    from ..engine.loop import Simulation

    sim = Simulation(sc, population, seed)
    sim.run(days)
    return figures_from_daily(pd.DataFrame(sim.daily), sim.plan.scale, sc, cells)


def figures_from_daily(daily: pd.DataFrame, scale: float, sc: Scenario,
                       cells: pd.DataFrame) -> np.ndarray:
    """The model's figure for each target cell from a `daily` table, times `scale`."""
    start = pd.Timestamp(sc.scenario.start)
    out = np.empty(len(cells))
    cache: dict[str, np.ndarray] = {}
    for k, (date, column) in enumerate(zip(cells["date"], cells["column"], strict=True)):
        if column not in cache:
            if column in daily.columns:
                cache[column] = daily[column].to_numpy(dtype=np.float64)
            else:
                base = column.removesuffix("_cumulative")
                cache[column] = np.cumsum(daily[base].to_numpy(dtype=np.float64))
        day = (pd.Timestamp(date) - start).days
        series = cache[column]
        out[k] = series[day] * scale if 0 <= day < len(series) else np.nan
    return out


def residuals(model: np.ndarray, reported: np.ndarray, scale: float) -> np.ndarray:
    """Log ratios model / reported (a model figure of zero counts as half a citizen)."""
    return np.log(np.maximum(model, 0.5 * scale) / reported)


def calibrate(sc: Scenario, targets: Targets, trial_population: int, seed: int = 0,
              days: int | None = None, max_trials: int = 300,
              progress: Callable[[int, int, float], None] | None = None) -> Fit:
    """Fit the scenario's [[calibrate]] values to `targets` by bounded least squares."""
    from scipy.optimize import least_squares

    if not sc.calibrate:
        raise UserError(f"scenario {sc.scenario.name!r} marks no values as calibratable; add "
                        "[[calibrate]] entries (path, lower, upper, source)", "calibrate")
    t0 = time.perf_counter()
    days = days or (targets.last_date - sc.scenario.start).days + 1
    used = targets.used
    reported = used["reported"].to_numpy()
    space = _Space(sc)
    start_values = [value_of(sc, c.path) for c in sc.calibrate]
    scale = max(1.0, sc.society.population / trial_population)
    seen: dict[bytes, np.ndarray] = {}
    best = {"objective": math.inf, "x": None, "model": None}
    trials = [0]

    class _Budget(Exception):
        pass

    def fun(x: np.ndarray) -> np.ndarray:
        key = np.round(x, 12).tobytes()
        if key in seen:
            return seen[key]
        if trials[0] >= max_trials:
            raise _Budget
        model = model_figures(with_values(sc, space.to_values(x)), trial_population, seed,
                              days, used)
        res = residuals(model, reported, scale)
        trials[0] += 1
        obj = float(res @ res)
        if obj < best["objective"]:
            best.update(objective=obj, x=x.copy(), model=model)
        seen[key] = res
        if progress:
            progress(trials[0], max_trials, best["objective"])
        return res

    x0 = space.to_x(start_values)
    start_res = fun(x0)
    start_objective = float(start_res @ start_res)
    try:
        least_squares(fun, x0, bounds=(0.0, 1.0), method="trf", diff_step=0.01,
                      x_scale=1.0, xtol=1e-3, ftol=1e-4, max_nfev=max_trials)
    except _Budget:
        pass
    if best["x"] is None:
        raise UserError("no trial gave a finite objective; check that the targets are "
                        "positive figures the scenario can produce", "calibrate")
    fitted_values = space.to_values(best["x"])
    fitted = with_values(sc, fitted_values, keep_calibrate=True)
    params = pd.DataFrame([{
        "path": c.path, "start": v0, "value": fitted_values[c.path], "lower": c.lower,
        "upper": c.upper, "log": c.log, "source": c.source,
        "at_bound": bool(np.isclose(best["x"][i], 0.0, atol=1e-3)
                         or np.isclose(best["x"][i], 1.0, atol=1e-3)),
    } for i, (c, v0) in enumerate(zip(sc.calibrate, start_values, strict=True))])
    fit = Fit(scenario=fitted, params=params, targets=targets,
              trial_population=trial_population, seed=seed, days=days, trials=trials[0],
              objective=best["objective"], start_objective=start_objective,
              seconds=time.perf_counter() - t0, trial_model=best["model"])
    return fit


def sensitivity(fit: Fit, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Objective and every target after moving each fitted value by -10% and +10%."""
    sc, used = fit.scenario, fit.targets.used
    reported = used["reported"].to_numpy()
    scale = max(1.0, sc.society.population / fit.trial_population)
    base = fit.trial_model
    values = dict(zip(fit.params["path"], fit.params["value"], strict=True))
    rows = []
    n = 2 * len(values)
    for k, (path, v) in enumerate((p, v) for p, v in values.items() for _ in (0, 1)):
        step = -SENSITIVITY_STEP if k % 2 == 0 else SENSITIVITY_STEP
        model = model_figures(with_values(sc, {**values, path: v * (1 + step)}),
                              fit.trial_population, fit.seed, fit.days, used)
        res = residuals(model, reported, scale)
        for (date, target), m, b in zip(zip(used["date"], used["target"], strict=True), model,
                                        base, strict=True):
            rows.append({"path": path, "change": step, "objective": float(res @ res),
                         "date": date, "target": target, "model": m,
                         "relative_change": m / b - 1 if b else np.nan})
        if progress:
            progress(k + 1, n)
    table = pd.DataFrame(rows)
    summary = table.groupby(["path", "change"], sort=False).agg(
        objective=("objective", "first"),
        largest_target_change=("relative_change", lambda s: float(s.abs().max())))
    for col in ("minus", "plus"):
        step = -SENSITIVITY_STEP if col == "minus" else SENSITIVITY_STEP
        part = summary.xs(step, level="change")
        fit.params[f"objective_{col}10"] = fit.params["path"].map(part["objective"])
        fit.params[f"largest_target_change_{col}10"] = fit.params["path"].map(
            part["largest_target_change"])
    fit.sensitivity = table
    return table


def fit_table(targets: Targets, daily: pd.DataFrame, scale: float, sc: Scenario) -> pd.DataFrame:
    """Every target row: reported, model (at real scale), relative error, used or why not."""
    cells = targets.cells.copy()
    cells["model"] = figures_from_daily(daily, scale, sc, cells)
    reported = cells["reported"].where(cells["reported"] > 0)  # no error relative to 0
    cells["relative_error"] = cells["model"] / reported - 1
    cells["used"] = ~cells["excluded"]
    return cells[["date", "target", "column", "reported", "model", "relative_error", "used",
                  "why", "source"]].sort_values(["date", "target"], kind="stable")


def assumptions(sc: Scenario, targets: Targets) -> list[str]:
    """What the model assumes that the targets cannot confirm, one sentence each."""
    fitted = {c.path for c in sc.calibrate}
    lines = []
    for section in ("acts", "channels", "rules", "lists", "gates"):
        for entry in getattr(sc, section):
            name = getattr(entry, "name", None) or getattr(entry, "act", "")
            for f in entry.assumed:
                path = f"{section}.{name}.{f}"
                if path not in fitted:
                    lines.append(f"{path} is assumed (not in the record and not fitted)")
            exits = getattr(entry, "exits", None)
            if exits is not None:
                for f in exits.assumed:
                    path = f"{section}.{name}.exits.{f}"
                    if path not in fitted:
                        lines.append(f"{path} is assumed (not in the record and not fitted)")
    targeted = set(targets.used["column"])
    unseen = [c for c in ("listed", "exits_complied", "wrongful_listings", "appeals_upheld")
              if c not in targeted and f"{c}_cumulative" not in targeted]
    if unseen:
        lines.append("no target confirms " + ", ".join(unseen) + ": these figures come from "
                     "the model's mechanisms, not from the record")
    for c in sc.calibrate:
        if c.source == "assumed":
            lines.append(f"the bounds of {c.path} are assumed")
    return lines


def tables(fit: Fit, table: pd.DataFrame, confirm_population: int,
           post=None) -> dict[str, pd.DataFrame]:
    """The calibration tables stored beside a confirmation run's results (with `post`, a
    Posterior, also its draws and weighted points)."""
    info = pd.DataFrame([{
        "targets": fit.targets.where, "trial_population": fit.trial_population,
        "confirm_population": confirm_population, "seed": fit.seed, "trials": fit.trials,
        "objective": fit.objective, "start_objective": fit.start_objective,
        "seconds": fit.seconds, "sensitivity_step": SENSITIVITY_STEP,
        "until": str(fit.scenario.scenario.start + dt.timedelta(days=fit.days - 1)),
        "posterior_points": len(post.samples) if post else 0,
        "posterior_draws": len(post.draws) if post else 0,
        "observation_error": post.sigma if post else float("nan"),
        "observation_error_from": post.sigma_from if post else "",
        "run_to_run_noise": post.noise if post else float("nan"),
        "effective_sample_size": post.ess if post else float("nan"),
        "posterior_seconds": post.seconds if post else 0.0,
    }])
    notes = pd.DataFrame({"assumption": assumptions(fit.scenario, fit.targets)})
    sens = fit.sensitivity.copy()
    if len(sens):
        sens["date"] = sens["date"].astype(str)
    fit_rows = table.copy()
    fit_rows["date"] = fit_rows["date"].astype(str)
    out = {"calibration": fit_rows, "calibration_params": fit.params.copy(),
           "calibration_sensitivity": sens, "calibration_info": info,
           "calibration_notes": notes}
    if post:
        out["calibration_posterior"] = post.draws
        out["calibration_samples"] = post.samples
    return out


# -- the fitted scenario as TOML ---------------------------------------------------------------

def to_toml(sc: Scenario, header: str = "") -> str:
    """`sc` as TOML text that loads back to the same scenario (comments are not kept)."""
    data = sc.model_dump()
    society = data["society"]
    if society.get("regions_from"):
        society.pop("regions", None)
    out: list[str] = [f"# {line}".rstrip() for line in header.splitlines()]
    if header:
        out.append("")
    _table(out, "", data, False)
    return "\n".join(out).strip() + "\n"


def _is_tables(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(out: list[str], prefix: str, d: dict, array: bool) -> None:
    if prefix:
        out.append("")
        out.append(f"[[{prefix}]]" if array else f"[{prefix}]")
    for k, v in d.items():
        if v is None or isinstance(v, dict) or _is_tables(v):
            continue
        out.append(f"{k} = {_value(v)}")
    for k, v in d.items():
        if isinstance(v, dict):
            _table(out, f"{prefix}.{k}" if prefix else k, v, False)
    for k, v in d.items():
        if _is_tables(v):
            for x in v:
                _table(out, f"{prefix}.{k}" if prefix else k, x, True)


def _value(v) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# -- the whole command: fit, sensitivity, confirmation run -------------------------------------

Phase = Callable[[str, int, int, str], None]
"""progress(phase, done, total, detail) with phase 'fit', 'sensitivity', 'posterior' or
'confirm'."""


@dataclass
class Calibration:
    fit: Fit
    results: object  # the confirmation run's Results
    table: pd.DataFrame  # the fit table of the confirmation run
    folder: Path


def targets_for(sc: Scenario, path: str | Path | None) -> tuple[str, str]:
    """(where, CSV text) of the targets: the file given, else the scenario's shipped ones."""
    if path is None:
        if sc.scenario.targets is None:
            raise UserError(f"scenario {sc.scenario.name!r} ships no targets; give "
                            "--targets FILE.csv", "--targets")
        return packaged_targets(sc.scenario.targets)
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no such file {str(p)!r}; give a CSV of dated reported figures",
                        "--targets")
    try:
        return str(p), p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {str(p)!r}: {e}", "--targets") from None


OUTPUTS = ("fitted.toml", "posterior.csv", "fit.csv", "fit.svg")
"""Files a calibration writes beside the confirmation run."""


def _not_used(out: Path) -> None:
    """Refuse an --out folder whose files a calibration would overwrite."""
    if "\x00" in str(out):
        raise UserError(f"{str(out)!r} is not a valid folder name", "--out")
    for name in OUTPUTS:
        try:
            there = (out / name).exists()
        except OSError:
            there = False  # prepare_folder says why the folder cannot be used
        if there:
            raise UserError(f"{str(out)!r} holds {name} of another calibration; choose "
                            "another --out (results are never overwritten)", "--out")


def run_calibration(spec: str | Path, targets: str | Path | None = None,
                    exclude: list[str] | None = None, trial_population: int | None = None,
                    population: int | None = None, seed: int = 0,
                    until: dt.date | str | None = None, trials: int = 300,
                    out: str | Path | None = None, threads: int | None = None,
                    progress: Phase | None = None, posterior_points: int = 128,
                    draws: int = 100, obs_error: float | None = None,
                    workers: int | None = None, executor: str = "local",
                    address: str | None = None) -> Calibration:
    """Fit `spec` to `targets`, measure each value's sensitivity, weigh `posterior_points`
    points into a posterior (none with 0), confirm at `population`.

    The folder gets fitted.toml (the scenario with the fitted values), posterior.csv (the
    posterior draws, for `socialcredit predict`), the confirmation run (results.duckdb with
    the calibration tables, report.html with a calibration section), fit.csv and fit.svg.
    The posterior's trials run on `workers` local processes or, with executor "ray", on the
    Ray cluster at `address`.
    """
    from ..engine.memory import check_fits
    from ..engine.run import days_until, fresh_folder, prepare_folder, run, set_threads
    from ..record import store
    from ..report import plots, write_report
    from ..scenario import load

    sc, _ = load(spec)
    if not sc.calibrate:
        raise UserError(f"scenario {sc.scenario.name!r} marks no values as calibratable; add "
                        "[[calibrate]] entries (path, lower, upper, source)", "calibrate")
    until_date = None
    if until is not None:
        days = days_until(sc, until)
        until_date = sc.scenario.start + dt.timedelta(days=days - 1)
    where, text = targets_for(sc, targets)
    tg = read_targets(text, where, sc, until_date, exclude)
    if until_date is None:
        until_date = tg.last_date
    days = (until_date - sc.scenario.start).days + 1
    default = sc.society.simulate or sc.society.population
    trial_population = trial_population or default
    population = population or min(sc.society.population, 10 * trial_population)
    for name, v in (("--trial-population", trial_population), ("--population", population)):
        if not 1 <= v <= 2_000_000_000:
            raise UserError(f"{v} is out of range; valid: 1 to 2000000000", name)
    check_fits(sc, trial_population, days, what="a trial", where="--trial-population")
    check_fits(sc, population, days, what="the confirmation run", where="--population")
    if not 1 <= trials <= 100_000:
        raise UserError(f"{trials} is out of range; valid: 1 to 100000", "--trials")
    if posterior_points and not 2 <= posterior_points <= 100_000:
        raise UserError(f"{posterior_points} is out of range; valid: 0 (no posterior) or 2 to "
                        "100000", "--posterior-points")
    if obs_error is not None and not (math.isfinite(obs_error) and 0 < obs_error <= 10):
        raise UserError(f"{obs_error} is out of range; valid: above 0, up to 10 (the sd of "
                        "log(reported / model))", "--obs-error")
    if executor not in ("local", "ray"):
        raise UserError(f"unknown executor {executor!r}; valid: local, ray", "--executor")
    set_threads(threads)
    if out is not None:
        _not_used(Path(out))
    folder = prepare_folder(Path(out) if out is not None
                            else fresh_folder(Path("runs"), f"{sc.scenario.name}-calibrated"))
    probe_write(folder, "--out")  # before the fit, not after it

    fit = calibrate(sc, tg, trial_population, seed, days, trials,
                    (lambda i, n, o: progress("fit", i, n, f"objective {o:.4g}"))
                    if progress else None)
    sensitivity(fit, (lambda i, n: progress("sensitivity", i, n, ""))
                if progress else None)
    post = None
    if posterior_points:
        from .posterior import posterior

        post = posterior(fit, posterior_points, draws, obs_error, workers, executor, address,
                         threads or 1,
                         (lambda i, n: progress("posterior", i, n, "")) if progress else None)
        summary = post.summary().set_index("path")
        for q in ("p5", "p50", "p95"):
            fit.params[f"posterior_{q}"] = fit.params["path"].map(summary[q])
    header = (f"{sc.scenario.name}, fitted by `socialcredit calibrate` to {where} on "
              f"{dt.date.today()}\n{fit.trials} trials at {trial_population:,} citizens, seed "
              f"{seed}; objective (sum of squared log ratios) {fit.start_objective:.4g} -> "
              f"{fit.objective:.4g}\nfitted values:\n"
              + "\n".join(f"  {r.path} = {r.value:.6g}  (bounds {r.lower:g} to {r.upper:g}; "
                          f"was {r.start:.6g})" for r in fit.params.itertuples()))
    toml_path = folder / "fitted.toml"
    write_text(toml_path, to_toml(fit.scenario, header))
    if post:
        from .posterior import write_draws

        write_draws(post.draws, folder)
    res = run(toml_path, population=population, seed=seed, out=folder, threads=threads,
              checkpoint_every=0, report=False, citizens=False, until=until_date,
              progress=(lambda d, n: progress("confirm", d, n, "")) if progress else None)
    table = fit_table(tg, res.daily, float(res.info["scale"]), fit.scenario)
    res.extras = tables(fit, table, population, post)
    store.write_results(res, folder)
    write_report(res, folder / store.REPORT)
    out_table = table.copy()
    write_text(folder / "fit.csv", out_table.to_csv(index=False))
    svg = plots.calibration_fit(res.daily, table, float(res.info["scale"]))
    if svg:
        write_text(folder / "fit.svg", svg)
    return Calibration(fit, res, table, folder)
