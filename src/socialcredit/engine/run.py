"""Running a scenario end to end: build, loop with checkpoints, write the results store."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import numba

from ..errors import UserError
from ..record import store
from ..record.results import Results, citizen_parts, citizens_frame, from_simulation
from ..scenario import load, parse
from ..scenario.schema import Scenario
from .loop import Simulation

CHECKPOINT_FORMAT = 2
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
    """Create `out`, refusing one that already holds results or an unfinished run."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{str(out)!r} is a file; give a folder", "--out")
    if (out / store.RESULTS).exists():
        raise UserError(f"{str(out)!r} already holds results; choose another --out "
                        "(results are never overwritten)", "--out")
    if (out / store.CHECKPOINT).exists():
        raise UserError(f"{str(out)!r} holds an unfinished run; continue it with "
                        f"`socialcredit resume {out}` or choose another --out", "--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {str(out)!r}: {e.strerror}", "--out") from None
    return out


def _checkpoint_payload(sim: Simulation, text: str, where: str, days: int,
                        every: int | None, citizens: bool) -> dict:
    return {
        "format": CHECKPOINT_FORMAT, "version": version(), "scenario_text": text,
        "where": where, "population": sim.plan.citizens, "seed": sim.plan.seed,
        "days": days, "checkpoint_every": every, "day": sim.state.day,
        "citizens": citizens,
        "state": sim.state.arrays(), "daily": sim.daily, "ledger": sim.ledger,
        "group_rows": sim.group_rows,
        "start_hist": sim.start_hist,
        "acts": {k: getattr(sim, k) for k in ("act_committed", "act_observed", "act_points",
                                               "act_scored", "act_wrongful", "gate_totals")},
        "seconds": sim.seconds,
    }


def _restore(payload: dict) -> tuple[Simulation, str, str]:
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise UserError("checkpoint was written by another version of socialcredit", "resume")
    text, where = payload["scenario_text"], payload["where"]
    scenario = parse(text, where)
    sim = Simulation(scenario, payload["population"], payload["seed"], populate=False)
    for name, arr in payload["state"].items():
        setattr(sim.state, name, arr)
    sim.state.day = payload["day"]
    sim.daily = payload["daily"]
    sim.ledger = payload["ledger"]
    sim.group_rows = payload.get("group_rows", [])
    sim.start_hist = payload["start_hist"]
    for k, v in payload["acts"].items():
        setattr(sim, k, v)
    sim.seconds = payload["seconds"]
    return sim, text, where


def execute(sim: Simulation, text: str, where: str, days: int, out: Path | None,
            checkpoint_every: int | None, progress: Progress | None, threads: int,
            write_report: bool, write_citizens: bool = True) -> Results:
    """Run `sim` to `days`, checkpointing into `out`; write the store when done."""
    t0 = time.perf_counter()

    def save(s: Simulation) -> None:
        if out is not None:
            store.write_checkpoint(
                _checkpoint_payload(s, text, where, days, checkpoint_every, write_citizens), out)

    try:
        sim.run(days, progress=(lambda d: progress(d, days)) if progress else None,
                checkpoint=save, checkpoint_every=checkpoint_every)
    except KeyboardInterrupt:
        save(sim)
        raise
    wall = time.perf_counter() - t0
    results = from_simulation(sim, text, where, wall, threads, version())
    if out is not None:
        if write_citizens:
            store.write_citizens(citizen_parts(sim), out, threads)
        store.write_results(results, out)
        results.path = out
        if write_report:
            from ..report import write_report as _write

            _write(results, out / store.REPORT)
        (out / store.CHECKPOINT).unlink(missing_ok=True)
    else:
        results._citizens = citizens_frame(sim)
    return results


def run(scenario: str | Path | Scenario = "rongcheng", population: int | None = None,
        days: int | None = None, seed: int = 0, out: str | Path | None = None,
        threads: int | None = None, checkpoint_every: int | None = None,
        progress: Progress | None = None, report: bool = True,
        citizens: bool = True, until: dt.date | str | None = None) -> Results:
    """Run a scenario on a synthetic society and return its results.

    `scenario` is a built-in name, a TOML path or a Scenario. `population` defaults to the
    scenario's own, `days` to its own. With `out` the results store, final citizens and
    report are written there, with a checkpoint every `checkpoint_every` days (None: after
    each five minutes of work; 0: never); without it the results stay in memory. With
    `citizens=False` no per-citizen final state is written (it takes about a minute per
    billion citizens). `until` (a date or YYYY-MM-DD) ends the run on that day instead of
    after `days`: its last daily row is that date.
    """
    if isinstance(scenario, Scenario):
        sc, text, where = scenario, scenario.model_dump_json(indent=2), scenario.scenario.name
    else:
        sc, text = load(scenario)
        where = str(scenario)
    if population is None:
        population = sc.society.simulate or sc.society.population
    if until is not None:
        if days is not None:
            raise UserError("give --days or --until, not both", "--until")
        days = days_until(sc, until)
    if days is None:
        days = sc.scenario.days
    _check_int(population, "--population", 1, 2_000_000_000)
    _check_int(days, "--days", 1, 36_500)
    _check_int(seed, "--seed", 0, 2**63 - 1)
    if checkpoint_every is not None:
        _check_int(checkpoint_every, "--checkpoint-every", 0, 36_500)
    used = set_threads(threads)
    folder = prepare_folder(Path(out)) if out is not None else None
    sim = Simulation(sc, population, seed)
    return execute(sim, text, where, days, folder, checkpoint_every, progress, used, report,
                   citizens)


def resume(folder: str | Path, threads: int | None = None,
           progress: Progress | None = None, report: bool = True) -> Results:
    """Continue a run from the last checkpoint in `folder`; same results as if never stopped."""
    folder = Path(folder)
    payload = store.read_checkpoint(folder)
    used = set_threads(threads)
    sim, text, where = _restore(payload)
    return execute(sim, text, where, payload["days"], folder, payload["checkpoint_every"],
                   progress, used, report, payload.get("citizens", True))


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
