"""Sensitivity: which of a scenario's values move an outcome, and by how much, over the ranges
a user gives them (global sensitivity analysis with SALib).

A *factor* is one number of the scenario (a dotted path, as in `--set`) varied from LO to HI,
or over log10 of the value with `:log`. SALib draws a design over the factors: Morris
trajectories (each steps one factor at a time across a grid of `levels` values) or a Sobol'
sequence with its cross-sampled rows (Saltelli's scheme, first and total order). Every design
point runs with the same R seeds (common random numbers): a value that cannot reach an outcome
gives bit-identical runs, so its effect is exactly 0, not 0 plus noise.

An *outcome* is one figure per run from its daily table: a state on the run's last day
(`mean_score`, `listed`, ...: compare's rule, `analysis.compare.LAST`, and the other columns
that hold a state) or the total of a daily count over the run (`wrongful_listings`, ...), or
`listed_share`, the people on a list at the end per simulated citizen.

The analysis pools the seeds: the design is stacked R times (each seed's copy keeps SALib's
block structure) and analysed once, so SALib's bootstrap intervals carry run-to-run noise as
well as the design's own sampling error. Beside the effects each outcome gets a row for that
noise: parameter `(replicate noise)`, index `sd`, the across-seed standard deviation at a
design point, averaged over the points.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..record.store import REPORT, RESULTS
from ..scenario.schema import Scenario
from .ensemble import EXECUTORS, _check_out
from .executors import cores, run_all
from .replicate import Outcome, Replicate

METHODS = ("morris", "sobol")
MAIN = {"morris": "mu_star", "sobol": "ST"}
"""The index parameters are ranked by: Morris' mean absolute effect, Sobol's total order."""
SECOND = {"morris": "sigma", "sobol": "S1"}
SAMPLES = {"morris": 10, "sobol": 32}
"""Default design sizes: Morris trajectories, Sobol' base samples (a power of two)."""
DEFAULT_OUTCOMES = ("wrongful_listings", "listed_share", "mean_score", "expression_acts",
                    "children_denied")
SHARE = "listed_share"
NOISE = "(replicate noise)"
Z95 = 1.959963984540054
RESAMPLES = 1000
"""Bootstrap resamples behind each interval."""
BOOTSTRAP_SEED = 1
"""The bootstrap's own seed, so the same runs give the same intervals (SALib's Sobol' analysis
takes a seed of 0 as none at all)."""
STATES = {"scored", "appeals_pending", "disclosed", "approval"}
"""Daily columns that hold a state (besides compare's LAST, grades, score percentiles and
running totals): an outcome of theirs is its value on the last day."""
COLUMNS = ["outcome", "parameter", "index", "estimate", "low", "high"]


@dataclass(frozen=True)
class Factor:
    """One value of the scenario varied over [low, high] (over log10 of it with `log`)."""

    path: str
    low: float
    high: float
    log: bool = False
    whole: bool = False  # an integer field: values are rounded

    @property
    def bounds(self) -> list[float]:
        """The range SALib samples: the values, or their log10."""
        if self.log:
            return [math.log10(self.low), math.log10(self.high)]
        return [self.low, self.high]

    def value(self, x: float) -> float:
        """The scenario value at design coordinate `x` (rounded for an integer field)."""
        v = 10.0 ** x if self.log else float(x)
        return int(round(v)) if self.whole else v

    def __str__(self) -> str:
        return f"{self.path}={self.low:g}:{self.high:g}" + (":log" if self.log else "")


@dataclass
class SensitivityResults:
    """The indices (`sensitivity`), every run of the design (`design`), and what was asked."""

    sensitivity: pd.DataFrame
    design: pd.DataFrame
    info: dict = field(default_factory=dict)
    folder: Path | None = None

    def __repr__(self) -> str:
        where = f", folder {self.folder}" if self.folder else ""
        return (f"<SensitivityResults {self.info.get('scenario', '?')}: "
                f"{self.info.get('method', '?')}, {len(self.factors)} values x "
                f"{len(self.outcomes)} outcomes, {len(self.design)} runs{where}>")

    @property
    def factors(self) -> list[str]:
        return [f["path"] for f in json.loads(self.info.get("factors", "[]"))]

    @property
    def outcomes(self) -> dict[str, str]:
        """Each outcome analysed and what it is of: "last day" or "total"."""
        return json.loads(self.info.get("outcomes", "{}"))

    @property
    def notes(self) -> list[str]:
        return json.loads(self.info.get("notes", "[]"))

    def ranked(self, outcome: str) -> pd.DataFrame:
        """One row per value varied, most influential first: the main index and the second
        with their 95% intervals (columns main, main_low, ..., second_high)."""
        if outcome not in self.outcomes:
            valid = ", ".join(self.outcomes) or "none"
            raise UserError(f"no outcome {outcome!r} in this analysis; valid: {valid}",
                            "outcome")
        return ranked(self.sensitivity, outcome, self.info.get("method", "morris"))


def ranked(table: pd.DataFrame, outcome: str, method: str) -> pd.DataFrame:
    """The values' rows of one outcome side by side, ranked by the main index."""
    rows = table[(table["outcome"] == outcome) & (table["parameter"] != NOISE)]
    wide = {}
    for kind, index in (("main", MAIN[method]), ("second", SECOND[method])):
        part = rows[rows["index"] == index].set_index("parameter")
        wide[kind], wide[f"{kind}_low"], wide[f"{kind}_high"] = (
            part["estimate"], part["low"], part["high"])
    frame = pd.DataFrame(wide)
    frame.index.name = "parameter"
    return frame.sort_values("main", ascending=False, kind="stable").reset_index()


def sensitivity(scenario="rongcheng", vary: Sequence[str] | Mapping = (),
                method: str = "morris", samples: int | None = None, seeds: int = 3,
                outcomes: Sequence[str] | None = None, sets: Sequence[str] = (),
                population: int | None = None, days: int | None = None,
                until: dt.date | str | None = None, workers: int | None = None,
                executor: str = "local", address: str | None = None,
                out: str | Path | None = None, first_seed: int = 0, threads: int = 1,
                progress: Callable[[int, int], None] | None = None,
                levels: int = 4) -> SensitivityResults:
    """How much each value in `vary` moves each outcome, over the ranges given.

    `vary` holds "PATH=LO:HI" or "PATH=LO:HI:log" texts, or maps PATH to (LO, HI) or
    (LO, HI, "log"). `method` is "morris" (`samples` trajectories over `levels` grid levels,
    default 10) or "sobol" (`samples` base samples, a power of two, default 32; first and
    total order). Each design point runs with seeds first_seed ... first_seed + seeds - 1.
    `outcomes` names daily columns (or listed_share); by default wrongful listings, the
    share listed, the mean score, expression acts and children denied, those the scenario
    has. The runs go to `executor` as for `ensemble`; with `out` the tables and a report are
    written there.

        >>> s = socialcredit.sensitivity("rongcheng", ["acts.littering.rate=0.2:3",
        ...     "rules.littering.points=-10:-1"], population=20_000, days=180)
        >>> s.ranked("mean_score")
    """
    from ..analysis.calibrate import daily_columns
    from ..engine.run import _check_int, resolve

    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; valid: {', '.join(METHODS)}", "--method")
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}",
                        "--executor")
    samples = SAMPLES[method] if samples is None else samples
    _check_samples(method, samples)
    _check_int(levels, "--levels", 2, 100)
    if levels % 2:
        raise UserError(f"--levels {levels}: Morris designs need an even number of levels, "
                        "e.g. 4", "--levels")
    _check_int(seeds, "--seeds", 1, 1000)
    _check_int(first_seed, "--seed", 0, 2**63 - 1 - seeds)
    _check_int(threads, "--threads", 1, 4096)
    sc, _, name, population, days = resolve(scenario, sets, population, days, until)
    factors = parse_vary(vary, sc)
    notes: list[str] = []
    chosen = _outcomes(sc, outcomes, notes, daily_columns)
    workers = cores() if workers is None else workers
    _check_int(workers, "--workers", 1, 4096)
    folder = _check_out(out)

    x = design(factors, method, samples, levels, first_seed)
    points = [point_scenario(sc, {f.path: f.value(v) for f, v in zip(factors, row,
                                                                      strict=True)})
              for row in x]
    need = _fits(points, seeds, population, days, executor, workers)
    states = _states(sc)
    reps, refused = [], []
    for p, (s, why) in enumerate(points):
        for r in range(seeds):
            run, seed = p * seeds + r, first_seed + r
            if s is None:  # a point the schema refuses never reaches a worker
                refused.append(Outcome(run, seed, "failed", 0.0, 0.0, why))
            else:
                reps.append(Replicate(run, seed, s.model_dump_json(), population, days,
                                      threads))
    values: dict[int, dict[str, float]] = {}

    def keep(o: Outcome) -> None:
        if o.daily is not None:  # keep the outcomes, not the daily table
            values[o.run] = outcome_values(o.daily, chosen, population, states)
            o.daily = None

    t0 = time.perf_counter()
    ran = run_all(reps, executor, workers, address, need,
                  (lambda i, _: progress(len(refused) + i, len(points) * seeds))
                  if progress else None, keep)
    info = {"scenario": sc.scenario.name, "source": name, "sets": json.dumps(list(sets)),
            "method": method, "samples": samples, "levels": levels if method == "morris" else 0,
            "seeds": seeds, "first_seed": first_seed, "points": len(points),
            "runs": len(points) * seeds, "population": population, "days": days,
            "factors": json.dumps([{"path": f.path, "low": f.low, "high": f.high,
                                    "log": f.log, "whole": f.whole} for f in factors]),
            "outcomes": json.dumps({c: _of(c, states) for c in chosen}),
            "executor": executor, "workers": workers if executor == "local" else 0,
            "threads": threads, "wall_seconds": time.perf_counter() - t0,
            "start_date": sc.scenario.start, "scale": sc.society.population / population}
    table = design_table(sorted([*ran, *refused], key=lambda o: o.run), x, factors, chosen,
                         values, seeds)
    failed = table[table["status"] != "done"]
    if len(failed):
        _refuse(SensitivityResults(pd.DataFrame(columns=COLUMNS), table,
                                   {**info, "notes": json.dumps(notes)}), failed, folder)
    y = {c: table[c].to_numpy(dtype=np.float64).reshape(len(points), seeds).T
         for c in chosen}
    frame = analyse(factors, x, y, method, levels, notes)
    res = SensitivityResults(frame, table, {**info, "notes": json.dumps(notes)})
    if folder is not None:
        write(res, folder)
    return res


def _fits(points: Sequence[tuple[Scenario | None, str]], seeds: int, population: int,
          days: int, executor: str, workers: int) -> int:
    """Bytes the largest run of the design needs, checked against this machine's memory for
    as many runs side by side as the local workers take."""
    from ..engine import memory

    need = max((memory.estimate(s, population, days).total for s, _ in points
                if s is not None), default=0)
    together = min(workers, len(points) * seeds)
    if executor == "local" and together * need > memory.available():
        gib = memory.available() / 2**30
        raise UserError(f"{together} runs side by side, each of {population:,} citizens over "
                        f"{days:,} days, need about {together * need / 2**30:,.1f} GiB; "
                        f"{gib:,.1f} GiB is available: lower --workers, --population or "
                        "--days", "--workers")
    return need


def _refuse(res: SensitivityResults, failed: pd.DataFrame, folder: Path | None) -> None:
    """Write the design of runs that did not all finish, and refuse to analyse it."""
    if folder is not None:
        write(res, folder)
    first = failed.iloc[0]
    where = f" in {folder / RESULTS}" if folder is not None else ""
    raise UserError(
        f"{len(failed)} of {len(res.design)} runs failed (first: run {first['run']}, point "
        f"{first['point']}, seed {first['seed']}: {first['error']}); the analysis needs every "
        f"run of the design, so none was made; the design table{where} holds each run's "
        "status", "sensitivity")


def _check_samples(method: str, samples: int) -> None:
    """Morris needs two trajectories at least; Sobol' balance needs a power of two."""
    from ..engine.run import _check_int

    _check_int(samples, "--samples", 2, 100_000 if method == "morris" else 2**16)
    if method == "sobol" and samples & (samples - 1):
        low = 1 << (samples.bit_length() - 1)
        raise UserError(f"--samples {samples}: a Sobol' design needs a power of two, e.g. "
                        f"{low} or {2 * low}", "--samples")


def parse_vary(vary: Sequence[str] | Mapping, sc: Scenario) -> list[Factor]:
    """The factors of `vary`, each checked against the scenario (a number at that path, LO
    below HI, LO above 0 for :log, both ends values the scenario accepts)."""
    if isinstance(vary, Mapping):
        specs = []
        for path, spec in vary.items():
            if isinstance(spec, str):
                specs.append(f"{path}={spec}")
            elif isinstance(spec, (tuple, list)) and len(spec) in (2, 3):
                specs.append(f"{path}=" + ":".join(str(v) for v in spec))
            else:
                raise UserError(f"{path}: give (LO, HI) or (LO, HI, 'log'), got {spec!r}",
                                "--vary")
    elif isinstance(vary, str):
        specs = [vary]
    else:
        specs = list(vary)
    if not specs:
        raise UserError("nothing to vary: give --vary PATH=LO:HI[:log] at least once, e.g. "
                        "--vary acts.littering.rate=0.2:3", "--vary")
    factors: list[Factor] = []
    for text in specs:
        f = _factor(str(text), sc)
        if f.path in {g.path for g in factors}:
            raise UserError(f"{f.path} is varied twice; give each value once", "--vary")
        factors.append(f)
    return factors


def _factor(text: str, sc: Scenario) -> Factor:
    """One PATH=LO:HI[:log], checked."""
    from ..analysis.compare import _quote
    from ..scenario.schema import resolve_path

    where, shown = "--vary", _quote(text)
    path, eq, spec = text.partition("=")
    path = path.strip()
    parts = spec.split(":")
    if not eq or not path or len(parts) not in (2, 3):
        raise UserError(f"{shown} is not PATH=LO:HI or PATH=LO:HI:log, e.g. "
                        "acts.littering.rate=0.2:3", where)
    if len(parts) == 3 and parts[2].strip().lower() not in ("log", "true"):
        raise UserError(f"{shown}: the third part may only be 'log' (vary log10 of the "
                        "value)", where)
    try:
        low, high = (float(p.replace("_", "")) for p in parts[:2])
    except ValueError:
        raise UserError(f"{shown}: LO and HI must be numbers, e.g. 0.2:3", where) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise UserError(f"{shown}: LO and HI must be finite numbers", where)
    if low >= high:
        raise UserError(f"{shown}: LO ({low:g}) must be below HI ({high:g})", where)
    log = len(parts) == 3
    if log and low <= 0:
        raise UserError(f"{shown}: a :log range needs LO above 0, got {low:g}", where)
    value, why = resolve_path(sc.model_dump(mode="json"), path)
    if why:
        raise UserError(f"{shown}: {why}", where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, dict):
            numbers = [k for k, v in value.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)]
            what = ("a section; vary one of its numbers: " + ", ".join(numbers) if numbers
                    else "a section with no numbers of its own")
        else:
            what = ("a list" if isinstance(value, list) else "not set" if value is None
                    else f"{_quote(str(value), 40)}") + ", not a number; vary a numeric value"
        raise UserError(f"{shown}: {path} is {what}", where)
    whole = isinstance(value, int)
    if whole and round(high) - round(low) < 1:
        raise UserError(f"{shown}: {path} is a whole number, and {low:g} to {high:g} holds "
                        "no two whole numbers", where)
    f = Factor(path, low, high, log, whole)
    for end in (low, high):
        s, why = point_scenario(sc, {path: f.value(math.log10(end) if log else end)})
        if s is None:
            raise UserError(f"{shown}: at {end:g}, {why}", where)
    return f


def point_scenario(sc: Scenario, values: dict[str, float]) -> tuple[Scenario | None, str]:
    """The scenario with `values` set, or None and why the schema refuses it."""
    from pydantic import ValidationError

    from ..analysis.calibrate import with_values
    from ..scenario.load import validate
    from ..scenario.schema import resolve_path

    try:
        return with_values(sc, values), ""
    except ValidationError:  # say why as a scenario file's refusal says it
        data = sc.model_dump(mode="json")
        for path, value in values.items():
            parent, _, last = path.rpartition(".")
            resolve_path(data, parent)[0][last] = value
        try:
            validate(data, "--vary")
        except UserError as e:
            return None, f"the scenario is refused: {e.message}"
        raise


def _outcomes(sc: Scenario, asked: Sequence[str] | None, notes: list[str],
              columns: Callable[[Scenario], set[str]]) -> list[str]:
    """The outcomes to analyse: those asked for, each checked, or the defaults the scenario
    has (a note for each it lacks)."""
    if asked is None:
        lacking = {
            "wrongful_listings": None if sc.lists else "it has no lists",
            SHARE: None if sc.lists else "it has no lists",
            "mean_score": (None if sc.points.min != sc.points.max
                           else "nobody holds points (its points range is one value)"),
            "expression_acts": (None if any(a.area == "expression" for a in sc.acts)
                                else "it has no acts of expression"),
            "children_denied": (None if any(g.children for g in sc.gates)
                                else "no gate answers for children")}
        for c, why in lacking.items():
            if why:
                notes.append(f"{c} left out: {why}")
        chosen = [c for c in DEFAULT_OUTCOMES if not lacking[c]]
        if not chosen:
            raise UserError(f"{sc.scenario.name} has none of the default outcomes; name "
                            "daily columns with --outcomes", "--outcomes")
        return chosen
    names = [n.strip() for a in ([asked] if isinstance(asked, str) else asked)
             for n in str(a).split(",") if n.strip()]
    if not names:
        raise UserError("--outcomes is empty; name daily columns, e.g. mean_score,listed",
                        "--outcomes")
    known = columns(sc) | {SHARE}
    for n in names:
        if n not in known:
            valid = ", ".join(sorted(known))
            raise UserError(f"no daily column {n!r} in {sc.scenario.name}; valid: {valid}",
                            "--outcomes")
    return list(dict.fromkeys(names))


def _states(sc: Scenario) -> set[str]:
    """The outcomes taken on the last day; every other daily column is summed."""
    from ..analysis.compare import LAST

    return LAST | STATES | {SHARE} | {f"{x.name}_listed" for x in sc.lists}


def _of(column: str, states: set[str]) -> str:
    state = (column in states or column.startswith(("grade_", "score_p"))
             or column.endswith("_cumulative"))
    return "last day" if state else "total"


def outcome_values(daily: pd.DataFrame, names: Sequence[str], population: int,
                   states: set[str]) -> dict[str, float]:
    """One run's outcomes from its daily table."""
    out = {}
    for n in names:
        if n == SHARE:
            out[n] = float(daily["listed"].iloc[-1]) / population
        elif _of(n, states) == "last day":
            out[n] = float(daily[n].iloc[-1])
        else:
            out[n] = float(daily[n].sum())
    return out


def problem(factors: Sequence[Factor]) -> dict:
    """SALib's description of the factors."""
    return {"num_vars": len(factors), "names": [f.path for f in factors],
            "bounds": [f.bounds for f in factors]}


def design(factors: Sequence[Factor], method: str, samples: int, levels: int,
           seed: int) -> np.ndarray:
    """The design points, one row each, in SALib's coordinates (log10 for :log factors)."""
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem(factors), samples, num_levels=levels, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem(factors), samples, calc_second_order=False, seed=seed)


def design_table(ran: Sequence[Outcome], x: np.ndarray, factors: Sequence[Factor],
                 chosen: Sequence[str], values: dict[int, dict[str, float]],
                 seeds: int) -> pd.DataFrame:
    """One row per run: its point, seed, the values set, its outcomes and status."""
    point = np.array([o.run // seeds for o in ran], dtype=np.int64)
    cols: dict[str, object] = {"run": [o.run for o in ran], "point": point,
                               "seed": [o.seed for o in ran]}
    for j, f in enumerate(factors):
        cols[f.path] = [f.value(v) for v in x[point, j]]
    for c in chosen:
        cols[c] = [values.get(o.run, {}).get(c, np.nan) for o in ran]
    cols["status"] = [o.status for o in ran]
    cols["error"] = [o.error for o in ran]
    cols["wall_seconds"] = [o.seconds for o in ran]
    return pd.DataFrame(cols)


def analyse(factors: Sequence[Factor], x: np.ndarray, y: dict[str, np.ndarray], method: str,
            levels: int, notes: list[str]) -> pd.DataFrame:
    """The sensitivity table from the design `x` (points x factors) and each outcome's
    values `y[outcome]` (seeds x points), the seeds pooled."""
    rows: list[dict] = []
    names = [f.path for f in factors]
    if any(v.shape[0] < 2 for v in y.values()):
        notes.append("one seed: run-to-run noise is not measured")
    for outcome, v in y.items():
        if not np.isfinite(v).all():
            notes.append(f"{outcome} left out: it is undefined (no value) in "
                         f"{int((~np.isfinite(v)).sum())} of {v.size} runs")
            continue
        if np.ptp(v) == 0:
            notes.append(f"{outcome} is {v.flat[0]:g} in every run: no value varied here "
                         "moves it at this size, so every index is 0")
            est = {i: (np.zeros(len(names)), np.zeros(len(names)))
                   for i in (MAIN[method], SECOND[method])}
        elif method == "morris":
            est = _morris(factors, x, v, levels)
        else:
            est = _sobol(factors, v)
        for j, name in enumerate(names):
            for index, (value, half) in est.items():
                low, high = value[j] - half[j], value[j] + half[j]
                if index in ("mu_star", "sigma"):
                    low = max(0.0, low)  # neither can be below 0
                rows.append({"outcome": outcome, "parameter": name, "index": index,
                             "estimate": float(value[j]), "low": float(low),
                             "high": float(high)})
        noise = _noise(v)
        if noise is not None:
            rows.append({"outcome": outcome, "parameter": NOISE, "index": "sd", **noise})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    order = {o: i for i, o in enumerate(y)}
    if len(frame):  # each outcome's values ranked by the main index, its noise row last
        main = frame[frame["index"] == MAIN[method]].set_index(["outcome", "parameter"])
        rank = main["estimate"].groupby(level=0).rank(ascending=False, method="first")
        key = [(order[r.outcome], rank.get((r.outcome, r.parameter), math.inf))
               for r in frame.itertuples()]
        frame = frame.iloc[sorted(range(len(frame)), key=lambda i: key[i])]
    return frame.reset_index(drop=True)


def _morris(factors: Sequence[Factor], x: np.ndarray, v: np.ndarray,
            levels: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """mu_star with SALib's bootstrap half-width, sigma with one from the same bootstrap of
    the elementary effects; all seeds' trajectories together."""
    from SALib.analyze import morris

    seeds = v.shape[0]
    xs, ys = np.tile(x, (seeds, 1)), v.reshape(-1)
    si = morris.analyze(problem(factors), xs, ys, num_resamples=RESAMPLES, conf_level=0.95,
                        num_levels=levels, seed=BOOTSTRAP_SEED)
    ee = effects(factors, xs, ys)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    pick = rng.integers(ee.shape[1], size=(RESAMPLES, ee.shape[1]))
    sigma_half = Z95 * ee[:, pick].std(axis=2, ddof=1).std(axis=1, ddof=1)
    return {"mu_star": (np.asarray(si["mu_star"], dtype=float),
                        np.asarray(si["mu_star_conf"], dtype=float)),
            "sigma": (np.asarray(si["sigma"], dtype=float), sigma_half)}


def effects(factors: Sequence[Factor], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morris elementary effects, factors x trajectories: the change in the outcome over one
    step divided by the step as a share of the factor's range (SALib's definition)."""
    k = len(factors)
    b = np.array([f.bounds for f in factors])
    unit = (x - b[:, 0]) / (b[:, 1] - b[:, 0])
    n = len(x) // (k + 1)
    ee = np.empty((k, n))
    for t in range(n):
        u, out = unit[t * (k + 1):(t + 1) * (k + 1)], y[t * (k + 1):(t + 1) * (k + 1)]
        step = np.diff(u, axis=0)
        moved = np.abs(step).argmax(axis=1)  # the one factor each step moves
        ee[moved, t] = np.diff(out) / step[np.arange(k), moved]
    return ee


def _sobol(factors: Sequence[Factor], v: np.ndarray) -> dict[str, tuple[np.ndarray,
                                                                        np.ndarray]]:
    """Total and first order with SALib's bootstrap half-widths; all seeds' blocks together."""
    from SALib.analyze import sobol

    si = sobol.analyze(problem(factors), v.reshape(-1), calc_second_order=False,
                       num_resamples=RESAMPLES, conf_level=0.95, seed=BOOTSTRAP_SEED)
    return {"ST": (np.asarray(si["ST"], dtype=float), np.asarray(si["ST_conf"], dtype=float)),
            "S1": (np.asarray(si["S1"], dtype=float), np.asarray(si["S1_conf"], dtype=float))}


def _noise(v: np.ndarray) -> dict[str, float] | None:
    """The across-seed standard deviation at a design point, averaged over the points, with
    a 95% interval over the points; None with one seed."""
    if v.shape[0] < 2:
        return None
    sd = v.std(axis=0, ddof=1)
    half = Z95 * sd.std(ddof=1) / math.sqrt(len(sd)) if len(sd) > 1 else 0.0
    return {"estimate": float(sd.mean()), "low": float(max(0.0, sd.mean() - half)),
            "high": float(sd.mean() + half)}


def write(res: SensitivityResults, folder: Path) -> None:
    """Write the tables to FOLDER/results.duckdb and the report, each moved into place."""
    from ..record.store import write_tables
    from .report import write_sensitivity_report

    folder.mkdir(parents=True, exist_ok=True)
    info = pd.DataFrame([{k: (v.isoformat() if isinstance(v, dt.date) else v)
                          for k, v in res.info.items()}])
    write_tables({"sensitivity_info": info, "design": res.design,
                  "sensitivity": res.sensitivity}, folder)
    write_sensitivity_report(res, folder / REPORT)
    res.folder = folder


def open_sensitivity(folder: str | Path) -> SensitivityResults:
    """Read a sensitivity analysis's tables back from its folder."""
    import duckdb

    path = Path(folder) / RESULTS
    if not path.is_file():
        raise UserError(f"{str(folder)!r} holds no sensitivity analysis (no {RESULTS})",
                        "folder")
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if not {"sensitivity_info", "design", "sensitivity"} <= names:
            raise UserError(f"{str(path)!r} is not a sensitivity analysis's store (it lacks "
                            "the sensitivity_info, design or sensitivity table)", "folder")
        info = con.execute("SELECT * FROM sensitivity_info").df().iloc[0].to_dict()
        design_ = con.execute("SELECT * FROM design").df()
        table = con.execute("SELECT * FROM sensitivity").df()
    finally:
        con.close()
    return SensitivityResults(table, design_, info, Path(folder))
