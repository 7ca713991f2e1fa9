"""The run queue: runs asked for through the API execute in worker processes, never in the
server, so the server answers while they compute.

A fixed number of workers (spawned, as kernels' threads must not be forked) each take one
job at a time from the queue and run it with the engine's public functions:
`socialcredit.run` into a run folder under the data folder, with checkpoints, or
`socialcredit.resume` for a run a server stop cut off, `socialcredit.ensemble` (its
replicates one at a time, in the one process its local executor starts) or
`socialcredit.compare`. A worker reports progress as JSON lines over its own pipe (no pickle
crosses it, and a worker killed mid-message breaks only its own pipe). Each worker leads a
process group of its own, so cancelling a running job ends the worker with any process it
started, and a fresh worker takes its place.

Every job is recorded in DATA/.serve/jobs/<id>.json when it is queued and whenever its
status changes. A server that stops asks its workers to stop (each writes a checkpoint of
the day it reached); when a server starts on the same data folder, the jobs it finds queued
or running are queued again, and a run that has a checkpoint continues from it with the
same results as if it had never stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from ..engine.run import fresh_folder
from ..errors import UserError
from ..record import store
from .folders import STATE, safe_name
from .settings import Settings

ACTIVE = ("queued", "running")
FOLDERS = ("run", "ensemble")
"""The kinds of job that write a folder under the data folder (a compare writes a table)."""
FINAL = ("done", "failed", "cancelled")
ATTEMPTS = 2
"""Times a job is started before a worker dying under it (killed, out of memory) fails it."""
STOP_GRACE = 30.0
"""Seconds a stopping worker has to write its checkpoint before it is killed (a kill at any
moment still leaves a folder that resumes; it only loses the days since the last one)."""


class QueueFull(UserError):
    """More runs waiting than the server takes (a 429)."""


@dataclass
class Job:
    """One thing the queue runs: a run or an ensemble (into a folder named `id`) or a
    compare."""

    id: str
    kind: str
    request: dict
    status: str = "queued"
    day: int = 0
    days: int = 0
    unit: str = "day"
    """What `day` of `days` counts: days, or an ensemble's replicates."""
    phase: str = ""
    message: str = ""
    created: str = ""
    started: str | None = None
    finished: str | None = None
    attempts: int = 0
    resume: bool = False
    seq: int = 0
    """Raised at every change, so a watcher sends only what changed."""
    worker: int | None = field(default=None, repr=False)

    def public(self) -> dict:
        """What a client sees of the job (not which worker runs it)."""
        out = asdict(self)
        for k in ("worker", "attempts", "resume"):
            out.pop(k)
        return out


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class RunQueue:
    """Jobs waiting, the workers running them, and the records that survive a restart."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.data = settings.data
        self.jobs: dict[str, Job] = {}
        self.pending: deque[str] = deque()
        self.workers: list[_Worker] = []
        self.lock = threading.RLock()
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._wake_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- the records ---------------------------------------------------------------------
    @property
    def state(self) -> Path:
        return self.data / STATE

    def _record(self, job: Job) -> None:
        """Write the job's record in one step (a reader sees the old record or the new)."""
        job.seq += 1
        folder = self.state / "jobs"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{job.id}.json.tmp"
        tmp.write_text(json.dumps({k: v for k, v in asdict(job).items() if k != "worker"}),
                       encoding="utf-8")
        os.replace(tmp, folder / f"{job.id}.json")

    def _recover(self) -> None:
        """Queue again the jobs a stopped server left queued or running."""
        folder = self.state / "jobs"
        if not folder.is_dir():
            return
        found = []
        for path in folder.glob("*.json"):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                job = Job(**{k: raw[k] for k in Job.__dataclass_fields__ if k in raw})
            except (OSError, ValueError, TypeError, KeyError):
                continue  # a record this version cannot read: its run folder still shows
            found.append(job)
        for job in sorted(found, key=lambda j: j.created):
            self.jobs[job.id] = job
            if job.status not in ACTIVE:
                continue
            run = self.data / job.id
            if job.kind in FOLDERS and (run / store.RESULTS).is_file():
                self._finish(job, "done")
                continue
            job.resume = job.kind == "run" and (run / store.CHECKPOINT).exists()
            job.status, job.worker, job.phase = "queued", None, "waiting"
            job.message = "continues from its checkpoint" if job.resume else ""
            self._record(job)
            self.pending.append(job.id)

    # -- what the API calls --------------------------------------------------------------
    def submit(self, kind: str, request: dict, name: str, days: int,
               unit: str = "day") -> Job:
        """Queue a job; a run or ensemble gets a new folder under the data folder now, so its
        id is taken at once. QueueFull when as many jobs wait as the server takes."""
        with self.lock:
            waiting = sum(1 for j in self.jobs.values() if j.status == "queued")
            if waiting >= self.settings.max_queued:
                raise QueueFull(f"{waiting} runs are waiting, the most this server takes "
                                f"(--max-queued {self.settings.max_queued}); wait for one to "
                                "start or cancel one", "queue")
            self.data.mkdir(parents=True, exist_ok=True)
            job_id = self._new_id(safe_name(name) if kind in FOLDERS else "compare", kind)
            job = Job(job_id, kind, request, days=days, unit=unit, created=_now(),
                      phase="waiting")
            self.jobs[job.id] = job
            self.pending.append(job.id)
            self._record(job)
        self._wake()
        return job

    def _new_id(self, base: str, kind: str) -> str:
        """A name no job and no folder of the data folder has; a run's folder is made now, so
        that a second request in the same second gets another."""
        first = fresh_folder(self.data, base).name
        for i in range(1000):
            job_id = first + (f"-{i}" if i else "")
            path = self.data / job_id
            if job_id in self.jobs or path.exists():
                continue
            if kind in FOLDERS:
                try:
                    path.mkdir()
                except FileExistsError:
                    continue
            return job_id
        raise UserError(f"cannot find a free folder name under {self.data}", "data")

    def cancel(self, job_id: str) -> Job:
        """Stop a queued or running job; a running run keeps its last checkpoint (`socialcredit
        resume` can still finish it)."""
        with self.lock:
            job = self.jobs[job_id]
            if job.status == "queued":
                try:
                    self.pending.remove(job_id)
                except ValueError:
                    pass
                self._finish(job, "cancelled", "cancelled before it started")
                if job.kind in FOLDERS:
                    _remove_if_empty(self.data / job.id)
            elif job.status == "running":
                job.phase = "cancelling"
                self._record(job)
                for w in self.workers:
                    if w.job == job_id:
                        w.cancelling = True
                        w.kill()
        self._wake()
        return job

    def snapshot(self, job_id: str) -> dict | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return None if job is None else job.public()

    def all(self) -> list[dict]:
        with self.lock:
            return [j.public() for j in self.jobs.values()]

    def waiting_count(self) -> int:
        with self.lock:
            return sum(1 for j in self.jobs.values() if j.status == "queued")

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        """Recover the records, start the workers and the thread that feeds them."""
        with self.lock:
            self._recover()
            self.workers = [_Worker(i, self.settings) for i in range(self.settings.workers)]
        self._thread = threading.Thread(target=self._loop, name="socialcredit-queue",
                                        daemon=True)
        self._thread.start()

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Ask every worker to stop (each writes a checkpoint of its run), then end them; the
        jobs stay recorded as they were, for the next server on this data folder."""
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.lock:
            for w in self.workers:
                job = self.jobs.get(w.job) if w.job else None
                if job is not None and job.kind == "ensemble":
                    w.kill()  # nothing to save: it runs again from its first replicate
                else:
                    w.interrupt()
            end = time.monotonic() + grace
            for w in self.workers:
                w.process.join(max(0.0, end - time.monotonic()))
                w.kill()
                w.process.join(5)
            self.workers = []

    def _wake(self) -> None:
        with self._wake_lock:
            try:
                self._wake_w.send_bytes(b"")
            except OSError:
                pass

    def _loop(self) -> None:
        while not self._stopping:
            with self.lock:
                self._dispatch()
                conns = [w.conn for w in self.workers if w.conn is not None]
            ready = wait([*conns, self._wake_r], timeout=0.5)
            if self._stopping:
                return
            for conn in ready:
                if conn is self._wake_r:
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                    continue
                with self.lock:
                    w = next((w for w in self.workers if w.conn is conn), None)
                    if w is not None:
                        self._read(w)
            with self.lock:
                for w in self.workers:
                    if not w.process.is_alive():
                        self._lost(w)

    def _dispatch(self) -> None:
        for w in self.workers:
            if not self.pending:
                return
            if w.job is None and w.process.is_alive():
                job = self.jobs[self.pending.popleft()]
                job.status, job.phase, job.worker = "running", "starting", w.index
                job.started = job.started or _now()
                job.attempts += 1
                self._record(job)
                w.job = job.id
                w.send({"id": job.id, "kind": job.kind, "request": job.request,
                        "folder": str(self.data / job.id), "resume": job.resume,
                        "out": str(self.state / "compares" / f"{job.id}.json"),
                        "checkpoint_every": self.settings.checkpoint_every,
                        "threads": self.settings.kernel_threads()})

    def _read(self, w: _Worker) -> None:
        """Every event the worker has sent."""
        try:
            while w.conn.poll():
                event = json.loads(w.conn.recv_bytes())
                job = self.jobs.get(event.get("id"))
                if job is None or job.id != w.job:
                    continue
                kind = event.get("event")
                if kind == "progress":
                    job.day, job.days = event["day"], event["days"]
                    job.phase = "writing results" if job.day == job.days else "running"
                    job.seq += 1  # progress is not worth a write; a restart resumes anyway
                elif kind == "phase":
                    job.phase = event["phase"]
                    job.seq += 1
                elif kind in ("done", "failed"):
                    if kind == "done":
                        job.day = job.days
                    self._finish(job, kind, event.get("message", ""))
                    w.job = None
        except (EOFError, OSError, ValueError):
            w.kill()  # a broken pipe: the worker is replaced below

    def _lost(self, w: _Worker) -> None:
        """A worker that ended: its job is cancelled, tried again or failed; a new worker
        takes its place."""
        job = self.jobs.get(w.job) if w.job else None
        if job is not None and job.status == "running":
            if w.cancelling and job.kind == "ensemble":
                self._finish(job, "cancelled", "cancelled while running; an ensemble keeps "
                             "nothing of its unfinished replicates")
                _remove_if_empty(self.data / job.id)
            elif w.cancelling:
                self._finish(job, "cancelled", "cancelled while running; its last checkpoint "
                             "is kept in its folder")
            elif job.attempts < ATTEMPTS:
                job.status, job.phase, job.worker = "queued", "waiting", None
                job.resume = job.kind == "run" and (
                    self.data / job.id / store.CHECKPOINT).exists()
                job.message = "its worker ended; queued again"
                self._record(job)
                self.pending.appendleft(job.id)
            else:
                self._finish(job, "failed", f"its worker process ended {ATTEMPTS} times "
                             "(killed, or out of memory)")
        w.close()
        if not self._stopping:
            self.workers[w.index] = _Worker(w.index, self.settings)

    def _finish(self, job: Job, status: str, message: str = "") -> None:
        job.status, job.message, job.finished = status, message, _now()
        job.phase, job.worker = "", None
        self._record(job)


def _remove_if_empty(path: Path) -> None:
    try:
        for child in path.iterdir():
            if child.name != ".lock":
                return
            child.unlink()
        path.rmdir()
    except OSError:
        pass


class _Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self, index: int, settings: Settings):
        ctx = multiprocessing.get_context("spawn")  # never fork a process with threads
        self.index = index
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=work, args=(child,), daemon=True,
                                   name=f"socialcredit-worker-{index}")
        self.process.start()
        child.close()
        self.job: str | None = None
        self.cancelling = False

    def send(self, job: dict) -> None:
        try:
            self.conn.send_bytes(json.dumps(job).encode())
        except OSError:
            self.kill()

    def interrupt(self) -> None:
        """Ask the worker to stop: its run writes a checkpoint of the day reached."""
        if self.process.is_alive():
            try:
                os.kill(self.process.pid, signal.SIGTERM)
            except OSError:
                pass

    def kill(self) -> None:
        """End the worker and every process it started (its process group)."""
        if self.process.is_alive():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:  # not yet leading its own group
                self.process.kill()

    def close(self) -> None:
        self.process.join(1)
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# -- in the worker process ------------------------------------------------------------------
def _stop(signum, frame):
    raise KeyboardInterrupt


def work(conn: Connection) -> None:
    """A worker's life: take a job, run it, report; Ctrl-C in the server's terminal is the
    server's to handle, and SIGTERM stops the run as Ctrl-C stops `socialcredit run`."""
    os.setsid()  # a group of its own: a kill reaches the processes an ensemble starts
    # an ensemble's executor starts one process of its own from here, which a daemonic
    # process may not; the server still ends this worker (and its group) when it stops
    multiprocessing.current_process().daemon = False
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while True:
            try:
                job = json.loads(conn.recv_bytes())
            except (EOFError, OSError):
                return

            def send(job_id=job["id"], **event) -> None:
                conn.send_bytes(json.dumps({"id": job_id, **event}).encode())

            try:
                _execute(job, send)
                send(event="done")
            except UserError as e:
                send(event="failed", message=" ".join(str(e).split()))
            except KeyboardInterrupt:
                raise
            except Exception as e:  # a bug: the job fails, the worker goes on
                first = (str(e).splitlines() or [""])[0][:300]
                send(event="failed", message=f"internal error: {type(e).__name__}: {first}")
    except KeyboardInterrupt:
        return


def _execute(job: dict, send) -> None:
    """Run one job with the engine's public functions."""
    import socialcredit

    from ..analysis.compare import UNSCALED

    last = [0.0]

    def progress(day: int, days: int) -> None:
        now = time.monotonic()
        if day == days or now - last[0] >= 0.2:
            last[0] = now
            send(event="progress", day=day, days=days)

    def compiling(kernels: int, seconds: float) -> None:
        if kernels == 1:
            send(event="phase", phase="compiling")

    r = job["request"]
    threads = job["threads"]
    if job["kind"] == "compare":
        from ..scenario import parse

        a = parse(r["toml"], "toml") if r.get("toml") is not None else r["scenario"]
        b = parse(r["other_toml"], "other_toml") if r.get("other_toml") is not None else \
            r.get("other")
        table = socialcredit.compare(a, b, sets=r.get("sets", []),
                                     seeds=r["seeds"], population=r.get("population"),
                                     days=r.get("days"), progress=progress)
        out = Path(job["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        rows = json.loads(table.to_json(orient="records"))
        # each row's `scale` turns its means into counts at real scale (1 for scores and
        # shares); `scale` here is the one both designs share, null where they differ
        counts = {x["scale"] for x in rows if x["outcome"] not in UNSCALED}
        scale = counts.pop() if len(counts) == 1 else None
        a_name = a if isinstance(a, str) else a.scenario.name
        b_name = b if isinstance(b, str) or b is None else b.scenario.name
        b_name = (b_name or a_name) + (" with changes" if r.get("sets") else "")
        tmp.write_text(json.dumps({"what": table.attrs.get("what", ""),
                                   "a": a_name, "b": b_name,
                                   "scale": scale, "rows": rows}), encoding="utf-8")
        os.replace(tmp, out)
        return
    send(event="phase", phase="setting up")
    scenario = r["scenario"]
    if r.get("toml") is not None:
        from ..scenario import parse

        scenario = parse(r["toml"], "pasted TOML")
    if job["kind"] == "ensemble":
        folder = Path(job["folder"])
        store.remove_temporaries(folder)  # what a worker that died while writing left
        socialcredit.ensemble(scenario, seeds=r["replicates"], sets=r.get("sets", []),
                              population=r.get("population"), days=r.get("days"),
                              until=r.get("until"), workers=1, out=folder,
                              first_seed=r.get("seed", 0), threads=threads, progress=progress)
        return
    if job["resume"]:
        socialcredit.resume(job["folder"], threads=threads, progress=progress,
                            compiling=compiling)
        return
    socialcredit.run(scenario, population=r.get("population"), days=r.get("days"),
                     until=r.get("until"), seed=r.get("seed", 0), sets=r.get("sets", []),
                     out=job["folder"], threads=threads,
                     checkpoint_every=job["checkpoint_every"], progress=progress,
                     compiling=compiling)
