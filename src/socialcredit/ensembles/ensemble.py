"""Ensembles: one design run over many seeds, every daily figure with its spread.

`ensemble` runs N replicates (seeds first_seed, first_seed + 1, ...) of one scenario, each
bit for bit the plain run with that seed, on worker processes or a Ray cluster, and returns
(and writes, with `out`) three tables:

- `runs`: one row per replicate: run, seed, the values set, status, its one-line error,
  wall time (and of it the day loop's), the worker that ran it, when it started and ended;
- `daily`: every replicate's daily rows, with a `run` column first;
- `bands`: per date and daily column, the mean and the 5th, 25th, 50th, 75th and 95th
  percentiles over the replicates that finished.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..record.store import REPORT, RESULTS
from .executors import check_side_by_side, cores, run_all
from .replicate import Outcome, Replicate

EXECUTORS = ("local", "ray")
QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}


@dataclass
class EnsembleResults:
    """The tables of an ensemble, and the folder they were written to (if any)."""

    runs: pd.DataFrame
    daily: pd.DataFrame
    bands: pd.DataFrame
    info: dict = field(default_factory=dict)
    folder: Path | None = None

    def __repr__(self) -> str:
        done = int((self.runs["status"] == "done").sum()) if len(self.runs) else 0
        where = f", folder {self.folder}" if self.folder else ""
        return (f"<EnsembleResults {self.info.get('scenario', '?')}: {done} of "
                f"{len(self.runs)} replicates done, {self.info.get('population', 0):,} "
                f"citizens x {self.info.get('days', 0):,} days{where}>")

    def band(self, column: str) -> pd.DataFrame:
        """The bands of one daily column, one row per date."""
        if column not in set(self.bands["column"]):
            valid = ", ".join(sorted(set(self.bands["column"])))
            raise UserError(f"no daily column {column!r}; valid: {valid}", "band")
        return self.bands[self.bands["column"] == column].reset_index(drop=True)


def ensemble(scenario="rongcheng", seeds: int = 10, sets: Sequence[str] = (),
             population: int | None = None, days: int | None = None,
             until: dt.date | str | None = None, workers: int | None = None,
             executor: str = "local", address: str | None = None,
             out: str | Path | None = None, first_seed: int = 0, threads: int = 1,
             progress: Callable[[int, int], None] | None = None) -> EnsembleResults:
    """Run `seeds` replicates of `scenario` and gather their daily tables and bands.

    `scenario` is a built-in name, a TOML path or a Scenario; `sets` changes values as in
    `socialcredit run --set`. `executor` is "local" (`workers` processes on this machine,
    default: one per core) or "ray" (Ray tasks on the cluster at `address`: "auto" for the
    one this machine belongs to, or host:port; none starts one here). Each replicate runs
    its kernels on `threads` threads. With `out` the tables and a report are written there.

        >>> ens = socialcredit.ensemble("rongcheng", seeds=20, population=20_000, days=365)
        >>> ens.band("listed").tail()
    """
    from ..engine import memory
    from ..engine.run import _check_int, resolve

    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}",
                        "--executor")
    _check_int(seeds, "--seeds", 1, 100_000)
    _check_int(first_seed, "--seed", 0, 2**63 - 1 - seeds)
    _check_int(threads, "--threads", 1, 4096)
    sc, _, name, population, days = resolve(scenario, sets, population, days, until)
    workers = cores() if workers is None else workers
    _check_int(workers, "--workers", 1, 4096)
    folder = _check_out(out)
    need = memory.estimate(sc, population, days).total
    if executor == "local":
        check_side_by_side(workers, seeds, need, population, days)
    text = sc.model_dump_json()
    reps = [Replicate(i, first_seed + i, text, population, days, threads)
            for i in range(seeds)]
    t0 = time.perf_counter()
    outcomes = run_all(reps, executor, workers, address, need, progress)
    wall = time.perf_counter() - t0
    info = {"scenario": sc.scenario.name, "source": name, "sets": json.dumps(list(sets)),
            "population": population, "days": days, "seeds": seeds, "first_seed": first_seed,
            "executor": executor, "workers": workers if executor == "local" else 0,
            "threads": threads, "wall_seconds": wall, "start_date": sc.scenario.start,
            "scale": sc.society.population / population}
    res = tables(outcomes, list(sets), info)
    if folder is not None:
        write(res, folder)
    return res


def tables(outcomes: Sequence[Outcome], sets: list[str], info: dict) -> EnsembleResults:
    """The runs, daily and bands tables of finished replicates."""
    runs = pd.DataFrame({
        "run": [o.run for o in outcomes], "seed": [o.seed for o in outcomes],
        "sets": [" ".join(sets)] * len(outcomes),
        "status": [o.status for o in outcomes], "error": [o.error for o in outcomes],
        "wall_seconds": [o.seconds for o in outcomes],
        "loop_seconds": [o.loop_seconds for o in outcomes],
        "worker": [o.worker for o in outcomes],
        "started": pd.to_datetime([o.started for o in outcomes], unit="s"),
        "finished": pd.to_datetime([o.finished for o in outcomes], unit="s")})
    frames = [o.daily.assign(run=o.run) for o in outcomes if o.daily is not None]
    if frames:
        daily = pd.concat(frames, ignore_index=True)
        daily = daily[["run", *[c for c in daily.columns if c != "run"]]]
    else:
        daily = pd.DataFrame({"run": pd.Series(dtype="int64")})
    return EnsembleResults(runs, daily, bands(daily), info)


def bands(daily: pd.DataFrame) -> pd.DataFrame:
    """Per date and daily column: mean and percentiles over the replicates."""
    cols = [c for c in daily.columns if c not in ("run", "date", "day")
            and pd.api.types.is_numeric_dtype(daily[c])]
    if "date" not in daily.columns or not cols:
        return pd.DataFrame(columns=["date", "column", "replicates", "mean", *QUANTILES])
    ordered = daily.sort_values(["date", "run"], kind="stable")
    dates = ordered["date"].to_numpy()
    starts = np.flatnonzero(np.r_[True, dates[1:] != dates[:-1]])
    n = np.diff(np.r_[starts, len(dates)])
    parts = []
    for c in cols:
        v = ordered[c].to_numpy(dtype=np.float64)
        groups = np.split(v, starts[1:])
        q = np.array([np.quantile(g, list(QUANTILES.values())) for g in groups])
        parts.append(pd.DataFrame({
            "date": dates[starts], "column": c, "replicates": n,
            "mean": [g.mean() for g in groups],
            **{k: q[:, i] for i, k in enumerate(QUANTILES)}}))
    return pd.concat(parts, ignore_index=True)


def _check_out(out: str | Path | None) -> Path | None:
    """The folder the ensemble will write, checked before any replicate runs."""
    if out is None:
        return None
    folder = Path(out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UserError(f"{str(folder)!r} exists and is not an empty folder; choose a new "
                        "--out (results are never overwritten)", "--out")
    return folder


def write(res: EnsembleResults, folder: Path) -> None:
    """Write the tables to FOLDER/results.duckdb and the report, each moved into place."""

    from ..record.store import write_tables
    from .report import write_report

    folder.mkdir(parents=True, exist_ok=True)
    info = pd.DataFrame([{k: (v.isoformat() if isinstance(v, dt.date) else v)
                          for k, v in res.info.items()}])
    write_tables({"ensemble": info, "runs": res.runs, "daily": res.daily,
                  "bands": res.bands}, folder)
    write_report(res, folder / REPORT)
    res.folder = folder


def open_ensemble(folder: str | Path) -> EnsembleResults:
    """Read an ensemble's tables back from its folder."""
    import duckdb

    path = Path(folder) / RESULTS
    if not path.is_file():
        raise UserError(f"{str(folder)!r} holds no ensemble (no {RESULTS})", "folder")
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if not {"ensemble", "runs", "daily", "bands"} <= names:
            raise UserError(f"{str(path)!r} is not an ensemble's store (it lacks the runs, "
                            "daily or bands table)", "folder")
        info = con.execute("SELECT * FROM ensemble").df().iloc[0].to_dict()
        frames = {n: con.execute(f'SELECT * FROM "{n}"').df() for n in ("runs", "daily",
                                                                        "bands")}
    finally:
        con.close()
    return EnsembleResults(frames["runs"], frames["daily"], frames["bands"], info,
                           Path(folder))
