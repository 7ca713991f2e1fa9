"""The day loop: behave -> observe -> score -> rate -> lists -> gates -> respond -> record."""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
from numba import njit, prange

from ..record.groups import snapshot
from ..scenario.schema import Scenario
from ..society.population import generate
from ..stages import attitudes
from ..stages.associate import weigh_ties
from ..stages.behave import behave
from ..stages.disclose import DAY_TALLY, DISC_TALLY, after_listing, in_force
from ..stages.gates import gates
from ..stages.lists import LIST_TALLY, comply_under_pressure, update_lists
from ..stages.observe import observe
from ..stages.rate import rate
from ..stages.respond import multipliers, respond
from ..stages.score import TALLY, score
from .plan import M, Plan, build
from .state import EXIT_APPEAL, OFFENCES, State, allocate, is_scored, recount

AUTO_CHECKPOINT_SECONDS = 300.0
"""Without --checkpoint-every, a run saves a checkpoint after each five minutes of work."""
STAGES = ("behave", "observe", "score", "rate", "lists", "gates", "respond", "record")


@njit(parallel=True, cache=True)
def _reset(people, scored_mask, start):
    """A new period: every scored citizen back to `start`, ladder offences forgotten."""
    n = len(people)
    nb = (n + (1 << 20) - 1) >> 20
    for b in prange(nb):
        for i in range(b << 20, min(n, (b + 1) << 20)):
            p = people[i]
            if is_scored(p.flags, scored_mask):
                p.score = start
                p.wrong = 0
                p.flags = p.flags & ~OFFENCES


class Simulation:
    """One scenario on one synthetic society, advanced a day at a time."""

    def __init__(self, scenario: Scenario, population: int, seed: int, populate: bool = True):
        self.scenario = scenario
        self.plan: Plan = build(scenario, population, seed)
        self.state: State = allocate(self.plan)
        if populate:
            generate(self.plan, self.state)
            recount(self.plan, self.state)
            attitudes.seed(self.plan, self.state)
        self.start_hist = self.state.hist.copy()
        self.daily: list[dict] = []
        self.group_rows: list[list[dict]] = []  # snapshots for groups_over_time, regions
        self.ledger: list[tuple] = []
        n_acts = self.plan.n_acts
        self.act_committed = np.zeros(n_acts, dtype=np.int64)
        self.act_observed = np.zeros(n_acts, dtype=np.int64)
        self.act_points = np.zeros(n_acts, dtype=np.int64)
        self.act_scored = np.zeros(n_acts, dtype=np.int64)
        self.act_wrongful = np.zeros(n_acts, dtype=np.int64)
        self.gate_totals = np.zeros((len(self.plan.gate_names), 4), dtype=np.int64)
        self.seconds = dict.fromkeys(STAGES, 0.0)

    @property
    def day(self) -> int:
        return self.state.day

    def date(self, day: int) -> dt.date:
        return self.scenario.scenario.start + dt.timedelta(days=day)

    def step(self) -> dict:
        """Run one day through every stage and record it."""
        plan, state, day = self.plan, self.state, self.state.day
        reset = plan.scenario.points.reset_days
        if reset and day > 0 and day % reset == 0:
            _reset(state.people, plan.scored_mask, plan.start_points)
            recount(plan, state)
        mech = plan.mech
        tie_moves = 0
        if (mech[M["assoc_on"]] and mech[M["score_weight"]] > 0 and plan.ties > 0 and day > 0
                and day % int(mech[M["score_every"]]) == 0):
            tie_moves = weigh_ties(plan, state)
        clock = time.perf_counter
        t0 = clock()
        acts = behave(plan, state, day, multipliers(plan, state))
        t1 = clock()
        obs = observe(plan, state, day, acts)
        t2 = clock()
        scored = score(plan, state, day, acts, obs, self.act_points, self.act_scored,
                       self.act_wrongful)
        t3 = clock()
        rating = rate(plan, state)
        t4 = clock()
        n0 = state.n_log
        list_tally, restored_ids, restored = update_lists(plan, state, day, scored)
        disclosed = after_listing(plan, state, day, n0)
        force = in_force(plan, state, day)
        t5 = clock()
        gate_counts = gates(plan, state, day, force.public_share)
        pressured = comply_under_pressure(plan, state, day, int(gate_counts[:, 3].sum()))
        t6 = clock()
        shape = (plan.n_acts, len(plan.region_names))
        cell = plan.ab_act * shape[1] + plan.ab_region
        committed = np.bincount(cell, obs.committed, shape[0] * shape[1]).astype(np.int64)
        observed = np.bincount(cell, obs.observed, shape[0] * shape[1]).astype(np.int64)
        committed, observed = committed.reshape(shape), observed.reshape(shape)
        respond(plan, state, committed, observed)
        lost = attitudes.after_scores(plan, state, day, scored)
        told, regained = attitudes.told_and_regained(plan, state, day)
        t7 = clock()
        row = self._record(day, rating, committed, observed, scored, list_tally, gate_counts,
                           restored_ids, restored)
        row["points_moved_by_ties"] = tie_moves
        row["complied_under_pressure"] = pressured
        self._record_disclosure(row, disclosed, force.counts)
        if attitudes.on(plan):
            row["approval"] = attitudes.approval(plan, state)
            row["approval_lost"] = (
                lost + told + int(disclosed[DISC_TALLY.index("approval_lost_listed")])
                + int(force.counts[DAY_TALLY.index("approval_lost_denied")]))
            row["approval_regained"] = regained
        every = plan.scenario.recording.groups_every_days
        if every and (day + 1) % every == 0:
            self.group_rows.append(snapshot(plan, state, self.date(day)))
        t8 = clock()
        for name, a, b in zip(STAGES, (t0, t1, t2, t3, t4, t5, t6, t7),
                              (t1, t2, t3, t4, t5, t6, t7, t8), strict=True):
            self.seconds[name] += b - a
        state.day += 1
        return row

    def _record_disclosure(self, row: dict, new: np.ndarray, force: np.ndarray) -> None:
        """Disclosure and repair columns of the day."""
        tally = dict(zip(DISC_TALLY, new.tolist(), strict=True))
        tally.update(zip(DAY_TALLY, force.tolist(), strict=True))
        before = self.daily[-2].get("disclosed_cumulative", 0) if len(self.daily) > 1 else 0
        row["disclosed"] = tally["disclosed"]
        row["disclosed_cumulative"] = before + tally["disclosed_new"]
        row["disclosure_views"] = tally["disclosure_views"]
        row["wrongfully_disclosed"] = tally["wrongfully_disclosed"]
        row["ties_cut_by_disclosure"] = tally["ties_cut_by_disclosure"]
        row["repairs_applied"] = tally["repairs_applied"]

    def _record(self, day, rating, committed, observed, scored, list_tally, gate_counts,
                restored_ids, restored) -> dict:
        plan, state = self.plan, self.state
        self.act_committed += committed.sum(axis=1)
        self.act_observed += observed.sum(axis=1)
        row: dict = {"date": self.date(day), "day": day}
        row.update(rating)
        row["acts_committed"] = int(committed.sum())
        row["acts_observed"] = int(observed.sum())
        row["expression_acts"] = int(committed[plan.act_expression].sum())
        row.update({k: int(v) for k, v in zip(TALLY, scored.tally, strict=True)})
        row["listed"] = int(state.counters[2])
        row["listed_cumulative"] = int(state.counters[3])
        row.update({k: int(v) for k, v in zip(LIST_TALLY, list_tally, strict=True)})
        in_force = state.active[: state.n_active]
        # listings in force whose appeal will succeed, still waiting for the decision
        row["appeals_pending"] = int(np.count_nonzero(state.log_exit[in_force] == EXIT_APPEAL))
        if len(plan.list_names) > 1:
            per = np.bincount(state.log_list[state.active[: state.n_active]],
                              minlength=len(plan.list_names))
            for name, c in zip(plan.list_names, per, strict=True):
                row[f"{name}_listed"] = int(c)
        self.gate_totals += gate_counts
        row["children_denied"] = int(gate_counts[plan.gate_children, 1].sum())
        for g, name in enumerate(plan.gate_names):
            row[f"{name}_attempts"] = int(gate_counts[g, 0])
            row[f"{name}_denied"] = int(gate_counts[g, 1])
            row[f"{name}_perks"] = int(gate_counts[g, 2])
            row[f"{name}_denied_cumulative"] = int(self.gate_totals[g, 1])
        self.daily.append(row)
        led = scored.ledger
        if len(led[0]):
            self.ledger.append(led)
        if len(restored_ids):
            n = len(restored_ids)
            self.ledger.append((np.full(n, day, dtype=np.int32), restored_ids,
                                restored[:, 2].astype(np.int16),
                                np.full(n, -1, dtype=np.int8),
                                restored[:, 0].astype(np.int32), restored[:, 1].astype(np.int32),
                                np.zeros(n, dtype=np.bool_)))
        return row

    def run(self, days: int, progress: Callable[[int], None] | None = None,
            checkpoint: Callable[[Simulation], None] | None = None,
            checkpoint_every: int | None = 0,
            checkpoint_seconds: float = AUTO_CHECKPOINT_SECONDS) -> None:
        """Advance until `days` days have run, calling `progress` after each day.

        `checkpoint` is called every `checkpoint_every` days; with None, whenever
        `checkpoint_seconds` of wall time have passed since the last one; with 0, never.
        """
        last = time.perf_counter()
        with whole_days() as interrupted:
            while self.state.day < days:
                self.step()
                if progress is not None:
                    progress(self.state.day)
                if checkpoint is not None and self.state.day < days:
                    if checkpoint_every is None:
                        due = time.perf_counter() - last >= checkpoint_seconds
                    else:
                        due = checkpoint_every > 0 and self.state.day % checkpoint_every == 0
                    if due:
                        checkpoint(self)
                        last = time.perf_counter()
                interrupted.deliver()  # between days, never inside one


class _Held:
    """Interrupting signals that arrived during a day, handed on once it is over."""

    def __init__(self) -> None:
        self.handlers: dict[int, object] = {}
        self.arrived: list[int] = []

    def hold(self, signum: int, frame) -> None:
        self.arrived.append(signum)

    def deliver(self) -> None:
        """Restore the handlers and call the first held signal's handler (for Ctrl-C that
        raises KeyboardInterrupt), so the run stops with every array at the end of a day."""
        if self.arrived:
            signum = self.arrived[0]
            self.release()
            handler = signal.getsignal(signum)
            if callable(handler):
                handler(signum, None)

    def release(self) -> None:
        for signum, handler in self.handlers.items():
            signal.signal(signum, handler)
        self.handlers.clear()


@contextmanager
def whole_days():
    """While the day loop runs, Ctrl-C (SIGINT) and a SIGTERM handled in Python wait for the
    day in progress to end. A day interrupted halfway would leave some arrays advanced and
    others not, and a checkpoint of that state would resume to different tables. Outside the
    main thread no signal reaches Python, so nothing needs holding there."""
    held = _Held()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if callable(handler):  # a Python handler (default Ctrl-C raises KeyboardInterrupt)
                held.handlers[signum] = handler
                signal.signal(signum, held.hold)
    try:
        yield held
    finally:
        held.release()
