"""Running a scenario end to end: build, loop with checkpoints, write the results store.

A run folder is written in this order: the request (a checkpoint at day 0), checkpoints as
the run goes, then citizens.parquet, report.html and results.duckdb, and the checkpoint is
removed. A process killed at any moment leaves a folder that `resume` finishes with the same
tables as an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from ..errors import UserError
from ..record import checkpoint, store
from ..record import folder as folder_
from ..record.faults import reached
from ..record.results import Results, citizen_parts, citizens_frame, from_simulation
from ..scenario import load, parse
from ..scenario.schema import Scenario
from ..stages.lists import CORRECTED, RESTORED
from .compile import Compiling, warm_up
from .loop import Simulation
from .memory import check_fits
from .plan import PSEUDO
from .state import check, layout

Progress = Callable[[int, int], None]


def version() -> str:
    from .. import __version__

    return __version__


def set_threads(threads: int | None) -> int:
    """Use `threads` worker threads (None: all cores); return the number in use."""
    if threads is not None:
        top = numba.config.NUMBA_NUM_THREADS
        if not 1 <= threads <= top:
            raise UserError(f"--threads {threads} is out of range; valid: 1 to {top}", "threads")
        numba.set_num_threads(threads)
    return numba.get_num_threads()


def fresh_folder(base: Path, name: str) -> Path:
    """A new folder under `base` named after the scenario and the time."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(1000):
        path = base / (f"{name}-{stamp}" + (f"-{i}" if i else ""))
        if not path.exists():
            return path
    raise UserError(f"cannot find a free folder name under {base}", "out")


def prepare_folder(out: Path) -> Path:
    """Create `out` for a new run: a new or empty folder, outside any other run's folder."""
    host = folder_.run_around(out)
    if host is not None:
        raise UserError(f"{str(out)!r} is inside the run folder {str(host)!r}; a run folder "
                        "holds one run: choose --out outside it", "--out")
    try:
        if out.exists() and not out.is_dir():
            raise UserError(f"{str(out)!r} is a file; give a folder", "--out")
        if folder_.is_run(out) and folder_.busy(out):
            raise UserError(f"{str(out)!r} is being written by another socialcredit process; "
                            "wait for it to finish or choose another --out", "--out")
        _refuse_used(out)
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {str(out)!r}: {e.strerror or e}", "--out") from None
    return out


def _refuse_used(out: Path) -> None:
    """Refuse a folder that holds results, an unfinished run or another run's files."""
    if (out / store.RESULTS).exists():
        raise UserError(f"{str(out)!r} already holds results; choose another --out "
                        "(results are never overwritten)", "--out")
    if (out / checkpoint.FOLDER).exists():
        raise UserError(f"{str(out)!r} holds an unfinished run; continue it with "
                        f"`socialcredit resume {out}` or choose another --out", "--out")
    for name in (store.CITIZENS, store.REPORT):
        if (out / name).exists():
            raise UserError(f"{str(out)!r} holds {name} of another run; choose another --out "
                            "(results are never overwritten)", "--out")


def _meta(sim: Simulation, request: dict) -> dict:
    """Everything of a checkpoint that is not an array, as JSON-able values."""
    groups = [[{k: (v.date().isoformat() if k == "date" else v) for k, v in row.items()}
               for row in snap] for snap in sim.group_rows]
    return {"software": version(), "request": request, "day": sim.state.day,
            "daily": [{**row, "date": row["date"].isoformat()} for row in sim.daily],
            "group_rows": groups, "seconds": sim.seconds}


LEDGER_TYPES = (np.int32, np.int64, np.int16, np.int8, np.int32, np.int32, np.bool_)
"""The columns of a ledger chunk (engine/loop.py): day, agent, points, act, rule data."""
ACT_ARRAYS = ("act_committed", "act_observed", "act_points", "act_scored", "act_wrongful")


def _arrays(sim: Simulation) -> dict[str, np.ndarray]:
    state = sim.state
    out = {f"state.{k}": v for k, v in state.arrays().items()}
    out["start_hist"] = sim.start_hist
    for k in ACT_ARRAYS:
        out[k] = getattr(sim, k)
    out["gate_totals"] = sim.gate_totals
    for i, t in enumerate(LEDGER_TYPES):
        cols = [chunk[i] for chunk in sim.ledger]
        out[f"ledger.{i}"] = np.concatenate(cols) if cols else np.empty(0, dtype=t)
    return out


def _get(d: dict, key: str, kind, lo=None, hi=None, where: str = "checkpoint"):
    """A checked value of the checkpoint's metadata."""
    v = d.get(key) if isinstance(d, dict) else None
    ok = isinstance(v, kind) and not (kind is int and isinstance(v, bool))
    if ok and lo is not None:
        ok = lo <= v <= hi
    if not ok:
        want = kind.__name__ if lo is None else f"{kind.__name__} from {lo} to {hi}"
        raise checkpoint.CheckpointError(f"{where}: field {key!r} is {v!r}, not a {want}; the "
                                         "checkpoint is damaged or was altered", "resume")
    return v


def _request(meta: dict) -> dict:
    """The checked request a checkpoint was written for."""
    r = meta.get("request")
    if not isinstance(r, dict):
        raise checkpoint.CheckpointError("checkpoint: no request; the checkpoint is damaged or "
                                         "was altered", "resume")
    every = r.get("checkpoint_every")
    return {"scenario_text": _get(r, "scenario_text", str),
            "where": _get(r, "where", str),
            "population": _get(r, "population", int, 1, 2_000_000_000),
            "seed": _get(r, "seed", int, 0, 2**63 - 1),
            "days": _get(r, "days", int, 1, MAX_DAYS),
            "checkpoint_every": None if every is None else _get(r, "checkpoint_every", int, 0,
                                                                 MAX_DAYS),
            "citizens": _get(r, "citizens", bool)}


def _restore(meta: dict, arrays: dict[str, np.ndarray], request: dict) -> Simulation:
    """A Simulation continued from a checkpoint, every value checked before a kernel sees it."""
    bad = checkpoint.CheckpointError

    def fail(what: str):
        return bad(f"checkpoint: {what}; the checkpoint is damaged or was altered, so the run "
                   "cannot continue from it", "resume")

    scenario = parse(request["scenario_text"], request["where"])
    day = _get(meta, "day", int, 0, request["days"])
    if day == 0:  # written when the run began: start it again
        return Simulation(scenario, request["population"], request["seed"])
    sim = Simulation(scenario, request["population"], request["seed"], populate=False)
    plan = sim.plan
    log_len = None
    for name, (dtype, shape) in layout(plan).items():
        arr = arrays.get(f"state.{name}")
        if arr is None or arr.dtype != dtype:
            raise fail(f"state.{name} is missing or not {dtype}")
        if shape is None:
            log_len = len(arr) if log_len is None else log_len
            if arr.ndim != 1 or len(arr) != log_len or log_len < 1:
                raise fail(f"state.{name} does not match the listing log's length")
        elif arr.shape != shape:
            raise fail(f"state.{name} has shape {arr.shape}; the scenario at "
                       f"{plan.citizens:,} citizens needs {shape}")
        setattr(sim.state, name, arr)
    sim.state.day = day
    expect = {"start_hist": (np.int64, sim.state.hist.shape),
              "gate_totals": (np.int64, sim.gate_totals.shape),
              **{k: (np.int64, (plan.n_acts,)) for k in ACT_ARRAYS}}
    for name, (dtype, shape) in expect.items():
        arr = arrays.get(name)
        if arr is None or arr.dtype != dtype or arr.shape != shape or (
                name != "act_points" and (arr < 0).any()):  # points lost are negative
            raise fail(f"{name} is missing, of another shape, or negative")
        setattr(sim, name, arr)
    ledger = [arrays.get(f"ledger.{i}") for i in range(len(LEDGER_TYPES))]
    if any(c is None or c.dtype != t or c.ndim != 1 or len(c) != len(ledger[0])
           for c, t in zip(ledger, LEDGER_TYPES, strict=True)):
        raise fail("the ledger's columns are missing or of other types or lengths")
    if len(ledger[0]) and (not (0 <= ledger[0]).all() or not (ledger[0] < day).all()
                           or not (0 <= ledger[1]).all()
                           or not (ledger[1] < plan.population).all()):
        raise fail("the ledger names days or agents outside the run")
    n_rules = plan.n_acts + len(PSEUDO)
    if len(ledger[0]) and (
            not ((ledger[2] >= min(CORRECTED, RESTORED)) & (ledger[2] < n_rules)).all()
            or not ((ledger[3] >= -1) & (ledger[3] < len(plan.channel_names))).all()
            or not ((ledger[5] >= plan.pmin) & (ledger[5] <= plan.pmax)).all()):
        raise fail("the ledger names acts, channels or scores outside the scenario")
    sim.ledger = [tuple(ledger)] if len(ledger[0]) else []
    daily = meta.get("daily")
    start = scenario.scenario.start
    if not isinstance(daily, list) or len(daily) != day:
        raise fail(f"it should hold {day} daily rows")
    rows = []
    for i, row in enumerate(daily):
        if (not isinstance(row, dict) or row.get("day") != i
                or row.get("date") != (start + dt.timedelta(days=i)).isoformat()
                or not all(isinstance(v, int | float) for k, v in row.items() if k != "date")):
            raise fail(f"daily row {i} is malformed")
        rows.append({**row, "date": start + dt.timedelta(days=i)})
    sim.daily = rows
    every = scenario.recording.groups_every_days
    groups = meta.get("group_rows")
    if not isinstance(groups, list) or len(groups) != (day // every if every else 0):
        raise fail("the number of group snapshots does not match the days run")
    snaps = []
    for snap in groups:
        if not isinstance(snap, list) or not all(
                isinstance(r, dict) and isinstance(r.get("date"), str) for r in snap):
            raise fail("a group snapshot is malformed")
        try:  # rows as `snapshot` makes them
            snaps.append([{**r, "date": pd.Timestamp(dt.date.fromisoformat(r["date"]))}
                          for r in snap])
        except (ValueError, TypeError, OverflowError):
            raise fail("a group snapshot holds a bad date") from None
    sim.group_rows = snaps
    seconds = meta.get("seconds")
    if not isinstance(seconds, dict) or set(seconds) != set(sim.seconds) or not all(
            isinstance(v, int | float) and v >= 0 for v in seconds.values()):
        raise fail("the time per stage is malformed")
    sim.seconds = {k: float(v) for k, v in seconds.items()}
    why = check(plan, sim.state)
    if why:
        raise fail(why)
    return sim


def _write_failed(out: Path, e: BaseException, what: str) -> UserError:
    why = getattr(e, "strerror", None) or (str(e).splitlines() or [type(e).__name__])[0]
    return UserError(f"cannot write {what} into {str(out)!r}: {why}; the run's checkpoint is "
                     f"kept: make room and continue with `socialcredit resume {out}`", "--out")


def _write_errors() -> tuple[type[BaseException], ...]:
    """Errors a full disk or a refused write raises in the libraries that write results."""
    import duckdb
    import pyarrow as pa

    return (OSError, duckdb.Error, pa.ArrowException)


def _finish(sim: Simulation, results: Results, out: Path, threads: int, write_report: bool,
            write_citizens: bool) -> None:
    """Write the citizens, the report and the store, then drop the checkpoint.

    The store is written last: its presence marks a finished run. A crash before it leaves
    the checkpoint, and `resume` writes everything again.
    """
    errors = _write_errors()
    step = "the results"
    try:
        if write_citizens:
            step = "citizens.parquet"
            store.write_citizens(citizen_parts(sim), out, threads)
        reached("report")
        if write_report:
            from ..report import write_report as _write

            step = "report.html"
            _write(results, out / store.REPORT)
        step = "results.duckdb"
        store.write_results(results, out)
    except errors as e:
        store.remove_temporaries(out)
        raise _write_failed(out, e, step) from None
    checkpoint.remove(out)


def execute(sim: Simulation, request: dict, out: Path | None, progress: Progress | None,
            threads: int, write_report: bool, lock: folder_.Lock | None = None) -> Results:
    """Run `sim` to the request's days, checkpointing into `out`; write the store when done.
    The folder's `lock` notes the day reached, about once a second."""
    t0 = time.perf_counter()
    days = request["days"]
    text, where = request["scenario_text"], request["where"]
    kill_at = os.environ.get("SOCIALCREDIT_KILL_AT", "")

    def save(s: Simulation) -> None:
        if out is None:
            return
        try:
            checkpoint.write(out, _meta(s, request), _arrays(s), threads)
        except OSError as e:
            raise UserError(f"cannot write a checkpoint into {str(out)!r}: "
                            f"{e.strerror or e}; the previous checkpoint is kept: make room "
                            f"and continue with `socialcredit resume {out}`", "--out") from None

    noted = [0.0]

    def advance(d: int) -> None:
        if kill_at:
            reached(f"day-{d}")
        if progress is not None:
            progress(d, days)
        if lock is not None:
            now = time.monotonic()
            if now - noted[0] >= 1.0 or d == days:
                noted[0] = now
                lock.note(d, days)

    try:
        sim.run(days, progress=advance, checkpoint=save,
                checkpoint_every=request["checkpoint_every"])
    except KeyboardInterrupt:
        save(sim)
        raise
    wall = time.perf_counter() - t0
    results = from_simulation(sim, text, where, wall, threads, version())
    if out is not None:
        results.path = out
        _finish(sim, results, out, threads, write_report, request["citizens"])
    elif request["citizens"]:
        results._citizens = citizens_frame(sim)
    return results


def resolve(scenario: str | Path | Scenario, sets: Sequence[str], population: int | None,
            days: int | None, until: dt.date | str | None
            ) -> tuple[Scenario, str, str, int, int]:
    """What a run of `scenario` with `sets` changed is asked to do, checked: (the scenario,
    its text, where it came from, population, days), each with the scenario's own default."""
    if isinstance(scenario, Scenario):
        sc, text, where = scenario, scenario.model_dump_json(indent=2), scenario.scenario.name
    else:
        sc, text = load(scenario)
        where = str(scenario)
    if sets:
        from ..analysis.compare import apply_set

        for assignment in sets:
            sc = apply_set(sc, assignment)
        text = sc.model_dump_json(indent=2)
        where += "".join(f" --set {x}" for x in sets)
    if population is None:
        population = sc.society.simulate or sc.society.population
    if until is not None:
        if days is not None:
            raise UserError("give --days or --until, not both", "--until")
        days = days_until(sc, until)
    if days is None:
        days = sc.scenario.days
    _check_int(population, "--population", 1, 2_000_000_000)
    _check_int(days, "--days", 1, MAX_DAYS)
    return sc, text, where, population, days


def run(scenario: str | Path | Scenario = "rongcheng", population: int | None = None,
        days: int | None = None, seed: int = 0, out: str | Path | None = None,
        threads: int | None = None, checkpoint_every: int | None = None,
        progress: Progress | None = None, report: bool = True,
        citizens: bool = True, until: dt.date | str | None = None,
        compiling: Compiling | None = None, sets: Sequence[str] = ()) -> Results:
    """Run a scenario on a synthetic society and return its results.

    `scenario` is a built-in name, a TOML path or a Scenario. `population` defaults to the
    scenario's own, `days` to its own. With `out` the results store, final citizens and
    report are written there, with a checkpoint every `checkpoint_every` days (None: after
    each five minutes of work; 0: never); without it the results stay in memory. With
    `citizens=False` no per-citizen final state is written (it takes about a minute per
    billion citizens). `until` (a date or YYYY-MM-DD) ends the run on that day instead of
    after `days`: its last daily row is that date. `sets` changes values of the scenario,
    each `PATH=VALUE` as in `socialcredit compare --set`; the run records the changed
    scenario and the changes (`run.source`). The first run after an install compiles
    the kernels before it starts (about a minute, kept out of its timings), calling
    `compiling(kernels, seconds)` as it goes.
    """
    sc, text, where, population, days = resolve(scenario, sets, population, days, until)
    _check_int(seed, "--seed", 0, 2**63 - 1)
    if checkpoint_every is not None:
        _check_int(checkpoint_every, "--checkpoint-every", 0, MAX_DAYS)
    check_fits(sc, population, days, in_memory=out is None and citizens)
    used = set_threads(threads)
    warm_up(sc, compiling)
    request = {"scenario_text": text, "where": where, "population": population, "seed": seed,
               "days": days, "checkpoint_every": checkpoint_every, "citizens": citizens}
    if out is None:
        return execute(Simulation(sc, population, seed), request, None, progress, used, report)
    folder = prepare_folder(Path(out))
    with folder_.Lock(folder) as lock:
        _refuse_used(folder)  # again, now that no other process can write here
        save_request(folder, request)
        reached("setup")
        results = execute(Simulation(sc, population, seed), request, folder, progress, used,
                          report, lock)
        lock.release(remove=True)
    return results


def save_request(out: Path, request: dict) -> None:
    """The first checkpoint: the request alone, so a run killed while it sets up resumes."""
    try:
        checkpoint.write(out, {"software": version(), "request": request, "day": 0}, {})
    except OSError as e:
        raise UserError(f"cannot write into {str(out)!r}: {e.strerror or e}", "--out") from None


def resume(folder: str | Path, threads: int | None = None,
           progress: Progress | None = None, report: bool = True,
           compiling: Compiling | None = None) -> Results:
    """Continue a run from the last checkpoint in `folder`; same results as if never stopped."""
    folder = Path(folder)
    try:
        if not folder.is_dir():
            raise UserError(f"no run folder {str(folder)!r}", "resume")
        if folder_.busy(folder):
            raise UserError(f"{str(folder)!r} is being written by another socialcredit "
                            "process; wait for it to finish", "resume")
        finished = (folder / store.RESULTS).is_file()
        started = checkpoint.exists(folder)
        begun = (folder / checkpoint.FOLDER).is_dir()
    except OSError as e:
        raise UserError(f"cannot read {str(folder)!r}: {e.strerror or e}", "resume") from None
    if finished:
        if started:  # stopped after its store was written: only tidying was left
            with folder_.Lock(folder, "resume") as lock:
                checkpoint.remove(folder)
                lock.release(remove=True)
        raise UserError(f"{str(folder)!r} holds a finished run; nothing to resume", "resume")
    if begun and not started:
        raise UserError(f"the run in {str(folder)!r} was stopped before it had written its "
                        "request; nothing to continue: remove the folder and run it again",
                        "resume")
    if not started:
        raise UserError(f"no checkpoint in {str(folder)!r}; give the folder of a run that was "
                        "interrupted", "resume")
    with folder_.Lock(folder, "resume") as lock:
        index = checkpoint.read_index(folder)
        request = _request(index["meta"])
        sc = parse(request["scenario_text"], request["where"])
        check_fits(sc, request["population"], request["days"], where="resume")
        used = set_threads(threads)
        warm_up(sc, compiling)
        meta, arrays = checkpoint.read(folder, used)
        store.remove_temporaries(folder)
        sim = _restore(meta, arrays, request)
        lock.note(int(sim.state.day), request["days"])
        results = execute(sim, request, folder, progress, used, report, lock)
        lock.release(remove=True)
    return results


MAX_DAYS = 36_500
"""The longest run the schema allows (scenario.days)."""


def days_until(sc: Scenario, until: dt.date | str) -> int:
    """Days to run so that the last simulated day is `until`; one-line error if out of range."""
    if isinstance(until, str):
        try:
            until = dt.date.fromisoformat(until.strip())
        except ValueError:
            raise UserError(f"{until!r} is not a date; give YYYY-MM-DD, e.g. 2018-12-31",
                            "--until") from None
    if isinstance(until, dt.datetime):
        until = until.date()
    if not isinstance(until, dt.date):
        raise UserError(f"{until!r} is not a date; give YYYY-MM-DD", "--until")
    start = sc.scenario.start
    last = start + dt.timedelta(days=MAX_DAYS - 1)
    if not start <= until <= last:
        where = "before the scenario's start" if until < start else "beyond the longest run"
        raise UserError(f"{until} is {where}; valid: {start} to {last} "
                        f"({sc.scenario.name} starts {start}, runs last at most {MAX_DAYS} "
                        "days)", "--until")
    return (until - start).days + 1


def _check_int(value, name: str, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise UserError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}", name)
