"""Where the replicates of an ensemble run: worker processes on this machine, or Ray tasks.

`local` keeps a pool of worker processes for the whole ensemble, so each loads the compiled
kernels once and every later replicate starts at once. `ray` sends each replicate as a Ray
core task to a cluster (`ray start --head` on one machine, `ray start --address` on the
others), asking for the cores and the memory one run needs, so a node never takes two runs
it cannot hold. Either way a worker that dies (killed, out of memory) has its replicate run
again, and as a replicate is a pure function of its seed the tables come out the same
whatever ran them, in whatever order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..errors import UserError
from .replicate import Outcome, Replicate, run_replicate

ATTEMPTS = 3
"""Times a replicate is tried before the ensemble records it as failed: a worker that dies
mid-run (killed, out of memory) costs one attempt."""

Done = Callable[[Outcome], None]


def _start_worker(threads: int | None, scenario: str) -> None:
    """In each new worker: one kernel thread per run unless asked otherwise (several runs
    side by side each get a core), and the kernels loaded by a one-day run of a small
    society, so that no replicate pays for loading them."""
    import numba

    from ..engine.run import run
    from ..scenario.schema import Scenario

    numba.set_num_threads(min(threads or 1, numba.config.NUMBA_NUM_THREADS))
    run(Scenario.model_validate_json(scenario), population=100, days=1, report=False,
        citizens=False)


def run_local(reps: Sequence[Replicate], workers: int, done: Done) -> list[Outcome]:
    """Run `reps` in `workers` worker processes on this machine."""
    ctx = multiprocessing.get_context("spawn")  # never fork a process with kernel threads
    pending = {r.run: r for r in reps}
    tries = dict.fromkeys(pending, 0)
    out: dict[int, Outcome] = {}
    while pending:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=ctx,
                                   initializer=_start_worker,
                                   initargs=(reps[0].threads, reps[0].scenario))
        try:
            futures = {}
            for run, rep in pending.items():
                tries[run] += 1
                futures[pool.submit(run_replicate, rep)] = run
            waiting = set(futures)
            while waiting:
                finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for f in finished:
                    run = futures[f]
                    try:
                        result = f.result()
                    except BrokenProcessPool:
                        continue  # a worker died: this replicate goes again below
                    out[run] = result
                    del pending[run]
                    done(result)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for run in list(pending):
            if tries[run] >= ATTEMPTS:
                rep = pending.pop(run)
                result = Outcome(run, rep.seed, "failed", 0.0, 0.0,
                                 f"its worker process died {ATTEMPTS} times (killed, or out "
                                 "of memory)")
                out[run] = result
                done(result)
    return [out[r.run] for r in reps]


def run_ray(reps: Sequence[Replicate], address: str | None, memory_bytes: int,
            done: Done) -> list[Outcome]:
    """Run `reps` as Ray tasks on the cluster at `address` ("auto": the one this machine
    belongs to; None: a cluster started here for this ensemble)."""
    try:
        import ray
    except ImportError:
        raise UserError("the ray executor needs Ray; install it with: pip install "
                        "'socialcredit[cluster]'", "--executor") from None
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError,
                ray.exceptions.AuthenticationError) as e:
            raise UserError(_unreachable(address, e), "--address") from None
    try:
        # SPREAD: replicates over every node, not packed onto the driver's node first
        task = ray.remote(run_replicate).options(
            num_cpus=reps[0].threads or 1, memory=max(1, int(memory_bytes)),
            max_retries=ATTEMPTS - 1, retry_exceptions=False, scheduling_strategy="SPREAD")
        refs = {task.remote(rep): rep for rep in reps}
        out: dict[int, Outcome] = {}
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            for ref in ready:
                rep = refs[ref]
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as e:
                    result = Outcome(rep.run, rep.seed, "failed", 0.0, 0.0,
                                     f"Ray could not run it ({type(e).__name__}) after "
                                     f"{ATTEMPTS} attempts")
                out[rep.run] = result
                done(result)
        return [out[r.run] for r in reps]
    finally:
        if started:
            ray.shutdown()


def _unreachable(address: str | None, error: BaseException) -> str:
    """Why `ray.init` could not join the cluster at `address`, and what to do."""
    chain, e = [], error
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    if any(type(e).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(e)
           or "Unauthenticated" in str(e) for e in chain):
        if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
            return (f"the Ray cluster at {address!r} refused this process's authentication "
                    "token (from RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token); "
                    "give it the cluster's token")
        # `ray start --head` turns token authentication on wherever ~/.ray/auth_token exists,
        # but a process given an address sends a token only with RAY_AUTH_MODE=token
        return (f"the Ray cluster at {address!r} asks for an authentication token and this "
                "process sent none; set RAY_AUTH_MODE=token, with the cluster's token in "
                "RAY_AUTH_TOKEN or ~/.ray/auth_token, or start the cluster with "
                "RAY_AUTH_MODE=disabled")
    return (f"cannot reach a Ray cluster at {address!r}: {first}; start one with `ray start "
            "--head`, or leave --address out to start one here")


def run_all(reps: Sequence[Replicate], executor: str, workers: int, address: str | None,
            memory_bytes: int, progress: Callable[[int, int], None] | None = None,
            each: Done | None = None) -> list[Outcome]:
    """Run `reps` on `workers` local processes (executor "local") or as Ray tasks; `each`
    sees every outcome as it arrives, and `progress(done, total)` counts them."""
    finished = [0]

    def done(o: Outcome) -> None:
        if each is not None:
            each(o)
        finished[0] += 1
        if progress:
            progress(finished[0], len(reps))

    if not reps:
        return []
    if executor == "ray":
        return run_ray(reps, address, memory_bytes, done)
    return run_local(reps, workers, done)


def check_side_by_side(workers: int, runs: int, memory_bytes: int, population: int,
                       days: int) -> None:
    """Refuse, in one line, local workers whose runs side by side need more memory than is
    available."""
    from ..engine import memory

    free = memory.available()
    side_by_side = min(workers, runs)
    if side_by_side * memory_bytes > free:
        raise UserError(
            f"{side_by_side} workers each running {population:,} citizens over {days:,} "
            f"days need about {side_by_side * memory_bytes / 2**30:,.1f} GiB, more than the "
            f"{free / 2**30:,.1f} GiB available; lower --workers, --population or --days",
            "--workers")


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
