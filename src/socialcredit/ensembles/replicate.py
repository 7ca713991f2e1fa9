"""One replicate of an ensemble: a plain run of a scenario with one seed, in memory.

A replicate is exactly what `socialcredit run SCENARIO --seed S` computes (the same
simulation, plan and counter-based random streams), so its daily table is bit for bit that
run's; it builds no other table. It travels
to a worker as plain values (the scenario as JSON text), and back as its daily table, its wall
time and, when the scenario or options are refused, the one-line reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from ..errors import UserError


@dataclass(frozen=True)
class Replicate:
    """What a worker needs to run one replicate."""

    run: int
    seed: int
    scenario: str  # the validated scenario as JSON text
    population: int
    days: int
    threads: int | None = None


@dataclass
class Outcome:
    """A replicate's result: its daily table, or the reason it was refused."""

    run: int
    seed: int
    status: str  # "done" or "failed"
    seconds: float  # wall time of the whole replicate in the worker
    loop_seconds: float  # of which the day loop
    error: str = ""
    daily: pd.DataFrame | None = None
    worker: str = ""  # where it ran: the Ray node, or the host, and the process id
    started: float = 0.0  # and when (seconds since the epoch)
    finished: float = 0.0


def _where() -> str:
    """The Ray node (inside a Ray task) or this host, and this process."""
    import os
    import socket
    import sys

    node = socket.gethostname()
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            node = ray.get_runtime_context().get_node_id()[:12]
    return f"{node}:{os.getpid()}"


def run_replicate(rep: Replicate) -> Outcome:
    """Run one replicate; bad input gives a failed outcome with its reason, not an error."""
    import json

    from ..engine.loop import Simulation
    from ..engine.run import _check_int
    from ..record.faults import reached
    from ..record.results import daily_table
    from ..scenario.load import validate

    t0, started = time.perf_counter(), time.time()
    try:
        if rep.threads:
            import numba

            numba.set_num_threads(min(rep.threads, numba.config.NUMBA_NUM_THREADS))
        try:
            data = json.loads(rep.scenario)
        except ValueError as e:
            raise UserError(f"the scenario is not JSON: {e}", f"run {rep.run}") from None
        sc = validate(data, f"run {rep.run}")
        _check_int(rep.population, "--population", 1, 2_000_000_000)
        _check_int(rep.days, "--days", 1, 36_500)
        sim = Simulation(sc, rep.population, rep.seed)
        t1 = time.perf_counter()
        # the day loop of `socialcredit run`, without the tables an ensemble does not keep
        sim.run(rep.days, progress=lambda d: reached(f"day-{d}"))
        loop = time.perf_counter() - t1
        daily = daily_table(sim)
    except UserError as e:
        return Outcome(rep.run, rep.seed, "failed", time.perf_counter() - t0, 0.0, str(e),
                       worker=_where(), started=started, finished=time.time())
    return Outcome(rep.run, rep.seed, "done", time.perf_counter() - t0, loop, daily=daily,
                   worker=_where(), started=started, finished=time.time())
