"""Predict: a calibrated scenario run forward over its posterior draws, every target figure
with its 50% and 90% intervals.

Each of K posterior draws (posterior.csv beside fitted.toml, written by `socialcredit
calibrate`) runs once with a fresh seed, so an interval holds both what the record leaves
open about the values and the run-to-run noise of the model. The reported figures in the
range are set against the intervals: those after the calibration's last date were held out
of the fit, and landing inside the intervals is the forecast's honest test.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..record.store import REPORT, RESULTS
from .calibrate import daily_columns, figures_from_daily, read_targets, targets_for, with_values
from .posterior import POSTERIOR_FILE, read_draws

QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
DRAWS = 50
"""Posterior draws run by default."""


@dataclass
class Prediction:
    """The tables of a prediction, and the folder they were written to (if any)."""

    runs: pd.DataFrame  # draw, seed, each value, status, error, wall_seconds
    predictions: pd.DataFrame  # date, column, p5, p25, p50, p75, p95 (real scale)
    reported: pd.DataFrame  # each reported figure in range, its interval and whether inside
    info: dict = field(default_factory=dict)
    folder: Path | None = None

    def __repr__(self) -> str:
        done = int((self.runs["status"] == "done").sum())
        return (f"<Prediction {self.info.get('scenario', '?')} to {self.info.get('until')}: "
                f"{done} of {len(self.runs)} draws run, {len(self.reported)} reported figures "
                "in range>")

    def at(self, date: dt.date | str) -> pd.DataFrame:
        """The intervals of every target column on one date."""
        day = pd.Timestamp(date)
        rows = self.predictions[self.predictions["date"] == day]
        if rows.empty:
            first, last = self.predictions["date"].min(), self.predictions["date"].max()
            raise UserError(f"no prediction for {str(date)[:10]}; valid: {first:%Y-%m-%d} to "
                            f"{last:%Y-%m-%d}", "--at")
        return rows.reset_index(drop=True)


def locate(spec: str | Path) -> tuple[Path, Path, dict]:
    """(fitted.toml, posterior.csv, the calibration's info or {}) from a calibration's folder
    or its fitted scenario file."""
    p = Path(spec)
    toml = p / "fitted.toml" if p.is_dir() else p
    if not toml.is_file():
        raise UserError(f"{str(spec)!r} is neither a calibration folder nor a fitted scenario "
                        "file; give the folder `socialcredit calibrate` wrote", "predict")
    draws = toml.parent / POSTERIOR_FILE
    if not draws.is_file():
        raise UserError(f"no {POSTERIOR_FILE} beside {str(toml)!r}: predictions need the "
                        "posterior draws that `socialcredit calibrate` writes (with "
                        "--posterior-points above 0)", "predict")
    info: dict = {}
    store = toml.parent / RESULTS
    if store.is_file():
        import duckdb

        try:
            con = duckdb.connect(str(store), read_only=True)
            try:
                row = con.execute("SELECT * FROM calibration_info").df()
                info = row.iloc[0].to_dict() if len(row) else {}
            finally:
                con.close()
        except duckdb.Error:
            info = {}  # a store from elsewhere: the defaults below are used
    return toml, draws, info


def predict(spec: str | Path, until: dt.date | str, draws: int | None = None,
            population: int | None = None, first_seed: int | None = None,
            targets: str | Path | None = None, workers: int | None = None,
            executor: str = "local", address: str | None = None,
            out: str | Path | None = None, threads: int = 1,
            progress: Callable[[int, int], None] | None = None,
            columns: Sequence[str] = ()) -> Prediction:
    """Run `draws` posterior draws of the calibration at `spec` to `until`: every target
    column, and the `daily` columns named in `columns` (e.g. "listed"), at real scale.

    `population` defaults to the calibration's trial population (the scale its posterior was
    weighed at); seeds start at `first_seed`, by default the one after the calibration's seed,
    so no draw repeats the fit's random numbers.
    """
    from ..engine import memory
    from ..engine.run import _check_int, days_until
    from ..ensembles.ensemble import _check_out
    from ..ensembles.executors import check_side_by_side, cores, run_all
    from ..ensembles.replicate import Replicate
    from ..scenario import load

    toml, draws_path, cal = locate(spec)
    sc, _ = load(toml)
    if not sc.calibrate:
        raise UserError(f"{str(toml)!r} marks no values as calibratable, so it has no "
                        "posterior", "predict")
    posterior = read_draws(draws_path, sc)
    draws = min(DRAWS, len(posterior)) if draws is None else draws
    _check_int(draws, "--draws", 1, len(posterior))
    days = days_until(sc, until)
    end = sc.scenario.start + dt.timedelta(days=days - 1)
    population = population or int(cal.get("trial_population") or 0) or (
        sc.society.simulate or sc.society.population)
    _check_int(population, "--population", 1, 2_000_000_000)
    seed = int(cal.get("seed", 0)) + 1 if first_seed is None else first_seed
    _check_int(seed, "--seed", 0, 2**62)
    _check_int(threads, "--threads", 1, 4096)
    if executor not in ("local", "ray"):
        raise UserError(f"unknown executor {executor!r}; valid: local, ray", "--executor")
    workers = cores() if workers is None else workers
    _check_int(workers, "--workers", 1, 4096)
    where, text = targets_for(sc, targets)
    tg = read_targets(text, where, sc)
    known = daily_columns(sc)
    for c in columns:
        if c not in known:
            raise UserError(f"{c!r} is not a daily column; valid: {', '.join(sorted(known))}",
                            "--columns")
    folder = _check_out(out)
    need = memory.estimate(sc, population, days).total
    if executor == "local":
        check_side_by_side(workers, draws, need, population, days)

    rows = posterior.iloc[:draws]
    reps = [Replicate(i, seed + i, with_values(sc, r).model_dump_json(), population, days,
                      threads) for i, r in enumerate(rows.to_dict("records"))]
    t0 = time.perf_counter()
    outcomes = run_all(reps, executor, workers, address, need, progress)
    wall = time.perf_counter() - t0

    scale = sc.society.population / population
    dates = pd.date_range(sc.scenario.start, end, freq="D")
    columns = list(dict.fromkeys([*zip(tg.cells["target"], tg.cells["column"], strict=True),
                                  *((c, c) for c in columns)]))
    grid = pd.DataFrame({"date": np.repeat(dates.date, len(columns)),
                         "target": [t for _ in dates for t, _ in columns],
                         "column": [c for _ in dates for _, c in columns]})
    series = np.array([figures_from_daily(o.daily, scale, sc, grid) for o in outcomes
                       if o.status == "done"])
    if not len(series):
        first = next((o.error for o in outcomes if o.error), "")
        raise UserError(f"no draw ran to the end ({first})", "predict")
    q = np.quantile(series, list(QUANTILES.values()), axis=0)
    predictions = pd.DataFrame({"date": pd.to_datetime(grid["date"]), "column": grid["target"],
                                **{k: q[i] for i, k in enumerate(QUANTILES)}})
    runs = pd.DataFrame({
        "draw": [o.run for o in outcomes], "seed": [o.seed for o in outcomes],
        **{p: rows[p].to_numpy() for p in rows.columns},
        "status": [o.status for o in outcomes], "error": [o.error for o in outcomes],
        "wall_seconds": [o.seconds for o in outcomes],
        "worker": [o.worker for o in outcomes]})
    fit_until = _date(cal.get("until"))
    reported = _against(tg.cells, predictions, end, fit_until)
    info = {"scenario": sc.scenario.name, "calibration": str(toml.parent),
            "targets": where, "until": end.isoformat(),
            "fit_until": fit_until.isoformat() if fit_until else "",
            "draws": draws, "posterior_draws": len(posterior), "population": population,
            "first_seed": seed, "scale": scale, "executor": executor,
            "workers": workers if executor == "local" else 0, "wall_seconds": wall}
    res = Prediction(runs, predictions, reported, info)
    if folder is not None:
        write(res, folder)
    return res


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _against(cells: pd.DataFrame, predictions: pd.DataFrame, end: dt.date,
             fit_until: dt.date | None) -> pd.DataFrame:
    """Each reported figure up to `end` beside the predicted interval on its date."""
    inside = cells[cells["date"] <= end].copy()
    keyed = predictions.assign(date=predictions["date"].dt.date).set_index(["date", "column"])
    q = keyed.loc[list(zip(inside["date"], inside["target"], strict=True))]
    for k in QUANTILES:
        inside[k] = q[k].to_numpy()
    inside["held_out"] = (inside["date"] > fit_until) if fit_until else False
    inside["in_50"] = (inside["reported"] >= inside["p25"]) & (inside["reported"] <= inside["p75"])
    inside["in_90"] = (inside["reported"] >= inside["p5"]) & (inside["reported"] <= inside["p95"])
    inside["consistent"] = ~inside["why"].str.startswith("a running total cannot fall")
    inside["date"] = inside["date"].astype(str)
    return inside[["date", "target", "reported", *QUANTILES, "in_50", "in_90", "held_out",
                   "consistent", "why", "source"]].reset_index(drop=True)


def write(res: Prediction, folder: Path) -> None:
    """results.duckdb (predict_info, runs, predictions, reported) and report.html."""
    from ..record.store import write_tables
    from .predict_report import write_report

    folder.mkdir(parents=True, exist_ok=True)
    write_tables({"predict_info": pd.DataFrame([res.info]), "runs": res.runs,
                  "predictions": res.predictions, "reported": res.reported}, folder)
    write_report(res, folder / REPORT)
    res.folder = folder


def coverage(reported: pd.DataFrame) -> dict:
    """How many held-out (consistent) reported figures fall in the 50% and 90% intervals."""
    held = reported[reported["held_out"].astype(bool) & reported["consistent"].astype(bool)]
    return {"held_out": len(held), "in_50": int(held["in_50"].sum()),
            "in_90": int(held["in_90"].sum())}

